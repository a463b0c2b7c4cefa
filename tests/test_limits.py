"""Hostile input against the resource limits (cservice_audit/limits.py, docs/limits.md).

Each case is a small generated file (or stream) that once took gigabytes, hung, crashed or
lost data. Each runs through the installed command as a subprocess with its address space
capped (RLIMIT_AS, a guard against taking the machine down) and a timeout, and must:
exit 0, 1 or 2, never with a traceback; on exit 2 say one line that names the cap (or the
problem); stay under MAX_RSS of peak memory (measured per child with wait4); and, when a
report is produced, account for every record (rows_read = used + rejected + duplicate).
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

AUDIT = ("-p", "pdd", "-f", "json", "--no-history")
HEADER = "时间,买家,发送方,客服账号,内容\n"
CLEAN = "2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:01:00,b1,客服,a1,在的\n"
ADDRESS_SPACE = 3 << 30  # polars reserves ~1.5 GiB of address space even for a tiny input
MAX_RSS_MB = 1024  # a tiny hostile file ran to 3-6 GB before the limits; a clean run is ~150 MB
TIMEOUT = 240  # generous: the machine running the suite may be busy; a hang is what it catches


@dataclass
class Hostile:
    code: int
    out: str
    err: str
    rss_mb: int
    seconds: float

    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_hostile(command: str, *args: object, cwd: Path, stdin=subprocess.DEVNULL, env: dict | None = None) -> Hostile:
    """The installed command under the memory guard; peak RSS of this child alone (wait4)."""
    home = tempfile.TemporaryDirectory(prefix="history-")  # removed below: a suite run made ~30
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "TZ": "UTC",
                   "CSERVICE_AUDIT_HOME": home.name, **(env or {})}  # fmt: skip
    environment.pop("COLUMNS", None)
    started = time.monotonic()
    with home, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [command, *map(str, args)], stdin=stdin, stdout=out, stderr=err, cwd=cwd, env=environment, preexec_fn=_limit_memory
        )
        timer = threading.Timer(TIMEOUT, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Hostile(proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                         usage.ru_maxrss // 1024, time.monotonic() - started)  # fmt: skip
    assert result.seconds < TIMEOUT, f"killed after {TIMEOUT} s (a hang): {result.err[-1000:]}"
    return result


def check(run: Hostile, *, names: str | None = None) -> dict | None:
    """The contract; the JSON report when there is one."""
    assert run.code in (0, 1, 2), f"exit {run.code}: {run.err[-2000:]}"
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err[-3000:]  # a crash, even caught
    assert run.rss_mb < MAX_RSS_MB, f"peak memory {run.rss_mb} MB"
    if run.code == 2:
        assert run.out == ""
        assert len(run.lines()) == 1, run.err[:2000]
        assert run.lines()[0].startswith("cservice-audit: error: ")
        if names is not None:
            assert names in run.lines()[0], run.lines()[0]
        return None
    report = json.loads(run.out)
    inp = report["input"]
    for counts in (*inp["files"], inp):
        assert counts["rows_read"] == counts["rows_used"] + counts["rows_rejected"] + counts["rows_duplicate"], counts
    return report


def gzip_of(parts, path: Path) -> Path:
    """A gzip file written from byte parts (generators welcome): bombs never sit in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as fh:
        for part in parts:
            fh.write(packer.compress(part))
        fh.write(packer.flush())
    return path


