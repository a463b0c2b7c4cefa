"""Inputs and output targets that broke the one-line-error standard (a robustness review,
2026-12-07): each is one line naming the file or key and exit 2, never a traceback, an
internal error, a replaced device or an exit 1 that cron reads as new findings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "pinduoduo-2026-11-22.csv"


def test_jsonl_lone_surrogate_beside_a_rejected_line(cli, write):
    # A lone surrogate escape (\ud800) is valid JSON; with one bad line in the file the slow
    # road re-serialized each good line with ensure_ascii=False and polars panicked
    # (a Rust backtrace on stderr, "internal error").
    path = write(
        "chats.jsonl",
        '{"ts":"2026-11-22 09:00:00","buyer":"b1","role":"buyer","text":"a"}\n'
        "[1]\n"
        '{"ts":"2026-11-22 09:01:00","buyer":"b1","role":"agent","agent":"a1","text":"\\ud800"}\n'
        '{"ts":"2026-11-22 09:02:00","buyer":"b1","role":"agent","agent":"a1","text":"b"}\n',
    )
    run = cli("audit", path, "-p", "pdd", "--no-history", "-f", "json")
    assert "panicked" not in run.err and "internal error" not in run.err, run.err
    assert run.code in (0, 1), run.err
    report = run.json()
    assert report["input"]["rows_read"] == 4
    assert report["input"]["rows_rejected"] == 1
    assert "chats.jsonl:2" in run.err


def test_output_to_a_device_or_fifo_is_written_not_replaced(cli, tmp_path):
    # `-o /dev/null` (root) replaced the device node with a regular file: the atomic write
    # renames a temporary file over whatever the path is. A character device or a FIFO is
    # written to, as any tool does.
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            got.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    run = cli("audit", SAMPLE, "-p", "pdd", "--no-history", "-f", "json", "-o", fifo, timeout=120)
    assert run.code in (0, 1), run.err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    reader.join(timeout=30)
    assert got and got[0].startswith(b"{")


def test_stdout_closed_early_is_exit_2_not_1(cli_command, tmp_path):
    # `audit ... -f json | consumer` whose consumer dies: Typer turned EPIPE into a silent
    # exit 1 ("new findings" to cron), even with --exit-zero; the report never arrived.
    import subprocess

    proc = subprocess.Popen(
        [cli_command, "audit", str(SAMPLE), "-p", "pdd", "--no-history", "-f", "json", "--exit-zero"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        env={**os.environ, "LANG": "C.UTF-8", "CSERVICE_AUDIT_HOME": str(tmp_path / "h")},
    )
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == 2, err
    assert "<stdout>" in err and "Traceback" not in err and "internal error" not in err


def test_every_command_whose_reader_is_gone_exits_2(cli_command, tmp_path):
    """`rules`, `check-text`, `history` … into a pipe nobody reads any more: Typer's silent exit
    1 (EPIPE), read by cron as new findings, for commands besides `audit` too. The read end is
    closed before the command starts, so every write fails at once."""
    import subprocess

    for args in (("rules", "-p", "taobao", "-f", "json"), ("check-text", "亲，加我微信", "-p", "pdd"), ("explain", "PDD-P2")):
        read_end, write_end = os.pipe()
        os.close(read_end)
        proc = subprocess.run([cli_command, *args], stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE, cwd=tmp_path,
                              env={**os.environ, "LANG": "C.UTF-8"}, timeout=120)  # fmt: skip
        os.close(write_end)
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 2, (args, proc.returncode, err)
        assert "<stdout>" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)


def test_stdout_on_a_full_disk_is_one_line(cli_command, tmp_path):
    import subprocess

    import pytest

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [cli_command, "audit", str(SAMPLE), "-p", "pdd", "--no-history", "-f", "json"],
            stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE, cwd=tmp_path,
            env={**os.environ, "LANG": "C.UTF-8", "CSERVICE_AUDIT_HOME": str(tmp_path / "h")},
        )
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert "internal error" not in err and "No space left" in err


RULESET = Path(__file__).resolve().parent.parent / "rulesets" / "pinduoduo.yaml"


def test_ruleset_enabled_must_be_true_or_false(cli, write):
    # `enabled: "false"` (or "no", 0) was accepted and the rule kept running.
    for value in ('"false"', '"no"', "0"):
        path = write("mine.yaml", f"extends: pinduoduo\nrules:\n  - code: PDD-R3\n    enabled: {value}\n")
        run = cli("validate-ruleset", path)
        assert run.code == 2, (value, run.out, run.err)
        assert "rules[PDD-R3].enabled" in run.err and len(run.err_lines()) == 1


def test_enabled_false_in_a_ruleset_of_its_own_drops_the_rule(cli, write):
    import yaml

    data = yaml.safe_load(RULESET.read_text(encoding="utf-8"))
    data["rules"][0]["enabled"] = False
    code = data["rules"][0]["code"]
    path = write("own.yaml", yaml.safe_dump(data, allow_unicode=True))
    run = cli("validate-ruleset", path)
    assert run.code == 0, run.err
    assert "7 rules" in run.out + run.err and code not in run.out + run.err, (run.out, run.err)


def test_mapping_of_the_wrong_shape_is_one_line(cli, write):
    # `columns: [ts]`, `values: {role: 5}`, `timestamp_formats: 5` were internal errors.
    cases = {
        "columns: [ts]\n": "columns",
        "columns: 5\n": "columns",
        "values: [1]\n": "values",
        "values: {role: 5}\n": "values.role",
        "timestamp_formats: 5\n": "timestamp_formats",
        'timestamp_formats: {naive: ["%Y-%m-%d %H:%M:%S%z"]}\n': "timestamp_formats.naive",
    }
    for text, where in cases.items():
        path = write("map.yaml", text)
        run = cli("audit", SAMPLE, "-p", "pdd", "--no-history", "-f", "json", "--mapping", path)
        assert run.code == 2, (text, run.err)
        assert "internal error" not in run.err and len(run.err_lines()) == 1, (text, run.err)
        assert f"map.yaml: {where}:" in run.err, (text, run.err)


def test_config_notify_of_the_wrong_type_is_one_line(cli, write):
    # `[notify] wecom = 5` passed the strict config check and crashed `notify` (AttributeError).
    report = cli("audit", SAMPLE, "-p", "pdd", "--no-history", "-f", "json", "-o", "r.json")
    assert report.code in (0, 1), report.err
    for text, key in (("wecom = 5", "notify.wecom"), ('timeout = "10"', "notify.timeout")):
        config = write("c.toml", f'platform = "pinduoduo"\n[notify]\n{text}\n')
        run = cli("notify", "r.json", "--config", config)
        assert run.code == 2, run.err
        assert "internal error" not in run.err and key in run.err, run.err


def test_an_output_that_is_an_input_is_refused_and_the_export_kept(cli, tmp_path):
    """`-o` or `--rejects` naming the export (itself, through a folder argument, or a link to it)
    replaced the chats with the report: exit 1 and the export gone. Exit 2 now, before anything
    is read, and the export is as it was."""
    export = tmp_path / "day.csv"
    export.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "link.csv").symlink_to(export)
    for args in (("day.csv", "-f", "csv", "-o", "day.csv"), (".", "-o", "day.csv"), ("day.csv", "--rejects", "link.csv", "-o", "r.json"),
                 ("day.csv", "--items-csv", "day.csv", "-o", "r.json")):  # fmt: skip
        run = cli("audit", *args, "-p", "pdd", "--no-history")
        assert run.code == 2 and len(run.err_lines()) == 1 and "overwrite the export" in run.err, (args, run.err)
        assert export.read_bytes() == SAMPLE.read_bytes(), args
    assert cli("audit", "day.csv", "-p", "pdd", "--no-history", "-o", "r.json").code == 1  # another name is fine


def test_a_gbk_header_read_as_utf8_says_the_encoding(cli, tmp_path):
    """A GBK export with a Chinese header, read with --encoding utf-8: `missing column 'ts'
    (tried: …)`, as if the export lacked a column. It is the encoding, as a GBK data row says."""
    text = "时间,买家,发送方,客服,内容\n2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:00:20,b1,客服,小美,在的\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    run = cli("audit", "gbk.csv", "-p", "pdd", "--no-history", "--encoding", "utf-8")
    lines = run.err_lines()
    assert run.code == 2 and len(lines) == 1 and "gbk.csv" in lines[0], run.err
    assert "header is not valid utf-8" in lines[0] and "--encoding gb18030" in lines[0] and "missing column" not in lines[0], run.err
    assert cli("audit", "gbk.csv", "-p", "pdd", "--no-history", "--encoding", "gb18030", "-o", "r.json").code in (0, 1)


def test_a_gbk_row_read_as_upper_case_utf8_points_to_gb18030(cli, tmp_path):
    """`--encoding UTF-8` (as Windows and WPS spell it) on a GBK export said 'not valid UTF-8 …
    pass --encoding utf-8', the encoding it had just failed with."""
    text = "ts,buyer,role,agent,text\n2026-11-22 09:00:00,b1,buyer,,在吗\n2026-11-22 09:00:20,b1,agent,小美,在的\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    runs = cli.many(*(("audit", "gbk.csv", "-p", "pdd", "--no-history", "--encoding", spelled) for spelled in ("UTF-8", "utf-8")))
    for run in runs:
        assert run.code == 2 and len(run.err_lines()) == 1 and "gbk.csv" in run.err, run.err
        assert "--encoding gb18030" in run.err and "--encoding utf-8" not in run.err, run.err


