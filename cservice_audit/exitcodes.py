"""The three exit statuses of spec/metrics.md §10, defined once."""

CLEAN = 0  # no finding at or above --fail-on
FINDINGS = 1  # at least one finding at or above --fail-on
CANNOT_RUN = 2  # bad arguments, unreadable input, invalid ruleset
