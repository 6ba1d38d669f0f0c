"""xkaohe (交叉考核): a workbench for the inter-city cross-assessment of
poverty-alleviation results — fair, verifiable draws; honest intervals;
reports rendered with papermill."""

from xkaohe.errors import InputError, PlanError, RuleError, VerificationError, XkaoheError

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "PlanError",
    "RuleError",
    "VerificationError",
    "XkaoheError",
    "__version__",
]
