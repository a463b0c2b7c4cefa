"""Fuzz the command line with hostile input (docs/inputs.md; spec/metrics.md §1, §10).

Three kinds of input, each fed to the real command path (`cservice_audit.cli.main`, the
console script's entry point, checked below) with sys.argv, stdout, stderr and stdin
swapped in-process, so that hundreds of examples stay fast:

(a) random bytes, named as any supported export (or piped on stdin);
(b) a valid small export (CSV with any separator, JSONL; UTF-8, UTF-8 BOM, GB18030),
    mutated: bytes flipped, inserted, deleted, lines duplicated or swapped, the file
    truncated, a line or the whole file re-encoded, gzip;
(c) a well-formed export of random content (random texts with quotes, separators, newlines,
    NULs, emoji; every timestamp style; role spellings and typos; duplicate rows) whose
    correct counts are known.

Properties: exit 0, 1 or 2 only; no exception but SystemExit (no traceback); exit 2 is one
line on stderr and nothing on stdout; otherwise rows_read == rows_used + rows_rejected +
rows_duplicate per file and in total. For (c), also: the run goes through (exit 0 or 1),
rows_read is the number of records written, and rows_rejected / rows_duplicate / rows_used
are exactly the rows made bad / the copies of good rows / the good rows.

`make test` runs the default profile (25 examples per test); `make fuzz` sets
HYPOTHESIS_PROFILE=fuzz (500 each). The profiles live in this module's own settings
objects, so loading them changes no other test file's settings.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from cservice_audit import cli
from cservice_audit.normalize import Aliases

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
}
PROFILES = {
    # `make test`: a bounded run that fails fast, printing the example as found (shrinking
    # it costs hundreds of runs, minutes, while a bug is open).
    "default": settings(max_examples=25, phases=(Phase.explicit, Phase.reuse, Phase.generate), **_COMMON),
    # `make fuzz`: long, and a failure is shrunk to a minimal example. No explain phase: it
    # re-runs a failing example many times.
    "fuzz": settings(max_examples=500, phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink), **_COMMON),
}
# `pytest --hypothesis-profile=fuzz` works too. "default" is deliberately not registered:
# registering the active profile's name would change every other test file's settings.
settings.register_profile("fuzz", PROFILES["fuzz"])
_CHOSEN = os.environ.get("HYPOTHESIS_PROFILE", "default")
FUZZ = PROFILES[_CHOSEN] if _CHOSEN in PROFILES else settings.get_profile(_CHOSEN)

ARGS = ("-p", "pdd", "-f", "json", "--no-history")
TZ8 = timezone(timedelta(hours=8))


# --------------------------------------------------------------------------- running the command


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(*args: str, stdin: bytes = b"") -> Outcome:
    """cservice_audit.cli.main() with this argv; any exception but SystemExit propagates
    (that is the traceback a user would see) and fails the example."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdin
    sys.argv = ["cservice-audit", *args]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    code: object = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv, sys.stdin = saved
    assert code in (0, 1, 2), f"exit status {code!r}; stderr: {err.getvalue()[-2000:]}"
    return Outcome(int(code), out.getvalue(), err.getvalue())


def check_contract(outcome: Outcome) -> dict | None:
    """The properties every input must keep; the JSON report when the run went through."""
    note(f"exit {outcome.code}; stderr: {outcome.err[:1500]!r}")
    assert "Traceback" not in outcome.err and "internal error" not in outcome.err, outcome.err[-3000:]  # a crash, even caught
    if outcome.code == 2:
        assert outcome.out == "", "exit 2 with something on stdout"
        lines = [line for line in outcome.err.splitlines() if line.strip()]
        assert len(lines) == 1, f"exit 2 must be one line on stderr: {outcome.err[:2000]!r}"
        assert lines[0].startswith("cservice-audit: error: "), lines[0]
        return None
    report = json.loads(outcome.out)
    inp = report["input"]
    for counts in (*inp["files"], inp):
        assert counts["rows_read"] == counts["rows_used"] + counts["rows_rejected"] + counts["rows_duplicate"], counts
        assert min(counts["rows_used"], counts["rows_rejected"], counts["rows_duplicate"]) >= 0, counts
    for key in ("rows_read", "rows_used", "rows_rejected", "rows_duplicate"):
        assert inp[key] == sum(f[key] for f in inp["files"]), (key, inp)
    return report