def test_jsonl_lone_low_surrogate_or_two_high_ones_is_read_not_an_internal_error(cli, write):
    # polars rejects a lone low surrogate (\udfff) or a high one before another escape
    # (\ud800\ud800) even as an ASCII escape: the slow road's second read crashed
    # (internal error, exit 2 with a crash log), with or without a rejected line beside it.
    path = write(
        "chats.jsonl",
        '{"ts":"2026-11-22 09:00:00","buyer":"b1","role":"buyer","text":"x\\udfff y"}\n'
        '{"ts":"2026-11-22 09:01:00","buyer":"b1","role":"agent","agent":"a1","text":"\\ud800\\ud800","extra":{"k":"\\udfff"}}\n'
        '{"ts":"2026-11-22 09:02:00","buyer":"b1","role":"agent","agent":"a1","text":"ok \\ud83d\\ude00"}\n',
    )
    run = cli("audit", path, "-p", "pdd", "--no-history", "-f", "json")
    assert "internal error" not in run.err, run.err
    assert run.code in (0, 1), run.err
    report = run.json()
    assert report["input"]["rows_read"] == 3 and report["input"]["rows_rejected"] == 0


def test_an_output_naming_the_mapping_ruleset_or_config_is_refused_and_the_file_kept(cli, tmp_path):
    """The run's other inputs too: `-o` naming its --mapping, --ruleset or config file replaced
    the shop's mapping (or rules, or cron config) with the report, exit 1."""
    (tmp_path / "day.csv").write_bytes(SAMPLE.read_bytes())
    files = {"m.yaml": "columns: {}\n", "rs.yaml": "extends: pinduoduo\n", "shop.toml": 'platform = "pinduoduo"\n'}
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    for args in (("--mapping", "m.yaml", "-p", "pdd", "-o", "m.yaml"), ("--ruleset", "rs.yaml", "--rejects", "rs.yaml", "-o", "r.json"),
                 ("--config", "shop.toml", "-f", "json", "-o", "shop.toml")):  # fmt: skip
        run = cli("audit", "day.csv", *args, "--no-history")
        assert run.code == 2 and len(run.err_lines()) == 1 and "a file this run reads" in run.err, (args, run.err)
    assert all((tmp_path / name).read_text("utf-8") == text for name, text in files.items())