def workbook_with_cell(path: Path, cell: bytes | None = None, repeat: int = 1) -> Path:
    """A real .xlsx (xlsxwriter) whose placeholder text is replaced by `cell` * `repeat`,
    streamed into the zip: a huge cell in a small file."""
    import polars as pl

    plain = path.with_suffix(".plain.xlsx")
    pl.DataFrame(
        {"时间": ["2026-11-22 09:00:00", "2026-11-22 09:01:00"], "买家": ["b1", "b1"], "发送方": ["买家", "客服"],
         "客服账号": ["", "a1"], "内容": ["PLACEHOLDER", "在的"]}  # fmt: skip
    ).write_excel(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if b"PLACEHOLDER" not in data or cell is None:
                target.writestr(info, data)
                continue
            before, after = data.split(b"PLACEHOLDER", 1)
            with target.open(info.filename, "w", force_zip64=True) as member:
                member.write(before)
                for _ in range(repeat):
                    member.write(cell)
                member.write(after)
    plain.unlink()
    return path


LOL_MAPPING = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
RULESET_HEAD = "platform: pinduoduo\nversion: '1'\neffective: 2026-01-01\nrules: []\n"


def nested(depth: int) -> str:
    """Nested YAML sequences, `- - - ... x` (40 KB at 20,000 levels)."""
    return "- " * depth + "x\n"


# --------------------------------------------------------------------------- bombs


@pytest.fixture(scope="module")
def bombs(tmp_path_factory, cli_command):
    """Every file-based bomb, run two at a time: name -> Hostile."""
    root = tmp_path_factory.mktemp("bombs")
    gzip_of([(HEADER + CLEAN).encode(), *(b"\n" * (1 << 20) for _ in range(300))], root / "blank-bomb.csv.gz")
    gzip_of([(HEADER + CLEAN).encode(), *(b"\n" * (1 << 20) for _ in range(4))], root / "blank-lines.csv.gz")
    # 4 MiB of hex in one field (it compresses only 2x, so the ratio cap does not see it).
    gzip_of([(HEADER + CLEAN + "2026-11-22 09:02:00,b2,买家,,").encode(), os.urandom(2 << 20).hex().encode(), b"\n"], root / "long-field.csv.gz")
    workbook_with_cell(root / "huge-cell.xlsx", b"a" * (1 << 20), repeat=300)
    workbook_with_cell(root / "long-cell.xlsx", "长文".encode() * (1 << 19), repeat=2)  # 6 MiB, field_bytes=1M below
    workbook_with_cell(root / "fine.xlsx")
    (root / "lol-mapping.yaml").write_text(LOL_MAPPING, "utf-8")
    (root / "lol-ruleset.yaml").write_text(RULESET_HEAD + LOL_MAPPING, "utf-8")
    (root / "deep-mapping.yaml").write_text("columns:\n  ts:\n    " + nested(20000), "utf-8")
    (root / "deep-ruleset.yaml").write_text(RULESET_HEAD + "sources:\n  " + nested(20000), "utf-8")
    (root / "deep-keys.yaml").write_text("columns:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(280)), "utf-8")
    (root / "flow-deep.yaml").write_text("columns: " + "[" * 20000 + "]" * 20000 + "\n", "utf-8")
    (root / "chats.csv").write_text(HEADER + CLEAN, "utf-8")
    (root / "blank.csv").write_text(HEADER + "\n\n" + CLEAN + "\n\n\n", "utf-8")
    cases = {
        "blank_bomb": (("audit", "blank-bomb.csv.gz", *AUDIT), {}),
        "blank_lines": (("audit", "blank-lines.csv.gz", *AUDIT), {}),
        "blank_plain": (("audit", "blank.csv", *AUDIT), {}),
        "long_field": (("audit", "long-field.csv.gz", *AUDIT), {"CSERVICE_AUDIT_LIMITS": "field_bytes=2M"}),
        "huge_cell": (("audit", "huge-cell.xlsx", *AUDIT), {}),
        "long_cell": (("audit", "long-cell.xlsx", *AUDIT), {"CSERVICE_AUDIT_LIMITS": "field_bytes=1M"}),
        "fine_xlsx": (("audit", "fine.xlsx", *AUDIT), {}),
        "lol_mapping": (("audit", "chats.csv", *AUDIT, "--mapping", "lol-mapping.yaml"), {}),
        "lol_ruleset": (("audit", "chats.csv", "-f", "json", "--no-history", "--ruleset", "lol-ruleset.yaml"), {}),
        "lol_validate": (("validate-ruleset", "lol-ruleset.yaml"), {}),
        "deep_mapping": (("audit", "chats.csv", *AUDIT, "--mapping", "deep-mapping.yaml"), {}),
        "deep_ruleset": (("audit", "chats.csv", "-f", "json", "--no-history", "--ruleset", "deep-ruleset.yaml"), {}),
        "deep_validate": (("validate-ruleset", "deep-ruleset.yaml"), {}),
        "flow_deep": (("validate-ruleset", "flow-deep.yaml"), {}),
        "deep_keys": (("audit", "chats.csv", *AUDIT, "--mapping", "deep-keys.yaml"), {}),
        "dev_zero": (("audit", "/dev/zero", *AUDIT), {}),
        "dev_urandom": (("audit", "/dev/urandom", *AUDIT), {}),
    }
    results: dict[str, Hostile] = {}

    def one(name: str) -> None:
        args, env = cases[name]
        results[name] = run_hostile(cli_command, *args, cwd=root, env=env)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, cases))
    return results


