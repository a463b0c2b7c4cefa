"""Hostile input through the installed command (spec/metrics.md §1, §10; docs/inputs.md).

Every case must end in exit 0, 1 or 2, never a traceback; exit 2 is one line on stderr
naming the file; a run that goes through accounts for every record it was given
(rows_read == rows_used + rows_rejected + rows_duplicate, per file and in total, and
rows_read is the number of data records written). Nothing may come out silently wrong.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

AUDIT = ("-p", "pdd", "-f", "json", "--no-history")
HEADER = "时间,买家,发送方,客服账号,内容\n"
# b1 asks at 09:00 and a1 answers a minute later: clean under pinduoduo.
CLEAN = "2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:01:00,b1,客服,a1,在的\n"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def junk(seed: int, size: int = 4096) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


def check(run, records: int | None = None, name: str | None = None) -> dict | None:
    """The contract every hostile input must keep. Returns the JSON report, or None on exit 2."""
    assert run.code in (0, 1, 2), f"exit {run.code}: {run.err[-2000:]}"
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err[-3000:]  # a crash, even caught
    if run.code == 2:
        assert run.out == "", "exit 2 must leave stdout empty"
        lines = run.err_lines()
        assert len(lines) == 1, f"exit 2 must be one line on stderr, got {len(lines)}: {run.err[:2000]!r}"
        if name is not None:
            assert name in lines[0], f"the error does not name {name}: {lines[0]}"
        return None
    report = run.json()
    inp = report["input"]
    for counts in (*inp["files"], inp):
        assert counts["rows_read"] == counts["rows_used"] + counts["rows_rejected"] + counts["rows_duplicate"], counts
    assert inp["rows_read"] == sum(f["rows_read"] for f in inp["files"])
    if records is not None:
        assert inp["rows_read"] == records, f"{records} records written, {inp['rows_read']} read: {inp}"
    return report


def d1(report: dict) -> list[tuple[str, str]]:
    """(evidence, message) of every rejected-row finding, by file and line number."""
    found = [(f["evidence"], f["message"]) for f in report["findings"] if f["code"] == "PDD-D1"]
    return sorted(found, key=lambda pair: (pair[0].rsplit(":", 1)[0], int(pair[0].rsplit(":", 1)[1])))


# --------------------------------------------------------------------------- the inputs

MILLION = 1_000_000
MILLION_TEXT = "啊" * MILLION + "加我微信"  # the off-platform phrase comes after a million characters

OUT_OF_RANGE = HEADER + CLEAN + (
    "2030-01-01 09:00:00,f1,买家,,未来\n"
    "2099-01-01T00:00:00+08:00,f2,买家,,未来带时区\n"
    "4102444800000,f3,买家,,未来毫秒\n"  # 2100-01-01 in epoch milliseconds
    "1999-12-31 23:59:59,p1,买家,,上个世纪\n"
    "1970-01-01 08:00:00,p2,买家,,纪元\n"
    "36000,p3,买家,,Excel 1998\n"  # an Excel serial number: 1998-07-24
    "946655999,p4,买家,,纪元秒1999\n"  # 1999-12-31 23:59:59 +08:00 (local time, spec §2) in epoch seconds
)
TYPO_ROLES = ["买加", "客幅", "机器仁", "bueyr", "agnet", "系桶", "卖家家", "?", "0"]
# Spellings that are not typos: surrounding (also full-width) spaces and case are ignored.
NEAR_ROLES = [" 买家 ", "\u3000买家\u3000", "BUYER", "Agent"]


def typo_file() -> str:
    rows = [f"2026-11-22 09:{i:02d}:00,t{i},{role},a1,文字{i}\n" for i, role in enumerate(TYPO_ROLES)]
    rows += [f"2026-11-22 10:{i:02d}:00,n{i},{role},a1,文字\n" for i, role in enumerate(NEAR_ROLES)]
    return HEADER + "".join(rows)


NUL_FILE = HEADER.encode() + (
    "2026-11-22 09:00:00,b1,买家,,在\x00吗\n"  # NUL inside a text: a text like any other
    "2026-11-22 09:01:00,b1,客服,a1,在的\x00\n"
    "2026-11-22 09:02:00\x00,b2,买家,,时间里有NUL\n"  # NUL inside the time: rejected, not guessed
    "\x00\x00\x00\x00\n"  # a line of NULs: one record that cannot be normalized
).encode()
NUL_JSONL = (
    '{"时间": "2026-11-22 09:00:00", "买家": "b1", "发送方": "买家", "内容": "a\\u0000b"}\n'
    '{"时间": "2026-11-22 09:01:00", "买家": "b1", "发送方": "客服", "客服账号": "a1", "内容": "raw\x00nul"}\n'
    "\x00\x00\x00\n"
).encode()

# UTF-8 for the first two lines of records, GB18030 after: two exports glued with `cat`.
MIXED_FILE = (
    "ts,buyer,role,agent,text\n"
    "2026-11-22 09:00:00,张三,buyer,,在吗\n"
    "2026-11-22 09:01:00,张三,agent,小美,在的\n"
).encode() + (
    "2026-11-22 10:00:00,李四,buyer,,你好\n"
    "2026-11-22 10:01:00,李四,agent,小美,您好\n"
).encode("gb18030")

INJECTION = "=cmd|' /C calc'!A0"


def injection_file() -> str:
    rows = [["时间", "店铺", "买家", "发送方", "客服账号", "内容"], ["2026-11-22 09:00:00", "-2+3", "@buyer", "买家", "", "在吗"]]
    # The same reply three times in one conversation: PDD-S1, whose evidence is the reply.
    rows += [[f"2026-11-22 09:0{i}:00", "-2+3", "@buyer", "客服", "+agent", INJECTION] for i in (1, 2, 3)]
    rows += [["2026-11-22 09:05:00", "-2+3", "@buyer", "客服", "+agent", INJECTION + " 加我微信"]]  # PDD-P2
    rows += [["2026-11-22 09:06:00", "-2+3", "@buyer", "客服", "+agent", "@SUM(1+1)*cmd|' /C calc'!A0"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def empty_xlsx(path: Path) -> None:
    import polars as pl

    pl.DataFrame(schema={"时间": pl.String, "买家": pl.String, "发送方": pl.String, "内容": pl.String}).write_excel(path)


MOSTLY_REJECTED = ("--limit", "rejected_percent=100")
CASES: dict[str, tuple[dict[str, bytes], tuple[str, ...]]] = {
    # name: ({file: content}, extra arguments; the files are the first arguments)
    "empty_csv": ({"empty.csv": b""}, ()),
    "empty_jsonl": ({"empty.jsonl": b""}, ()),
    "header_only": ({"header.csv": HEADER.encode()}, ()),
    "million_text": (
        {
            "million.csv": (HEADER + "2026-11-22 09:00:00,b1,买家,,在吗\n" + f"2026-11-22 09:01:00,b1,客服,a1,{MILLION_TEXT}\n" + "2026-11-22 09:02:00,b1,客服,a1,好的\n").encode(),
            "million.jsonl": (
                json.dumps({"时间": "2026-11-22 09:00:00", "买家": "b2", "发送方": "买家", "内容": "在吗"}, ensure_ascii=False) + "\n"
                + json.dumps({"时间": "2026-11-22 09:01:00", "买家": "b2", "发送方": "客服", "客服账号": "a2", "内容": MILLION_TEXT}, ensure_ascii=False) + "\n"
            ).encode(),
        },
        (),
    ),
    "million_role": ({"bigrole.csv": (HEADER + CLEAN + "2026-11-22 09:05:00,b2," + "买" * MILLION + ",,x\n").encode()}, ()),
    "junk_csv": ({"junk.csv": junk(1)}, ()),
    "junk_xlsx": ({"junk.xlsx": junk(3)}, ()),
    # A download cut off in the middle of a multi-byte character (the last byte of 吗 missing).
    "truncated_utf8": ({"cut.csv": (HEADER + CLEAN + "2026-11-22 09:02:00,b2,买家,,在吗").encode()[:-1]}, ()),
    # A quote opened in a text and never closed: the rest of the file is one field.
    "unclosed_quote": ({"unclosed.csv": (HEADER + '2026-11-22 09:00:00,b1,买家,,"unclosed\n' + CLEAN).encode()}, ()),
    "utf16": ({"unicode.txt": (HEADER + CLEAN).replace(",", "\t").encode("utf-16")}, ()),
    "mixed_file": ({"glued.csv": MIXED_FILE}, ()),
    # These three are mostly bad rows on purpose: with the rejected_percent limit (50) such a
    # file stops the run (tests/test_limits.py); raised here, each row's reason is checked.
    "out_of_range": ({"times.csv": OUT_OF_RANGE.encode()}, MOSTLY_REJECTED),
    "role_typos": ({"typos.csv": typo_file().encode()}, MOSTLY_REJECTED),
    # The same rows in UTF-8 and GB18030 (other buyers, so they are not duplicates), and JSONL.
    "nul": ({"nul.csv": NUL_FILE, "nul-gb.csv": NUL_FILE.decode().replace(",b", ",g").encode("gb18030"), "nul.jsonl": NUL_JSONL}, MOSTLY_REJECTED),
    "nul_header": ({"nul-header.csv": ("时间\x00" + HEADER[2:] + CLEAN).encode()}, ()),
    "injection_csv": ({"inject.csv": injection_file().encode()}, ("--format", "csv")),
    "injection_json": ({"inject.csv": injection_file().encode()}, ()),
    "no_export_in_folder": ({"notes.md": b"# nothing here"}, ()),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cli_factory):
    """Every case in its own folder, all run concurrently: name -> Run."""
    root = tmp_path_factory.mktemp("hostile")
    commands = []
    for name, (files, extra) in CASES.items():
        folder = root / name
        folder.mkdir()
        for file_name, content in files.items():
            (folder / file_name).write_bytes(content)
        targets = [name] if name == "no_export_in_folder" else [f"{name}/{f}" for f in files]
        commands.append(("audit", *targets, *AUDIT, *extra))
    (root / "header_xlsx").mkdir()
    empty_xlsx(root / "header_xlsx" / "header.xlsx")
    commands.append(("audit", "header_xlsx/header.xlsx", *AUDIT))
    # Mixed encodings in one folder: UTF-8, UTF-8 with BOM, GB18030, each its own shop.
    mixed = root / "mixed_folder"
    mixed.mkdir()
    rows = "发送时间,店铺,买家,发送方,客服账号,消息内容\n2026-11-22 09:00:00,{shop},张三,买家,,请问有货吗\n2026-11-22 09:01:00,{shop},张三,客服,小美,有的亲\n"
    (mixed / "a-utf8.csv").write_bytes(rows.format(shop="甲店").encode("utf-8"))
    (mixed / "b-bom.csv").write_bytes(b"\xef\xbb\xbf" + rows.format(shop="乙店").encode("utf-8"))
    (mixed / "c-gb.csv").write_bytes(rows.format(shop="丙店").encode("gb18030"))
    (mixed / "d-gb.jsonl").write_bytes(
        "".join(
            json.dumps({"时间": ts, "店铺": "丁店", "买家": "张三", "发送方": role, "客服账号": agent, "内容": "好"}, ensure_ascii=False) + "\n"
            for ts, role, agent in (("2026-11-22 09:00:00", "买家", ""), ("2026-11-22 09:01:00", "客服", "小美"))
        ).encode("gb18030")
    )
    commands.append(("audit", "mixed_folder", *AUDIT))
    names = [*CASES, "header_xlsx", "mixed_folder"]
    results = cli_factory(root).many(*commands)
    return dict(zip(names, results, strict=True))


# --------------------------------------------------------------------------- empty input


def test_empty_file_is_one_line_naming_it(runs):
    assert check(runs["empty_csv"], name="empty.csv") is None, "an empty file is an error (exit 2)"


@pytest.mark.parametrize("case, file_name", [("header_only", "header.csv"), ("empty_jsonl", "empty.jsonl"), ("header_xlsx", "header.xlsx")])
def test_export_without_rows_is_not_silently_clean(runs, case, file_name):
    """A file with no data rows must say so: exit 2 naming it, or a finding / a stderr note
    naming it. A silent exit 0 with an empty report reads as 'all clean' to a nightly job."""
    run = runs[case]
    report = check(run, records=0, name=file_name)
    if report is None:
        return
    said = file_name in run.err or any(file_name in (f["evidence"] or "") + (f["message"] or "") for f in report["findings"])
    assert said, f"{file_name} has no data rows, yet exit {run.code}, no finding and nothing on stderr: {run.err!r}"


def test_folder_without_exports(runs):
    check(runs["no_export_in_folder"], name="no_export_in_folder")
    assert runs["no_export_in_folder"].code == 2


# --------------------------------------------------------------------------- huge cells


def test_million_character_text_cell(runs):
    """Read whole: the phrase after a million characters is still found, in CSV and JSONL."""
    report = check(runs["million_text"], records=5)
    assert report is not None
    assert (report["input"]["rows_used"], report["input"]["rows_rejected"]) == (5, 0)
    p2 = sorted((f["agent"], f.get("match")) for f in report["findings"] if f["code"] == "PDD-P2")
    assert p2 == [("a1", "加我微信"), ("a2", "加我微信")]  # the contact verb is part of the match (issue 10)
    assert all(len(f["evidence"] or "") <= 1000 for f in report["findings"])


def test_million_character_cell_in_the_role_column(runs):
    """Rejected with a finding, and the message stays readable: one bad cell must not put
    megabytes on stderr."""
    run = runs["million_role"]
    report = check(run, records=3)
    assert report is not None
    assert (report["input"]["rows_used"], report["input"]["rows_rejected"]) == (2, 1)
    assert [e for e, _ in d1(report)] == ["million_role/bigrole.csv:4"]
    assert len(run.err) < 10_000, f"stderr is {len(run.err)} characters for one rejected row"
    assert all(len(m) < 10_000 for _, m in d1(report)), "a finding message echoes a whole megabyte cell"


# --------------------------------------------------------------------------- binary junk and encodings


@pytest.mark.parametrize("case, file_name", [("junk_csv", "junk.csv"), ("junk_xlsx", "junk.xlsx")])
def test_binary_junk(runs, case, file_name):
    check(runs[case], name=file_name)


def test_utf8_file_cut_in_the_middle_of_a_character(runs):
    """Exit 2 naming the file (or the last row rejected), never a traceback: an uncaught
    exception exits 1, which a nightly job would take for 'findings'."""
    run = runs["truncated_utf8"]
    check(run, name="cut.csv")
    assert run.code == 2 and "ends inside a character" in run.err, run.err  # a download cut short


def test_unclosed_quote(runs):
    """One line naming the file (and ideally the line), or the rows accounted for."""
    check(runs["unclosed_quote"], name="unclosed.csv")


def test_mixed_encodings_in_one_folder(runs):
    report = check(runs["mixed_folder"], records=8)
    assert report is not None
    files = {Path(f["file"]).name: f for f in report["input"]["files"]}
    assert {n: (f["encoding"], f["rows_used"]) for n, f in files.items()} == {
        "a-utf8.csv": ("utf-8", 2),
        "b-bom.csv": ("utf-8", 2) if files["b-bom.csv"]["encoding"] == "utf-8" else ("utf-8-sig", 2),
        "c-gb.csv": ("gb18030", 2),
        "d-gb.jsonl": ("gb18030", 2),
    }
    # Every file decoded right: four shops, one agent, spelled as written.
    assert {m["shop"] for m in report["metrics"]} == {"甲店", "乙店", "丙店", "丁店"}
    assert {m["agent"] for m in report["metrics"] if m["scope"] == "agent"} == {"小美"}


def test_one_file_mixing_utf8_and_gb18030(runs):
    """Two exports glued together, UTF-8 then GB18030. Reading it all as one encoding turns
    half the names into mojibake (小美 becomes 灏忕編) and splits one agent into two: a silently
    wrong number. Either stop with one line naming the file, or read every name right."""
    run = runs["mixed_file"]
    report = check(run, name="glued.csv")
    if report is None:
        return
    agents = {m["agent"] for m in report["metrics"] if m["scope"] == "agent"}
    assert agents <= {"小美", "(unassigned)"}, f"agent names decoded wrongly: {agents}"


def test_utf16_export_is_a_clear_error(runs, cli, write):
    """Excel's 'Unicode text' is UTF-16: not supported, so exit 2 naming the file, and any
    --encoding the message suggests must actually be one that reads it."""
    run = runs["utf16"]
    assert check(run, name="unicode.txt") is None
    line = run.err_lines()[0]
    if "--encoding" in line:
        suggested = line.split("--encoding", 1)[1].split()[0].strip(".,;)'\"")
        write("unicode.txt", CASES["utf16"][0]["unicode.txt"])
        again = cli("audit", "unicode.txt", *AUDIT, "--encoding", suggested)
        assert again.code != 2, f"the error suggests --encoding {suggested}, which does not read it either: {again.err.strip()}"


# --------------------------------------------------------------------------- timestamps out of range


def test_timestamps_in_the_future_or_before_2000_are_rejected(runs):
    report = check(runs["out_of_range"], records=9)
    assert report is not None
    inp = report["input"]
    assert (inp["rows_used"], inp["rows_rejected"]) == (2, 7)
    # The as-of day and the period come from the good rows only.
    assert report["as_of"] == "2026-11-22"
    assert (inp["first_ts"], inp["last_ts"]) == ("2026-11-22T09:00:00+08:00", "2026-11-22T09:01:00+08:00")
    found = d1(report)
    assert [e for e, _ in found] == [f"out_of_range/times.csv:{n}" for n in range(4, 11)]
    reasons = [m for _, m in found]
    assert all("future" in m for m in reasons[:3]), reasons
    assert all("before 2000" in m for m in reasons[3:]), reasons


# --------------------------------------------------------------------------- roles


def test_role_column_full_of_typos(runs):
    run = runs["role_typos"]
    report = check(run, records=len(TYPO_ROLES) + len(NEAR_ROLES))
    assert report is not None
    inp = report["input"]
    assert (inp["rows_used"], inp["rows_rejected"]) == (len(NEAR_ROLES), len(TYPO_ROLES))
    found = d1(report)
    assert [e for e, _ in found] == [f"role_typos/typos.csv:{n}" for n in range(2, 2 + len(TYPO_ROLES))]
    assert all("unknown role" in m for _, m in found)
    assert {role for role in TYPO_ROLES if any(f"'{role}'" in m for _, m in found)} == set(TYPO_ROLES)
    assert f"{len(TYPO_ROLES)} row(s) rejected" in run.err


# --------------------------------------------------------------------------- NUL bytes


def test_nul_bytes(runs):
    """NUL in a text is a character like any other; NUL in a time, or a line of NULs, is a
    rejected row with its line. Same on the UTF-8 (scanned) and GB18030 (decoded) roads."""
    report = check(runs["nul"], records=4 + 4 + 3)
    assert report is not None
    files = {Path(f["file"]).name: f for f in report["input"]["files"]}
    for name in ("nul.csv", "nul-gb.csv"):
        assert (files[name]["rows_used"], files[name]["rows_rejected"]) == (2, 2), files[name]
        lines = sorted(e.rsplit(":", 1)[1] for e, _ in d1(report) if e.startswith(f"nul/{name}:"))
        assert lines == ["4", "5"], (name, d1(report))
    assert files["nul-gb.csv"]["encoding"] == "gb18030"
    assert files["nul.jsonl"]["rows_read"] == 3 and files["nul.jsonl"]["rows_used"] >= 1


def test_nul_in_header(runs):
    check(runs["nul_header"], name="nul-header.csv")


# --------------------------------------------------------------------------- CSV injection


def formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run as a formula; numbers (e.g. -30.0 points) are not."""
    bad = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell == "-" or not cell.startswith(FORMULA_STARTS):
                continue
            try:
                float(cell)
            except ValueError:
                bad.append(cell)
    return bad