def test_a_configured_output_that_is_an_input_names_the_config_key(cli, tmp_path):
    """The config's `output` naming the export was refused as `-o …`, a flag never given: the
    line names the file and key that did it."""
    (tmp_path / "day.csv").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "s.toml").write_text('platform = "pinduoduo"\noutput = "day.csv"\nformat = "json"\n', "utf-8")
    run = cli("audit", "day.csv", "--config", "s.toml", "--no-history")
    assert run.code == 2 and len(run.err_lines()) == 1 and "s.toml: output" in run.err and "-o " not in run.err, run.err
    assert (tmp_path / "day.csv").read_bytes() == SAMPLE.read_bytes()


def test_two_outputs_of_one_file_are_refused(cli, tmp_path):
    """`-o r.json --items-csv r.json`: the items CSV replaced the report (or the other way round)."""
    (tmp_path / "day.csv").write_bytes(SAMPLE.read_bytes())
    run = cli("audit", "day.csv", "-p", "pdd", "--no-history", "-o", "r.json", "--items-csv", "./r.json")
    assert run.code == 2 and len(run.err_lines()) == 1 and "--items-csv" in run.err and "-o" in run.err, run.err
    assert not (tmp_path / "r.json").exists()


def test_a_baseline_from_a_newer_tool_stops_the_run(cli, tmp_path):
    """A baseline of schema 9.0 (a downgrade, a report copied from a newer install) was read as
    if it were ours: its fingerprints could mark tonight's findings known. One line, exit 2;
    an older minor version of ours is read as before."""
    import json

    assert cli("audit", SAMPLE, "-p", "pdd", "--no-history", "-f", "json", "-o", "b.json", "--exit-zero").code == 0
    report = json.loads((tmp_path / "b.json").read_text("utf-8"))
    for version, code in (("9.0", 2), ("2.0", 0)):
        (tmp_path / "old.json").write_text(json.dumps({**report, "schema_version": version}), "utf-8")
        run = cli("audit", SAMPLE, "-p", "pdd", "--no-history", "--baseline", "old.json", "-o", "r.json")
        assert run.code == code, (version, run.err)
        if code == 2:
            assert len(run.err_lines()) == 1 and "schema 9.0" in run.err and "--no-baseline" in run.err, run.err