def audit_bytes(data: bytes, name: str, *, via_stdin: bool = False, via_pipe: bool = False, extra: tuple[str, ...] = ()) -> Outcome:
    if via_stdin:
        return run_cli("audit", "-", *ARGS, *extra, stdin=data)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        path = Path(folder) / name
        if not via_pipe:
            path.write_bytes(data)
            return run_cli("audit", str(path), *ARGS, *extra)
        # A named pipe: the command must read it once, whole (a writer thread feeds it).
        os.mkfifo(path)
        writer = threading.Thread(target=_feed, args=(path, data))
        writer.start()
        try:
            return run_cli("audit", str(path), *ARGS, *extra)
        finally:
            with contextlib.suppress(OSError):  # unblock a writer whose pipe was never read
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                while os.read(fd, 1 << 16):
                    pass
                os.close(fd)
            writer.join(timeout=30)


def _feed(path: Path, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError), open(path, "wb") as fh:
        fh.write(data)


def test_in_process_entry_point_is_the_installed_command():
    """The fuzz runs `cservice_audit.cli:main`; that is what the console script runs."""
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("cservice-audit") == "cservice_audit.cli:main"


# --------------------------------------------------------------------------- (a) random bytes

SUFFIXES = [".csv", ".tsv", ".txt", ".jsonl", ".json", ".csv.gz", ".jsonl.gz", ".xlsx"]


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.binary(max_size=1000).map(lambda b: b"\x1f\x8b" + b),  # gzip magic, junk after it
        st.binary(max_size=1000).map(gzip.compress),  # real gzip of junk
        st.binary(max_size=1000).map(lambda b: b"\xef\xbb\xbf" + b),  # a BOM, junk after it
        st.binary(max_size=1000).map(lambda b: b"PK\x03\x04" + b),  # looks like a zip (xlsx)
    ),
    suffix=st.sampled_from(SUFFIXES),
    via_stdin=st.booleans(),
)
def test_random_bytes(data, suffix, via_stdin):
    check_contract(audit_bytes(data, "export" + suffix, via_stdin=via_stdin and suffix != ".xlsx"))


# --------------------------------------------------------------------------- valid exports

HEADERS = {
    "ts": ["ts", "timestamp", "时间", "发送时间", "消息时间"],
    "shop": ["shop", "店铺"],
    "buyer": ["buyer", "买家", "买家昵称", "顾客"],
    "conversation": ["conversation_id", "会话ID"],
    "role": ["role", "sender", "发送方", "角色"],
    "agent": ["agent", "客服账号", "子账号", "客服昵称"],
    "text": ["text", "content", "消息内容", "内容"],
    "message_id": ["message_id", "消息ID"],
}
ROLE_SPELLINGS = {
    "buyer": ["买家", "buyer", "顾客", "customer", "Buyer", " 买家 "],
    "agent": ["客服", "agent", "人工", "AGENT", "人工客服"],
    "bot": ["机器人", "bot", "自动回复", "Robot"],
    "system": ["系统", "system"],
}
_KNOWN_ROLES = set(Aliases.shipped().value_map("role"))
ROLE_TYPOS = [r for r in ["买加", "客幅", "bueyr", "agnet", "机器仁", "?", "系 统", "0"] if r.strip().lower() not in _KNOWN_ROLES]
BAD_TIMESTAMPS = ["2026-13-45 09:00:00", "not a time", "2026-11-22 25:61:00", "昨天下午", "2030-01-01 09:00:00",
                  "1999-12-31 23:59:59", "2099-01-01T00:00:00+08:00", "36000", "12345678", ""]  # fmt: skip
