"""Checks: one module per kind of logic; rulesets instantiate them with parameters.

Each check module has `PARAMS` (its typed parameters), `validate(params)` and
`run(rule, context) -> CheckOutput`; its module docstring is the documentation page that
`cservice-audit explain CODE` prints.
"""

from __future__ import annotations

from cservice_audit.checks import (
    average_wait,
    data_quality,
    long_no_reply,
    phrases,
    repeated_script,
    reply_rate,
    review_rate,
)

CHECKS = {
    "reply_rate": reply_rate,
    "average_wait": average_wait,
    "long_no_reply": long_no_reply,
    "review_rate": review_rate,
    "phrases": phrases,
    "repeated_script": repeated_script,
    "data_quality": data_quality,
}
