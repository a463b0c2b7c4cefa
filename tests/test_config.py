"""The config file (`cservice-audit.toml` or `--config`): precedence file < environment <
flag, strict keys, paths relative to the file. Through the installed command."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pinduoduo-2026-11-22.csv"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_the_config_in_the_working_folder_sets_platform_format_and_selection(cli, tmp_path):
    _write(tmp_path / "cservice-audit.toml", 'platform = "pinduoduo"\nformat = "json"\nselect = ["PDD-R3"]\n')
    r = cli("audit", SAMPLE, cwd=tmp_path)
    assert r.code == 1, r.err
    assert r.json()["ruleset"]["rules"] == ["PDD-R3"]
    # A flag wins over the file.
    r = cli("audit", SAMPLE, "--select", "PDD-R5", cwd=tmp_path)
    assert r.json()["ruleset"]["rules"] == ["PDD-R5"]


def test_history_precedence_is_file_then_environment_then_flag(cli, tmp_path):
    from_file, from_env, from_flag = tmp_path / "file-h", tmp_path / "env-h", tmp_path / "flag-h"
    config = _write(tmp_path / "shop.toml", f'platform = "pinduoduo"\nformat = "json"\nhistory = "{from_file}"\nfail_on = "info"\n')
    assert cli("audit", SAMPLE, "--config", config).code == 1
    assert list(from_file.rglob("rows.parquet"))
    assert cli("audit", SAMPLE, "--config", config, env={"CSERVICE_AUDIT_HOME": str(from_env)}).code == 1
    assert list(from_env.rglob("rows.parquet"))
    assert cli("audit", SAMPLE, "--config", config, "--history", from_flag, env={"CSERVICE_AUDIT_HOME": str(from_env)}).code == 1
    assert list(from_flag.rglob("rows.parquet"))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli("audit", SAMPLE, "--config", config, "--no-history").code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_relative_paths_in_the_file_are_relative_to_the_file(cli, tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    config = _write(etc / "a.toml", 'platform = "pinduoduo"\nformat = "json"\noutput = "out/a.json"\n')
    (etc / "out").mkdir()
    elsewhere = tmp_path / "cron-cwd"
    elsewhere.mkdir()
    r = cli("audit", SAMPLE, "--config", config, cwd=elsewhere)
    assert r.code == 1 and r.out == ""
    assert (etc / "out" / "a.json").exists() and not list(elsewhere.iterdir())


def test_output_dash_is_stdout_and_leaves_the_configured_report_alone(cli, tmp_path):
    """A spot-check with the cron config: `-o -` prints, and tonight's report (the baseline)
    is neither replaced nor joined by a file named "-"."""
    report = tmp_path / "shop-a.json"
    config = _write(tmp_path / "a.toml", f'platform = "pinduoduo"\nformat = "json"\noutput = "{report}"\n')
    assert cli("audit", SAMPLE, "--config", config, "--no-history").code == 1
    tonight = report.read_bytes()
    r = cli("audit", SAMPLE, "--config", config, "--no-history", "-f", "table", "-o", "-", "--summary", cwd=tmp_path)
    assert r.code == 1, r.err
    assert "PDD-R3" in r.out and "Found 37 findings" in r.out, r.out[-500:]
    assert report.read_bytes() == tonight
    assert not (tmp_path / "-").exists()


def test_another_format_than_the_files_prints_and_leaves_the_configured_report_alone(cli, tmp_path):
    """The supervisor's morning look with the cron config, `-f table` and no `-o`: the table
    is printed, and tonight's report (tomorrow's baseline) is not replaced by it (it was, and
    the next night stopped on an unreadable baseline). The file's own format, named as a flag,
    still writes the file; so does a config with no format (its report is JSON)."""
    report = tmp_path / "shop-a.json"
    config = _write(tmp_path / "a.toml", f'platform = "pinduoduo"\nformat = "json"\noutput = "{report}"\n')
    assert cli("audit", SAMPLE, "--config", config, "--no-history").code == 1
    tonight = report.read_bytes()
    for fmt in ("table", "markdown", "csv"):
        r = cli("audit", SAMPLE, "--config", config, "--no-history", "-f", fmt, "--select", "PDD-R3")
        assert r.code == 1 and "PDD-R3" in r.out, (fmt, r.err)
        assert report.read_bytes() == tonight, fmt
    r = cli("audit", SAMPLE, "--config", config, "--no-history", "-f", "json", "--select", "PDD-R3")
    assert r.code == 1 and r.out == "", r.out[:300]
    assert report.read_bytes() != tonight and json.loads(report.read_text(encoding="utf-8"))["summary"]["by_code"].keys() == {"PDD-R3"}
    # No format in the file: the command line chooses it (`-f html` on a cron line writes the
    # page), but nothing but JSON goes over the file the run reads as its baseline.
    nightly = tmp_path / "b.json"
    unformatted = _write(tmp_path / "b.toml", f'platform = "pinduoduo"\noutput = "{nightly}"\nbaseline = "{nightly}"\n')
    assert cli("audit", SAMPLE, "--config", unformatted, "--no-history", "-f", "json").code == 1
    written = nightly.read_bytes()
    assert json.loads(written)["schema_version"]
    r = cli("audit", SAMPLE, "--config", unformatted, "--no-history", "-f", "table", "--summary")
    assert r.code == 0 and "PDD-R3" in r.out, r.err  # 0: every finding is known to the baseline
    assert nightly.read_bytes() == written
    page = tmp_path / "page.html"
    html_config = _write(tmp_path / "c.toml", f'platform = "pinduoduo"\noutput = "{page}"\n')
    r = cli("audit", SAMPLE, "--config", html_config, "--no-history", "-f", "html")
    assert r.code == 1 and r.out == "" and page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>"), r.out[:200]


def test_a_night_caught_up_twice_is_new_once(cli, tmp_path):
    """A missed night caught up after a later one, then caught up again (ops unsure the first
    went through): the first compares with the later night's report, where none of its
    findings are, and its news is new (exit 1, pushed); the second compares with the report
    the first wrote beside it, so it is known, as a night run twice is, and not pushed again."""
    report = tmp_path / "shop-a.json"
    config = _write(tmp_path / "a.toml", f'platform = "pinduoduo"\nformat = "json"\noutput = "{report}"\nbaseline = "{report}"\n')
    assert cli("audit", SAMPLE, "--config", config, "--no-history").code == 1
    later = json.loads(report.read_text(encoding="utf-8"))
    report.write_text(json.dumps({**later, "as_of": "2026-11-25", "findings": []}, ensure_ascii=False), encoding="utf-8")
    kept = report.read_bytes()
    first = cli("audit", SAMPLE, "--config", config, "--no-history", "--date", "2026-11-22")
    beside = tmp_path / "shop-a.2026-11-22.json"
    assert first.code == 1 and report.read_bytes() == kept, first.err
    assert {f["state"] for f in json.loads(beside.read_text(encoding="utf-8"))["findings"]} == {"new"}
    second = cli("audit", SAMPLE, "--config", config, "--no-history", "--date", "2026-11-22")
    assert second.code == 0 and report.read_bytes() == kept, second.err
    assert {f["state"] for f in json.loads(beside.read_text(encoding="utf-8"))["findings"]} == {"known"}
    # A --baseline named on the command line is what the run compares with, as asked.
    assert cli("audit", SAMPLE, "--config", config, "--no-history", "--date", "2026-11-22", "--baseline", report).code == 1


def test_an_earlier_day_with_the_cron_config_does_not_replace_the_later_report(cli, tmp_path):
    """Tuesday looked at on Saturday with the cron config: its report replaced Friday's, the
    file the next night compares with, so the next night re-alerted what Friday knew. The
    later report is kept, the earlier day's report written beside it under its day (where
    `notify --date` finds it: a missed night caught up still reaches the group), and stderr
    says so."""
    report = tmp_path / "shop-a.json"
    config = _write(tmp_path / "a.toml", f'platform = "pinduoduo"\nformat = "json"\noutput = "{report}"\nbaseline = "{report}"\n')
    assert cli("audit", SAMPLE, "--config", config, "--no-history").code == 1
    later = json.loads(report.read_text(encoding="utf-8"))
    later["as_of"] = "2026-11-25"
    report.write_text(json.dumps(later, ensure_ascii=False), encoding="utf-8")
    kept = report.read_bytes()
    report.chmod(0o600)  # the chats, buyers and agents it holds: private to the cron user
    look = cli("audit", SAMPLE, "--config", config, "--no-history")
    assert look.code in (0, 1) and report.read_bytes() == kept, look.err
    beside = tmp_path / "shop-a.2026-11-22.json"
    assert beside.stat().st_mode & 0o777 == 0o600  # as private as the report it is beside
    assert look.out == "" and json.loads(beside.read_text(encoding="utf-8"))["as_of"] == "2026-11-22", look.out[:300]
    assert "shop-a.json holds the report of 2026-11-25, later than this run's 2026-11-22: not replaced" in look.err, look.err
    assert "this run's report is written beside it, to shop-a.2026-11-22.json" in look.err, look.err
    assert "this run judges 2026-11-22 against the later report of 2026-11-25 (shop-a.json)" in look.err, look.err
    # Whatever this run compares with (nothing, another report), the file the next night
    # compares with is what is kept: it held the later report.
    write_other = tmp_path / "other.json"
    write_other.write_bytes(kept)
    for extra in (("--no-baseline",), ("--baseline", write_other)):
        again = cli("audit", SAMPLE, "--config", config, "--no-history", *extra)
        assert again.code in (0, 1) and report.read_bytes() == kept, (extra, again.err)
        assert "shop-a.json holds the report of 2026-11-25" in again.err, (extra, again.err)
    # A person on a terminal gets the table as well (the file is for the push).
    from test_report import _on_terminal

    beside.unlink()
    code, screen, err = _on_terminal(cli, tmp_path, "audit", str(SAMPLE), "--config", str(config), "--no-history")
    assert code in (0, 1) and report.read_bytes() == kept and json.loads(beside.read_text(encoding="utf-8"))["as_of"] == "2026-11-22", err
    assert "PDD-R3" in screen and "{" not in screen.splitlines()[0], screen[:500]
    # Another output file is written as asked.
    other = cli("audit", SAMPLE, "--config", config, "--no-history", "-o", tmp_path / "tuesday.json")
    assert other.code in (0, 1) and json.loads((tmp_path / "tuesday.json").read_text(encoding="utf-8"))["as_of"] == "2026-11-22", other.err


def test_a_platform_flag_beats_the_files_ruleset(cli, tmp_path):
    """Flags win over the file: `-p taobao` with a config whose `ruleset` tightens TB-R3 to
    60 s runs the shipped taobao rules (the file's ruleset won, and a 100 s wait failed)."""
    _write(tmp_path / "tb60.yaml", 'extends: taobao\nversion: "t60"\nrules:\n  - code: TB-R3\n    params: {threshold: 60}\n')
    _write(tmp_path / "c.csv", "ts,shop,buyer,role,agent,text\n2026-11-22 10:00:00,店,b1,买家,,在吗\n2026-11-22 10:01:40,店,b1,客服,小A,在的\n")
    config = _write(tmp_path / "c.toml", 'platform = "taobao"\nruleset = "tb60.yaml"\n')
    args = ("audit", "c.csv", "--config", config, "--no-history", "-f", "json", "--select", "TB-R3")
    own, flagged = cli.many(args, (*args, "-p", "taobao"))
    assert own.code == 1 and own.json()["ruleset"]["version"] == "t60", own.err
    assert flagged.code == 0 and flagged.json()["ruleset"]["version"] != "t60", flagged.err
    # said on stderr, since it changes verdicts (the file's ruleset won until 2026-12-06)
    assert flagged.err_lines() == [f"cservice-audit: note: --platform taobao replaces the config file's ruleset ({tmp_path / 'tb60.yaml'}): this run uses the shipped rules"], flagged.err
    assert own.err == "", own.err


def test_fail_on_from_the_file_sets_the_exit_status(cli, tmp_path):
    config = _write(tmp_path / "c.toml", 'platform = "pinduoduo"\nformat = "json"\nselect = ["PDD-S1"]\nfail_on = "error"\n')
    assert cli("audit", SAMPLE, "--config", config).code == 0  # PDD-S1 findings are warnings
    assert cli("audit", SAMPLE, "--config", config, "--fail-on", "warning").code == 1


@pytest.mark.parametrize(
    "text, named",
    [
        ('platfrom = "pinduoduo"\n', "platfrom"),
        ('platform = "pinduoduo"\n[notify]\nwecom_url = "x"\n', "notify.wecom_url"),
        ('platform = "pinduoduo"\nitems = "five"\n', "items"),
        ('platform = "pinduoduo"\nselect = [1, 2]\n', "select"),
        ('platform = "pinduoduo"\nfail_on = "fatal"\n', "fail_on"),
        ('platform = "pinduoduo\n', "not valid TOML"),
        # a Chinese input method's colon or equals sign: "Expected '=' after a key" named neither
        ('ruleset："my.yaml"\n', "line 1: a key is followed by a half-width '='"),
        # (lang＝"en": a broken file is said in the language its lang line names, zh in Chinese)
        ('platform = "pinduoduo"\nlang＝"en"\n', "line 2: a key is followed by a half-width '='"),
        ('platform: "pinduoduo"\n', "line 1: a key is followed by a half-width '='"),
        # a `note: …` inside a multi-line text is no key: the unclosed string below it was named
        # as line 2's colon; and a dotted key's colon was the parser's "Expected '='"
        ('shop = """A店\nnote: 周末\n"""\nplatform = "pinduoduo\n', "not valid TOML (Illegal character '\\n' (at line 4"),
        ('platform = "pinduoduo"\nnotify.wecom："https://x"\n', "line 2: a key is followed by a half-width '='"),
        ('platform = "pinduoduo"\n[limits]\ninput_byte = "1G"\n', "input_byte"),
        ('platform = "pinduoduo"\n[limits]\ninput_bytes = "lots"\n', "input_bytes"),
        ('platform = "pinduoduo"\nlimits = "1G"\n', "limits"),
        # as loose as the command line is strict (a robustness review, 2026-12-07): each passed
        ('platform = "pinduoduo"\nitems = -1\n', "items"),
        ('platform = "pinduoduo"\n[limits]\nlock_wait = 1e400\n', "lock_wait"),
        ('platform = "pinduoduo"\n[limits]\nrejected_percent = 101\n', "rejected_percent"),
        ('platform = "pinduoduo"\n[limits]\nfield_bytes = 0.1\n', "field_bytes"),
    ],
)
def test_a_wrong_key_or_value_is_one_line_naming_it(cli, tmp_path, text, named):
    config = _write(tmp_path / "bad.toml", text)
    r = cli("audit", SAMPLE, "--config", config, "-f", "json")
    lines = r.err_lines()
    assert r.code == 2 and len(lines) == 1 and named in lines[0], r.err
    assert "Traceback" not in r.err and r.out == ""


def test_a_config_error_speaks_the_files_language_under_cron(cli, tmp_path):
    """A typo in a config that says lang = "zh" was reported in English under cron's LANG=C,
    the one line ops read in the mail. The file's own language, unless --lang says otherwise."""
    config = _write(tmp_path / "typo.toml", 'platform = "pinduoduo"\nlang = "zh"\nhistroy = "h"\n')
    zh, en = cli.many(
        {"args": ("audit", SAMPLE, "--config", config), "env": {"LANG": "C"}},
        {"args": ("audit", SAMPLE, "--config", config, "--lang", "en"), "env": {"LANG": "C"}},
    )
    assert zh.code == 2 and zh.err.startswith("cservice-audit：错误：") and "histroy" in zh.err and "typo.toml" in zh.err, zh.err
    assert en.code == 2 and en.err.startswith("cservice-audit: error: ") and "histroy" in en.err, en.err
    # A file that does not parse at all still says it in its language, when its lang line can be read.
    for text in ('lang = "zh"\nplatform = "pinduoduo\n', 'lang = "zh"\nruleset："my.yaml"\n'):
        broken = _write(tmp_path / "broken.toml", text)
        run = cli("audit", SAMPLE, "--config", broken, env={"LANG": "C"})
        assert run.code == 2 and run.err.startswith("cservice-audit：错误：") and "broken.toml：" in run.err, run.err
    # A [limits] value: the file and table named alike in both languages (it read `c.toml: limits：…`).
    limits = _write(tmp_path / "limits.toml", 'platform = "pinduoduo"\nlang = "zh"\n[limits]\nlock_wait = -1\n')
    capped = cli("audit", SAMPLE, "--config", limits, "--no-history", env={"LANG": "C"})
    assert capped.code == 2 and "limits.toml [limits]：lock_wait：" in capped.err, capped.err


def test_two_bots_in_the_config_are_refused_on_every_run(cli, tmp_path):
    """[notify] with a DingTalk and a Feishu bot was refused only when a push was due: a quiet
    night's `notify --only-news` said 未推送 and exit 0, and the first night with news failed.
    The config is refused on load, naming the two keys; a command line without any bot too."""
    config = _write(tmp_path / "two.toml", 'platform = "pinduoduo"\nlang = "zh"\n[notify]\ndingtalk = "http://127.0.0.1:9/a"\nfeishu = "http://127.0.0.1:9/b"\n')
    report = tmp_path / "r.json"
    assert cli("audit", SAMPLE, "-p", "pinduoduo", "--no-history", "-f", "json", "-o", report, "--exit-zero").code == 0
    quiet, audit, none = cli.many(
        ("notify", report, "--config", config, "--only-news", "--fail-on", "error", "--date", "2026-11-21"),
        ("audit", SAMPLE, "--config", config, "--no-history"),
        ("notify", report, "--only-news", "--lang", "zh"),
    )
    for run in (quiet, audit):
        assert run.code == 2 and len(run.err_lines()) == 1, run.err
        assert "two.toml" in run.err and "notify.dingtalk，notify.feishu" in run.err and "只推送到一个群" in run.err, run.err
    assert none.code == 2 and "[notify]" in none.err and "--wecom" in none.err, none.err


def test_a_missing_config_file_is_exit_2(cli, tmp_path):
    r = cli("audit", SAMPLE, "--config", tmp_path / "nope.toml")
    assert r.code == 2 and "nope.toml" in r.err


def test_the_shop_key_names_an_export_without_a_shop_column(cli, tmp_path):
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    shop_column = next(c for c in frame.columns if "店" in c or c.lower() == "shop")
    export = tmp_path / "noshop.csv"
    frame.drop(shop_column).write_csv(export)
    config = _write(tmp_path / "c.toml", f'platform = "pinduoduo"\nformat = "json"\nshop = "三店"\nhistory = "{tmp_path / "h"}"\n')
    r = cli("audit", export, "--config", config)
    assert r.code == 1, r.err
    assert r.json()["shops"] == ["三店"]


def test_limits_precedence_is_file_then_environment_then_flag(cli, tmp_path):
    """[limits] in the file caps the run; $CSERVICE_AUDIT_LIMITS beats the file; --limit beats both."""
    import gzip

    packed = tmp_path / "chats.csv.gz"
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))  # decompresses to ~30 KiB
    config = _write(tmp_path / "c.toml", 'platform = "pinduoduo"\nformat = "json"\n[limits]\ninput_bytes = "1K"\n')
    capped = cli("audit", packed, "--config", config, "--no-history")
    assert capped.code == 2 and len(capped.err_lines()) == 1 and "input_bytes" in capped.err, capped.err
    raised_by_env = cli("audit", packed, "--config", config, "--no-history", env={"CSERVICE_AUDIT_LIMITS": "input_bytes=1G"})
    assert raised_by_env.code == 1, raised_by_env.err
    assert raised_by_env.json()["input"]["rows_read"] > 0
    lowered_by_env = cli("audit", packed, "--config", config, "--no-history", "--limit", "input_bytes=1G",
                         env={"CSERVICE_AUDIT_LIMITS": "input_bytes=1K"})  # fmt: skip
    assert lowered_by_env.code == 1, lowered_by_env.err
    # Without the file's cap the default lets the same input through.
    plain = _write(tmp_path / "plain.toml", 'platform = "pinduoduo"\nformat = "json"\n')
    assert cli("audit", packed, "--config", plain, "--no-history").code == 1


