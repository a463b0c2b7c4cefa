"""Memory across runs, end to end: the history store as a nightly cron job uses it.

Thirty-five simulated nightly runs over generated data are checked against one audit of the
whole span; a night audited twice changes nothing; a write killed half-way (a real SIGKILL
at chosen moments) leaves a store that reads and a day that can be redone; runs at once are
serialised by the lock; unreadable or foreign files stop a run with their name; escalation
climbs from first to repeated failure across weeks; --baseline hides known findings; the
`history` and `trend` listings parse.

Every command runs the installed `cservice-audit` (the `cli` fixtures of conftest.py) with
its own --history folder; no two commands share a folder at the same time except in the
concurrency tests. The nightly simulation runs in the background while the other tests run
(its tests come last). The killed-write test runs the same entry point in a child Python
that kills itself (SIGKILL) at a chosen write, so the moment of the kill is exact.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest

# 35 days, Monday 2026-04-27 .. Sunday 2026-05-31: the last night closes a natural week
# (05-25..05-31, five of its days from history), a natural month (May, 29 days from
# history) and a rolling 30 days (05-02..05-31, 28 days from history).
START = date(2026, 4, 27)
DAYS = 35
LAST = START + timedelta(days=DAYS - 1)
SHOPS = {"示例旗舰店": 11, "二店 A/B": 12}  # name -> seed; "/" and spaces exercise the %-quoted layout
ROWS = {"示例旗舰店": 12000, "二店 A/B": 8000}
# The nightly simulation runs Kuaishou's shipped rules (natural week and month, escalation,
# reviews) plus Taobao's two rolling-30-day rules under Kuaishou codes: every kind of period
# in one sequence of runs (35 runs of two shipped platforms would double the test's time).
NIGHTLY_RULESET = """\
extends: kuaishou
version: "2025.1-nightly"
rules:
  - code: KS-R30
    name: three-minute-turn-response-rate-30-days
    title: 30天3分钟响应率
    check: reply_rate
    severity: error
    confidence: assumed
    confidence_note: a test rule, Taobao's TB-R3 parameters (rolling 30 days) on Kuaishou's ruleset
    source: tests/test_history.py
    params: {unit: turn, threshold: 180, reply_roles: [agent], window: {start: "08:00", end: "24:00"}, min_rate: 0.80, period: rolling_30d}
  - code: KS-A30
    name: average-response-time-30-days
    title: 30天人工平响时长
    check: average_wait
    severity: warning
    confidence: assumed
    confidence_note: a test rule, Taobao's TB-A1 parameters (rolling 30 days) on Kuaishou's ruleset
    source: tests/test_history.py
    params: {unit: turn, reply_roles: [agent], window: {start: "08:00", end: "23:00"}, cap: 600, max_seconds: 60, period: rolling_30d}
"""
BARS = "▁▂▃▄▅▆▇█"
# Reply and wait rules: their shop rows have data on every day of the generated span.
DAILY_RULES = {"TB-R3", "TB-A1", "KS-R3", "KS-R30", "KS-A30", "JD-R30", "JD-A1"}
RATE_RULES = {"TB-R3", "KS-R3", "KS-G1", "KS-G2", "KS-R30", "JD-R30"}  # reply and review rates: 0..1
COMPARED = ("numerator", "denominator", "value", "status", "complete", "coverage", "answered", "wait_mean", "points")
LISTING_COLUMNS = ["shop", "day", "chat_rows", "rows", "ruleset_version", "written_at"]


# --------------------------------------------------------------------------- helpers


def _stored(history: Path, platform: str) -> dict[tuple[str, str], pl.DataFrame]:
    """Every stored file's rows (written_at aside), by (shop folder, day folder), sorted."""
    out = {}
    for path in sorted((history / platform).glob("shop=*/day=*/rows.parquet")):
        frame = pl.read_parquet(path).drop("written_at")
        out[(path.parent.parent.name, path.parent.name)] = frame.sort(frame.columns, nulls_last=True)
    return out


def _same_store(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].equals(b[key]), f"stored rows differ for {key}"


def _bytes_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _comparable(report: dict) -> dict:
    """A JSON report without what legitimately differs between two runs of the same input."""
    report = json.loads(json.dumps(report))
    report.pop("generated_at", None)
    report.get("history", {}).pop("folder", None)
    # Notes say what this run replaced (a re-audited day): they differ by design.
    report.pop("notes", None)
    report.pop("note_details", None)
    return report


def _listing(run, history: Path, platform: str) -> list[dict]:
    r = run("history", "--platform", platform, "--history", history, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


def _one_error_line(r, path: Path) -> str:
    assert r.code == 2, (r.code, r.err)
    lines = r.err_lines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("cservice-audit: error: "), lines[0]
    assert str(path) in lines[0], lines[0]
    return lines[0]


def _metric_key(m: dict) -> tuple:
    return (m["rule"], m["scope"], m["shop"], m["agent"], m["period"], m["period_start"], m["period_end"])


def _finding_key(f: dict) -> tuple:
    return (f["code"], f["scope"], f["shop"], f["agent"], f["period"], f["period_start"])


def _same_figures(got: dict, want: dict, where) -> None:
    for field in COMPARED:
        g, w = got[field], want[field]
        if isinstance(w, float) and g is not None:
            assert g == pytest.approx(w, rel=1e-9, abs=1e-9), (where, field, g, w)
        else:
            assert g == w, (where, field, g, w)


def _table(rows: list[tuple[str, ...]]) -> str:
    """A small canonical CSV export (ts, shop, buyer, conversation, role, agent, text)."""
    lines = ["ts,shop,buyer,conversation,role,agent,text"] + [",".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "TZ": "UTC"})
    return env


