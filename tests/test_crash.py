"""The polars panic of issue 8: `pl.format` panicked (`assertion failed: i < self.len()`) on a
600-conversation Taobao export with more than one thread; cron read the panic's exit 1 as
"new findings". Finding messages are now built with `format_text` (pl.concat_str); this keeps
`pl.format` out of the package and audits an export of that shape on 2, 4 and 8 threads.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cservice_audit"
REPLIES = [
    "亲，我这边把交易关闭了哦",
    "这单我帮您关掉了，重新拍一下",
    "我们店里不开发票的亲",
    "开发票需要加6个点哦",
    "特价商品不开票哦亲",
    "信用卡支付要加收3%手续费",
    "信用卡付款的话加点手续费",
    "好的亲，马上为您处理",
]


def test_no_pl_format_in_the_package():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if re.search(r"\bpl\.format\(", line) and path.name != "formatting.py"
    ]
    assert offenders == [], f"use cservice_audit.formatting.format_text instead of pl.format: {offenders}"


def _taobao_export(path: Path, conversations: int, seed: int) -> Path:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(conversations):
            h, m, s = 8 + i % 14, (i * 13) % 60, (i * 17) % 45
            buyer = f"buyer{i:04d}"
            base = {"shop": "淘宝示例店", "buyer": buyer, "conversation": f"c{i:04d}", "message_id": None}
            out.write(json.dumps({**base, "message_id": f"m{i}a", "ts": f"2026-11-22 {h:02d}:{m:02d}:{s:02d}", "role": "buyer", "agent": None, "text": f"订单{rnd.randint(10**5, 10**6)}能开发票吗"}, ensure_ascii=False) + "\n")
            text = rnd.choice(REPLIES) + "~" * rnd.randint(0, 3) + str(rnd.randint(0, 99))
            out.write(json.dumps({**base, "message_id": f"m{i}b", "ts": f"2026-11-22 {h:02d}:{m:02d}:{s + 15:02d}", "role": "agent", "agent": rnd.choice(["小美", "阿强", "莉莉"]), "text": text}, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("threads", ["2", "4", "8"])
@pytest.mark.parametrize("conversations", [520, 600])
def test_the_taobao_export_that_panicked_audits_cleanly(cli, tmp_path, threads, conversations):
    export = _taobao_export(tmp_path / "tb.jsonl", conversations, seed=conversations)
    r = cli("audit", export, "-p", "taobao", "--select", "TB-P2,TB-P3,TB-P4", "-f", "json", env={"POLARS_MAX_THREADS": threads})
    assert "panicked" not in r.err and "internal error" not in r.err, r.err
    assert r.code == 1, r.err
    report = r.json()
    assert report["input"]["rows_used"] == 2 * conversations
    codes = {f["code"] for f in report["findings"]}
    assert {"TB-P3", "TB-P4"} <= codes
    assert all(f["message"] for f in report["findings"])