def test_an_audits_own_errors_speak_the_files_language_under_cron(cli, tmp_path):
    """cron runs with LANG=C; the shop's config says lang = "zh": the one-line error of a run
    that cannot be done (another shop's export, a --date the export lacks) is Chinese too, as
    the report is. --lang en still wins."""
    config = _write(tmp_path / "c.toml", 'platform = "pinduoduo"\nformat = "json"\nshop = "别的店"\nlang = "zh"\n')
    wrong, missing, english = cli.many(
        {"args": ("audit", SAMPLE, "--config", config, "--no-history"), "env": {"LANG": "C"}},
        {"args": ("audit", SAMPLE, "--config", config, "--no-history", "--shop", "拼多多示例店", "--date", "2026-12-01"), "env": {"LANG": "C"}},
        {"args": ("audit", SAMPLE, "--config", config, "--no-history", "--lang", "en"), "env": {"LANG": "C"}},
    )
    assert wrong.code == 2 and wrong.err.startswith("cservice-audit：错误：") and "别的店" in wrong.err, wrong.err
    assert missing.code == 2 and missing.err.startswith("cservice-audit：错误：--date 2026-12-01"), missing.err
    assert english.code == 2 and english.err.startswith("cservice-audit: error: ") and "holds shop" in english.err, english.err
    # The shop came from the config, not a flag: the error names the file, and "drop --shop"
    # (a flag this run was not given) is no advice.
    assert f"配置文件 {config} 的 shop 是 别的店" in wrong.err and "--shop" not in wrong.err, wrong.err
    assert f"the config file {config} is for shop 别的店" in english.err and "--shop" not in english.err, english.err
    flag = cli("audit", SAMPLE, "-p", "pinduoduo", "--shop", "别的店", "--no-history", "--lang", "en")
    assert flag.code == 2 and "drop --shop to audit every shop" in flag.err and "config" not in flag.err, flag.err
    # Option values the command checks itself come after the file is read: Chinese too.
    bad_date, bad_zone = cli.many(
        {"args": ("audit", SAMPLE, "--config", config, "--no-history", "--date", "2026-13-01"), "env": {"LANG": "C"}},
        {"args": ("audit", SAMPLE, "--config", config, "--no-history", "--input-tz", "Mars/X"), "env": {"LANG": "C"}},
    )
    assert bad_date.code == 2 and bad_date.err.startswith("cservice-audit：错误：--date"), bad_date.err
    assert bad_zone.code == 2 and bad_zone.err.startswith("cservice-audit：错误：--input-tz"), bad_zone.err