def test_csv_output_never_starts_a_cell_with_a_formula(runs):
    as_json = check(runs["injection_json"], records=6)
    assert as_json is not None
    evidence = {f["code"]: f["evidence"] for f in as_json["findings"] if f["code"] in ("PDD-S1", "PDD-P2")}
    # The report itself keeps the text as written; only the CSV guards it.
    assert evidence == {"PDD-S1": INJECTION, "PDD-P2": INJECTION + " 加我微信"}

    run = runs["injection_csv"]
    assert run.code in (0, 1) and "Traceback" not in run.err, run.err
    rows = list(csv.DictReader(io.StringIO(run.out, newline="")))
    by_code = {r["code"]: r for r in rows}
    assert {"PDD-S1", "PDD-P2"} <= set(by_code)
    assert INJECTION in by_code["PDD-S1"]["evidence"], "the evidence still carries the text"
    assert formula_cells(run.out) == []


def test_rejects_file_never_starts_a_cell_with_a_formula(cli, write):
    """--rejects writes CSV for spreadsheets too: a rejected row's text, shop or agent must
    not become a formula there either."""
    write(
        "rej.csv",
        HEADER.replace("时间,", "时间,店铺,")
        + '2026-11-22 09:00:00,=HYPERLINK("http://x"),b1,买家,,在吗\n'
        + f"2026-11-22 09:01:00,=HYPERLINK(\"http://x\"),b1,客户服务,+a1,\"{INJECTION}\"\n",
    )
    run = cli("audit", "rej.csv", *AUDIT, "--rejects", "rejects.csv")
    report = check(run, records=2)
    assert report is not None and report["input"]["rows_rejected"] == 1
    text = (Path(cli.cwd) / "rejects.csv").read_text("utf-8")
    assert formula_cells(text) == [], text


def test_history_and_trend_csv_never_start_a_cell_with_a_formula(cli, write, tmp_path):
    """Shop and agent names come from the export: `history` and `trend --format csv` print
    them, and must guard them as the audit's CSV does."""
    write(
        "chats.csv",
        "时间,店铺,买家,发送方,客服账号,内容\n"
        '2026-11-22 09:00:00,=HYPERLINK("http://x"),b1,买家,,在吗\n'
        '2026-11-22 09:01:00,=HYPERLINK("http://x"),b1,客服,@a1,在的\n',
    )
    history = tmp_path / "history"
    audit = cli("audit", "chats.csv", "-p", "pdd", "-f", "json", "--history", history)
    assert audit.code in (0, 1), audit.err
    listing, trend = cli.many(
        ("history", "-p", "pdd", "--history", history, "--format", "csv"),
        ("trend", "-p", "pdd", "--history", history, "--format", "csv"),
    )
    for run in (listing, trend):
        assert run.code == 0 and "Traceback" not in run.err, run.err
        assert "HYPERLINK" in run.out
        assert formula_cells(run.out) == [], run.out