FIRST = datetime(2026, 11, 20, tzinfo=TZ8)


def ts_styles(moment: datetime) -> list[str | int]:
    """Spellings of one instant (a whole second, in +08:00) that the tool reads as it."""
    naive = moment.replace(tzinfo=None)
    utc = moment.astimezone(UTC)
    epoch = int(moment.timestamp())
    serial = (naive - datetime(1899, 12, 30)).total_seconds() / 86400
    styles: list[str | int] = [
        naive.strftime("%Y-%m-%d %H:%M:%S"),
        f"{naive:%Y/%m/%d} {naive.hour}:{naive:%M:%S}",
        naive.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        str(epoch),
        str(epoch * 1000),
        f"{serial:.10f}",
    ]
    if naive.second == 0:
        styles += [naive.strftime("%Y-%m-%d %H:%M"), f"{naive:%Y/%m/%d} {naive.hour}:{naive:%M}"]
    return styles


@dataclass
class Export:
    data: bytes
    suffix: str
    records: int
    used: int
    rejected: int
    duplicate: int


# Text that exercises quoting: separators, quotes, CR/LF, NUL, full-width and emoji, formulas.
TEXT = st.lists(
    st.one_of(
        st.sampled_from(list(',;\t"\'\r\n\x00 =+-@\\{}[]:') + ["买家", "客服", "😀", "，", "\u3000", "\u2028", "\ufeff", "\r\n", '""']),
        st.characters(codec="utf-8"),
    ),
    max_size=20,
).map("".join)