def test_history_and_trend_take_platform_history_and_language_from_the_file(cli, tmp_path):
    """A cron line is `cservice-audit trend` beside the shop's config file: platform, history
    and language come from it (with LANG=C, as cron runs); --platform still wins."""
    _write(tmp_path / "cservice-audit.toml", f'platform = "pinduoduo"\nhistory = "{tmp_path / "h"}"\nlang = "zh"\n')
    assert cli("audit", SAMPLE, "-f", "json", "--exit-zero", cwd=tmp_path).code == 0
    listing, trend = cli.many({"args": ("history",), "env": {"LANG": "C"}}, {"args": ("trend",), "env": {"LANG": "C"}})
    assert listing.code == 0 and trend.code == 0, listing.err + trend.err
    assert "2026-11-22" in listing.out and "拼多多示例店" in listing.out and "规则集版本" in listing.out
    assert "PDD-R3" in trend.out and "按周" in trend.out
    other = cli("history", "-p", "kuaishou", "-f", "json", cwd=tmp_path)
    assert other.code == 0 and "拼多多示例店" not in other.out  # the flag's platform, not the file's
    (tmp_path / "cservice-audit.toml").write_text(f'history = "{tmp_path / "h"}"\n', "utf-8")
    missing = cli("trend", cwd=tmp_path)
    assert missing.code == 2 and "--platform" in missing.err and len(missing.err_lines()) == 1