def test_gzip_bomb_of_blank_lines_is_refused_by_the_ratio_cap(bombs):
    """300 MiB of newlines in a 300 KiB .gz: once 6 GB; now refused, naming the cap."""
    assert check(bombs["blank_bomb"], names="compression_ratio") is None


def test_blank_lines_are_skipped_and_counted_not_rejected(bombs):
    for case, blank in (("blank_lines", 4 << 20), ("blank_plain", 5)):
        report = check(bombs[case])
        assert report is not None
        (entry,) = report["input"]["files"]
        assert (entry["rows_read"], entry["rows_used"], entry["rows_blank"]) == (2, 2, blank), entry
        assert not [f for f in report["findings"] if f["code"] == "PDD-D1"], "a blank line became a finding"


def test_one_huge_field_in_a_stream_is_refused_by_the_field_cap(bombs):
    assert check(bombs["long_field"], names="field_bytes") is None


def test_workbook_with_a_huge_cell_is_refused_before_it_is_parsed(bombs):
    """A 300 MiB cell in a small .xlsx (once 6 GB): refused by the ratio or the cell cap."""
    run = bombs["huge_cell"]
    assert check(run) is None
    assert "compression_ratio" in run.err or "field_bytes" in run.err, run.err


def test_workbook_cell_over_the_field_cap(bombs):
    assert check(bombs["long_cell"], names="field_bytes") is None
    report = check(bombs["fine_xlsx"])
    assert report is not None and report["input"]["rows_used"] == 2


@pytest.mark.parametrize("case", ["lol_mapping", "lol_ruleset", "lol_validate"])
def test_yaml_alias_bombs_are_refused(bombs, case):
    """A few hundred bytes of nested aliases expand to a billion values: refused by yaml_nodes
    before anything walks them (once 3 GB)."""
    assert check(bombs[case], names="yaml_nodes") is None


def test_a_plain_alias_is_fine(cli, write):
    """yaml.dump writes anchors and aliases for repeated lists: they are allowed."""
    write("r.yaml", "extends: pinduoduo\nrules:\n  - code: PDD-P2\n    params:\n      patterns: &p ['a+b', 'c']\n"
                    "  - code: PDD-P1\n    params:\n      patterns: *p\n")
    assert cli("validate-ruleset", "r.yaml").code == 0


@pytest.mark.parametrize("case", ["deep_mapping", "deep_ruleset", "deep_validate", "flow_deep", "deep_keys"])
def test_deeply_nested_yaml_is_refused_not_a_crash(bombs, case):
    run = bombs[case]
    assert check(run) is None
    assert "yaml_depth" in run.err or "nesting depth" in run.err, run.err


def test_devices_are_refused_quickly(bombs):
    assert check(bombs["dev_zero"], names="field_bytes") is None
    assert check(bombs["dev_urandom"], names="/dev/urandom") is None


# --------------------------------------------------------------------------- streams


def test_endless_stdin_stops_at_the_input_cap(cli_command, tmp_path):
    """`yes` forever: read in chunks and stopped by input_bytes, never held in memory."""
    for line in ("2026-11-22 09:00:00,b1,买家,,在吗", ""):
        producer = subprocess.Popen(["sh", "-c", f"printf '{HEADER.strip()}\\n'; exec yes '{line}'"], stdout=subprocess.PIPE)
        try:
            run = run_hostile(cli_command, "audit", "-", *AUDIT, cwd=tmp_path, stdin=producer.stdout, env={"CSERVICE_AUDIT_LIMITS": "input_bytes=48M"})
        finally:
            producer.kill()
            producer.wait()
        assert check(run, names="input_bytes") is None