# --------------------------------------------------------------------------- the span


@dataclass
class Span:
    folder: Path
    frame: pl.DataFrame  # every generated row (strings), with `day`
    days: list[str]  # the local days, in order
    everything: Path  # the whole span in one export
    nights: list[Path]  # night k: days k-1 and k (night 0: day 0)

    def days_with_data(self, shop: str, first: str, last: str) -> int:
        mine = self.frame.filter((pl.col("shop") == shop) & pl.col("day").is_between(pl.lit(first), pl.lit(last)))
        return mine.get_column("day").n_unique()

    def export(self, name: str, days: list[str]) -> Path:
        path = self.folder / name
        self.frame.filter(pl.col("day").is_in(days)).drop("day").write_csv(path)
        return path


@pytest.fixture(scope="module")
def span(tmp_path_factory, cli_factory) -> Span:
    folder = tmp_path_factory.mktemp("span")
    run = cli_factory(folder)
    files = {shop: folder / f"gen-{seed}.csv" for shop, seed in SHOPS.items()}
    runs = run.many(
        *[
            ("generate", "-o", files[shop], "--rows", ROWS[shop], "--days", DAYS, "--start", START, "--seed", seed, "--shop", shop)
            for shop, seed in SHOPS.items()
        ]
    )
    assert all(r.code == 0 for r in runs), [r.err for r in runs]
    frame = pl.concat([pl.read_csv(files[shop], infer_schema=False) for shop in SHOPS], how="vertical")
    frame = frame.with_columns(pl.col("ts").str.slice(0, 10).alias("day"))
    days = sorted(frame.get_column("day").unique())
    assert days == [(START + timedelta(days=k)).isoformat() for k in range(DAYS)]
    everything = folder / "all.csv"
    frame.drop("day").write_csv(everything)
    result = Span(folder, frame, days, everything, [])
    result.nights = [result.export(f"night-{k:02d}.csv", days[max(0, k - 1) : k + 1]) for k in range(DAYS)]
    return result


@dataclass
class Nightly:
    history: Path
    reports: list[dict]  # one per night
    whole: dict  # one audit of the whole span, no history