@st.composite
def exports(draw) -> Export:
    """A well-formed export with random content, and the counts the tool must report."""
    fmt = draw(st.sampled_from(["csv", "csv", "jsonl"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    optional = [c for c in ("shop", "conversation", "message_id") if draw(st.booleans())]
    columns = ["ts", "buyer", "role", "agent", "text", *optional]
    columns = draw(st.permutations(columns))
    header = {c: draw(st.sampled_from(HEADERS[c])) for c in columns}
    if encoding == "gb18030":
        header["ts"] = "发送时间"  # Chinese bytes up front, so the file is not also valid UTF-8

    rows: list[dict] = []
    good: list[bool] = []
    originals = draw(st.integers(1, 12))
    for i in range(originals):
        role = draw(st.sampled_from(sorted(ROLE_SPELLINGS)))
        moment = FIRST + timedelta(seconds=draw(st.integers(0, 3 * 86400 - 1)))
        row = {
            "ts": draw(st.sampled_from(ts_styles(moment))),
            "buyer": draw(st.sampled_from(["张三", "b1", "=cmd|' /C calc'!A0", "li,si", 'q"uote', "多行\n买家"])),
            "role": draw(st.sampled_from(ROLE_SPELLINGS[role])),
            "agent": draw(st.sampled_from(["小美", "a1", "+agent"])) if role == "agent" else draw(st.sampled_from(["", "小美", "a2"])),
            "text": draw(TEXT) + f"#{i}",  # unique: no two originals are duplicates by accident
            "shop": draw(st.sampled_from(["旗舰店", "", "-2+3"])),
            "conversation": draw(st.sampled_from(["c1", "c2", ""])),
            "message_id": f"m{i}",
        }
        defect = draw(st.sampled_from([None, None, None, "ts", "role", "buyer", "agent"]))
        if defect == "ts":
            row["ts"] = draw(st.sampled_from(BAD_TIMESTAMPS))
        elif defect == "role":
            row["role"] = draw(st.sampled_from([*ROLE_TYPOS, ""]))
        elif defect == "buyer":
            row["buyer"] = draw(st.sampled_from(["", "   "]))
        elif defect == "agent":
            row["role"], row["agent"] = draw(st.sampled_from(ROLE_SPELLINGS["agent"])), ""
        rows.append(row)
        good.append(defect is None)
    # Copies of earlier rows, exact or (with message ids) with the text edited.
    copies = draw(st.lists(st.integers(0, originals - 1), max_size=4))
    for source in copies:
        copy = dict(rows[source])
        if "message_id" in columns and draw(st.booleans()):
            copy["text"] = copy["text"] + "（已编辑）"
        rows.append(copy)
        good.append(good[source])
    order = draw(st.permutations(range(len(rows))))
    # Only the first of a group of copies is used; which one that is does not change counts.
    rows = [rows[k] for k in order]
    good = [good[k] for k in order]

    if fmt == "csv":
        separator = draw(st.sampled_from([",", "\t", ";"]))
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=separator, lineterminator=newline)
        writer.writerow([header[c] for c in columns])
        for row in rows:
            writer.writerow([row[c] for c in columns])
        text = buffer.getvalue()
        suffix = draw(st.sampled_from([".csv", ".txt"] + ([".tsv"] if separator == "\t" else [])))
    else:
        ascii_only = draw(st.booleans())
        lines = []
        for row in rows:
            record = {header[c]: row[c] for c in columns}
            ts = row["ts"]
            if isinstance(ts, str) and ts.isdigit() and len(ts) in (10, 13) and draw(st.booleans()):
                record[header["ts"]] = int(ts)  # epoch as a JSON number
            lines.append(json.dumps(record, ensure_ascii=ascii_only))
        text = "\n".join(lines) + "\n"
        suffix = draw(st.sampled_from([".jsonl", ".ndjson"]))
    data = text.encode(encoding)
    if draw(st.integers(0, 4)) == 0:
        data, suffix = gzip.compress(data), suffix + ".gz"
    by_id = "message_id" in columns
    firsts = sum(1 for i, ok in enumerate(good) if ok and _first_of_group(rows, i, by_id))
    n_good = sum(good)
    return Export(data, suffix, records=len(rows), used=firsts, rejected=len(rows) - n_good, duplicate=n_good - firsts)


def _first_of_group(rows: list[dict], i: int, by_id: bool) -> bool:
    """Whether row i is the first of its copies (same id, or same everything)."""
    key = (lambda r: r["message_id"]) if by_id else (lambda r: tuple(sorted(r.items())))
    return all(key(rows[j]) != key(rows[i]) for j in range(i))


@FUZZ
@given(export=exports(), via_stdin=st.booleans())
def test_well_formed_exports_are_counted_exactly(export, via_stdin):
    note(f"suffix {export.suffix}; data {export.data[:3000]!r}")
    outcome = audit_bytes(export.data, "export" + export.suffix, via_stdin=via_stdin)
    report = check_contract(outcome)
    if export.used == 0:
        # Nothing usable (every row rejected or a duplicate) is not an all-clear: exit 2 and
        # the count in its one line (spec §10).
        assert report is None and "no usable rows" in outcome.err, outcome.err
        return
    if export.rejected * 100 > 50 * export.records:
        # More than half its rows rejected: read the wrong way, not audited on the rest
        # (the rejected_percent limit, 50 by default); at exactly half it is audited. With
        # the limit raised, its counts are held to the same exactness as the others.
        assert report is None and "rejected_percent" in outcome.err, outcome.err
        outcome = audit_bytes(export.data, "export" + export.suffix, via_stdin=via_stdin, extra=("--limit", "rejected_percent=100"))
        report = check_contract(outcome)
    assert report is not None, f"a well-formed export was refused: {outcome.err}"
    inp = report["input"]
    assert inp["rows_read"] == export.records, f"{export.records} records written, {inp['rows_read']} read"
    assert (inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (export.used, export.rejected, export.duplicate), inp


# --------------------------------------------------------------------------- (b) mutated exports

SPECIAL = [b'"', b"\n", b"\r", b"\r\n", b",", b";", b"\t", b"\x00", b"\xef\xbb\xbf", b"{", b"}", b"\xff", b"\x81\x30", b"\xe4\xb9"]


@st.composite
def mutated(draw) -> tuple[bytes, str]:
    export = draw(exports())
    data = gzip.decompress(export.data) if export.suffix.endswith(".gz") else export.data
    suffix = export.suffix.removesuffix(".gz")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "special", "delete", "dup_line", "swap_lines", "truncate", "reencode_line", "reencode", "bom"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif op == "special":
            data = data[:at] + draw(st.sampled_from(SPECIAL)) + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 40)) :]
        elif op in ("dup_line", "swap_lines", "reencode_line"):
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "dup_line":
                lines.insert(i, lines[i])
            elif op == "swap_lines":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            else:
                text = lines[i].decode("utf-8", "replace")
                lines[i] = text.encode(draw(st.sampled_from(["gb18030", "utf-8", "utf-16-le"])), "replace")
            data = b"\n".join(lines)
        elif op == "truncate":
            data = data[:at]
        elif op == "reencode":
            encoding = draw(st.sampled_from(["gb18030", "utf-8", "utf-16"]))
            data = data.decode("utf-8", "replace").encode(encoding, "replace")
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 5)) == 0:
        data, suffix = gzip.compress(data), suffix + ".gz"
    return data, suffix