def test_trend_names_the_agents_it_knows_as_its_table_does(cli, tmp_path):
    """A misspelt `trend --agent` listed the stored keys: `(unassigned), 天猫乙店:小周, …`, in a
    Chinese shop's error. It lists the names the trend table shows, the ones to type back."""
    rows = ["ts,shop,buyer,role,agent,text"]
    for i, agent in enumerate(("天猫乙店:小周", "天猫乙店:小美")):
        rows += [f"2026-11-22 10:0{i}:00,天猫乙店,b{i},buyer,,在吗", f"2026-11-22 10:0{i}:20,天猫乙店,b{i},agent,{agent},在的"]
    rows += ["2026-11-22 11:00:00,天猫乙店,b9,buyer,,人呢"]  # nobody answers: unassigned
    export = _write(tmp_path / "day.csv", "\n".join(rows) + "\n")
    _write(tmp_path / "cservice-audit.toml", f'platform = "taobao"\nhistory = "{tmp_path / "h"}"\nlang = "zh"\n')
    assert cli("audit", export, "-f", "json", "--exit-zero", cwd=tmp_path).code == 0
    wrong = cli("trend", "--agent", "老王", cwd=tmp_path)
    assert wrong.code == 2 and len(wrong.err_lines()) == 1, wrong.err
    assert "（已有：小周，小美，（未分配））" in wrong.err and "天猫乙店:" not in wrong.err and "(unassigned)" not in wrong.err, wrong.err
    assert cli("trend", "--agent", "小周", cwd=tmp_path).code == 0


