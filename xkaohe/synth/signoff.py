"""Synthetic sign-off for the demo: passphrase, who has not signed, what was changed (marked).

Everything here is made up for the demo run (``xkaohe demo``) so that the
index, the provincial report, ``verify-signatures`` and ``release-feedback``
have every case to show: most reports signed, one changed after signing, one
city not yet signed, a returned rectification register with overdue items.
"""

from __future__ import annotations

import datetime as dt

DEMO_PASSPHRASE = b"xkaohe-demo-synthetic"
"""Passphrase of the demo's keys (synthetic; a real key's passphrase is never in a file)."""
RELEASED_BY = "省扶贫办（演示）"
CHANGED_NOTE = "<p><b>（演示：本报告在签字之后被改动）</b></p>"


def signing_time(reports_by: dt.date) -> dt.datetime:
    """When the demo's teams sign: the morning of the plan's report deadline (UTC)."""
    return dt.datetime.combine(reports_by, dt.time(9, 0), tzinfo=dt.UTC)


def register_rows(problems: list[str], reports_by: dt.date) -> list[tuple[str, str, str, str, str]]:
    """Filled register rows for ``problems``: (measure, unit, deadline, status, evidence).

    With three problems or more every case appears: the first is in progress
    past its deadline (overdue), the second done without evidence, the third
    done with evidence; after that, in turn, overdue, in progress with a later
    deadline, done with evidence.
    """
    rows = []
    for i, _ in enumerate(problems):
        soon, later = (
            str(reports_by + dt.timedelta(days=10)),
            str(reports_by + dt.timedelta(days=120)),
        )
        if i == 1:
            rows.append(("完善档案资料", "乡镇人民政府", soon, "已完成", ""))
        elif i % 3 == 2:
            rows.append(("逐户核实并补齐帮扶措施", "县扶贫办", soon, "已完成", "整改台账附件1"))
        elif i % 3 == 0:
            rows.append(("制定整改方案，限期落实", "县扶贫办", soon, "整改中", ""))
        else:
            rows.append(("制定整改方案，限期落实", "县扶贫办", later, "整改中", ""))
    return rows


__all__ = ["CHANGED_NOTE", "DEMO_PASSPHRASE", "RELEASED_BY", "register_rows", "signing_time"]