def _through_fifo(cli_command: str, folder: Path, name: str, content: bytes, *args: str) -> Hostile:
    fifo = folder / name
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(content))
    writer.start()
    try:
        return run_hostile(cli_command, "audit", name, *AUDIT, *args, cwd=folder)
    finally:
        if writer.is_alive():  # the command never opened the pipe: unblock the writer
            with open(fifo, "rb") as fh:
                fh.read()
        writer.join()


def test_named_pipes_are_read_whole(cli_command, tmp_path):
    """A .jsonl through a named pipe once lost its first 64 KiB (2,245 of 3,000 rows)."""
    lines = []
    for i in range(1500):
        ts = f"2026-11-22 {9 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        lines.append(json.dumps({"时间": ts, "买家": f"b{i}", "发送方": "买家", "内容": "在吗" * 20}, ensure_ascii=False))
        lines.append(json.dumps({"时间": ts, "买家": f"b{i}", "发送方": "客服", "客服账号": "a1", "内容": "在的" * 20}, ensure_ascii=False))
    jsonl = ("\n".join(lines) + "\n").encode()
    assert len(jsonl) > 3 * 65536
    csv_text = (HEADER + "".join(f"2026-11-22 10:{i // 60:02d}:{i % 60:02d},c{i},买家,,在吗{'啊' * 40}\n" for i in range(3000))).encode()
    for name, content in (("pipe.jsonl", jsonl), ("pipe.csv", csv_text), ("pipe.csv.gz", gzip.compress(csv_text)), ("pipe.tsv", csv_text.replace(b",", b"\t"))):
        report = check(_through_fifo(cli_command, tmp_path, name, content))
        assert report is not None, name
        assert report["input"]["rows_read"] == 3000, (name, report["input"])


def test_stdin_is_read_whole(cli_command, tmp_path):
    text = (HEADER + "".join(f"2026-11-22 10:{i // 60:02d}:{i % 60:02d},c{i},买家,,在吗{'啊' * 40}\n" for i in range(3000))).encode()
    for data in (text, gzip.compress(text), text.decode().encode("gb18030")):
        with tempfile.TemporaryFile() as fh:
            fh.write(data)
            fh.seek(0)
            report = check(run_hostile(cli_command, "audit", "-", *AUDIT, cwd=tmp_path, stdin=fh))
        assert report is not None and report["input"]["rows_read"] == 3000, report and report["input"]


# --------------------------------------------------------------------------- line ends, epochs


LINE_ENDS = [("\r", "utf-8"), ("\r", "gb18030"), ("\r", "gzip"), ("\r\n", "utf-8"), ("\n", "utf-8"), ("mixed", "utf-8"), ("mixed", "gb18030")]


def test_line_endings(cli, write):
    """CR-only (old Mac, some Excel exports) once read 0 rows and exited 0."""
    rows = [HEADER.strip(), *CLEAN.strip().split("\n"), "2026-11-22 09:02:00,b2,买家,,\"two\nlines\"", "2026-11-22 09:03:00,b2,客服,a1,好"]
    for i, (newline, encoding) in enumerate(LINE_ENDS):
        if newline == "mixed":
            text = "".join(row + ("\r\n" if k % 2 else "\n") for k, row in enumerate(rows))
        else:
            text = "".join(row.replace("\n", newline) + newline for row in rows)
        data = gzip.compress(text.encode()) if encoding == "gzip" else text.encode(encoding)
        write(f"ends{i}.csv", data)
    runs = cli.many(*[("audit", f"ends{i}.csv", *AUDIT) for i in range(len(LINE_ENDS))])
    for case, run in zip(LINE_ENDS, runs, strict=True):
        assert run.code in (0, 1) and "Traceback" not in run.err, (case, run.err)
        inp = run.json()["input"]
        assert (inp["rows_read"], inp["rows_used"]) == (4, 4), (case, inp)


