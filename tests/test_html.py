"""The HTML report: structure checked in Python, then loaded by a real headless Chromium from
disk with the network off: no console message, the filter script ran, and the screenshot
shows the charts (not a blank page)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from transcripts import FAILING

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
WEEK = SAMPLES / "kuaishou-2026-11-16-week.csv"
NASTY = "<script>alert(1)</script>"
HOSTILE = FAILING + f"2026-11-22 11:00:00,b3,买家,,在吗\n2026-11-22 11:20:00,b3,客服,{NASTY},在\n"


@pytest.fixture(scope="module")
def reports(tmp_path_factory, cli_factory):
    tmp = tmp_path_factory.mktemp("html")
    (tmp / "hostile.csv").write_text(HOSTILE, "utf-8")
    cli = cli_factory(tmp)
    runs = cli.many(
        ("audit", WEEK, "-p", "kuaishou", "-f", "html", "-o", "week.html", "--exit-zero", "--history", tmp / "history"),
        ("audit", WEEK, "-p", "kuaishou", "-f", "json", "--exit-zero", "--no-history"),
        ("audit", "hostile.csv", "-p", "pdd", "-f", "html", "--exit-zero", "--no-history"),
    )
    for run in runs:
        assert run.code == 0, run.err
    return tmp / "week.html", runs[1].json(), runs[2].out


def test_html_is_self_contained(reports):
    path, _, hostile = reports
    for page in (path.read_text("utf-8"), hostile):
        assert page.startswith("<!DOCTYPE html>")
        assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page
        assert len(re.findall(r"<script\b", page)) == 1  # the filter, inline
        assert not re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)=", page)
        assert not re.search(r"@import|url\(", page)
        assert not re.search(r"\b(src|href)=\"?(https?:)?//", page)
    assert path.stat().st_size < 1_000_000  # SVG charts, no bundle


def test_html_sections_charts_and_filters(reports):
    path, report, _ = reports
    page = path.read_text("utf-8")
    for section in ("summary", "rates", "waits", "trend", "findings"):
        assert f'<section id="{section}">' in page, section
    # One chart per rate/wait rule with data, the waits, and the trend lines from the history.
    assert page.count("<svg") >= 4
    rows = re.findall(r"<tr data-agent=\"([^\"]*)\" data-rule=\"([^\"]*)\">", page)
    # Repeated-script findings are one row per agent in human formats (issue 9, noise control).
    scripts = [f for f in report["findings"] if f["code"].endswith("-S1") and f["conversation"]]
    assert scripts
    grouped = len(report["findings"]) - len(scripts) + len({(f["shop"], f["agent"]) for f in scripts})
    assert len(rows) == grouped
    assert {rule for _, rule in rows} == {f["code"] for f in report["findings"]}
    options = set(re.findall(r'<option value="([^"]+)">', page))
    assert {"莉莉", "KS-R3"} <= options
    matrix = page[page.index('<table id="matrix">'):page.index("</table>", page.index('<table id="matrix">'))]
    assert '<td class="fail">fail</td>' in matrix and "莉莉" in matrix


def test_html_escapes_untrusted_text(reports):
    _, _, hostile = reports
    assert NASTY not in hostile
    assert html_escaped(NASTY) in hostile


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- the browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _offline_prefix() -> list[str]:
    """`unshare -n`: a network namespace with nothing in it, where the system allows one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def _browse(page: Path, *action: str) -> subprocess.CompletedProcess:
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (make test installs Debian's chromium where apt-get is available as root)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            *_offline_prefix(), browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            "--window-size=1280,2200", *action, page.as_uri(),
        ]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "TZ": "UTC"})


def test_chromium_runs_the_page_without_console_messages(reports):
    path, _, _ = reports
    run = _browse(path, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    # The page logs nothing itself: any console line is an error (a script error, or a load
    # the Content-Security-Policy refused).
    # Chromium's own pages (chrome://, e.g. "Slow network is detected" on a busy machine) are
    # not ours; every line from the report itself counts.
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line and "source: chrome://" not in line]
    assert console == [], console
    assert re.search(r'<body[^>]*data-ready="1"', run.stdout), "the filter script did not finish"


