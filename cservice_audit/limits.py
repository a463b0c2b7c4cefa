"""Resource limits: every cap on what an input may cost, as policy in one place.

Inputs come from other people's systems and runs are unattended on shared servers, so a
small crafted file must not take the machine's memory, disk or time. Each cap is sized to
stop a bomb (a tiny file that expands without bound), never big data: a month of a large
shop is tens of GB of uncompressed CSV and must go through with the defaults. docs/limits.md
lists every cap, what it was sized on and how to raise it.

A cap that is hit stops the run with exit 2 and one line naming the cap (`LimitError`), so a
user knows which `--limit NAME=VALUE` to raise. The caps are process policy, like the
interpreter's recursion limit: the command line sets them once (`activate`), and the stages
read them with `current()`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, fields, replace

from cservice_audit.errors import AuditError, Term
from cservice_audit.i18n import listed

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
ENV = "CSERVICE_AUDIT_LIMITS"  # e.g. "input_bytes=100G,field_bytes=64M"


class LimitError(AuditError):
    """A cap was hit; the message names the cap and how to raise it."""


@dataclass(frozen=True)
class Limits:
    """The caps, with defaults sized for large real exports (see docs/limits.md)."""

    # Bytes of one input after decompression (gzip, xlsx) or read from a stream (stdin, a
    # pipe, a device). Streams and compressed files are spooled to a temporary file, so
    # this caps disk, not memory. 64 GiB: several months of a large shop in one file.
    input_bytes: int = 64 * GIB
    # Decompressed / compressed size of a gzip file or an xlsx container, checked once
    # 8 MiB have come out. Chat CSV compresses 5-15x; a bomb of blank lines ~1000x.
    compression_ratio: int = 100
    # One field (or one line of a stream) in bytes. The longest real chat message is a
    # few thousand characters; a million-character cell (3 MB) must still be read whole.
    field_bytes: int = 16 * MIB
    # Rejected rows kept whole (findings, --rejects); the rest are only counted.
    rejects_kept: int = 100_000
    # Percent of one file's rows that may be rejected before the run stops. More than half
    # unreadable is an export read the wrong way (a layout, a time format, a column that
    # moved): judging the rest would store and report a shop's day from a tenth of its chats.
    rejected_percent: float = 50.0
    # A ruleset or mapping file: bytes, nesting depth, and values with every alias expanded
    # (shipped rulesets hold ~400; a 500-byte alias bomb a billion).
    yaml_bytes: int = 4 * MIB
    yaml_depth: int = 32
    yaml_nodes: int = 200_000
    # Seconds to wait for another run holding the history lock before giving up. A nightly
    # run of a large shop takes minutes; runs started together by cron must queue, not fail.
    lock_wait: float = 900.0

    def with_settings(self, settings: dict[str, object], origin: str) -> Limits:
        """These limits with `settings` (name -> value, e.g. from a config file) applied."""
        known = {f.name: f.type for f in fields(self)}
        changes: dict[str, object] = {}
        for name, raw in settings.items():
            key = str(name).strip().replace("-", "_")
            if key not in known:
                raise AuditError("error.limit_unknown", origin=origin, name=key, known=listed(known))
            changes[key] = _parse_value(key, raw, origin, integer=key not in _FRACTIONAL)
        return replace(self, **changes)

    def with_pairs(self, pairs: list[str] | tuple[str, ...], origin: str = "--limit") -> Limits:
        """These limits with `NAME=VALUE` pairs applied (the command line's --limit)."""
        settings: dict[str, object] = {}
        for pair in pairs:
            for item in (p for p in pair.split(",") if p.strip()):
                name, sep, value = item.partition("=")
                if not sep:
                    raise AuditError("error.limit_item", origin=origin, item=repr(item))
                settings[name] = value
        return self.with_settings(settings, origin)


# Limits that may take a fraction (seconds, percent); the others are counts and sizes.
_FRACTIONAL = frozenset({"lock_wait", "rejected_percent"})
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTOR = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": GIB * KIB}


def _parse_value(name: str, raw: object, origin: str, *, integer: bool) -> int | float:
    from cservice_audit.config import value_kind

    if isinstance(raw, bool):
        # A TOML value that is neither text nor a number, said as the kind it is (实为 真假值):
        # its Python form (True, datetime.date(2026, 11, 1)) was English in a Chinese line.
        raise AuditError("error.limit_number", origin=origin, name=name, value=value_kind(raw))
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        match = _SIZE.match(raw) if isinstance(raw, str) else None
        if not match:
            raise AuditError("error.limit_size", origin=origin, name=name, value=repr(raw) if isinstance(raw, str) else value_kind(raw))
        value = float(match.group(1)) * _FACTOR[match.group(2).lower()]
    # Positive and finite (1e400 in TOML is infinity: no limit at all), a whole count at least 1
    # where a count is meant (0.1 bytes rounded to 0), a percent at most 100: as --limit says.
    if not math.isfinite(value) or value <= 0 or (integer and value < 1):
        raise AuditError("error.limit_number", origin=origin, name=name, value=repr(raw))
    if name == "rejected_percent" and value > 100:
        raise AuditError("error.limit_percent", origin=origin, name=name, value=repr(raw))
    return int(value) if integer else value


_active: Limits | None = None


def activate(limits: Limits) -> None:
    """Set the limits of this process (the command line does, once)."""
    global _active
    _active = limits


def current() -> Limits:
    """The active limits: what the command line set, else the defaults with
    $CSERVICE_AUDIT_LIMITS applied."""
    if _active is not None:
        return _active
    return from_environment()


def from_environment(base: Limits | None = None) -> Limits:
    text = os.environ.get(ENV, "").strip()
    base = base or Limits()
    return base.with_pairs([text], origin=f"${ENV}") if text else base


def exceeded(name: str, what: str, /, **fields: object) -> LimitError:
    """The error for a cap that was hit: what happened (the catalogue key `what` with its
    fields, `error.limit_more_bytes`), the cap, and how to raise it."""
    return LimitError("error.limit_exceeded", **over(name, what, **fields))


def over(name: str, what: str, /, **fields: object) -> dict[str, object]:
    """The fields of `error.limit_exceeded`, for a reader that raises its own error class
    (a ruleset's or a mapping's)."""
    return {"what": Term(what, **fields), "name": name, "value": _show(name, getattr(current(), name))}


def _show(name: str, value: float) -> str | Term:
    if name.endswith("_bytes"):
        for unit, factor in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
            if value >= factor and value % factor == 0:
                return f"{int(value // factor)} {unit}"
        return Term("error.limit_bytes", n=int(value))
    return f"{value:g}"