@FUZZ
@given(case=mutated(), via_stdin=st.booleans())
# Found by this test: a UTF-8 file cut off inside a multi-byte character.
@example(case=(b"ts,buyer,role,agent,text\n2026-11-22 09:00:00,b1,buyer,,\xe5\x9c\xa8\xe5", ".csv"), via_stdin=False)
def test_mutated_exports(case, via_stdin):
    data, suffix = case
    note(f"suffix {suffix}; data {data[:3000]!r}")
    check_contract(audit_bytes(data, "export" + suffix, via_stdin=via_stdin))


# --------------------------------------------------------------------------- containers, YAML, pipes
#
# Hostile containers (issue 12): a gzip or xlsx file damaged anywhere, gzip members glued or
# followed by junk; random YAML for --ruleset, validate-ruleset and --mapping (anchors,
# aliases, deep nesting, tags, odd scalars); exports read through a named pipe. The same
# contract: exit 0, 1 or 2, no traceback, exit 2 is one line.


def _workbook() -> bytes:
    import polars as pl

    buffer = io.BytesIO()
    pl.DataFrame(
        {"时间": ["2026-11-22 09:00:00", "2026-11-22 09:01:00"], "买家": ["b1", "b1"], "发送方": ["买家", "客服"],
         "客服账号": ["", "a1"], "内容": ["在吗", "在的"]}  # fmt: skip
    ).write_excel(buffer)
    return buffer.getvalue()


WORKBOOK = _workbook()


@st.composite
def damaged_containers(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["gzip", "xlsx"]))
    if kind == "xlsx":
        data, suffix = WORKBOOK, ".xlsx"
    else:
        export = draw(exports())
        plain = gzip.decompress(export.data) if export.suffix.endswith(".gz") else export.data
        data, suffix = gzip.compress(plain), export.suffix.removesuffix(".gz") + ".gz"
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "junk_after", "glue", "zero_pad", "insert"]))
        # A truncation may leave nothing: `at` is then 0 (an empty bound would be an invalid
        # strategy, a failure of the test itself that showed only when hypothesis drew it).
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip":
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif op == "truncate":
            data = data[:at]
        elif op == "junk_after":
            data += draw(st.binary(min_size=1, max_size=64))
        elif op == "glue":
            data += data  # two gzip members (or two zips) back to back
        elif op == "zero_pad":
            data += b"\x00" * draw(st.integers(1, 512))
        else:
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    return data, suffix


@FUZZ
@given(case=damaged_containers(), via_pipe=st.booleans())
def test_damaged_containers(case, via_pipe):
    data, suffix = case
    note(f"suffix {suffix}; {len(data)} bytes")
    check_contract(audit_bytes(data, "export" + suffix, via_pipe=via_pipe))