def test_chromium_screenshot_shows_the_charts(reports, tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="Pillow is in the test extras")
    path, _, _ = reports
    shot = tmp_path / "report.png"
    run = _browse(path, f"--screenshot={shot}")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2200)
    small = image.resize((320, 550))
    raw = small.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    inked = sum(1 for r, g, b in pixels if r + g + b < 600) / len(pixels)
    assert inked > 0.02, f"the page looks blank ({inked:.1%} inked)"
    # The fail bars (#d9534f) and pass bars (#5cb85c) of the rate charts are on screen.
    near = lambda rgb, target: all(abs(a - b) < 40 for a, b in zip(rgb, target, strict=True))  # noqa: E731
    assert any(near(p, (0xD9, 0x53, 0x4F)) for p in pixels), "no fail bar"
    assert any(near(p, (0x5C, 0xB8, 0x5C)) for p in pixels), "no pass bar"


def test_a_week_of_a_daily_rule_is_a_grid_of_every_day(cli):
    """A run judging several days charts a daily rule day by day, each (agent, day) cell in
    its own status, so an earlier failed day is not hidden behind the last day's green bar."""
    made = cli("generate", "-p", "pinduoduo", "-o", "days.csv", "--days", "4", "--agents", "6", "--rows", "6000", "--seed", "3")
    assert made.code == 0, made.err
    page_run, json_run = cli.many(
        ("audit", "days.csv", "-p", "pdd", "-f", "html", "-o", "days.html", "--exit-zero", "--no-history"),
        ("audit", "days.csv", "-p", "pdd", "-f", "json", "--exit-zero", "--no-history"),
    )
    assert page_run.code == 0 and json_run.code == 0, page_run.err + json_run.err
    page, report = (cli.cwd / "days.html").read_text("utf-8"), json_run.json()
    grids = 0
    for caption, figure in re.findall(r"<figcaption>([^<]*)</figcaption>(.*?)</figure>", page, re.S):
        code = caption.split(" ")[0]
        if "each day" not in caption:
            continue
        cells = set(re.findall(r'aria-label="period: ([0-9-]+); agent: ([^;"]+); status: ([a-z_]+)"', figure))
        expected = {
            (m["period_start"][5:], m["agent"], m["status"])
            for m in report["metrics"]
            if m["rule"] == code and m["scope"] == "agent" and m["value"] is not None
        }
        assert len({day for day, _, _ in expected}) == 4, code
        assert cells == expected, code
        grids += 1
    assert grids == 2  # PDD-R3 and PDD-R5
    # Some agent passes one day and fails another: the grid is the chart that shows it.
    days: dict[tuple[str, str], set[str]] = {}
    for m in report["metrics"]:
        if m["scope"] == "agent" and m["period"] == "day":
            days.setdefault((m["rule"], m["agent"]), set()).add(m["status"])
    assert any({"pass", "fail"} <= statuses for statuses in days.values())


def test_a_grid_keeps_its_days_in_order_when_the_worst_agent_missed_the_first(cli):
    """The grid's columns followed the data's first appearance: a new agent who started on
    the second day and failed every day (the first row, most failed days) put that day first
    and the first day last, `11-21 11-22 11-20`."""
    rows = ["ts,shop,buyer,role,agent,text"]
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        for i, agent in enumerate(("小美", "阿强", "新人")):
            if agent == "新人" and day == "2026-11-20":
                continue
            wait = 600 if agent == "新人" else 20
            rows += [f"{day} 10:{i:02d}:00,店,{agent}-b,buyer,,在吗", f"{day} 10:{i + wait // 60:02d}:{wait % 60:02d},店,{agent}-b,agent,{agent},在的"]
    (cli.cwd / "days.csv").write_text("\n".join(rows) + "\n", "utf-8")
    run = cli("audit", "days.csv", "-p", "pdd", "-f", "html", "-o", "days.html", "--exit-zero", "--no-history")
    assert run.code == 0, run.err
    page = (cli.cwd / "days.html").read_text("utf-8")
    figure = re.search(r"<figcaption>PDD-R3 [^<]*</figcaption>(.*?)</figure>", page, re.S).group(1)
    cells = re.findall(r'aria-label="period: ([0-9-]+); agent: 小美; status: [a-z_]+"[^>]*d="M([0-9.]+),', figure)
    assert [day for day, _ in sorted(cells, key=lambda c: float(c[1]))] == ["11-20", "11-21", "11-22"], cells