def _nights_of(span: Span, command: str, env: dict[str, str]) -> Nightly:
    """35 nightly runs (yesterday and today, no --date) on one history, one after another,
    then one audit of the whole span without history. Runs in a background thread, so its
    environment is a snapshot (tests change os.environ meanwhile)."""
    ruleset = span.folder / "nightly.yaml"
    ruleset.write_text(NIGHTLY_RULESET, encoding="utf-8")
    history = span.folder / "history-nightly"

    def run(*args) -> dict:
        proc = subprocess.run(
            [command, "audit", *map(str, args), "--ruleset", ruleset, "--format", "json", "--exit-zero"],
            stdin=subprocess.DEVNULL, capture_output=True, cwd=span.folder, env=env, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, f"{args}: {proc.stderr.decode()}"
        return json.loads(proc.stdout)

    reports = []
    for k, night in enumerate(span.nights):
        report = run(night, "--history", history)
        assert report["history"]["days_written"] == len(SHOPS) * (1 if k == 0 else 2), k
        reports.append(report)
    return Nightly(history, reports, run(span.everything, "--no-history", "--until", LAST))


@pytest.fixture(scope="module", autouse=True)
def nightly_runs(request, span: Span, cli_command):
    """The nightly simulation starts with the module and runs in the background, on its own
    history folder, while the other tests run; `nightly` waits for it. Started only when a
    selected test needs it."""
    needed = any("nightly" in item.fixturenames for item in request.session.items if item.module is request.module)
    if not needed:
        yield None
        return
    env = _env()
    env["CSERVICE_AUDIT_HOME"] = str(span.folder / "default-history")  # unused: --history is given
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool.submit(_nights_of, span, cli_command, env)
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def nightly(nightly_runs) -> Nightly:
    return nightly_runs.result()


# --------------------------------------------------------------------------- rerun, replace


def test_the_same_night_twice_changes_nothing(span, cli, tmp_path):
    history = tmp_path / "h"
    reports, listings, stores = [], [], []
    for _ in range(2):
        r = cli("audit", span.nights[1], "--platform", "taobao", "--format", "json", "--history", history, "--exit-zero")
        assert r.code == 0, r.err
        reports.append(r.json())
        listings.append([{k: v for k, v in e.items() if k != "written_at"} for e in _listing(cli, history, "taobao")])
        stores.append(_stored(history, "taobao"))
    assert _comparable(reports[0]) == _comparable(reports[1])
    assert reports[1]["history"]["days_written"] == 2 * len(SHOPS)
    assert listings[0] == listings[1]
    assert [(e["shop"], e["day"]) for e in listings[1]] == sorted((s, d) for s in SHOPS for d in span.days[:2])
    # The stored rows are replaced, not added to.
    _same_store(stores[0], stores[1])


# --------------------------------------------------------------------------- killed write

KILLER = r"""
import os, signal, sys
import polars as pl

mode, n = sys.argv[1], int(sys.argv[2])
calls = {"write": 0, "replace": 0}
original_write, original_replace = pl.DataFrame.write_parquet, os.replace

def write_parquet(self, file, *args, **kwargs):
    calls["write"] += 1
    original_write(self, file, *args, **kwargs)
    if mode == "write" and calls["write"] == n:
        data = open(file, "rb").read()  # half-written temporary file, then the kill
        with open(file, "wb") as fh:
            fh.write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

def replace(src, dst, *args, **kwargs):
    original_replace(src, dst, *args, **kwargs)
    calls["replace"] += 1
    if mode == "replace" and calls["replace"] == n:
        os.kill(os.getpid(), signal.SIGKILL)

pl.DataFrame.write_parquet = write_parquet
os.replace = replace
sys.argv = ["cservice-audit", *sys.argv[3:]]
from cservice_audit.cli import main
main()
"""


@pytest.fixture(scope="module")
def two_nights(span: Span, cli_factory, tmp_path_factory):
    """A taobao store after night 1 (days 0-1), and the store and report after night 2
    (days 1-2) run without interruption."""
    folder = tmp_path_factory.mktemp("two-nights")
    run = cli_factory(folder)
    before, after = folder / "before", folder / "after"
    assert run("audit", span.nights[1], "--platform", "taobao", "--history", before, "--exit-zero", "-f", "json").code == 0
    shutil.copytree(before, after)
    r = run("audit", span.nights[2], "--platform", "taobao", "--history", after, "--exit-zero", "-f", "json")
    assert r.code == 0, r.err
    return before, after, r.json()


# 2 shops x days 1-2: four files are written by night 2, in (shop, day) order.
@pytest.mark.parametrize("mode,n", [("write", 1), ("replace", 2), ("write", 4)])
def test_a_write_killed_half_way_leaves_a_readable_store_and_the_day_can_be_redone(span, two_nights, cli, tmp_path, mode, n):
    before, after, reference = two_nights
    history = tmp_path / "h"
    shutil.copytree(before, history)
    args = ["audit", str(span.nights[2]), "--platform", "taobao", "--history", str(history), "--exit-zero", "--format", "json"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, mode, str(n), *args], capture_output=True, env=_env(), cwd=tmp_path, timeout=60
    )
    assert killed.returncode == -9, f"not killed at {mode} {n} (exit {killed.returncode}): {killed.stderr.decode()}"

    # The store reads: the listing works, and every file is either yesterday's or the new one,
    # whole; no half-written rows.parquet (the redo below reads and validates each file again).
    listed = {(e["shop"], e["day"]) for e in _listing(cli, history, "taobao")}
    assert {(s, d) for s in SHOPS for d in span.days[:2]} <= listed
    old, new, now = _stored(before, "taobao"), _stored(after, "taobao"), _stored(history, "taobao")
    replaced = 0
    for key, frame in now.items():
        assert (key in old and frame.equals(old[key])) or frame.equals(new[key]), key
        replaced += key not in old or not frame.equals(old[key])
    if mode == "replace":
        assert replaced <= n
    else:  # killed while writing a temporary file: it is left behind, half-written, and ignored
        assert list((history / "taobao").rglob(".rows.parquet.tmp-*"))
    assert set(old) <= set(now)

    # The night is redone: the same report and the same store as an uninterrupted run.
    redo = cli(*args)
    assert redo.code == 0, redo.err
    assert _comparable(redo.json()) == _comparable(reference)
    _same_store(_stored(history, "taobao"), new)


# --------------------------------------------------------------------------- runs at once


def test_runs_at_once_on_one_history_all_finish_and_every_day_is_stored(span, two_nights, cli, tmp_path):
    """Three runs started together on one history: two nights, and the same night twice."""
    history = tmp_path / "h"
    nights = [span.nights[2], span.nights[20], span.nights[20]]
    procs = [
        subprocess.Popen(
            [cli.command, "audit", str(night), "--platform", "taobao", "--history", str(history), "--format", "json", "--exit-zero"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=_env(), cwd=tmp_path,
        )
        for night in nights
    ]
    results = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0] * len(procs), [err.decode() for _, err in results]
    for out, _ in results:
        assert json.loads(out)["history"]["days_written"] == 2 * len(SHOPS)

    # A night's day rows depend on its input only: the store holds exactly what each night
    # writes alone (night 2: days 1-2 of the two-night store; night 20: a run of its own).
    single = tmp_path / "single"
    assert cli("audit", span.nights[20], "--platform", "taobao", "--history", single, "--format", "json", "--exit-zero").code == 0
    expected = {key: frame for key, frame in _stored(two_nights[1], "taobao").items() if key[1] != f"day={span.days[0]}"}
    expected.update(_stored(single, "taobao"))
    _same_store(_stored(history, "taobao"), expected)
    assert len(_listing(cli, history, "taobao")) == 4 * len(SHOPS)
    assert not list((history / "taobao").rglob(".rows.parquet.tmp-*"))