def test_a_full_width_colon_in_the_config_is_said_in_chinese(cli, tmp_path):
    config = _write(tmp_path / "c.toml", 'ruleset："my.yaml"\nlang = "zh"\n')
    r = cli("check-text", "加我v", "--config", config, "--lang", "zh")
    assert r.code == 2 and r.err_lines() == ["cservice-audit：错误：" + str(config) + "：第 1 行：键后应为半角「=」（不是「：」「:」或全角「＝」）"], r.err


def test_a_no_store_look_in_the_files_format_prints_and_leaves_the_nightly_report_alone(cli, tmp_path):
    """The morning look (`--no-store --no-baseline`) with the cron config, in the file's own
    format (-f json, or no -f in a pipe): it wrote its report over tonight's, the file the next
    night compares with and `notify` pushes again, from whatever export the look was given. A
    --no-store look leaves the report alone as it leaves the stored day: it prints; -o writes."""
    report = tmp_path / "shop-a.json"
    history = tmp_path / "h"
    config = _write(tmp_path / "a.toml", f'platform = "pinduoduo"\nformat = "json"\noutput = "{report}"\nbaseline = "{report}"\nhistory = "{history}"\n')
    assert cli("audit", SAMPLE, "--config", config).code == 1
    tonight = report.read_bytes()
    for flags in ((), ("-f", "json")):
        look = cli("audit", SAMPLE, "--config", config, "--no-store", "--no-baseline", "--select", "PDD-R3", *flags)
        assert look.code == 1, look.err
        assert look.json()["summary"]["by_code"].keys() == {"PDD-R3"}, look.out[:300]
        assert report.read_bytes() == tonight, flags
    written = tmp_path / "look.json"
    assert cli("audit", SAMPLE, "--config", config, "--no-store", "-o", written).code in (0, 1)
    assert json.loads(written.read_text(encoding="utf-8"))["schema_version"] and report.read_bytes() == tonight


