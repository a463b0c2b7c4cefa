"""`make golden`: regenerate the bundled samples and their reviewed golden reports.

Run on purpose only, then review `git diff samples/ tests/golden/` like any other change:
the golden reports are what the end-to-end test holds the installed command to.

Each sample is made by the seeded generator (`cservice-audit generate`), so the same seeds
give the same files; the list below is the single source of what ships in `samples/`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
GOLDEN = ROOT / "tests" / "golden"
# Fields that change from run to run or machine to machine; everything else must match.
VOLATILE = ("generated_at", "tool_version")


@dataclass(frozen=True)
class Sample:
    file: str
    platform: str
    rows: int
    seed: int
    start: str
    days: int
    headers: str
    shop: str
    encoding: str = "utf-8"
    what: str = ""
    damaged_lines: tuple[str, ...] = ()  # appended as they are: rows the tool must reject and report


SAMPLES_LIST = (
    Sample("pinduoduo-2026-11-22.csv", "pinduoduo", 1500, 11, "2026-11-22", 1, "zh", "拼多多示例店",
           what="one day, Chinese headers (发送时间, 买家, 发送方 ...)"),
    Sample("kuaishou-2026-11-16-week.csv", "kuaishou", 3000, 12, "2026-11-16", 7, "en", "快手示例小店",
           what="a whole natural week (Mon–Sun), canonical headers"),
    Sample("douyin-2026-11-22.jsonl", "douyin", 1500, 13, "2026-11-22", 1, "en", "抖店示例店",
           what="one day as JSON lines, with two damaged lines at the end",
           damaged_lines=(
               '{"ts": "2026-11-22 25:61:00", "shop": "抖店示例店", "buyer": "buyer_99999", "role": "buyer", "text": "在吗"}',
               '{"ts": "2026-11-22 21:00:00", "shop": "抖店示例店", "buyer": "buyer_99998", "role": "buyer", "text": "截断的行',
           )),
    Sample("taobao-2026-11.csv.gz", "taobao", 6000, 14, "2026-10-24", 30, "zh", "淘宝示例店",
           what="30 days, gzip-compressed, Chinese headers"),
    Sample("jd-2026-11-22-gb18030.csv", "jd", 1500, 15, "2026-11-22", 1, "zh", "京东示例店", encoding="gb18030",
           what="one day, GB18030 (a Windows Excel export), no conversation column"),
)


def command() -> list[str]:
    return [sys.executable, "-m", "cservice_audit"]


def make_sample(sample: Sample) -> Path:
    path = SAMPLES / sample.file
    subprocess.run(
        [*command(), "generate", "-o", str(path), "--rows", str(sample.rows), "--seed", str(sample.seed),
         "--start", sample.start, "--days", str(sample.days), "--headers", sample.headers, "--shop", sample.shop],
        check=True,
    )
    if sample.file.startswith("jd-"):
        # JD exports carry no session id: the tool derives sessions with the 10-minute gap.
        import polars as pl

        frame = pl.read_csv(path, infer_schema=False)
        frame.drop("会话ID").write_csv(path)
    if sample.damaged_lines:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in sample.damaged_lines))
    if sample.encoding != "utf-8":
        path.write_bytes(path.read_text("utf-8").encode(sample.encoding))
    return path


def audit_json(sample: Sample) -> dict:
    """The JSON report of the installed command, run from the repo root on the sample."""
    done = subprocess.run(
        [*command(), "audit", f"samples/{sample.file}", "--platform", sample.platform, "--format", "json", "--exit-zero", "--no-history"],
        cwd=ROOT, capture_output=True, check=True,
    )
    return stable(json.loads(done.stdout))


def stable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in VOLATILE}


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    lines = []
    for sample in SAMPLES_LIST:
        make_sample(sample)
        report = audit_json(sample)
        golden = GOLDEN / f"{sample.file}.json"
        golden.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
        counts = report["summary"]["by_code"]
        lines.append(
            f"| `{sample.file}` | `{sample.platform}` | {sample.what} | {report['input']['rows_read']} | "
            + ", ".join(f"{code} {n}" for code, n in counts.items())
            + " |"
        )
        print(f"{sample.file}: {report['summary']['findings']} findings", file=sys.stderr)
    table = "\n".join(lines)
    readme = SAMPLES / "README.md"
    text = readme.read_text("utf-8")
    start, end = "<!-- golden:start -->", "<!-- golden:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    header = "| file | platform | what it is | rows | findings by code |\n|---|---|---|---|---|\n"
    readme.write_text(f"{head}{start}\n{header}{table}\n{end}{tail}", "utf-8")


if __name__ == "__main__":
    main()