def test_epoch_seconds_and_milliseconds_by_magnitude(cli, write):
    """A 12-digit epoch in seconds (year 9999) is seconds, not milliseconds of 1978."""
    write(
        "epochs.csv",
        HEADER
        + "1795136400,b1,买家,,在吗\n"  # 2026-11-21 09:00 UTC, seconds
        + "1795136460000,b1,客服,a1,在的\n"  # a minute later, milliseconds
        + "253402300799,b2,买家,,九九九九\n"  # 9999-12-31 23:59:59 UTC in seconds: the future
        + "946684800000,b3,买家,,两千\n",  # 2000-01-01 00:00 UTC in ms (08:00 local): kept
    )
    run = cli("audit", "epochs.csv", *AUDIT)
    report = run.json()
    assert report["input"]["rows_used"] == 3, report["input"]
    messages = [f["message"] for f in report["findings"] if f["code"] == "PDD-D1"]
    assert len(messages) == 1 and "future" in messages[0], messages


# --------------------------------------------------------------------------- rejected rows


def test_rejected_rows_beyond_the_cap_are_counted_not_kept(cli, write):
    bad = "".join(f"not a time {i},b{i},买家,,x\n" for i in range(500))
    write("bad.csv", HEADER + CLEAN + bad)
    run = cli("audit", "bad.csv", *AUDIT, "--limit", "rejects_kept=50,rejected_percent=100", "--rejects", "rejects.csv")
    report = run.json()
    assert (report["input"]["rows_read"], report["input"]["rows_rejected"]) == (502, 500)
    assert len([f for f in report["findings"] if f["code"] == "PDD-D1"]) == 50
    assert (Path(cli.cwd) / "rejects.csv").read_text("utf-8").count("\n") == 51
    assert "500 row(s) rejected" in run.err


def test_a_mostly_rejected_file_stops_the_run_and_still_writes_its_rejects(cli, write, tmp_path):
    """An export read the wrong way (most of its times unreadable) is not audited on what is
    left: exit 2, one line naming the file, the count and the first bad row, the history
    untouched; --rejects still gets every rejected row. A few bad rows go through."""
    good = "".join(f"2026-11-22 10:{i:02d}:00,b{i},买家,,在吗\n" for i in range(40))
    bad = "".join(f"22.11.2026 11:{i:02d},c{i},买家,,在吗\n" for i in range(59))  # 59 of 101 rows
    write("half.csv", HEADER + CLEAN + good + bad)
    write("other.csv", HEADER + CLEAN)
    history = tmp_path / "hist"
    run = cli("audit", "other.csv", "half.csv", "-p", "pdd", "-f", "json", "--history", history, "--rejects", "rejects.csv")
    assert run.code == 2 and run.out == "", run.out
    assert run.err_lines() == [
        "cservice-audit: error: half.csv: 59 of 101 rows rejected (58.4%), first half.csv:44: unparseable timestamp "
        "'22.11.2026 11:00': over the rejected_percent limit (50%); check the export's columns and time format "
        "(--mapping, --input-tz), or audit the rest with --limit rejected_percent=100"
    ], run.err
    assert not history.exists() or not any(history.rglob("*.parquet"))
    assert (Path(cli.cwd) / "rejects.csv").read_text("utf-8").count("\n") == 60
    zh = cli("audit", "half.csv", *AUDIT, "--lang", "zh")
    assert zh.code == 2 and "101 行中 59 行被拒收（58.4%）" in zh.err and "rejected_percent" in zh.err, zh.err
    # Raised (per run, or in the environment), the rest is audited and the bad rows are findings.
    for args, env in ((("--limit", "rejected_percent=60"), {}), ((), {"CSERVICE_AUDIT_LIMITS": "rejected_percent=58.5"})):
        raised = cli("audit", "half.csv", *AUDIT, *args, env=env)
        assert raised.code in (0, 1), raised.err
        assert raised.json()["input"]["rows_rejected"] == 59
    # Just over the limit the share is never shown as the limit itself.
    write("edge.csv", HEADER + "".join(f"2026-11-22 10:00:{i % 60:02d},e{i},买家,,在吗\n" for i in range(999))
          + "".join(f"bad,f{i},买家,,在吗\n" for i in range(1001)))  # fmt: skip
    edge = cli("audit", "edge.csv", *AUDIT)
    assert edge.code == 2 and "1001 of 2000 rows rejected (50.1%)" in edge.err, edge.err
    # Nor, with one row read, as all of them.
    write("nearall.csv", HEADER + CLEAN[: CLEAN.index("\n") + 1] + "".join(f"bad,g{i},买家,,在吗\n" for i in range(2000)))
    near = cli("audit", "nearall.csv", *AUDIT)
    assert near.code == 2 and "2000 of 2001 rows rejected (99.9%)" in near.err, near.err
    # At the limit itself (50 of 100) the run goes on.
    write("even.csv", HEADER + CLEAN + "".join(good.splitlines(True)[:8]) + "".join(bad.splitlines(True)[:50]) + good)
    assert cli("audit", "even.csv", *AUDIT).json()["input"]["rows_rejected"] == 50