def test_a_no_store_look_leaves_the_nights_rejected_rows_alone(cli, tmp_path):
    """The config's `rejects` is the night's, as its `output`: a --no-store look with another
    export (a row the look's file could not read) replaced the night's rejected rows with its
    own. It says how many it rejected and that --rejects writes them, as a run without one."""
    night = tmp_path / "night.rejects.csv"
    config = _write(tmp_path / "n.toml", f'platform = "pinduoduo"\nrejects = "{night}"\n')
    look = _write(tmp_path / "look.csv", "ts,buyer,role,agent,text\n2026-11-22 09:00:00,b1,buyer,,在吗\nbad,b1,agent,小美,在的\n")
    assert cli("audit", SAMPLE, "--config", config, "--no-history", "-q", "-o", tmp_path / "r.json").code in (0, 1)
    kept = night.read_bytes()
    run = cli("audit", look, "--config", config, "--no-history", "--no-store", "-f", "json")
    assert run.code in (0, 1) and "--rejects FILE" in run.err, run.err
    assert night.read_bytes() == kept
    asked = tmp_path / "asked.csv"
    assert cli("audit", look, "--config", config, "--no-history", "--no-store", "--rejects", asked, "-f", "json").code in (0, 1)
    assert "unparseable timestamp 'bad'" in asked.read_text("utf-8")