def test_a_rule_overridden_twice_is_refused_not_the_last_one_winning(cli, write):
    # Two entries for PDD-R5: the second silently replaced the first's min_rate.
    path = write("twice.yaml", "extends: pinduoduo\nrules:\n  - code: PDD-R5\n    params: {min_rate: 0.5}\n"
                 "  - code: PDD-R5\n    params: {min_rate: 0.9}\n")
    run = cli("validate-ruleset", path)
    assert run.code == 2, (run.out, run.err)
    assert "rules[PDD-R5]" in run.err and "twice" in run.err and len(run.err_lines()) == 1


def test_an_infinite_or_nan_threshold_is_refused(cli, write):
    # `.inf` switched the rule off while `rules` still listed it as running.
    for value in (".inf", ".nan", "-.inf"):
        path = write("inf.yaml", f"extends: pinduoduo\nrules:\n  - code: PDD-R3\n    params: {{threshold: {value}}}\n")
        run = cli("validate-ruleset", path)
        assert run.code == 2, (value, run.out, run.err)
        assert "rules[PDD-R3].params.threshold" in run.err and len(run.err_lines()) == 1, (value, run.err)


def test_a_baseline_with_a_severity_or_status_we_never_write_stops_the_run(cli, tmp_path):
    """`"severity": "fatal"` (a hand edit) was ranked as `info` and could mark tonight's finding
    known or new by accident. One line naming the finding and key, exit 2; the report as
    written is read as before."""
    import json

    assert cli("audit", SAMPLE, "-p", "pdd", "--no-history", "-f", "json", "-o", "b.json", "--exit-zero").code == 0
    report = json.loads((tmp_path / "b.json").read_text("utf-8"))
    assert report["findings"], "the sample must have findings"
    for key, value in (("severity", "fatal"), ("status", "broken"), ("severity", None)):
        findings = [dict(f) for f in report["findings"]]
        findings[1][key] = value
        (tmp_path / "edited.json").write_text(json.dumps({**report, "findings": findings}), "utf-8")
        run = cli("audit", SAMPLE, "-p", "pdd", "--no-history", "--baseline", "edited.json", "-o", "r.json")
        assert run.code == 2, (key, value, run.err)
        assert len(run.err_lines()) == 1 and f"findings[1].{key}" in run.err and repr(value) in run.err, run.err
    run = cli("audit", SAMPLE, "-p", "pdd", "--no-history", "--baseline", "b.json", "-o", "r.json")
    assert run.code == 0, run.err


def test_infinite_or_nan_points_are_refused(cli, write):
    # `.nan` points (a rule's or a tier's) made the report's totals NaN, written into the JSON
    # as a bare NaN, which no strict JSON reader accepts.
    for where, rule in (
        ("rules[PDD-R3].points", "    points: {value}\n"),
        ("tiers[0].points", "    escalation:\n      tiers:\n        - {{at: 1, label: 轻微, points: {value}}}\n"),
    ):
        for value in (".inf", ".nan", "-.inf"):
            path = write("pts.yaml", "extends: pinduoduo\nrules:\n  - code: PDD-R3\n" + rule.format(value=value))
            run = cli("validate-ruleset", path)
            assert run.code == 2, (where, value, run.out, run.err)
            assert where in run.err and "finite" in run.err and len(run.err_lines()) == 1, (where, value, run.err)
