"""Where the audit's time goes: the audit's steps one at a time, each timed on its own.

`python benchmarks/stages.py --platform pinduoduo FILE...` prints one line per stage as JSON
(`{"stage": ..., "seconds": ..., "cpu": ...}`: wall seconds, and CPU seconds of this process, all
threads, which swing much less with the neighbours' load on a shared machine). benchmarks/run.py runs it in its own process after the
end-to-end measurement. The stages are collected one by one here (the real audit collects
all rules in one plan), so they add up to a little more than the audit's wall time; a stage
that grows between two runs is where a regression lives.

First the audit as the command runs it (with a fresh history folder): its stages come from
run_audit's progress hook, so they are the real ones (reading input, normalizing, computing
metrics, ...), then rendering the JSON report. Then the same work one piece at a time: the
shared frames (waits per set of reply roles, normalized texts per set of roles) and each rule
alone given them; a rule's figure is what it adds on top of the shared frames.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import polars as pl

from cservice_audit import load as loader
from cservice_audit.audit import AuditOptions, _rejects_with_lines, run_audit
from cservice_audit.checks import CHECKS
from cservice_audit.i18n import t
from cservice_audit.normalize import Aliases, assign_conversations, normalize
from cservice_audit.checks.context import Context
from cservice_audit.render import FORMATS
from cservice_audit.ruleset import load_platform
from cservice_audit.schema import FINDING_SCHEMA, IDENTITY, METRIC_SCHEMA, conform


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def stage(name: str):
    start, start_cpu = time.perf_counter(), cpu()
    yield
    report(name, time.perf_counter() - start, cpu() - start_cpu)


def build_context(files: list[str], ruleset) -> Context:
    """The audit's context (events, as-of day, judged days), as run_audit builds it."""
    tables = loader.load(files)
    normalized = normalize(tables, Aliases.shipped(), tz=ruleset.timezone, latest=datetime.now(timezone.utc))
    rejects = _rejects_with_lines(normalized.rejects.collect(), tables)
    slim = normalized.events.drop("message_id", "_record").with_columns(pl.col("_source").cast(pl.Categorical))
    events_all = slim.collect(engine="streaming")
    events = assign_conversations(events_all.lazy().filter(~pl.col("_duplicate")).drop("_duplicate", "_source"), ruleset.session_gap, ruleset.service_opens).collect().lazy()
    last = events_all.get_column("ts").max()
    context = Context(events=events, rejects=rejects, timezone=ruleset.timezone, as_of=last.date(), first_day=None,
                      data_ends=events.group_by("shop").agg(pl.col("ts").max().alias("_data_end")).collect(),
                      exempt_dates=ruleset.exempt_dates)
    covered = events.filter(context.judged_days()).select("shop", "day").unique().collect()
    context.input_days = covered.lazy()
    context.first_reported_day = covered.get_column("day").min()
    return context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--platform", default="pinduoduo")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    ruleset = load_platform(args.platform)

    # 1. The audit as the command runs it, with a fresh history folder: its own stages come
    # from the progress hook (the time from one stage's start to the next one's).
    marks: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        start, start_cpu = time.perf_counter(), cpu()
        result = run_audit(
            args.files, ruleset, AuditOptions(history=folder), generated_at=datetime.now(timezone.utc),
            progress=lambda key, **_: marks.append((t(key, "en"), time.perf_counter(), cpu())),
        )
        marks.append(("end", time.perf_counter(), cpu()))
    spent: dict[str, tuple[float, float]] = {}
    for (name, at, at_cpu), (_, until, until_cpu) in zip(marks, marks[1:]):
        # One progress line per partition ("auditing SHOP DAY..DAY"): summed into one stage.
        key = "partitions (shop x days)" if name.startswith("auditing ") else name
        wall, used = spent.get(key, (0.0, 0.0))
        spent[key] = (wall + until - at, used + until_cpu - at_cpu)
    for name, (seconds, used) in spent.items():
        report(name, seconds, used)
    report("audit (total)", marks[-1][1] - start, marks[-1][2] - start_cpu)
    with stage("render json"):
        FORMATS["json"](result)

    # 2. The same work one piece at a time: the shared frames, then each rule on its own.
    context = build_context(args.files, ruleset)
    for roles in sorted({tuple(r.params["reply_roles"]) for r in ruleset.rules if "reply_roles" in r.params}):
        with stage(f"waits {'+'.join(roles)}"):
            context.waits(roles)  # materialized once, shared by the rules below
    for roles in sorted({tuple(r.params["roles"]) for r in ruleset.rules if "roles" in r.params}):
        with stage(f"texts {'+'.join(roles)}"):
            context.texts(roles)
    for rule in ruleset.rules:
        with stage(f"rule {rule.code}"):
            output = CHECKS[rule.check].run(rule, context)
            plans = [conform(output.metrics, METRIC_SCHEMA), conform(output.findings, FINDING_SCHEMA, keep=(IDENTITY,))]
            pl.collect_all(plans + ([output.days] if output.days is not None else []), engine="in-memory")


def report(name: str, seconds: float, used: float) -> None:
    print(json.dumps({"stage": name, "seconds": round(seconds, 3), "cpu": round(used, 3)}), flush=True)


if __name__ == "__main__":
    main()