def test_rejects_are_written_when_every_row_is_rejected_and_a_failed_write_keeps_the_reason(cli, write):
    """The commonest export read the wrong way has no good row at all: --rejects still gets
    every row. A --rejects path that cannot be written is said, but the line that ends the
    run is still why it stopped."""
    write("allbad.csv", HEADER + "".join(f"22.11.2026 10:{i:02d},b{i},买家,,在吗\n" for i in range(30)))
    run = cli("audit", "allbad.csv", *AUDIT, "--rejects", "r.csv")
    assert run.code == 2 and "no usable rows (30 rejected" in run.err, run.err
    assert (Path(cli.cwd) / "r.csv").read_text("utf-8").count("\n") == 31
    # A path that fails only when written (a folder of that name): said, and the run's own reason ends it.
    (Path(cli.cwd) / "taken.csv").mkdir()
    failed = cli("audit", "allbad.csv", *AUDIT, "--rejects", "taken.csv")
    lines = failed.err_lines()
    assert failed.code == 2 and len(lines) == 2, failed.err
    assert "taken.csv" in lines[0] and lines[0].startswith("cservice-audit: note: "), lines
    assert lines[1].startswith("cservice-audit: error: allbad.csv: no usable rows"), lines
    # A missing folder stops the run before it reads anything (nothing stored, test_cli).
    early = cli("audit", "allbad.csv", *AUDIT, "--rejects", "missing-folder/r.csv")
    assert early.code == 2 and early.err_lines() == ["cservice-audit: error: missing-folder/r.csv: cannot write the rejects file (No such file or directory)"], early.err


def test_show_reads_a_mostly_rejected_file(cli, write):
    """`show` is a viewer of one conversation, with no --limit of its own: a file most of whose
    rows are rejected still shows the conversation it can read."""
    good = "2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:01:00,b1,客服,a1,在的\n"
    write("half.csv", HEADER + good + "".join(f"22.11.2026 11:{i:02d},c{i},买家,,在吗\n" for i in range(5)))
    assert cli("audit", "half.csv", *AUDIT).code == 2
    shown = cli("show", "-p", "pdd", "--lang", "en", "--", "-/b1", "half.csv")
    assert shown.code == 0 and "在的" in shown.out, shown.err


# --------------------------------------------------------------------------- limits themselves


def test_a_limit_can_be_raised_and_a_bad_one_is_one_line(cli, write):
    write("chats.csv", HEADER + CLEAN)
    for args, env in (
        (("--limit", "nonsense=1"), {}),
        (("--limit", "field_bytes=-3"), {}),
        ((), {"CSERVICE_AUDIT_LIMITS": "field_bytes=lots"}),
    ):
        run = cli("audit", "chats.csv", *AUDIT, *args, env=env)
        assert run.code == 2 and len(run.err_lines()) == 1, run.err
    raised = cli("audit", "chats.csv", *AUDIT, "--limit", "field_bytes=1G,yaml_depth=100", "--limit", "rejects_kept=5")
    assert raised.code == 0, raised.err