def test_a_value_of_the_wrong_kind_is_said_in_the_readers_words(cli, write):
    """`select = 5` in a Chinese config said 'select：应为 list of strings or str，实为 int' (the
    Python type names, English inside the Chinese line); `[notify] timeout = "10"` 'number … str'."""
    write("a.toml", 'platform = "taobao"\nlang = "zh"\nselect = 5\n')
    write("b.toml", 'platform = "taobao"\nlang = "zh"\n[notify]\ntimeout = "10"\n')
    write("c.toml", 'platform = "taobao"\nitems = 2026-11-01\n')
    a, b, c = cli.many(*({"args": ("audit", "--config", name, "x.csv"), "env": {"LANG": "C"}} for name in ("a.toml", "b.toml", "c.toml")))
    assert a.code == b.code == c.code == 2, a.err + b.err + c.err
    assert a.err_lines() == ["cservice-audit：错误：a.toml：select：应为 文字或文字列表，实为 整数"], a.err
    assert b.err_lines() == ["cservice-audit：错误：b.toml：notify.timeout：应为 数字，实为 文字"], b.err
    assert c.err_lines() == ["cservice-audit: error: c.toml: items: expected a whole number, got a date or time"], c.err


def test_a_limit_of_the_wrong_kind_is_said_in_the_readers_words(cli, write):
    """[limits] is the config file too: `input_bytes = true` said '实为 True', a date
    '实为 datetime.date(2026, 11, 1)', Python's words inside the Chinese line."""
    for name, value in (("a", "true"), ("b", "2026-11-01"), ("c", "[1]")):
        write(f"{name}.toml", f'platform = "taobao"\nlang = "zh"\n[limits]\ninput_bytes = {value}\n')
    a, b, c = cli.many(*({"args": ("audit", "--config", f"{name}.toml", "x.csv"), "env": {"LANG": "C"}} for name in "abc"))
    assert a.err_lines() == ["cservice-audit：错误：a.toml [limits]：input_bytes：应为正数，实为 真假值"], a.err
    assert b.err_lines() == ["cservice-audit：错误：b.toml [limits]：input_bytes：应为正数（大小可带 K、M、G），实为 日期或时间"], b.err
    assert c.err_lines() == ["cservice-audit：错误：c.toml [limits]：input_bytes：应为正数（大小可带 K、M、G），实为 列表"], c.err
    assert a.code == b.code == c.code == 2