def test_the_trend_chart_speaks_the_page_language(cli):
    """The history's trend chart of a Chinese page titled its axes `rate` and `seconds` and
    dated its days `Nov 22, 2026` (a Douyin supervisor's week, 2026-12-07): its axes are the
    page's words, and its days read 11-22 in both languages."""
    made = cli("generate", "-p", "douyin", "-o", "week.csv", "--days", "3", "--agents", "4", "--rows", "3000", "--seed", "5")
    assert made.code == 0, made.err
    pages = {}
    for lang in ("zh", "en"):
        run = cli("audit", "week.csv", "-p", "douyin", "-f", "html", "-o", f"{lang}.html", "--exit-zero",
                  "--history", f"history-{lang}", "--lang", lang)
        assert run.code == 0, run.err
        page = (cli.cwd / f"{lang}.html").read_text("utf-8")
        pages[lang] = re.search(r'<section id="trend">(.*?)</section>', page, re.S).group(1)
    texts = {lang: set(re.findall(r">([^<>]+)</text>", trend)) for lang, trend in pages.items()}
    for lang, words in (("zh", {"比率", "秒"}), ("en", {"rate", "seconds"})):
        assert words <= texts[lang], (lang, sorted(texts[lang]))
        assert {"11-22", "11-23", "11-24"} <= texts[lang], (lang, sorted(texts[lang]))
        assert not any(re.search(r"\b(Nov|November)\b", text) for text in texts[lang]), sorted(texts[lang])
    assert not {"rate", "seconds"} & texts["zh"]


def test_a_chinese_page_names_the_platform_as_the_digest_does(cli):
    """The Chinese page's title said `cservice-audit · kuaishou · 2026-11-22` where the
    digest pushed to the same group said 快手小店: the title names the platform by the
    ruleset's name in Chinese and by its code in English."""
    sample = SAMPLES / "kuaishou-2026-11-16-week.csv"
    zh, en = cli.many(
        ("audit", sample, "-p", "kuaishou", "-f", "html", "--exit-zero", "--no-history", "--lang", "zh"),
        ("audit", sample, "-p", "kuaishou", "-f", "html", "--exit-zero", "--no-history", "--lang", "en"),
    )
    assert zh.code == 0 and en.code == 0, zh.err + en.err
    assert "<title>cservice-audit · 快手小店 · 2026-11-22</title>" in zh.out, zh.out[:600]
    assert "<h1>cservice-audit · 快手小店 · 2026-11-22</h1>" in zh.out
    assert "<title>cservice-audit · kuaishou · 2026-11-22</title>" in en.out, en.out[:600]


def test_the_trend_chart_labels_at_most_about_15_days_when_data_days_are_few():
    """The tick step was counted on the days with data, not the days the axis spans: 8 stored
    days between 11-01 and 11-30 (nights missed, a shop closed) drew 30 date labels, one a
    day, on a 640-pixel axis."""
    from datetime import date
    from types import SimpleNamespace

    import polars as pl

    from cservice_audit.render.digest import labels
    from cservice_audit.render.html import trend_charts

    days = [date(2026, 11, 1), *(date(2026, 11, d) for d in range(24, 31))]
    rows = pl.DataFrame({"scope": "shop", "rule": "R", "shop": "店", "day": days, "numerator": 1, "denominator": 2}).lazy()
    result = SimpleNamespace(as_of=date(2026, 11, 30), ruleset=SimpleNamespace(rules=[SimpleNamespace(code="R", check="reply_rate")]))
    svg = trend_charts(result, rows, labels("en")["html"])
    ticks = [text for text in re.findall(r">([^<>]+)</text>", svg) if re.fullmatch(r"\d\d-\d\d", text)]
    assert 10 <= len(ticks) <= 16 and ticks[0] == "11-01", ticks
