"""Real export layouts (spec/metrics.md §1; docs/inputs.md): each shipped export profile
against a fixture export and its expected canonical table, Excel round trips, semicolon and
tab separated files, GB18030 and UTF-8-BOM files, and a folder of overlapping exports.

The canonical table is compared through the library (load + normalize, exactly what the
command runs); the same files then go through the installed command to check what a user
sees: no rejects, the right counts per file, the right times.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import yaml

from cservice_audit.load import load
from cservice_audit.normalize import Aliases, normalize, profile_path, shipped_profiles

TZ = "Asia/Shanghai"
FIXTURES = Path(__file__).parent / "fixtures" / "profiles"
PROFILE_FILES = sorted(p.stem for p in (Path(__file__).parents[1] / "cservice_audit" / "profiles").glob("*.yaml"))
COLUMNS = ("ts", "shop", "buyer", "conversation", "role", "agent", "text")
AUDIT = ("-p", "pdd", "-f", "json", "--no-history")


def excel_serial(moment: datetime) -> float:
    """Days since 1899-12-30, as Excel stores a date-time."""
    return (moment - datetime(1899, 12, 30)).total_seconds() / 86400


def canonical(paths: list[Path | str], *, profile: str | None = None, **load_options) -> list[dict[str, str]]:
    """What the tool makes of these files: the canonical columns as text, in input order
    ("" for no value). Any rejected or duplicate row fails here, with the reasons."""
    tables = load([str(p) for p in paths], **load_options)
    aliases = Aliases.shipped()
    if profile is not None:
        aliases = aliases.with_mapping(profile_path(profile))
    normalized = normalize(tables, aliases, tz=TZ)
    rejects = normalized.rejects.collect()
    assert rejects.height == 0, rejects.select("_source", "_record", "problem").rows()
    events = normalized.events.collect().sort("_order")
    assert not events.get_column("_duplicate").any()
    table = events.select(
        pl.col("ts").dt.convert_time_zone(TZ).dt.strftime("%Y-%m-%dT%H:%M:%S%:z"),
        *[pl.col(c).fill_null("") for c in COLUMNS[1:]],
    )
    return table.to_dicts()


def expected_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and tuple(rows[0]) == COLUMNS, f"{path}: expected columns {COLUMNS}"
    return rows


def by_file(report: dict) -> dict[str, dict]:
    return {Path(f["file"]).name: f for f in report["input"]["files"]}


# --------------------------------------------------------------------------- shipped profiles


def test_profiles_are_listed_and_each_has_a_fixture():
    assert PROFILE_FILES, "no shipped profile found"
    assert shipped_profiles() == PROFILE_FILES
    for name in PROFILE_FILES:
        assert (FIXTURES / f"{name}.csv").is_file(), f"profile {name}: add tests/fixtures/profiles/{name}.csv"
        assert (FIXTURES / f"{name}.expected.csv").is_file(), f"profile {name}: add {name}.expected.csv"


@pytest.mark.parametrize("name", PROFILE_FILES)
def test_profile_fixture_gives_its_canonical_table(name):
    export = FIXTURES / f"{name}.csv"
    expected = expected_table(FIXTURES / f"{name}.expected.csv")
    assert canonical([export], profile=name) == expected


@pytest.mark.parametrize("name", PROFILE_FILES)
def test_profile_is_documented_and_its_own_example_reads(name, tmp_path):
    """Each profile says what it is for and carries an example export, which it reads."""
    data = yaml.safe_load(profile_path(name).read_text("utf-8"))
    assert str(data.get("description", "")).strip(), f"profile {name}: no description"
    example = str(data.get("example", ""))
    assert example.count("\n") >= 2, f"profile {name}: the example needs a header and rows"
    path = tmp_path / "example.csv"
    path.write_text(example, "utf-8")
    rows = canonical([path], profile=name)
    assert len(rows) == example.strip().count("\n")
    docs = Path(__file__).parents[1] / "docs" / "inputs.md"
    assert f"`{name}`" in docs.read_text("utf-8"), f"docs/inputs.md does not describe profile {name}"


@pytest.fixture(scope="module")
def profile_runs(cli_factory):
    """The installed command on every profile fixture, with --profile, concurrently."""
    runs = cli_factory(FIXTURES).many(*[("audit", f"{name}.csv", "--profile", name, *AUDIT) for name in PROFILE_FILES])
    return dict(zip(PROFILE_FILES, runs, strict=True))


@pytest.mark.parametrize("name", PROFILE_FILES)
def test_cli_reads_profile_fixture_without_rejects(name, profile_runs):
    run = profile_runs[name]
    assert run.code in (0, 1), run.err
    assert "Traceback" not in run.err
    expected = expected_table(FIXTURES / f"{name}.expected.csv")
    inp = run.json()["input"]
    assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (len(expected), len(expected), 0, 0)
    times = sorted(r["ts"] for r in expected)
    assert (inp["first_ts"], inp["last_ts"]) == (times[0], times[-1])


@pytest.mark.parametrize("name", PROFILE_FILES)
def test_an_export_of_a_shipped_layout_without_profile_names_it(name, cli):
    """A back office's export read without --profile said `缺少列 'role'（已尝试：…）；请用 --mapping
    FILE`, though a shipped profile reads it: the error names that profile (the right one: a
    发送人 column of account names beside 身份 is speaker-columns', not backoffice-zh's)."""
    run = cli("audit", str(FIXTURES / f"{name}.csv"), *AUDIT)
    lines = run.err_lines()
    assert run.code == 2 and len(lines) == 1 and f"add --profile {name} " in lines[0], run.err
    assert "--mapping" not in lines[0] and all(f"--profile {other}" not in lines[0] for other in PROFILE_FILES if other != name)


def test_unknown_profile_is_one_line_naming_the_shipped_ones(cli):
    run = cli("audit", str(FIXTURES / f"{PROFILE_FILES[0]}.csv"), "--profile", "no-such-layout", *AUDIT)
    assert run.code == 2 and run.out == ""
    lines = run.err_lines()
    assert len(lines) == 1 and "no-such-layout" in lines[0], run.err
    assert all(name in lines[0] for name in PROFILE_FILES)


# --------------------------------------------------------------------------- layouts and encodings

# One canonical conversation, reused in every layout below.
ROWS = [
    # ts, shop, buyer, conversation, role, agent, text
    ("2026-11-22T09:00:00+08:00", "旗舰店", "张三", "S1", "buyer", "", "请问有货吗"),
    ("2026-11-22T09:01:30+08:00", "旗舰店", "张三", "S1", "agent", "小美", "有的亲,今天发;明天到"),
    ("2026-11-22T09:02:00+08:00", "旗舰店", "张三", "S1", "bot", "(bot)", "[自动回复]感谢咨询😀"),
    ("2026-11-22T10:00:00+08:00", "旗舰店", "李四", "S2", "buyer", "", '带"引号"的问题'),
    ("2026-11-22T10:04:00+08:00", "旗舰店", "李四", "S2", "agent", "阿强", "第一行\n第二行"),
]
EXPECTED = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
ZH_HEADER = ["发送时间", "店铺", "买家", "会话ID", "发送方", "客服账号", "消息内容"]
ZH_ROLE = {"buyer": "买家", "agent": "客服", "bot": "机器人"}
# The same instants in the spellings exports use: slash dates, no seconds, Excel serials.
TS_STYLES = ["2026/11/22 9:00:00", "2026-11-22 09:01:30", f"{excel_serial(datetime(2026, 11, 22, 9, 2)):.10f}", "2026/11/22 10:00", "2026-11-22T10:04:00+08:00"]


def export_text(separator: str) -> str:
    """The conversation as a Chinese-header export with this separator, quoted as needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
    writer.writerow(ZH_HEADER)
    for (_, shop, buyer, conv, role, agent, text), ts in zip(ROWS, TS_STYLES, strict=True):
        writer.writerow([ts, shop, buyer, conv, ZH_ROLE[role], "" if agent == "(bot)" else agent, text])
    return buffer.getvalue()


LAYOUT_FILES = {
    "semicolon.csv": (export_text(";"), "utf-8"),
    "tab.csv": (export_text("\t"), "utf-8"),
    "tab.tsv": (export_text("\t"), "utf-8"),
    "gb18030.csv": (export_text(","), "gb18030"),
    "gb18030-semicolon.txt": (export_text(";"), "gb18030"),
    "bom.csv": ("\ufeff" + export_text(","), "utf-8"),
    "bom-tab.csv": ("\ufeff" + export_text("\t"), "utf-8"),
    "crlf.csv": (export_text(",").replace("\n", "\r\n").replace("第一行\r\n第二行", "第一行\n第二行"), "utf-8"),
}


@pytest.fixture(scope="module")
def layout_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layouts")
    for name, (text, encoding) in LAYOUT_FILES.items():
        (folder / name).write_bytes(text.encode(encoding))
    return folder


@pytest.mark.parametrize("name", sorted(LAYOUT_FILES))
def test_separator_and_encoding_are_detected(layout_dir, name):
    assert canonical([layout_dir / name]) == EXPECTED


def test_explicit_encoding_reads_the_same(layout_dir):
    assert canonical([layout_dir / "gb18030.csv"], encoding="gb18030") == EXPECTED
    assert canonical([layout_dir / "bom.csv"], encoding="utf-8-sig") == EXPECTED


def test_cli_reads_every_layout_in_one_folder(layout_dir, cli):
    """All the layouts side by side in one folder (mixed separators and encodings): each file
    is sniffed on its own, every row is read, and since they hold the same conversation the
    first file's rows are used and every other file's are its duplicates."""
    run = cli("audit", str(layout_dir), *AUDIT)
    assert run.code in (0, 1) and "Traceback" not in run.err, run.err
    report = run.json()
    files = by_file(report)
    assert set(files) == set(LAYOUT_FILES)
    first = min(LAYOUT_FILES)
    for name, counts in files.items():
        assert (counts["rows_read"], counts["rows_rejected"]) == (5, 0), (name, counts)
        assert (counts["rows_used"], counts["rows_duplicate"]) == ((5, 0) if name == first else (0, 5)), (name, counts)
        if name.startswith("gb18030"):
            assert counts["encoding"] == "gb18030", (name, counts)
        else:
            assert counts["encoding"].startswith("utf-8"), (name, counts)
    inp = report["input"]
    n = len(LAYOUT_FILES)
    assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (5 * n, 5, 0, 5 * (n - 1))
    assert (inp["first_ts"], inp["last_ts"]) == ("2026-11-22T09:00:00+08:00", "2026-11-22T10:04:00+08:00")
    # Decoded right: the Chinese shop and agent names come through as written.
    assert {m["shop"] for m in report["metrics"]} == {"旗舰店"}
    assert {m["agent"] for m in report["metrics"] if m["scope"] == "agent"} >= {"小美", "阿强"}


# --------------------------------------------------------------------------- Excel


def xlsx_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two canonical frames: real date cells on the first sheet, Excel serial numbers on
    the second (as a sheet whose time column lost its date format looks)."""
    first = pl.DataFrame(
        {
            "ts": [datetime(2026, 11, 22, 9, 0, 0), datetime(2026, 11, 22, 9, 1, 30), datetime(2026, 11, 22, 9, 5, 0)],
            "shop": ["旗舰店"] * 3,
            "buyer": ["张三"] * 3,
            "conversation": ["S1"] * 3,
            "role": ["买家", "客服", "客服"],
            "agent": [None, "小美", "小美"],
            "text": ["在吗", "在的，您说", "多行\n文字"],
        }
    )
    second = pl.DataFrame(
        {
            "ts": [excel_serial(datetime(2026, 11, 21, 20, 0, 0)), excel_serial(datetime(2026, 11, 21, 20, 3, 0))],
            "shop": ["旗舰店"] * 2,
            "buyer": ["王五"] * 2,
            "conversation": ["S9"] * 2,
            "role": ["buyer", "agent"],
            "agent": [None, "阿强"],
            "text": ["发货了吗", "明天发"],
        }
    )
    return first, second


XLSX_FIRST = [
    dict(zip(COLUMNS, row, strict=True))
    for row in [
        ("2026-11-22T09:00:00+08:00", "旗舰店", "张三", "S1", "buyer", "", "在吗"),
        ("2026-11-22T09:01:30+08:00", "旗舰店", "张三", "S1", "agent", "小美", "在的，您说"),
        ("2026-11-22T09:05:00+08:00", "旗舰店", "张三", "S1", "agent", "小美", "多行\n文字"),
    ]
]
XLSX_SECOND = [
    dict(zip(COLUMNS, row, strict=True))
    for row in [
        ("2026-11-21T20:00:00+08:00", "旗舰店", "王五", "S9", "buyer", "", "发货了吗"),
        ("2026-11-21T20:03:00+08:00", "旗舰店", "王五", "S9", "agent", "阿强", "明天发"),
    ]
]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    import xlsxwriter

    path = tmp_path_factory.mktemp("excel") / "导出.xlsx"
    first, second = xlsx_frames()
    with xlsxwriter.Workbook(path) as book:
        first.write_excel(workbook=book, worksheet="会话记录")
        second.write_excel(workbook=book, worksheet="前一天")
    return path


def test_xlsx_round_trip_first_sheet_and_named_sheet(workbook):
    assert canonical([workbook]) == XLSX_FIRST
    assert canonical([workbook], sheet="前一天") == XLSX_SECOND


def test_cli_reads_xlsx_first_sheet_and_sheet_option(workbook, cli_factory):
    cli = cli_factory(workbook.parent)
    default, named, missing = cli.many(
        ("audit", workbook.name, *AUDIT),
        ("audit", workbook.name, "--sheet", "前一天", *AUDIT),
        ("audit", workbook.name, "--sheet", "没有这页", *AUDIT),
    )
    for run, rows, first, last in (
        (default, 3, "2026-11-22T09:00:00+08:00", "2026-11-22T09:05:00+08:00"),
        (named, 2, "2026-11-21T20:00:00+08:00", "2026-11-21T20:03:00+08:00"),
    ):
        assert run.code in (0, 1) and "Traceback" not in run.err, run.err
        inp = run.json()["input"]
        assert inp["files"][0]["format"] == "xlsx"
        assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"]) == (rows, rows, 0)
        assert (inp["first_ts"], inp["last_ts"]) == (first, last)
    # A sheet that is not there: one line naming the file and the option.
    assert missing.code == 2 and missing.out == ""
    lines = missing.err_lines()
    assert len(lines) == 1 and workbook.name in lines[0] and "--sheet" in lines[0], missing.err


def test_a_file_named_xlsx_that_is_no_workbook_says_what_it_is(workbook, tmp_path, cli_factory):
    """A CSV saved under an .xlsx name, a download cut before the zip began, an empty sheet: each
    ended `；--sheet 是否正确？` with the reader's own words (`calamine error: Xlsx error: Zip
    error: … EOCD`), though no --sheet was given. Each says now what the file is."""
    import xlsxwriter

    (tmp_path / "csv.xlsx").write_text("时间,店铺,买家,角色,客服,内容\n2026-11-22 09:00:00,店,b,买家,,在吗\n", "gb18030")
    (tmp_path / "cut.xlsx").write_bytes(bytes(range(256)) * 4)
    with xlsxwriter.Workbook(tmp_path / "empty.xlsx") as book:
        book.add_worksheet("会话记录")
    (tmp_path / "damaged.xlsx").write_bytes(workbook.read_bytes()[:2000])  # a zip, cut short
    (tmp_path / "page.xls").write_text("<html><body><table><tr><td>时间</td></tr></table></body></html>\n", "utf-8")
    (tmp_path / "pdf.xlsx").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n")
    names = ("csv.xlsx", "cut.xlsx", "empty.xlsx", "damaged.xlsx", "page.xls", "pdf.xlsx")
    cli = cli_factory(tmp_path)
    runs = cli.many(*[("audit", name, "-p", "pdd", "--no-history", "--lang", "zh") for name in names])
    said = {}
    for name, run in zip(names, runs, strict=True):
        lines = run.err_lines()
        assert run.code == 2 and len(lines) == 1 and name in lines[0] and "Traceback" not in run.err, run.err
        assert "--sheet" not in lines[0], lines[0]
        said[name] = lines[0]
    assert "改为 .csv" in said["csv.xlsx"], said
    assert "不是 Excel 工作簿" in said["cut.xlsx"], said
    assert "是空的" in said["empty.xlsx"], said
    # A zip cut short (no end record): said so, without the reader's English (`calamine error:
    # Xlsx error: Zip error: invalid Zip archive: Could not find EOCD`).
    assert "Excel 文件不完整，结尾缺失" in said["damaged.xlsx"] and not re.search("(?i)calamine|zip|eocd|error:", said["damaged.xlsx"]), said
    assert "网页表格" in said["page.xls"] and "另存为 .xlsx" in said["page.xls"], said  # a back office's HTML "Excel"
    assert "不是 Excel 工作簿" in said["pdf.xlsx"], said


