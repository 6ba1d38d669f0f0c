"""The house rules of ARCHITECTURE.md, read from the code with :mod:`ast`.

* Imports point down: cli > run > report > analyse > synth > field > draw > io
  > base modules (``xkaohe/*.py``); a module imports its own layer or lower.
* ``io/`` imports nothing above it (the same rule, stated because it matters most).
* No import inside a function, except in ``cli.py`` (lazy, for a fast start)
  and heavy third-party libraries named in :data:`LAZY`; never an xkaohe module.
* No import circle among xkaohe modules.
* ``__all__`` is honest: every name it lists exists, once.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xkaohe"
LAYERS = ("base", "io", "draw", "field", "synth", "analyse", "report", "run", "cli")
"""Lowest first; a module may import from its own layer and the ones before it."""
LAZY = {  # imported where used: each costs a noticeable part of a second at import time
    "IPython": "the notebook display stack",
    "ipywidgets": "the explorer's widgets",
    "jupyter_client": "report kernels",
    "nbclient": "notebook execution",
    "nbconvert": "HTML rendering",
    "nbformat": "notebook files",
    "pandera": "the sample package contract",
    "papermill": "notebook parameters",
    "plotly": "figures",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. xkaohe.io.results
    target: str  # what it imports, resolved to a module where it is one
    line: int
    in_function: bool
    type_only: bool  # under ``if TYPE_CHECKING:``


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and (PACKAGE / f"{parts[1]}.py").is_file()):
        return "cli" if module == "xkaohe.cli" else "base"
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module}: package {parts[1]} has no layer (add it to LAYERS)")
    return parts[1]


def _resolve(node: ast.ImportFrom, module: str) -> list[str]:
    if node.level:  # relative: from the importing module's package, up level - 1
        parts = module.split(".")
        package = parts if MODULES[module].name == "__init__.py" else parts[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, node.module] if node.module else package)
    else:
        base = node.module or ""
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return found or [base]


def imports(module: str) -> Iterator[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))

    def walk(node: ast.AST, in_function: bool, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, alias.name, child.lineno, in_function, type_only)
            elif isinstance(child, ast.ImportFrom):
                for target in _resolve(child, module):
                    yield Import(module, target, child.lineno, in_function, type_only)
            else:
                func = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                checking = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
                yield from walk(child, in_function or func, type_only or checking)

    yield from walk(tree, False, False)


ALL = [i for m in MODULES for i in imports(m)]
OURS = [i for i in ALL if i.target == "xkaohe" or i.target.startswith("xkaohe.")]


def test_every_module_has_a_layer() -> None:
    assert {layer(m) for m in MODULES} <= set(LAYERS)


def test_imports_point_down() -> None:
    rank = {name: n for n, name in enumerate(LAYERS)}
    upward = [
        f"{i.module}:{i.line} ({layer(i.module)}) imports {i.target} ({layer(i.target)})"
        for i in OURS
        if rank[layer(i.target)] > rank[layer(i.module)]
    ]
    assert not upward, "imports must point down the layers (ARCHITECTURE.md):\n" + "\n".join(upward)


def test_io_imports_nothing_above_it() -> None:
    above = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in OURS
        if layer(i.module) == "io" and layer(i.target) not in ("io", "base")
    ]
    assert not above


def test_no_import_hidden_in_a_function() -> None:
    hidden = [
        f"{i.module}:{i.line} imports {i.target} inside a function"
        for i in ALL
        if i.in_function
        and i.module != "xkaohe.cli"
        and (i in OURS or i.target.split(".")[0] not in LAZY)
    ]
    assert not hidden, "import at the top of the module (ARCHITECTURE.md):\n" + "\n".join(hidden)


def test_no_import_circle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in OURS:
        if not i.type_only and i.target in MODULES and i.target != i.module:
            graph[i.module].add(i.target)
    state: dict[str, int] = {}  # 1 visiting, 2 done
    circles: list[str] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                circles.append(" -> ".join([*path[path.index(n) :], n]))
            elif n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not circles


def test_the_rules_see_real_imports() -> None:
    """The checks above cannot pass vacuously: the parser finds known edges."""
    edges = {(i.module, i.target) for i in OURS}
    assert ("xkaohe.io.results", "xkaohe.results_spec") in edges
    assert ("xkaohe.run.stages", "xkaohe.run.batch") in edges
    assert any(i.in_function and i.module == "xkaohe.cli" for i in OURS)
    assert any(i.type_only for i in OURS)
    assert layer("xkaohe.run.batch") == "run" and layer("xkaohe.plan") == "base"


def _declared_all(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = ast.literal_eval(node.value)  # type: ignore[union-attr]
            return list(value)
    return None


@pytest.mark.parametrize("module", [m for m, p in MODULES.items() if _declared_all(p) is not None])
def test_all_is_honest(module: str) -> None:
    names = _declared_all(MODULES[module]) or []
    loaded = importlib.import_module(module)
    assert len(names) == len(set(names)), f"{module}.__all__ repeats a name"
    missing = [n for n in names if not hasattr(loaded, n)]
    assert not missing, f"{module}.__all__ lists names it does not define: {missing}"


LONG = 600  # issue 9: no module over ~600 lines without a reason written at its top
_REASON = re.compile(r"(over|about|of) ~?[\d,]+ lines|600 lines", re.IGNORECASE)


def test_a_long_module_says_why_at_its_top() -> None:
    """A module over LONG lines says why in its docstring (the opening 30 lines)."""
    silent = []
    for name, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LONG and not _REASON.search("\n".join(lines[:30])):
            silent.append(f"{name} ({len(lines)} lines)")
    assert not silent, f"over {LONG} lines with no reason at the top: {silent}"


def test_the_reason_rule_sees_a_silent_long_module() -> None:
    assert _REASON.search("Over ~600 lines because it is data")
    assert _REASON.search("Why one module of ~1,100 lines: the protocol")
    assert not _REASON.search('"""What the county report shows."""')
