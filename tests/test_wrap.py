"""Line breaking of Chinese text at a terminal's width (render/wrap.py), and the table
report at 80 columns through the installed command."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text

from cservice_audit.render.wrap import NO_LINE_END, NO_LINE_START, wrap, wrap_text

NOTE = "注意：本次审核 2026-11-16..2026-11-22 多天：按日、周、月计的规则，任一期未达标即标为未达标（不只看最后一天）"
PIECES = st.sampled_from(["注意", "本次审核", "，", "。", "（", "）", "「", "」", " ", "2026-11-16..2026-11-22", "PDD-R3", "客服07", "a", "≤ 0 次", "、", "orders"])


@given(st.lists(PIECES, max_size=40).map("".join), st.integers(min_value=20, max_value=90))  # a glued run wider than the line is folded anywhere
def test_lines_fit_keep_every_character_and_the_punctuation_rules(text, width):
    lines = wrap(text, width)
    assert all(cell_len(line) <= width for line in lines), (lines, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for before, after in zip(lines, lines[1:]):
        if after:
            assert after[0] not in NO_LINE_START, (before, after)
        if before:
            assert before[-1] not in NO_LINE_END, (before, after)


def test_a_chinese_note_fills_its_lines_and_dates_stay_whole():
    """rich broke the note at its only spaces: `…2026-11-22 ` alone, then the sentence."""
    lines = wrap(NOTE, 80)
    assert lines == ["注意：本次审核 2026-11-16..2026-11-22 多天：按日、周、月计的规则，任一期未达标即", "标为未达标（不只看最后一天）"]
    assert "2026-11-16..2026-11-22" in wrap(NOTE, 30)[1]
    assert wrap("Note: this run judged 2026-11-16..2026-11-22: a daily rule", 30) == ["Note: this run judged", "2026-11-16..2026-11-22: a", "daily rule"]


def test_a_title_breaks_between_its_parts():
    title = "PDD-Q3 质量问题3分钟回复 · 近30天 2026-10-24..2026-11-22（有数据 7/30 天） · ≤ 0 次"
    assert wrap(title, 80, " · ") == ["PDD-Q3 质量问题3分钟回复 · 近30天 2026-10-24..2026-11-22（有数据 7/30 天） ·", "≤ 0 次"]
    assert wrap(title, 200, " · ") == [title]


def test_styled_text_keeps_its_highlight_across_the_break():
    text = Text("亲，" * 30 + "你自己看不懂详情页吗")
    text.highlight_words(["你自己看不懂"], style="bold reverse")
    lines = wrap_text(text, 64)
    assert [line.plain for line in lines] == wrap(text.plain, 64)
    marked = [line.plain[span.start : span.end] for line in lines for span in line.spans]
    assert "".join(marked) == "你自己看不懂", marked


def test_the_table_report_at_80_columns(cli):
    made = cli("generate", "-p", "pinduoduo", "-o", "week.csv", "--days", "3", "--agents", "6", "--rows", "4000")
    assert made.code == 0, made.err
    run = cli("audit", "week.csv", "-p", "pinduoduo", "-f", "table", "--lang", "zh", "--no-history", "--exit-zero", env={"COLUMNS": "80"})
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    note = next(i for i, line in enumerate(lines) if line.startswith("注意："))
    # The note fills its first line (rich left `…2026-11-24 ` alone and moved the rest down).
    assert cell_len(lines[note]) >= 76 and lines[note + 1].endswith("（不只看最后一天）"), lines[note : note + 2]
    titles = [line for line in lines if line.startswith("PDD-N1 长时间不回复 ·")]
    assert titles and all(not line.endswith(" ≤ 0") for line in titles), titles