# --------------------------------------------------------------------------- folders and duplicates

# Two exports of the same day that overlap: the GB18030 one from the back office, the UTF-8
# one from a tool, spelling the overlapping times differently (the same instants).
GB_DAY = (
    "发送时间,店铺,买家,发送方,客服账号,消息内容\n"
    "2026/11/22 9:00:00,旗舰店,张三,买家,,请问有货吗\n"
    "2026/11/22 9:01:00,旗舰店,张三,客服,小美,有的亲\n"
    "2026/11/22 10:00:00,旗舰店,李四,买家,,发货了吗\n"
    "2026/11/22 10:02:00,旗舰店,李四,客服,小美,今天发\n"
)
UTF8_DAY = (
    "发送时间,店铺,买家,发送方,客服账号,消息内容\n"
    "2026-11-22 10:00:00,旗舰店,李四,买家,,发货了吗\n"  # duplicate of GB row 3
    "2026-11-22 10:02,旗舰店,李四,客服,小美,今天发\n"  # duplicate of GB row 4 (no seconds)
    "2026-11-22 11:00:00,旗舰店,王五,买家,,在吗\n"
    "2026-11-22 11:01:00,旗舰店,王五,客服,阿强,在的\n"
    "2026-99-99 11:02:00,旗舰店,王五,买家,,坏时间\n"  # rejected
)
# Overlap by message id: the second export re-sends m2 and m3 with edited text and another
# time layout; the id decides.
IDS_JSONL = "".join(
    json.dumps(row, ensure_ascii=False) + "\n"
    for row in [
        {"时间": "2026-11-22 12:00:00", "买家": "赵六", "发送方": "买家", "内容": "在吗", "消息ID": "m1"},
        {"时间": "2026-11-22 12:00:30", "买家": "赵六", "发送方": "客服", "客服账号": "小美", "内容": "在的", "消息ID": "m2"},
        {"时间": "2026-11-22 12:05:00", "买家": "赵六", "发送方": "买家", "内容": "好的", "消息ID": "m3"},
    ]
)
IDS_CSV = (
    "时间,买家,发送方,客服账号,内容,消息ID\n"
    "2026/11/22 12:00:30,赵六,客服,小美,在的！,m2\n"
    "2026/11/22 12:05,赵六,买家,,好的。,m3\n"
    "2026/11/22 12:06:00,赵六,客服,小美,再见,m4\n"
)


