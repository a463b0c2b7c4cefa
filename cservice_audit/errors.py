"""Errors that stop a run. The CLI prints their message on one line and exits 2.

An error is raised with a catalogue key and its fields, `InputError("error.no_such_file",
path=p)`, and the CLI writes it in the reader's language (`localized(lang)`); `str(error)` is
the English text, so logs and tests read the same whatever the locale. A plain sentence
(`AuditError("...")`) still works and is shown as it is in both languages.
"""

from __future__ import annotations

# A catalogue word (with fields of its own) as an error's field: the one class the notes of a
# run use too (i18n.Term), imported from here by the modules that raise.
import re

from cservice_audit.i18n import Term

# The operating system's reasons a user meets most, in the catalogue (`os.*`); the English
# text is glibc's strerror, so English messages read as before.
OS_REASONS = {"ENOENT": "os.enoent", "EACCES": "os.eacces", "EPERM": "os.eperm", "EISDIR": "os.eisdir",
              "ENOTDIR": "os.enotdir", "ENOSPC": "os.enospc", "EROFS": "os.erofs", "EEXIST": "os.eexist",
              # a webhook push's network failures (notify)
              "ECONNREFUSED": "os.econnrefused", "ECONNRESET": "os.econnreset", "ETIMEDOUT": "os.etimedout",
              "EHOSTUNREACH": "os.ehostunreach", "ENETUNREACH": "os.enetunreach"}


# What the YAML and TOML parsers say (libyaml's and PyYAML's `problem`, tomllib's message),
# matched whole and said in the reader's language (catalogue parser.*; in English the
# parser's own words, as before). A problem not listed stays the parser's English.
PARSER_PROBLEMS = tuple((re.compile(pattern), key) for pattern, key in (
    (r"did not find expected ',' or '\]'|expected ',' or '\]', but got .+", "parser.flow_sequence"),
    (r"did not find expected ',' or '\}'|expected ',' or '\}', but got .+", "parser.flow_mapping"),
    (r"did not find expected key|expected <block end>, but found .+", "parser.expected_key"),
    (r"did not find expected '-' indicator", "parser.expected_dash"),
    (r"mapping values are not allowed (?:here|in this context)", "parser.mapping_values"),
    (r"found unexpected end of stream", "parser.end_of_stream"),
    (r"found undefined alias.*", "parser.undefined_alias"),
    (r"found unknown escape character.*", "parser.unknown_escape"),
    (r"found character .*that cannot start any token", "parser.cannot_start"),
    (r"could not find expected ':'", "parser.expected_colon"),
    (r"Invalid value", "parser.toml_value"),
    (r"Expected '=' after a key in a key/value pair", "parser.toml_equals"),
    (r"Cannot overwrite a value", "parser.toml_overwrite"),
    (r"Cannot declare .+ twice", "parser.toml_twice"),
    (r"Unclosed array", "parser.toml_array"),
    (r"Illegal character .+", "parser.toml_illegal"),
    (r"Expected newline or end of document after a statement", "parser.toml_newline"),
    (r"Invalid statement", "parser.toml_statement"),
))  # fmt: skip
_TOML_AT = re.compile(r"(?P<problem>.+?) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|(?P<end>end of document))\)")


def parser_problem(text: str) -> "Term | dict[str, str] | str":
    """A parser's message in the reader's language where the catalogue has it (tomllib's
    position, `(at line 3, column 5)`, too); otherwise the parser's own words."""
    at = _TOML_AT.fullmatch(text)
    problem = at.group("problem") if at else text
    key = next((key for pattern, key in PARSER_PROBLEMS if pattern.fullmatch(problem)), None)
    if key is None:
        return text
    # The English is the parser's own words as it wrote them (the catalogue's en is a gloss).
    said = {"zh": Term(key).localized("zh"), "en": problem}
    if at is None:
        return said
    if at.group("end"):
        return Term("parser.at_end", problem=said)
    return Term("parser.at", problem=said, line=at.group("line"), column=at.group("column"))


def os_reason(exc: BaseException) -> "Term | str":
    """Why an OS call failed, in the reader's language where the catalogue has the reason."""
    import errno

    name = errno.errorcode.get(getattr(exc, "errno", None) or -1)
    if name in OS_REASONS:
        return Term(OS_REASONS[name])
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return strerror
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class Keyed:
    """An exception raised with a catalogue key and its fields (or a plain sentence);
    `str()` is English, `localized(lang)` the reader's language. A field that is itself a
    keyed exception (a parameter's problem inside a ruleset error) or a `Term` is written in
    the same language."""

    def __init__(self, message: str, /, **fields: object) -> None:
        from cservice_audit.i18n import catalogue

        # A key of the catalogue (with or without fields) is translated; anything else is text.
        self.key = message if message in catalogue() else None
        self.fields = fields
        super().__init__(self.localized("en"))

    def localized(self, lang: str) -> str:
        """The message in `lang` (zh or en)."""
        if self.key is None:
            return self.args[0] if self.args else ""
        from cservice_audit.i18n import in_language, t

        return t(self.key, lang, **{k: in_language(v, lang) for k, v in self.fields.items()})


class AuditError(Keyed, Exception):
    """A run that cannot be done; the message is the one line the user sees."""


class InputError(AuditError):
    """An input file cannot be read or lacks a required column."""


class RulesetError(AuditError):
    """A ruleset file is invalid; the message names the file and the key path."""


class Stopped(BaseException):
    """SIGTERM (a cron `timeout`, a service stop) or SIGINT (Ctrl-C), raised in the main thread
    by the handler cli.main installs. It unwinds the run, so every `finally` and ExitStack runs
    and the run's temporary files (spools, the spill folder, a report's temporary file) are
    removed; Python's default SIGTERM ends the process on the spot and left them behind.

    A BaseException of its own, not KeyboardInterrupt: Typer turns a KeyboardInterrupt into a
    silent exit 130, and the spec allows 0, 1 and 2 only (a stopped run could not be done: 2)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# The signal received, if any. Raising is not enough: a signal that lands while polars runs
# a Python callback is "ignored" there (printed, not raised), and the run went on as if its
# input were empty. So every file the run publishes checks this first (`check_stopped`),
# and cli.main reports the stop whatever happened after it.
STOP_SIGNAL: list[int] = []


def raise_stopped(signum: int, frame: object) -> None:
    STOP_SIGNAL.append(signum)
    raise Stopped(signum)


def check_stopped() -> None:
    """Raise Stopped if a stop signal came, even one whose exception was swallowed."""
    if STOP_SIGNAL:
        raise Stopped(STOP_SIGNAL[0])
