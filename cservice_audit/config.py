"""The config file: `cservice-audit.toml` in the working folder, or `--config FILE`.

One file per shop keeps a cron line short. Precedence is file < environment < flag: a value
given on the command line wins, then the environment (`CSERVICE_AUDIT_HOME` for the history,
`LANG`/`LC_ALL` for the language), then the file. Unknown keys are errors naming the file and
the key, like rulesets, so a typo never silently does nothing.

    platform = "pinduoduo"
    shop = "拼多多旗舰店"
    history = "/var/lib/cservice-audit"
    format = "json"
    output = "/var/lib/cservice-audit/shopA.json"
    baseline = "/var/lib/cservice-audit/shopA.json"   # tonight's report is tomorrow's baseline
    fail_on = "error"
    select = ["PDD-R", "PDD-N1"]
    [notify]
    wecom = "https://..."
    [limits]                 # resource caps (docs/limits.md); $CSERVICE_AUDIT_LIMITS and --limit win
    input_bytes = "200G"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cservice_audit.errors import AuditError, Term, os_reason, parser_problem
from cservice_audit.i18n import listed

DEFAULT_NAME = "cservice-audit.toml"

# A TOML value's kind in the reader's words (select：应为 文字或文字列表，实为 整数); the
# Python type names (list of strings, int) were English inside the Chinese line.
_KINDS = {bool: "cfg.type.bool", int: "cfg.type.integer", float: "cfg.type.number", str: "cfg.type.text", list: "cfg.type.list", dict: "cfg.type.table"}


def value_kind(value: Any) -> Term:
    """What a TOML value is (a date or time, any other kind)."""
    return Term(next((key for kind, key in _KINDS.items() if isinstance(value, kind)), "cfg.type.datetime"))


# key -> the Python types it accepts (lists are lists of strings).
_KEYS: dict[str, tuple[type, ...]] = {
    "platform": (str,),
    "ruleset": (str,),
    "shop": (str,),
    "history": (str,),
    "mapping": (str,),
    "profile": (str,),
    "select": (list, str),
    "ignore": (list, str),
    "fail_on": (str,),
    "lang": (str,),
    "items": (int,),
    "format": (str,),
    "output": (str,),
    "baseline": (str,),
    "input_tz": (str,),
    "encoding": (str,),
    "rejects": (str,),
    "report_url": (str,),
}
NOTIFY_BOTS = ("wecom", "dingtalk", "feishu")
_NOTIFY_KEYS = {*NOTIFY_BOTS, "secret", "timeout", "report_url"}
_PATH_KEYS = {"ruleset", "history", "mapping", "output", "baseline", "rejects"}


class ConfigError(AuditError):
    """The config file is unreadable or has a wrong key; the message names file and key.
    `lang`: the file's own `lang` when it could be read, the language to say it in (cron runs
    with LANG=C; the file is the shop's choice, as for every other message)."""

    lang: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    notify: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)  # [limits]: checked by limits.Limits.with_settings

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def load_config(explicit: Path | None, cwd: Path | None = None) -> Config:
    """`--config FILE` (must exist), else `cservice-audit.toml` in the working folder if any."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError("error.config_missing", path=path)
    else:
        path = (cwd or Path.cwd()) / DEFAULT_NAME
        if not path.is_file():
            return Config()
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError("error.config_unreadable", path=path, reason=os_reason(exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        error = ConfigError("error.config_toml", path=path, reason=parser_problem(str(exc).splitlines()[0]))
        # A Chinese input method's colon or equals sign (ruleset："my.yaml", lang＝"zh"): the
        # parser's "Expected '=' after a key" did not say which character was wrong.
        if isinstance(exc, tomllib.TOMLDecodeError):
            text = path.read_text("utf-8")
            # Only the line the parser stopped at: a `note: …` inside a multi-line text is no key
            # (it was named instead of the unclosed string further down).
            at = re.search(r"at line (\d+), column \d+\)", str(exc))
            lines = text.splitlines()
            n = int(at.group(1)) if at else 0
            if 0 < n <= len(lines) and re.match(r"\s*[A-Za-z_][A-Za-z0-9_.-]*\s*[：＝:]", lines[n - 1]):
                error = ConfigError("error.config_fullwidth", path=path, line=n)
            # Said in the file's own language even though it did not parse (cron's LANG=C).
            wrote = re.search(r"""^\s*lang\s*[=：＝:]\s*["'“”]?(zh|en)\b""", text, re.MULTILINE)
            error.lang = wrote.group(1) if wrote else None
        raise error from None
    try:
        return _validated(path, raw)
    except ConfigError as exc:
        exc.lang = raw.get("lang") if raw.get("lang") in ("zh", "en") else None
        raise


def _validated(path: Path, raw: dict[str, Any]) -> Config:
    values: dict[str, Any] = {}
    notify: dict[str, Any] = {}
    caps: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "limits":
            if not isinstance(value, dict):
                raise ConfigError("error.config_limits", path=path)
            caps = dict(value)
            continue
        if key == "notify":
            if not isinstance(value, dict):
                raise ConfigError("error.config_notify", path=path)
            for sub, subvalue in value.items():
                if sub not in _NOTIFY_KEYS:
                    raise ConfigError("error.config_key", path=path, name=f"notify.{sub}", known=listed(sorted(_NOTIFY_KEYS)))
                # Strict like the top level: `wecom = 5` was an internal error in `notify`.
                kinds = (int, float) if sub == "timeout" else (str,)
                if not isinstance(subvalue, kinds) or isinstance(subvalue, bool):
                    expected = Term("cfg.type.number" if sub == "timeout" else "cfg.type.text")
                    raise ConfigError("error.config_type", path=path, name=f"notify.{sub}", expected=expected, got=value_kind(subvalue))
                notify[sub] = subvalue
            bots = [name for name in NOTIFY_BOTS if notify.get(name)]
            if len(bots) > 1:
                # One group per config; said on every run, not only on the first night with news.
                raise ConfigError("error.config_notify_bots", path=path, names=listed(f"notify.{name}" for name in bots))
            continue
        if key not in _KEYS:
            raise ConfigError("error.config_key", path=path, name=key, known=listed([*sorted(_KEYS), "[notify]", "[limits]"]))
        if not isinstance(value, _KEYS[key]) or isinstance(value, bool):
            expected = Term("cfg.type.text_or_list" if list in _KEYS[key] else _KINDS[_KEYS[key][0]])
            raise ConfigError("error.config_type", path=path, name=key, expected=expected, got=value_kind(value))
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError("error.config_strings", path=path, name=key)
        if key == "items" and value < 0:  # as --items (min 0): -1 acted as 0
            raise ConfigError("error.config_negative", path=path, name=key, value=value)
        if key in _PATH_KEYS:
            # Relative paths in the file are relative to the file, not to cron's working folder.
            value = str((path.parent / value).resolve()) if not Path(value).is_absolute() else value
        values[key] = value
    return Config(path, values, notify, caps)