def test_the_input_cap_message_names_the_cap(cli, tmp_path):
    """'more than N bytes' says the cap, also when the first chunk read already passes it
    (it used to say 'more than 0 bytes', the bytes read before that chunk)."""
    (tmp_path / "zeros.gz").write_bytes(gzip.compress(b"\n" * 3_000_000))
    for args, stdin, says in (
        (("zeros.gz",), None, "zeros.gz: decompresses to more than 1048576 bytes"),
        (("-",), b"x" * 2_000_000, "<stdin>: more than 1048576 bytes"),
    ):
        run = cli("audit", *args, *AUDIT, "--limit", "input_bytes=1M", stdin=stdin)
        assert run.code == 2 and len(run.err_lines()) == 1 and says in run.err, run.err


# --------------------------------------------------------------------------- crashes


def test_dates_far_outside_the_data_are_one_line(cli, write):
    """--date 0001-01-01 with pinduoduo or taobao once crashed (a period before year 1)."""
    write("chats.csv", HEADER + CLEAN)
    cases = [(p, o, d) for p in ("pdd", "taobao") for o in ("--date", "--until", "--since") for d in ("0001-01-01", "9999-12-31")]
    runs = cli.many(*[("audit", "chats.csv", "-p", p, "-f", "json", "--no-history", o, d) for p, o, d in cases])
    for (platform, option, day), run in zip(cases, runs, strict=True):
        assert run.code == 2 and "Traceback" not in run.err, (platform, option, run.err)
        assert len(run.err_lines()) == 1 and day in run.err, run.err


COMBINED = {
    "x_comment": ["(?x)a#", "b"],  # the comment swallows the rest of the combined expression
    "too_big": [r"\w{150}", r"\w{150}"],  # each fits the regex engine's size limit, together not
}


@pytest.mark.parametrize("case", sorted(COMBINED))
def test_patterns_that_fail_only_combined(cli, write, case):
    patterns = ", ".join(f"'{p}'" for p in COMBINED[case])
    write("r.yaml", f"extends: pinduoduo\nrules:\n  - code: PDD-P2\n    params:\n      patterns: [{patterns}]\n")
    write("chats.csv", HEADER + CLEAN)
    for args in (("validate-ruleset", "r.yaml"), ("audit", "chats.csv", "--ruleset", "r.yaml", "-f", "json", "--no-history")):
        run = cli(*args)
        assert run.code == 2 and "Traceback" not in run.err, run.err
        assert len(run.err_lines()) == 1 and "patterns" in run.err, run.err
    if case == "too_big":  # each alone is fine
        write("one.yaml", f"extends: pinduoduo\nrules:\n  - code: PDD-P2\n    params:\n      patterns: ['{COMBINED[case][0]}']\n")
        assert cli("validate-ruleset", "one.yaml").code == 0


def test_ruleset_platform_is_an_identifier(cli, write):
    platforms = ["../../x", "/tmp/x", "pdd/../..", "UPPER", "", "a b"]
    for i, platform in enumerate(platforms):
        write(f"r{i}.yaml", f"platform: {json.dumps(platform)}\nversion: '1'\neffective: 2026-01-01\nrules: []\n")
    for platform, run in zip(platforms, cli.many(*[("validate-ruleset", f"r{i}.yaml") for i in range(len(platforms))]), strict=True):
        assert run.code == 2 and "platform" in run.err and len(run.err_lines()) == 1, (platform, run.err)


def test_a_field_cap_below_the_read_chunk_still_holds(cli, write):
    """A 300 KB field inside one 1 MiB read chunk, against a 100 KiB cap."""
    write("mid.csv.gz", gzip.compress((HEADER + "2026-11-22 09:00:00,b1,买家,," + "x" * 300_000 + "\n" + CLEAN).encode()))
    low, high = cli.many(("audit", "mid.csv.gz", *AUDIT, "--limit", "field_bytes=100K"), ("audit", "mid.csv.gz", *AUDIT, "--limit", "field_bytes=400K"))
    assert low.code == 2 and "field_bytes" in low.err and len(low.err_lines()) == 1, low.err
    assert high.code in (0, 1) and high.json()["input"]["rows_read"] == 3, high.err