@pytest.fixture(scope="module")
def folder_runs(tmp_path_factory, cli_factory):
    root = tmp_path_factory.mktemp("folders")
    day = root / "day"
    day.mkdir()
    (day / "a-backoffice.csv").write_bytes(GB_DAY.encode("gb18030"))
    (day / "b-tool.csv").write_bytes(UTF8_DAY.encode("utf-8"))
    (day / "notes.md").write_text("not an export", "utf-8")  # not a supported suffix: skipped
    (day / ".hidden.csv").write_text("garbage that would not parse\x00\x01", "utf-8")  # hidden: skipped
    ids = root / "ids"
    ids.mkdir()
    (ids / "a.jsonl").write_text(IDS_JSONL, "utf-8")
    (ids / "b.csv").write_text(IDS_CSV, "utf-8")
    runs = cli_factory(root).many(("audit", "day", *AUDIT), ("audit", "ids", *AUDIT), ("audit", "day/*.csv", *AUDIT))
    return dict(zip(("day", "ids", "glob"), runs, strict=True))


def test_folder_of_overlapping_exports_counts_duplicates_once_per_file(folder_runs):
    for key in ("day", "glob"):
        run = folder_runs[key]
        assert run.code in (0, 1) and "Traceback" not in run.err, run.err
        report = run.json()
        files = by_file(report)
        assert set(files) == {"a-backoffice.csv", "b-tool.csv"}
        a, b = files["a-backoffice.csv"], files["b-tool.csv"]
        assert a["encoding"] == "gb18030" and b["encoding"] == "utf-8"
        assert (a["rows_read"], a["rows_used"], a["rows_rejected"], a["rows_duplicate"]) == (4, 4, 0, 0)
        assert (b["rows_read"], b["rows_used"], b["rows_rejected"], b["rows_duplicate"]) == (5, 2, 1, 2)
        inp = report["input"]
        assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (9, 6, 1, 2)
        for f in (a, b, inp):
            assert f["rows_read"] == f["rows_used"] + f["rows_rejected"] + f["rows_duplicate"]
        # Three buyer-days, each answered in time: no buyer-day counted twice.
        r3 = next(m for m in report["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "shop")
        assert (r3["shop"], r3["numerator"], r3["denominator"]) == ("旗舰店", 3, 3)
        agents = {m["agent"]: m["denominator"] for m in report["metrics"] if m["rule"] == "PDD-R3" and m["scope"] == "agent"}
        assert agents == {"小美": 2, "阿强": 1}


def test_overlap_by_message_id_across_jsonl_and_csv(folder_runs):
    run = folder_runs["ids"]
    assert run.code in (0, 1) and "Traceback" not in run.err, run.err
    files = by_file(run.json())
    assert (files["a.jsonl"]["rows_read"], files["a.jsonl"]["rows_used"], files["a.jsonl"]["rows_duplicate"]) == (3, 3, 0)
    assert (files["b.csv"]["rows_read"], files["b.csv"]["rows_used"], files["b.csv"]["rows_duplicate"]) == (3, 1, 2)
    inp = run.json()["input"]
    assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"], inp["rows_duplicate"]) == (6, 4, 0, 2)


def test_xlsx_header_under_title_rows_is_found_and_rows_keep_their_sheet_numbers(tmp_path, cli_factory):
    """A back-office workbook opens with a title (`旗舰店 聊天记录导出（2026-11-22）`, one cell)
    above the header. It was read as the header, and the run stopped on a missing `ts`
    column with a hint to write a mapping. The header is found under the title; the title
    rows are said on stderr; a bad row is reported with its row in the sheet (title 1,
    header 2, records from 3)."""
    import xlsxwriter

    path = tmp_path / "带标题.xlsx"
    rows = [("2026-11-22 09:00:00", "旗舰店", "张三", "买家", "", "在吗"),
            ("2026-11-22 09:01:30", "旗舰店", "张三", "客服", "小美", "在的，您说"),
            ("不是时间", "旗舰店", "张三", "客服", "小美", "坏行")]  # fmt: skip
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("聊天记录")
        sheet.merge_range(0, 0, 0, 5, "旗舰店 聊天记录导出（2026-11-22）")
        sheet.write_row(1, 0, ["发送时间", "店铺", "买家", "发送方", "客服账号", "消息内容"])
        for i, row in enumerate(rows):
            sheet.write_row(i + 2, 0, row)
    cli = cli_factory(tmp_path)
    run = cli("audit", path.name, *AUDIT)
    assert run.code in (0, 1), run.err
    report = run.json()
    assert (report["input"]["rows_read"], report["input"]["rows_used"], report["input"]["rows_rejected"]) == (3, 2, 1)
    assert report["input"]["first_ts"] == "2026-11-22T09:00:00+08:00"
    assert f"{path.name}: the header is on row 2; the 1 title row(s) above it were skipped" in run.err, run.err
    rejected = [f for f in report["findings"] if f["code"].endswith("-D1")]
    assert [f["evidence"] for f in rejected] == [f"{path.name}:5"], rejected
    # A blank row under the title (calamine's header_row counts it, its first read skips it).
    spaced = tmp_path / "空一行.xlsx"
    with xlsxwriter.Workbook(spaced) as book:
        sheet = book.add_worksheet()
        sheet.write(0, 0, "旗舰店 聊天记录导出（2026-11-22）")
        sheet.write_row(2, 0, ["发送时间", "店铺", "买家", "发送方", "客服账号", "消息内容"])
        for i, row in enumerate(rows):
            sheet.write_row(i + 3, 0, row)
    run = cli("audit", spaced.name, *AUDIT)
    assert run.code in (0, 1) and run.json()["input"]["rows_read"] == 3, run.err
    assert [f["evidence"] for f in run.json()["findings"] if f["code"].endswith("-D1")] == [f"{spaced.name}:6"]
    assert "the header is on row 3" in run.err, run.err
    # A header with a few empty cells is still the header: nothing skipped.
    plain = tmp_path / "空表头.xlsx"
    with xlsxwriter.Workbook(plain) as book:
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["发送时间", "店铺", "买家", "发送方", "客服账号", "消息内容", "", ""])
        for i, row in enumerate(rows[:2]):
            sheet.write_row(i + 1, 0, row)
    run = cli("audit", plain.name, *AUDIT)
    assert run.code in (0, 1) and run.json()["input"]["rows_read"] == 2 and "title row" not in run.err, run.err


def test_xlsx_blank_rows_are_skipped_and_every_row_keeps_its_sheet_number(tmp_path, cli_factory):
    """Blank rows in a workbook (above the header, between records, above a title) are not
    data, and the rows below them keep the numbers the supervisor sees in Excel: a blank row
    used to shift every reported row up by one, to the row above the bad one."""
    import xlsxwriter

    header = ["发送时间", "店铺", "买家", "发送方", "客服账号", "消息内容"]
    good = [("2026-11-22 09:00:00", "旗舰店", "张三", "买家", "", "在吗"),
            ("2026-11-22 09:01:30", "旗舰店", "张三", "客服", "小美", "在的，您说")]  # fmt: skip
    bad = ("不是时间", "旗舰店", "张三", "客服", "小美", "坏行")
    cli = cli_factory(tmp_path)

    def audit(name: str, layout: dict[int, object], blank: int) -> tuple[list[str], str]:
        with xlsxwriter.Workbook(tmp_path / name) as book:
            sheet = book.add_worksheet()
            for row, values in layout.items():
                sheet.write_row(row, 0, values if isinstance(values, (list, tuple)) else [values])
        run = cli("audit", name, *AUDIT)
        assert run.code in (0, 1), run.err
        inp = run.json()["input"]
        assert (inp["rows_read"], inp["rows_used"], inp["rows_rejected"]) == (3, 2, 1), inp
        assert inp["files"][0].get("rows_blank", 0) == blank, inp  # those among the records, as a CSV's
        return [f["evidence"] for f in run.json()["findings"] if f["code"].endswith("-D1")], run.err

    # rows 1-2 blank, header on row 3, records on 4 and 6, a blank row 5, the bad row on 8
    evidence, err = audit("上空.xlsx", {2: header, 3: good[0], 5: good[1], 7: bad}, blank=2)
    assert evidence == ["上空.xlsx:8"] and "title row" not in err, (evidence, err)
    # twelve blank rows, the header on row 13 (a probe stopped after ten, and said row 11)
    evidence, err = audit("十二空.xlsx", {12: header, 13: good[0], 14: good[1], 22: bad}, blank=7)
    assert evidence == ["十二空.xlsx:23"], evidence
    # more blank rows than the header search reads at once (1,000): still the sheet's rows
    evidence, err = audit("千空.xlsx", {1200: header, 1201: good[0], 1202: good[1], 1203: bad}, blank=0)
    assert evidence == ["千空.xlsx:1204"], evidence
    # a blank row, a title, a blank row, the header on row 4; the bad row on 6
    evidence, err = audit("标题上空.xlsx", {1: "旗舰店 聊天记录导出（2026-11-22）", 3: header, 4: good[0], 5: bad, 6: good[1]}, blank=0)
    assert evidence == ["标题上空.xlsx:6"], evidence
    assert "标题上空.xlsx: the header is on row 4; the 1 title row(s) above it were skipped" in err, err


@pytest.mark.parametrize("title", ["旗舰店 聊天记录导出（2026-11-22）,,,,,", "旗舰店 聊天记录导出（2026-11-22）", "导出时间,2026-11-23 08:00\n聊天记录,"])
@pytest.mark.parametrize("encoding, suffix", [("utf-8", ".csv"), ("gb18030", ".csv"), ("utf-8", ".csv.gz")])
def test_csv_header_under_title_lines_is_found_and_lines_keep_their_numbers(tmp_path, cli_factory, title, encoding, suffix):
    """The titled workbook saved as CSV from WPS or Excel (`标题,,,,,`), or a title line alone:
    the header under it is read, stderr says so, and a rejected row and a row with too many
    fields are named by their line in the file. The UTF-8 fast road, the GB18030 spool and a
    gzip file alike."""
    import gzip

    titles = title.count("\n") + 1
    body = ("发送时间,店铺,买家,发送方,客服账号,消息内容\n"
            "2026-11-22 09:00:00,旗舰店,张三,买家,,在吗\n2026-11-22 09:01:30,旗舰店,张三,客服,小美,在的，您说\n"
            "不是时间,旗舰店,张三,客服,小美,坏行\n")  # fmt: skip
    data = (title + "\n" + body).encode(encoding)
    path = tmp_path / f"带标题{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    cli = cli_factory(tmp_path)
    run = cli("audit", path.name, *AUDIT)
    assert run.code in (0, 1), run.err
    report = run.json()
    assert (report["input"]["rows_read"], report["input"]["rows_rejected"]) == (3, 1), report["input"]
    assert f"{path.name}: the header is on row {titles + 1}; the {titles} title row(s) above it were skipped" in run.err, run.err
    assert [f["evidence"] for f in report["findings"] if f["code"].endswith("-D1")] == [f"{path.name}:{titles + 4}"]
    # A row with more fields than the header: its line in the file.
    extra = (title + "\n" + body + "2026-11-22 09:02:00,旗舰店,张三,客服,小美,多,一列\n").encode(encoding)
    path.write_bytes(gzip.compress(extra) if suffix.endswith(".gz") else extra)
    bad = cli("audit", path.name, *AUDIT)
    assert bad.code == 2 and f"line {titles + 5}:" in bad.err, bad.err


def test_a_csv_whose_first_line_is_its_header_is_read_as_ever(tmp_path, cli_factory):
    """No title: a header with empty trailing cells, or three values, is the header (nothing
    skipped, nothing said); the first record is line 2."""
    cli = cli_factory(tmp_path)
    (tmp_path / "plain.csv").write_text("ts,shop,buyer,role,agent,text,,,,,,,\n不是时间,店,b,buyer,,在吗,,,,,,,\n2026-11-22 09:00:00,店,b,buyer,,在吗,,,,,,,\n", encoding="utf-8")
    run = cli("audit", "plain.csv", *AUDIT)
    assert run.code in (0, 1) and "title" not in run.err, run.err
    assert [f["evidence"] for f in run.json()["findings"] if f["code"].endswith("-D1")] == ["plain.csv:2"]
    # A header whose first cell holds a quoted line break (a wrapped column title): its first
    # physical line has one value, and it was taken for a title, and the file read as empty.
    (tmp_path / "wrapped.csv").write_text('"序号\n(No.)",ts,shop,buyer,role,agent,text\n1,不是时间,店,b,buyer,,在吗\n2,2026-11-22 09:00:00,店,b,buyer,,在吗\n', encoding="utf-8")
    run = cli("audit", "wrapped.csv", *AUDIT)
    assert run.code in (0, 1) and "title" not in run.err, run.err
    assert run.json()["input"]["rows_read"] == 2
    assert [f["evidence"] for f in run.json()["findings"] if f["code"].endswith("-D1")] == ["wrapped.csv:3"]


def _time_only_workbook(path: Path, **options) -> None:
    """A two-row workbook whose second row's time cell holds a time of day only."""
    import datetime as dt

    import xlsxwriter

    with xlsxwriter.Workbook(path, options) as book:
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["时间", "店铺", "买家", "角色", "客服", "内容"])
        sheet.write_datetime(1, 0, dt.datetime(2026, 11, 22, 10, 0), book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}))
        sheet.write_row(1, 1, ["店", "b", "买家", "", "在吗"])
        sheet.write_datetime(2, 0, dt.time(10, 1), book.add_format({"num_format": "hh:mm:ss"}))
        sheet.write_row(2, 1, ["店", "b", "客服", "小王", "在的亲"])


