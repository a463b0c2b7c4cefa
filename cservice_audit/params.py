"""Typed parameters of ruleset rules: each check declares its own, the ruleset loader
validates them and names the key path of anything wrong."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from cservice_audit.errors import Keyed
from cservice_audit.i18n import listed

PERIODS = ("day", "natural_week", "natural_month", "rolling_30d")
SCOPES = ("agent", "shop")
REPLY_ROLES = ("agent", "bot")
_REQUIRED = object()
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class ParamError(Keyed, ValueError):
    """A parameter value is wrong; the message (a catalogue key, errors.Keyed) says what was expected."""


@dataclass(frozen=True)
class Window:
    """Local time-of-day window [start, end), in seconds after midnight."""

    start: int
    end: int

    def label(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class Param:
    """One parameter: its kind, default (absent = required) and one line of documentation."""

    kind: str
    doc: str
    default: Any = _REQUIRED
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def parse(self, value: Any) -> Any:
        return _PARSERS[self.kind](self, value)

    def default_value(self) -> Any:
        """The parsed default (None stays None: an optional parameter left out)."""
        return None if self.default is None else self.parse(self.default)


def _seconds(param: Param, value: Any) -> float | None:
    if value is None and param.default is None:
        return None
    # .inf (YAML's infinity) is refused: a threshold no wait can exceed switches the rule off
    # while `rules` still lists it as running.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ParamError("param.seconds", value=repr(value))
    return float(value)


def _rate(param: Param, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ParamError("param.rate", value=repr(value))
    return float(value)


def _count(param: Param, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParamError("param.count", value=repr(value))
    return value


def _choice(param: Param, value: Any) -> str:
    if value not in param.choices:
        raise ParamError("param.choice", known=listed(param.choices), value=repr(value))
    return value


def _subset(param: Param, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(v not in param.choices for v in value):
        raise ParamError("param.subset", known=listed(param.choices), value=repr(value))
    return tuple(sorted(set(value), key=param.choices.index))


def _window(param: Param, value: Any) -> Window:
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise ParamError("param.window", value=repr(value))
    start, end = (_time_of_day(value[k]) for k in ("start", "end"))
    if start >= end:
        raise ParamError("param.window_order", start=value["start"], end=value["end"])
    return Window(start, end)


def _time_of_day(value: Any) -> int:
    match = _TIME.match(str(value))
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or (int(match[1]) == 24 and int(match[2]) != 0):
        raise ParamError("param.time", value=repr(value))
    return int(match[1]) * 3600 + int(match[2]) * 60


def _phrases(param: Param, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ParamError("param.strings", value=repr(value))
    return tuple(value)


def _optional_phrases(param: Param, value: Any) -> tuple[str, ...] | None:
    return None if value is None else _phrases(param, value)


def _regexes(param: Param, value: Any) -> tuple[str, ...] | None:
    from cservice_audit.text import pattern_error

    if value is None:
        return None
    patterns = _phrases(param, value)
    for pattern in patterns:
        problem = pattern_error(pattern)
        if problem:
            raise ParamError("param.regex", pattern=repr(pattern), problem=problem)
    return patterns


def _flag(param: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError("param.bool", value=repr(value))
    return value


def _optional_rate(param: Param, value: Any) -> float | None:
    return None if value is None else _rate(param, value)


_PARSERS = {
    "seconds": _seconds,
    "rate": _rate,
    "count": _count,
    "choice": _choice,
    "subset": _subset,
    "window": _window,
    "phrases": _phrases,
    "optional_phrases": _optional_phrases,
    "regexes": _regexes,
    "flag": _flag,
    "optional_rate": _optional_rate,
}

# Parameters shared by every check that counts occurrences (one finding per occurrence).
OCCURRENCE = {
    "period": Param("choice", "period over which occurrences and points are tallied", "day", PERIODS),
    "max_count": Param("count", "the period fails when occurrences exceed this", 0),
    "scopes": Param("subset", "who is tallied: each agent, the whole shop, or both", ["agent", "shop"], ("agent", "shop")),
}

# Parameters shared by every check that computes a metric per scope and period.
DAYTIME = {"start": "08:00", "end": "23:00"}
COMMON = {
    "period": Param("choice", "assessment period", "day", PERIODS),
    "min_count": Param("count", "fewer counted items than this: status insufficient, no finding", 1),
    "scopes": Param("subset", "who is judged: each agent, the whole shop, or both", ["agent", "shop"], SCOPES),
}


def parse_date(value: Any) -> date:
    """A YAML date (already a date) or an ISO string."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParamError("param.date", value=repr(value)) from None