def test_a_second_run_waits_for_the_lock_then_writes(span, cli, tmp_path):
    history = tmp_path / "h"
    (history / "taobao").mkdir(parents=True)
    with open(history / "taobao" / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [cli.command, "audit", str(span.nights[3]), "--platform", "taobao", "--history", str(history), "--format", "json", "--exit-zero"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=_env(),
        )  # fmt: skip
        time.sleep(2.5)
        waiting = proc.poll()
        stored_while_held = list((history / "taobao").glob("shop=*/day=*/rows.parquet"))
        fcntl.flock(held, fcntl.LOCK_UN)
    out, err = proc.communicate(timeout=60)
    assert waiting is None, "the run did not wait for the lock"
    assert stored_while_held == []
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["history"]["days_written"] == 2 * len(SHOPS)
    assert len(_stored(history, "taobao")) == 2 * len(SHOPS)


def test_lock_wait_that_expires_names_the_lock(tmp_path):
    from cservice_audit.history import HistoryError, HistoryStore

    store = HistoryStore(tmp_path, "taobao")
    store.folder.mkdir(parents=True)
    with open(store.folder / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(HistoryError) as caught, store.locked(wait=0.5):
            pass
        # It waited, then gave up (the bound only catches a wait that never ends: the suite runs on
        # busy machines, where a 0.5 s wait may take seconds).
        assert 0.4 <= time.monotonic() - started < 120
    message = str(caught.value)
    assert "in use" in message and str(store.folder / ".lock") in message and "\n" not in message


# --------------------------------------------------------------------------- damaged files


def _damage(history: Path, kind: str) -> Path:
    """Damage a copy of the two-night store; returns the file at fault."""
    shop = quote(next(iter(SHOPS)), safe="")
    target = history / "taobao" / f"shop={shop}" / "day=2026-04-28" / "rows.parquet"
    good = pl.read_parquet(target)
    if kind == "truncated":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        target.write_bytes(b"this is not parquet\n" * 20)
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "foreign":  # another tool's Parquet, elsewhere in the layout
        target = history / "taobao" / "shop=other" / "day=2026-04-20" / "rows.parquet"
        target.parent.mkdir(parents=True)
        pl.DataFrame({"order_id": ["A1"], "amount": [9.5]}).write_parquet(target)
    elif kind == "future-version":
        target = history / "taobao" / f"shop={shop}" / "day=2026-04-26" / "rows.parquet"
        target.parent.mkdir(parents=True)
        good.with_columns(pl.lit(99, dtype=pl.Int64).alias("history_version"), pl.lit(date(2026, 4, 26)).alias("day")).write_parquet(target)
    return target


DAMAGE = ("truncated", "garbage", "empty", "foreign", "future-version")


def test_damaged_or_foreign_files_stop_audit_history_and_trend_with_their_name(span, two_nights, cli, tmp_path):
    before = two_nights[0]
    cases = {}
    for kind in DAMAGE:
        history = tmp_path / kind
        shutil.copytree(before, history)
        cases[kind] = (history, _damage(history, kind), _bytes_of(history))
    # Night 3 judges days 2-3: the damaged day 1 is read, not replaced.
    commands = [("audit", span.nights[3], "--platform", "taobao", "--history", cases[kind][0], "--format", "json") for kind in DAMAGE]
    commands += [("history", "--platform", "taobao", "--history", cases["foreign"][0], "--format", "json")]
    commands += [("trend", "--platform", "taobao", "--history", cases["truncated"][0], "--format", "json")]
    runs = dict(zip([*DAMAGE, "history-foreign", "trend-truncated"], cli.many(*commands), strict=True))
    for name, r in runs.items():
        history, target, snapshot = cases[name.rpartition("-")[2] if name not in DAMAGE else name]
        if name == "foreign":
            # In a folder of a shop that is not in tonight's input: never read (spec §11), so
            # it cannot stop this run; `history` still names it.
            assert r.code in (0, 1) and r.json()["shops"] and "other" not in r.json()["shops"], r.err
            continue
        assert r.out == "", name
        _one_error_line(r, target)
    for kind, (history, target, snapshot) in cases.items():
        # Never a silent reset: every file, the damaged one included, is as it was (the run
        # that went ahead stored its own shops' days and left the foreign file alone).
        if kind == "foreign":
            assert target.read_bytes() == snapshot[str(target.relative_to(history))], kind
            continue
        assert _bytes_of(history) == snapshot, kind


def test_after_moving_a_damaged_file_away_the_run_continues(span, two_nights, cli, tmp_path):
    history = tmp_path / "h"
    shutil.copytree(two_nights[0], history)
    target = _damage(history, "truncated")  # stops every run (see above) until moved away
    target.rename(tmp_path / "moved-away.parquet")
    r = cli("audit", span.nights[3], "--platform", "taobao", "--history", history, "-f", "json", "--exit-zero")
    assert r.code == 0, r.err
    assert not target.exists()  # day 1 of that shop stays missing; night 3 judges days 2 and 3
    assert len(_stored(history, "taobao")) == 4 * len(SHOPS) - 1


def test_auditing_the_damaged_day_again_replaces_it_as_the_error_advises(span, two_nights, cli, tmp_path):
    """The error and docs/history.md say "move it away, or audit that day again, to continue":
    a run that judges that day again must work (the day's stored rows are replaced, not
    needed) and leave a good file in its place."""
    history = tmp_path / "h"
    shutil.copytree(two_nights[0], history)
    _damage(history, "truncated")  # day 1 of the first shop
    redo = cli("audit", span.nights[2], "--platform", "taobao", "--history", history, "-f", "json", "--exit-zero")
    assert redo.code == 0, redo.err  # night 2 judges days 1 and 2: it audits that day again
    _same_store(_stored(history, "taobao"), _stored(two_nights[1], "taobao"))


@pytest.mark.parametrize("copied", ["day", "shop"])
def test_a_stray_copy_in_the_layout_is_an_error_not_counted_twice(span, cli, tmp_path, copied):
    """A copied day folder (`day=2026-04-28 (copy)`, as a file manager names it), or a day
    copied under another shop's folder (a shop renamed by hand), matches the layout's glob:
    it must stop the run with its name, not count that day twice in periods nor crash the
    listing with a traceback."""
    history = tmp_path / "h"
    assert cli("audit", span.nights[1], "--platform", "taobao", "--history", history, "-f", "json", "--exit-zero").code == 0
    day = next((history / "taobao").glob(f"shop=*/day={span.days[1]}"))
    if copied == "day":
        stray = day.with_name(day.name + " (copy)")
        shutil.copytree(day, stray)
    else:
        stray = day.parent.with_name("shop=" + quote("改名后的店", safe=""))
        shutil.copytree(day, stray / day.name)
    audit = cli("audit", span.nights[2], "--platform", "taobao", "--history", history, "-f", "json", "--date", span.days[2], "--exit-zero")
    if copied == "day":
        assert audit.code == 2, f"exit {audit.code}: the copy was read as stored days (day {span.days[1]} counted twice)"
        _one_error_line(audit, stray)
    else:
        # Under a shop that is not in the input: not read at all (spec §11), so not counted.
        assert audit.code == 0, audit.err
        assert "改名后的店" not in audit.json()["shops"]
    listing = cli("history", "--platform", "taobao", "--history", history, "--format", "json")
    assert "Traceback" not in listing.err, listing.err_lines()[-1]
    _one_error_line(listing, stray)


# --------------------------------------------------------------------------- versions, empty days, selections


def test_ruleset_version_is_stored_per_day(span, cli, tmp_path, write):
    history = tmp_path / "h"
    ours = write("ours.yaml", 'extends: taobao\nversion: "2025.1-ours"\nrules:\n  - code: TB-R3\n    params: {min_rate: 0.9}\n')
    first = cli("audit", span.nights[0], "--ruleset", ours, "--history", history, "-f", "json", "--exit-zero")
    assert first.code == 0, first.err
    second = cli("audit", span.nights[1], "--platform", "taobao", "--date", span.days[1], "--history", history, "-f", "json", "--exit-zero")
    assert second.code == 0, second.err
    shipped = second.json()["ruleset"]["version"]
    assert first.json()["ruleset"]["version"] == "2025.1-ours" != shipped
    versions = {(e["shop"], e["day"]): e["ruleset_version"] for e in _listing(cli, history, "taobao")}
    assert versions == {**{(s, span.days[0]): "2025.1-ours" for s in SHOPS}, **{(s, span.days[1]): shipped for s in SHOPS}}


def test_a_day_with_nothing_to_count_is_still_stored_with_its_ruleset_version(cli, tmp_path, write):
    """docs/history.md: "A covered day with no rows gets an empty file (the day was audited
    and had nothing to count)"; the listing must still say with which ruleset and when."""
    export = write("quiet.csv", _table([
        ("2026-05-20 03:00:00", "夜店", "b1", "c1", "buyer", "", "在吗"),
        ("2026-05-21 10:00:00", "夜店", "b2", "c2", "buyer", "", "在吗"),
        ("2026-05-21 10:00:30", "夜店", "b2", "c2", "agent", "小A", "您好"),
    ]))  # fmt: skip
    history = tmp_path / "h"
    assert cli("audit", export, "--platform", "taobao", "--history", history, "-f", "json", "--exit-zero").code == 0
    listing = {e["day"]: e for e in _listing(cli, history, "taobao")}
    assert set(listing) == {"2026-05-20", "2026-05-21"}
    assert listing["2026-05-20"]["rows"] == 0
    shipped = listing["2026-05-21"]["ruleset_version"]
    assert listing["2026-05-20"]["ruleset_version"] == shipped
    assert listing["2026-05-20"]["written_at"] is not None


def test_a_day_replaced_from_far_fewer_rows_is_named(cli, tmp_path, write):
    """A re-run of a stored day from a cut export (a noon spot-check, a download that stopped)
    still replaces it, but says so with both counts: the same export again, or a longer one,
    only says the day was audited before."""
    rows = [(f"2026-05-21 {9 + i // 4:02d}:{i % 4 * 10:02d}:00", "夜店", f"b{i // 2}", f"c{i // 2}",
             "buyer" if i % 2 == 0 else "agent", "" if i % 2 == 0 else "小A", "在吗" if i % 2 == 0 else "您好") for i in range(40)]  # fmt: skip
    full, cut = write("full.csv", _table(rows)), write("cut.csv", _table(rows[:12]))
    history = tmp_path / "h"
    args = ("--platform", "taobao", "--history", history, "-f", "json", "--exit-zero")
    assert cli("audit", full, *args).code == 0
    again = cli("audit", full, *args)
    assert [n for n in again.json()["notes"] if "chat rows" in n] == [] and "chat rows" not in again.err
    shorter = cli("audit", cut, *args)
    expected = "夜店: 2026-05-21 judged from 12 chat rows this run, from 40 when stored; is the export complete?"
    assert expected in shorter.json()["notes"], shorter.json()["notes"]
    assert expected in shorter.err
    assert {e["day"]: e["chat_rows"] for e in _listing(cli, history, "taobao")} == {"2026-05-21": 12}
    longer = cli("audit", full, *args, "--lang", "zh")
    assert "导出是否完整" not in longer.err and "已审核过" in longer.err, longer.err


def test_a_run_with_select_keeps_the_other_rules_stored_days(span, cli, tmp_path):
    """A spot-check with --select must not wipe the stored rows of the rules it did not run
    (they are not re-judged); otherwise the next full night's 30-day figures lose those days."""
    history = tmp_path / "h"
    assert cli("audit", span.nights[1], "--platform", "taobao", "--history", history, "-f", "json", "--exit-zero").code == 0
    full = _stored(history, "taobao")
    r = cli("audit", span.nights[1], "--platform", "taobao", "--select", "TB-R3", "--history", history, "-f", "json", "--exit-zero")
    assert r.code == 0, r.err
    after = _stored(history, "taobao")
    assert after.keys() == full.keys()
    lost = {key[1]: sorted(set(full[key]["rule"]) - set(after[key]["rule"])) for key in full}
    assert not any(lost.values()), f"stored rows of rules not run were dropped: {lost}"
    for key, frame in full.items():
        others = pl.col("rule") != "TB-R3"
        assert after[key].filter(others).drop("ruleset_version").equals(frame.filter(others).drop("ruleset_version")), key


# --------------------------------------------------------------------------- the 30-day claim


def test_day_d_with_history_of_the_29_days_before_gives_the_30_day_numbers(span, cli_factory, tmp_path):
    """Taobao's TB-R3 and TB-A1 are rolling 30-day rules."""
    platform = "taobao"
    run = cli_factory(tmp_path)
    days = span.days[-30:]
    export30 = span.export("last30.csv", days)
    day_d = span.export("day-d.csv", days[-1:])
    history = tmp_path / "h"
    # The history of D-29..D-1, judged from an export that also holds D (late replies known).
    r = run("audit", export30, "--platform", platform, "--until", days[-2], "--history", history, "-f", "json", "--exit-zero")
    assert r.code == 0, r.err
    assert r.json()["history"]["days_written"] == 29 * len(SHOPS)
    today, whole = run.many(
        ("audit", day_d, "--platform", platform, "--date", days[-1], "--history", history, "-f", "json", "--exit-zero"),
        ("audit", export30, "--platform", platform, "--no-history", "-f", "json", "--exit-zero"),
    )
    assert today.code == whole.code == 0, (today.err, whole.err)
    mine = {_metric_key(m): m for m in today.json()["metrics"] if m["period"] == "rolling_30d"}
    theirs = {_metric_key(m): m for m in whole.json()["metrics"] if m["period"] == "rolling_30d"}
    assert mine and mine.keys() == theirs.keys()
    for key, row in mine.items():
        _same_figures(row, theirs[key], key)
        if key[1] == "shop":
            assert row["coverage"] == 30


# --------------------------------------------------------------------------- escalation


def _week(monday: date, late_for_a: bool) -> str:
    """Agent A and agent B each answer five buyers on Monday; A late (10 min) when asked."""
    rows = []
    for agent, late in (("A", late_for_a), ("B", False)):
        for i in range(5):
            buyer, conv = f"{agent}-buyer-{monday:%m%d}-{i}", f"{agent}-{monday:%m%d}-{i}"
            hour = 10 + i
            rows.append((f"{monday} {hour}:00:00", "周店", buyer, conv, "buyer", "", "在吗，什么时候发货"))
            rows.append((f"{monday} {hour}:{10 if late else 1:02d}:00", "周店", buyer, conv, "agent", agent, f"您好，今天发货{i}"))
    return _table(rows)


def test_escalation_from_first_to_repeated_failure_across_weekly_runs(cli, tmp_path, write):
    history = tmp_path / "h"
    mondays = [date(2026, 6, 1) + timedelta(weeks=k) for k in range(3)]
    reports = []
    for k, (monday, late) in enumerate(zip(mondays, (True, False, True), strict=True)):
        export = write(f"week{k + 1}.csv", _week(monday, late))
        sunday = monday + timedelta(days=6)
        r = cli("audit", export, "--platform", "kuaishou", "--until", sunday, "--history", history, "-f", "json")
        assert r.code in (0, 1), r.err
        reports.append(r.json())

    def tiers(report):
        return {
            (f["scope"], f["agent"]): (f["tier"], f["severity"], f["period_start"])
            for f in report["findings"]
            if f["code"] == "KS-R3"
        }

    assert tiers(reports[0]) == {("agent", "A"): ("情节轻微", "error", "2026-06-01"), ("shop", None): ("情节轻微", "error", "2026-06-01")}
    assert tiers(reports[1]) == {}
    assert tiers(reports[2]) == {("agent", "A"): ("情节严重", "error", "2026-06-15"), ("shop", None): ("情节严重", "error", "2026-06-15")}
    # Week 3's input holds week 3 only: the repeat is known from the history alone.
    assert {m["period_start"] for m in reports[2]["metrics"] if m["rule"] == "KS-R3"} == {"2026-06-15"}
    alone = cli("audit", tmp_path / "week3.csv", "--platform", "kuaishou", "--until", "2026-06-21", "--no-history", "-f", "json")
    assert tiers(alone.json())[("agent", "A")][0] == "情节轻微"


# --------------------------------------------------------------------------- baseline


def test_baseline_hides_known_findings_and_a_new_one_stands_alone(span, cli, tmp_path, write):
    report1 = tmp_path / "report1.json"
    first = cli("audit", span.nights[1], "--platform", "taobao", "-f", "json", "-o", report1)
    known = json.loads(report1.read_text("utf-8"))["findings"]
    assert known and first.code == 1 and first.out == ""

    second = cli("audit", span.nights[1], "--platform", "taobao", "-f", "json", "--baseline", report1)
    assert second.code == 0, second.err
    body = second.json()
    # Known findings stay in the report (tonight's report is tomorrow's baseline), marked known.
    assert [f["fingerprint"] for f in body["findings"]] == [f["fingerprint"] for f in known]
    assert {f["state"] for f in body["findings"]} == {"known"} and body["baseline"]["known"] == len(known)

    extra = write("extra.csv", _table([
        (f"{span.days[1]} 10:00:00", "示例旗舰店", "buyer_new", "conv-new", "buyer", "", "我想取消"),
        (f"{span.days[1]} 10:00:20", "示例旗舰店", "buyer_new", "conv-new", "agent", "新人", "麻烦您先把订单关了"),
    ]))  # fmt: skip
    third = cli("audit", span.nights[1], extra, "--platform", "taobao", "-f", "json", "--baseline", report1)
    assert third.code == 1, third.err
    body = third.json()
    assert [(f["code"], f["agent"]) for f in body["findings"] if f["state"] == "new"] == [("TB-P2", "新人")]
    assert body["baseline"]["known"] == len(known)

    first_night = cli("audit", span.nights[1], "--platform", "taobao", "-f", "json", "--baseline", tmp_path / "not-yet.json")
    assert first_night.code == 1 and len(first_night.json()["findings"]) == len(known)
    broken = write("broken.json", "{not json")
    _one_error_line(cli("audit", span.nights[1], "--platform", "taobao", "-f", "json", "--baseline", broken), broken)


# --------------------------------------------------------------------------- nightly = whole


def test_thirty_five_nights_match_one_audit_of_the_whole_span(nightly, span):
    last, whole = nightly.reports[-1], nightly.whole
    first_reported = span.days[-2]  # the last night judged yesterday and today
    mine = {_metric_key(m): m for m in last["metrics"]}
    theirs = {_metric_key(m): m for m in whole["metrics"] if m["period_end"] >= first_reported}
    assert mine.keys() == theirs.keys()
    assert {m["period"] for m in last["metrics"]} == {"rolling_30d", "natural_week", "natural_month", "day"}
    for key, row in mine.items():
        _same_figures(row, theirs[key], key)

    # Coverage: the days with data in the period, most of them from the history.
    for key, row in mine.items():
        rule, scope, shop, _, _, start, end = key
        if scope == "shop" and rule in DAILY_RULES:
            assert row["coverage"] == span.days_with_data(shop, start, min(end, LAST.isoformat())), key
    covered = {(m["rule"], m["period"]): m["coverage"] for m in last["metrics"] if m["scope"] == "shop"}
    assert covered[("KS-R30", "rolling_30d")] == covered[("KS-A30", "rolling_30d")] == 30
    assert covered[("KS-R3", "natural_week")] == 7

    # Findings of the reported periods (tiers, severities, messages, fingerprints) agree too.
    def findings(report, keys):
        return sorted(
            (f["fingerprint"], f["code"], f["severity"], f["tier"] or "", f["message"])
            for f in report["findings"]
            if _finding_key(f) in keys
        )

    reported = {key[:6] for key in mine}
    assert findings(last, reported) == findings(whole, reported)
    # Repeated weekly failures escalate from stored weeks alone (the input holds two days).
    assert any(f["tier"] == "情节严重" and f["period"] == "natural_week" for f in last["findings"])
    assert {_finding_key(f) for f in last["findings"]} <= reported

    # Yesterday was replaced every night, never added to: one file per shop-day, unique keys.
    stored = _stored(nightly.history, "kuaishou")
    assert len(stored) == len(SHOPS) * DAYS
    for key, frame in stored.items():
        assert frame.select("rule", "scope", "shop", "agent", "day").is_duplicated().sum() == 0, key


def test_natural_month_on_the_last_night_comes_mostly_from_history(nightly, span):
    rows = [m for m in nightly.reports[-1]["metrics"] if m["period"] == "natural_month" and m["scope"] == "shop"]
    assert rows, "kuaishou reports a natural month (KS-G2)"
    for row in rows:
        assert (row["period_start"], row["period_end"]) == ("2026-05-01", "2026-05-31")
        assert 2 < row["coverage"] <= 31


def test_every_night_reports_only_its_own_periods(nightly, span):
    for k, report in enumerate(nightly.reports):
        first = span.days[max(0, k - 1)]
        assert report["as_of"] == span.days[k]
        assert all(m["period_end"] >= first for m in report["metrics"]), k
        rolling = [m for m in report["metrics"] if m["period"] == "rolling_30d" and m["scope"] == "shop" and m["rule"] == "KS-R30"]
        assert {m["coverage"] for m in rolling} == {min(k + 1, 30)}, k


# --------------------------------------------------------------------------- history and trend listings


def test_history_listing_json_and_csv_and_prune(nightly, span, cli, tmp_path):
    history = nightly.history
    version = nightly.reports[-1]["ruleset"]["version"]
    listing = _listing(cli, history, "kuaishou")
    assert all(list(e) == LISTING_COLUMNS for e in listing)
    assert [(e["shop"], e["day"]) for e in listing] == sorted((s, d) for s in SHOPS for d in span.days)
    assert {e["ruleset_version"] for e in listing} == {version} == {"2025.1-nightly"}
    assert all(e["rows"] > 0 and e["written_at"].endswith("Z") and "T" in e["written_at"] for e in listing)
    # The export rows each day came from: the span's events of that shop and day.
    counts = span.frame.group_by("shop", "day").len()
    expected = {(shop, day): n for shop, day, n in counts.iter_rows()}
    assert {(e["shop"], e["day"]): e["chat_rows"] for e in listing} == expected

    as_csv = cli("history", "--platform", "kuaishou", "--history", history, "--format", "csv")
    assert as_csv.code == 0, as_csv.err
    parsed = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert parsed == [{k: str(v) for k, v in e.items()} for e in listing]

    pruned = tmp_path / "pruned"
    shutil.copytree(history, pruned)
    cutoff = span.days[10]
    r = cli("history", "--platform", "ks", "--history", pruned, "--prune-before", cutoff)  # ks: an alias
    assert r.code == 0, r.err
    assert f"removed {10 * len(SHOPS)} stored day(s)" in r.err
    left = _listing(cli, pruned, "kuaishou")
    assert [(e["shop"], e["day"]) for e in left] == sorted((s, d) for s in SHOPS for d in span.days[10:])
    assert not [p for p in (pruned / "kuaishou").glob("shop=*/day=*") if p.name < f"day={cutoff}"]


def test_trend_json_csv_and_table(nightly, span, cli):
    history = nightly.history
    r = cli("trend", "--platform", "kuaishou", "--history", history, "--format", "json")
    assert r.code == 0, r.err
    rows = r.json()
    keys = [(t["rule"], t["scope"], t["shop"], t["agent"], t["week_start"]) for t in rows]
    assert rows and len(keys) == len(set(keys))
    mondays = sorted({t["week_start"] for t in rows})
    assert mondays == [(START + timedelta(weeks=k)).isoformat() for k in range(5)]
    for t in rows:
        if t["rule"] in RATE_RULES and t["value"] is not None:
            assert 0 <= t["value"] <= 1, t
        assert 1 <= t["coverage"] <= 7

    # The weekly KS-R3 figures are those of one audit of the whole span.
    whole = {
        (m["scope"], m["shop"], m["agent"], m["period_start"]): m
        for m in nightly.whole["metrics"]
        if m["rule"] == "KS-R3"
    }
    mine = {(t["scope"], t["shop"], t["agent"], t["week_start"]): t for t in rows if t["rule"] == "KS-R3"}
    assert mine.keys() == whole.keys()
    for key, t in mine.items():
        w = whole[key]
        assert (t["numerator"], t["denominator"], t["coverage"]) == (w["numerator"], w["denominator"], w["coverage"]), key
        assert t["value"] == pytest.approx(w["value"]) if w["value"] is not None else t["value"] is None

    as_csv = cli("trend", "--platform", "kuaishou", "--history", history, "--format", "csv")
    assert as_csv.code == 0, as_csv.err
    parsed = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert len(parsed) == len(rows)
    assert [(p["rule"], p["shop"], p["week_start"]) for p in parsed] == [(t["rule"], t["shop"], t["week_start"]) for t in rows]

    two = cli("trend", "--platform", "kuaishou", "--history", history, "--format", "json", "--weeks", "2", "--rule", "ks-r3")
    assert two.code == 0, two.err
    assert {t["week_start"] for t in two.json()} == set(mondays[-2:])
    assert {t["rule"] for t in two.json()} == {"KS-R3"}

    table = cli("trend", "--platform", "kuaishou", "--history", history)
    assert table.code == 0, table.err
    assert any(ch in table.out for ch in BARS)
    # Piped, the table is 80 columns wide: "(shop total)" may wrap inside its cell.
    assert "KS-R3" in table.out and "(shop" in table.out


def test_trend_of_a_shops_config_is_that_shops(nightly, cli, tmp_path):
    """Two shops share the history. A shop's config (or --shop) gives that shop's trend: the
    second shop's agents stood in the first one's trend. No shop: both; an unknown one: exit 2
    naming those the history holds."""
    history = nightly.history
    both = cli("trend", "--platform", "kuaishou", "--history", history, "--format", "json")
    assert both.code == 0 and {t["shop"] for t in both.json()} == set(SHOPS), both.err
    config = tmp_path / "second.toml"
    config.write_text(f'platform = "kuaishou"\nshop = "二店 A/B"\nhistory = "{history}"\n', encoding="utf-8")
    mine = cli("trend", "--config", config, "--format", "json")
    assert mine.code == 0, mine.err
    assert {t["shop"] for t in mine.json()} == {"二店 A/B"}
    assert mine.json() == [t for t in both.json() if t["shop"] == "二店 A/B"]
    flag = cli("trend", "--config", config, "--shop", "示例旗舰店", "--format", "json")
    assert flag.code == 0 and {t["shop"] for t in flag.json()} == {"示例旗舰店"}, flag.err
    table = cli("trend", "--config", config, "--lang", "zh")
    assert table.code == 0 and "示例旗舰店" not in table.out, table.out
    wrong = cli("trend", "--config", config, "--shop", "三店", "--lang", "zh")
    assert wrong.code == 2 and wrong.err_lines() == ["cservice-audit：错误：--shop 三店：kuaishou 的历史中没有这个店铺（已有：二店 A/B，示例旗舰店）"], wrong.err


def test_trend_without_history_is_one_clear_line(cli, tmp_path):
    r = cli("trend", "--platform", "kuaishou", "--history", tmp_path / "nothing")
    assert r.code == 2 and len(r.err_lines()) == 1 and "no history" in r.err