YAML_SCALARS = st.one_of(
    st.sampled_from(["pinduoduo", "'1'", "2026-01-01", "2026-02-30", "~", "true", "1e400", "-0", "0x1F", "!!binary aGk=",
                     "!!python/object:os.system x", "*undefined", "'\\e[2J'", '"\\e]52;c;eA==\\a"', "[", "{", "- x",
                     "'(?x)a#'", "'\\w{150}'", "../../x", "/tmp/x", "PDD-P2", "reply_rate", "9" * 40]),
    st.text(max_size=12).map(json.dumps),
)
YAML_KEYS = st.sampled_from(["platform", "version", "effective", "extends", "rules", "code", "check", "params",
                             "patterns", "columns", "values", "ts", "role", "timezone", "name", "<<", "? x"])


@st.composite
def yaml_documents(draw, depth: int = 0) -> str:
    """Random YAML text: mappings and sequences of scalars, with anchors, aliases, merges and
    nesting (sometimes very deep), as a user's ruleset or mapping might be, or an attack."""
    shape = draw(st.sampled_from(["mapping", "sequence", "scalar", "deep", "alias_bomb"]) if depth < 3 else st.just("scalar"))
    pad = "  " * depth
    if shape == "scalar":
        return draw(YAML_SCALARS)
    if shape == "deep":
        levels = draw(st.integers(10, 3000))
        return draw(st.sampled_from(["[" * levels + "x" + "]" * levels, "\n" + pad + "  " + "- " * levels + "x"]))
    if shape == "alias_bomb":
        return "&a [x, x]\n" + pad + "z: [*a, *a, *a]"
    items = []
    for _ in range(draw(st.integers(0, 4))):
        value = draw(yaml_documents(depth=depth + 1))
        anchor = draw(st.sampled_from(["", "", "&n ", "*n "]))
        if shape == "mapping":
            items.append(f"{pad}{draw(YAML_KEYS)}: {anchor if anchor != '*n ' else ''}{value if anchor != '*n ' else '*n'}")
        else:
            items.append(f"{pad}- {anchor if anchor != '*n ' else ''}{value if anchor != '*n ' else '*n'}")
    return ("\n" + "\n".join(items)) if items else ("{}" if shape == "mapping" else "[]")


RULESET_START = "platform: pinduoduo\nversion: '1'\neffective: 2026-01-01\nrules:\n  - code: PDD-P2\n"


@FUZZ
@given(document=yaml_documents(), as_ruleset=st.booleans(), prefix=st.booleans())
# Found by hand (issue 12): deep nesting crashed the composer; nested aliases expand to a billion values.
@example(document="columns:\n  ts:\n    " + "- " * 20000 + "x", as_ruleset=False, prefix=False)
@example(document="sources: " + "[" * 900 + "]" * 900, as_ruleset=True, prefix=False)
@example(document="a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)), as_ruleset=True, prefix=True)
def test_random_yaml_rulesets_and_mappings(document, as_ruleset, prefix):
    text = (RULESET_START if prefix and as_ruleset else "") + document.lstrip("\n")
    note(text[:2000])
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        chats = Path(folder) / "chats.csv"
        chats.write_text("ts,buyer,role,agent,text\n2026-11-22 09:00:00,b1,buyer,,在吗\n", "utf-8")
        path = Path(folder) / "file.yaml"
        path.write_text(text, "utf-8")
        if as_ruleset:
            outcome = run_cli("validate-ruleset", str(path))
            assert outcome.code in (0, 2)
            assert "Traceback" not in outcome.err
            if outcome.code == 2:
                assert len([line for line in outcome.err.splitlines() if line.strip()]) == 1, outcome.err
            check_contract(run_cli("audit", str(chats), "--ruleset", str(path), "-f", "json", "--no-history"))
        else:
            check_contract(run_cli("audit", str(chats), *ARGS, "--mapping", str(path)))