def test_a_time_only_cell_is_rejected_saying_its_date_is_missing(cli_factory, tmp_path):
    """An Excel cell formatted as a time (no date) reads as 1899-12-31 10:01:00 (1904-01-01 on
    the 1904 date system of Excel for Mac and Numbers), and a CSV can carry `10:01`: the row is
    rejected with its line, and the reason says the date is missing (it said 'before 2000' or
    'unparseable', which does not point at the cell's format)."""
    _time_only_workbook(tmp_path / "t.xlsx")
    _time_only_workbook(tmp_path / "mac.xlsx", date_1904=True)
    (tmp_path / "t.csv").write_text("时间,店铺,买家,角色,客服,内容\n2026-11-22 10:00:00,店,b,买家,,在吗\n10:01,店,b,客服,小王,在的\n", "utf-8")
    cli = cli_factory(tmp_path)
    for name, shown in (("t.xlsx", "1899-12-31 10:01:00"), ("mac.xlsx", "1904-01-01 10:01:00"), ("t.csv", "10:01")):
        run = cli("audit", name, "-p", "pdd", "--no-history", "--profile", "backoffice-zh", "-f", "json", "--rejects", "r.csv", "--lang", "zh")
        assert run.code in (0, 1), run.err
        assert f"{name}:3：时间“{shown}”只有时刻、没有日期" in run.err, run.err
        rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
        assert [(r["line"], r["ts"]) for r in rows] == [("3", shown)] and "without its date" in rows[0]["problem"], rows
        assert run.json()["input"]["rows_used"] == 1
