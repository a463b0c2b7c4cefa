"""The phrase engine behind the `phrases` check and `cservice-audit check-text`.

A phrase rule is data (its ruleset's `params`, plus shared lexicons from
`data/lexicons/*.yaml` named in `lexicons`). Everything runs as whole-column polars
expressions over the distinct normalized texts (`text.normalize`: NFKC, lower case,
traditional -> simplified, variant and look-alike folding, white space removed):

1. `allow` phrases (innocent compounds: 微信支付, 最近, 滚动), and with `blank_titles` 《titles》, are blanked out;
2. negation: a span where a cue from `negate_before` (不能, 不要, 禁止, 平台规定 ...) precedes a
   hit within `negation_window` characters of the same clause, or a hit is followed by a cue
   from `negate_after` (是违规的, 会被封), is blanked out: a warning against the act is not the act;
3. the first literal `phrases` hit, else the first `patterns` hit, is the match;
4. pronunciation (only for rules with `sound_patterns`): characters that sound like one of
   `sound_targets` (pinyin without tones, first reading, via pypinyin) are folded onto it
   (薇芯 -> 微信, 家V -> 加v), `sound_allow` words (价位, 为新) having been blanked first,
   negation applied again, and `sound_patterns` matched; the match reported is the message's
   own spelling at that place, with what it sounds like.

5. models (only for rules with `models`): where no list matched, a small logistic regression
   over character 1-3-grams (trained on the dev split by tests/train_phrase_models.py, shipped as
   data/models/NAME.csv) scores the text; at or above the model's threshold it is a hit, and the
   match names the n-grams that weighed most. For veiled insults, sarcasm and threats no list
   holds.

Each step is explainable: `explain` returns, for given texts, every intermediate column.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from typing import Any

import polars as pl

from cservice_audit.compact import compacted
from cservice_audit.formatting import format_text
from cservice_audit.i18n import listed
from cservice_audit.regex_factors import necessary_literals, selective
from cservice_audit.shipped import data_yaml
from cservice_audit.text import normalize_pattern, normalize_phrases, sound_fold, sound_table

# Characters that end a clause: negation does not reach across them. Full-width forms are
# already NFKC-folded to ASCII in normalized text, except the ideographic ones listed.
CLAUSE_END = r",.!?;:~。、…"
SCOPES = ("clause", "message")
# Models read at most this many characters of a text: chat messages are short, and n-grams cut
# by character position cost time quadratic in a text's length (a million-character cell).
MODEL_MAX_CHARS = 400
# The column holding a text with the rule's allow phrases blanked, when match_distinct has
# formed it once for the lists' prefilter and the models.
ALLOWED = "_allowed_c"
LIST_KEYS = ("phrases", "patterns", "allow", "negate_before", "negate_after", "sound_patterns", "sound_allow")


@functools.cache
def lexicon(name: str) -> dict[str, Any]:
    """A shared lexicon, `data/lexicons/<name>.yaml` (validated by `lexicon_error`)."""
    return data_yaml(f"data/lexicons/{name}.yaml") or {}


def lexicon_names() -> list[str]:
    folder = resources.files("cservice_audit").joinpath("data/lexicons")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def lexicon_error(name: str) -> "ParamError | None":
    """Why `name` is not a usable lexicon (the error to raise), or None."""
    from cservice_audit.params import ParamError

    if name not in lexicon_names():
        return ParamError("param.lexicon_unknown", name=repr(name), known=listed(lexicon_names()))
    data = lexicon(name)
    unknown = set(data) - {*LIST_KEYS, "name", "title", "description", "source", "sound_targets", "excluded", "negation_window"}
    if unknown:
        return ParamError("param.lexicon_keys", name=name, keys=sorted(unknown))
    return None


def merged(params: dict[str, Any]) -> dict[str, Any]:
    """The rule's own lists plus those of every lexicon it names (rule's first)."""
    out: dict[str, Any] = {key: list(params.get(key) or ()) for key in LIST_KEYS}
    out["sound_targets"] = params.get("sound_targets") or ""
    out["excluded"] = dict(params.get("excluded") or {})
    out["negation_window"] = params.get("negation_window", 8)
    out["negation_scope"] = params.get("negation_scope") or "clause"
    out["models"] = list(params.get("models") or ())
    out["blank_titles"] = bool(params.get("blank_titles"))
    out["blank_products"] = bool(params.get("blank_products"))
    for name in params.get("lexicons") or ():
        data = lexicon(name)
        for key in LIST_KEYS:
            out[key] += [v for v in data.get(key) or () if v not in out[key]]
        out["sound_targets"] += "".join(c for c in data.get("sound_targets") or "" if c not in out["sound_targets"])
        # A lexicon's cues were written for its own window; the wider one wins.
        out["negation_window"] = max(out["negation_window"] or 0, int(data.get("negation_window") or 0))
        for term, reason in (data.get("excluded") or {}).items():
            out["excluded"].setdefault(str(term), str(reason))
    return out


def _alternation(patterns: list[str]) -> str | None:
    return "|".join(f"(?:{normalize_pattern(p)})" for p in patterns) if patterns else None


@dataclass(frozen=True)
class Matcher:
    """One rule's lists, normalized and compiled to the regular expressions the steps use."""

    phrases: tuple[str, ...]
    pattern: str | None  # capture group 1 = the matched text
    allow: tuple[str, ...]
    negation: str | None  # spans blanked out before matching
    sound_targets: str
    sound_pattern: str | None
    sound_allow: tuple[str, ...]
    sound_negation: str | None
    excluded: tuple[tuple[str, str], ...]
    cues: str | None = None  # any negation cue (before or after), for the prefilter
    pattern_parts: tuple[str, ...] = ()  # each pattern, normalized, for the prefilter
    models: tuple[str, ...] = ()  # shipped models (data/models) scoring what no list matched
    sound_parts: tuple[str, ...] = ()  # each sound pattern, folded
    pattern_literals: tuple[tuple[str, ...] | None, ...] = ()  # per pattern part: necessary literals (regex_factors)
    titles: bool = False  # blank 《titles》 and announced names (`blank_titles`)
    products: bool = False  # blank quoted names printed on or naming a product (`blank_products`)
    hot: tuple[str, ...] = ()  # a text must hold one for the allow step or a literal test to act (`_hot_literals`); () = every text

    @property
    def empty(self) -> bool:
        return not self.phrases and self.pattern is None and self.sound_pattern is None and not self.models


def _negation(before: str | None, after: str | None, hit: str | None, window: int, scope: str = "clause") -> str | None:
    if hit is None or (before is None and after is None):
        return None
    # "message": a cue anywhere in the message counts (an excuse followed, after a comma, by
    # the remedy the source asks for); the window still bounds the distance.
    end = "。" if scope == "message" else CLAUSE_END
    gap = f"[^{re.escape(end)}]{{0,{window}}}?"
    parts = []
    # One cue covers every hit that follows it in the clause (不能私下加微信: 私下 and 加微信).
    if before is not None:
        parts.append(f"(?:{before})(?:{gap}(?:{hit}))+")
    if after is not None:
        parts.append(f"(?:(?:{hit}){gap})+(?:{after})")
    return "(?i)" + "|".join(parts)


@functools.lru_cache(maxsize=256)
def _compile(key: str) -> Matcher:
    import json

    p = json.loads(key)
    phrases = tuple(normalize_phrases(p["phrases"]))
    patterns = _alternation(p["patterns"])
    literal_hit = "|".join(re.escape(x) for x in phrases) or None
    hit = "|".join(x for x in (literal_hit, patterns) if x) or None
    before, after = _alternation(p["negate_before"]), _alternation(p["negate_after"])
    window = int(p["negation_window"])
    scope = p.get("negation_scope") or "clause"
    targets = p["sound_targets"]
    sound = _alternation(p["sound_patterns"])
    sound_negation = None
    sound_parts: tuple[str, ...] = ()
    if sound is not None and targets:
        table = sound_table(targets)

        def fold(regex: str | None) -> str | None:
            # Patterns and cues meet the folded text in its folded form (家 is read as 加).
            return None if regex is None else "".join(table.get(c, c) for c in regex)

        sound = fold(sound)
        sound_negation = _negation(fold(before), fold(after), sound, window, scope)
        sound_parts = tuple(fold(normalize_pattern(x)) for x in p["sound_patterns"])
    return Matcher(
        phrases=phrases,
        pattern=f"(?i)({patterns})" if patterns else None,
        allow=tuple(normalize_phrases(p["allow"])),
        negation=_negation(before, after, hit, window, scope),
        sound_targets=targets,
        sound_pattern=f"(?i)({sound})" if sound and targets else None,
        sound_allow=tuple(normalize_phrases(p["sound_allow"])),
        sound_negation=sound_negation,
        excluded=tuple(sorted(p["excluded"].items())),
        cues="|".join(x for x in (before, after) if x) or None,
        pattern_parts=tuple(normalize_pattern(x) for x in p["patterns"]),
        pattern_literals=tuple(necessary_literals(normalize_pattern(x)) for x in p["patterns"]),
        models=tuple(p.get("models") or ()),
        sound_parts=sound_parts if sound and targets else (),
        titles=bool(p.get("blank_titles")),
        products=bool(p.get("blank_products")),
        hot=_hot_literals(p["allow"], p["sound_allow"], phrases, tuple(necessary_literals(normalize_pattern(x)) for x in p["patterns"])),
    )


def _hot_literals(allow: list[str], sound_allow: list[str], phrases: tuple[str, ...], literals: tuple[tuple[str, ...] | None, ...]) -> tuple[str, ...]:
    """The literals of which a text must hold one (ASCII case aside) for anything but the
    ungated patterns, the sounds and the models to see it: the allow and sound allow phrases,
    the characters `_names` needs, the listed phrases and the gated patterns' literals. A text
    holding none of them is its own allow-blanked text, holds no phrase and opens no gate, so
    one Aho-Corasick pass sends only the few that hold one through those steps (issue 13)."""
    gated = [x for lits in literals if lits and selective(lits) for x in lits]
    return tuple(sorted({*normalize_phrases(allow), *normalize_phrases(sound_allow), *NAME_KEYS, *phrases, *gated}))


def compile_params(params: dict[str, Any]) -> Matcher:
    """The matcher of one rule's params (cached: rules are compiled once per process)."""
    import json

    return _compile(json.dumps(merged(params), ensure_ascii=False, sort_keys=True))


def _blank(text: pl.Expr, words: tuple[str, ...]) -> pl.Expr:
    # A space, not "": white space is gone from normalized text, so a blank keeps the words on
    # either side apart (微信支付给我 must not become a new match across the gap).
    return text.str.replace_many(list(words), [" "] * len(words)) if words else text


def _quoted(most: int) -> str:
    """A quote of 1 to `most` characters in any form agents type: “…”, "…", 「…」, 『…』,
    ‘…’, '…' (normalization keeps each as typed)."""
    # ASCII ' holds no latin letters: English apostrophes (it's ok … don't) are not a quote.
    return "(?:" + "|".join(f"{o}[^{o}{c}{x}]{{1,{most}}}{c}" for o, c, x in (("“", "”", ""), ('"', '"', ""), ("「", "」", ""), ("『", "』", ""), ("‘", "’", ""), ("'", "'", "a-z"))) + ")"


# A book, film or song title between 《》 names a work, it does not address the buyer or claim
# anything: 《白痴》, 《笨蛋也能学会的理财课》, 《完美世界》 are everyday talk in a book or media
# shop. So are short names in quotes announced as names (名叫“绝对红”, 色号“完美瓷”, “逗比”系列).
# Rules that set `blank_titles` (the insult, confrontational and advertising-law rules) blank
# them like allow phrases. Not the contact and bribery rules: there a title is an evasion
# (加我《薇信》, 参加《好评返现》活动). A boast in quotes (被叫做“国货之光”, “销量冠军”款) is
# still matched: only 名叫/名为/名字叫/牌子叫/色号 announce a name, and a product name holding a
# claim (这款叫“国货之光”, “全网第一”字样) is the claim itself.
# The buyer's own words echoed back as a clause of their own (您说“客服都是傻子”，抱歉…) are
# quoted, not said; only that form (您说/亲说, 收到亲说的“出差必备”啦😄 too: thirteenth pass; or
# asked about, 您说的“带娃神器”是指…: fourteenth pass):
# 我就跟你说“你是个傻子”, 你说的“神经病”就是你自己 and 您说的“国货之光”就是我们家 are said.
# Emoji end a clause as punctuation does (收到亲说的“出差必备”啦😄): written as code-point ranges,
# not \p{So}, so that Python's re (the models' reference scorer in the tests) reads it too.
EMOJI = "[\U0001F300-\U0001FAFF\u2600-\u27BF]"
TITLE = (
    r"《[^《》]{1,40}》"
    rf"|(?:名叫|名为|色号|牌子叫|名字叫){_quoted(12)}"
    # a work named with 叫 (这款游戏叫“找死”小分队, 电影叫“走着瞧”: eighteenth pass); not 产品/这款叫, whose name
    # holding a claim is the claim itself
    rf"|(?:游戏|桌游|电影|片子|歌|歌曲|书|小说|剧|节目|动画)(?:名)?叫{_quoted(12)}"
    rf"|{_quoted(12)}(?:系列|色号)"
    # or asked about (您说的“带娃神器”是指这款腰凳吗: fourteenth pass)
    rf"|(?:^|[,.!?;:~。、…]|收到|看到)(?:您|亲)说的?{_quoted(20)}"
    rf"(?:(?:啦|呀|哈|哦|呢)?(?:[,.!?;:~。、…]|$|{EMOJI})|是指|指的是|是说|是啥|是什么|是哪)"
    # a model named in quotes (「小熊剥蒜神器 BS-02」这个型号: thirteenth pass)
    rf"|{_quoted(20)}(?:这个|这款)?型号"
)
# A short quoted name followed, within the clause, by what it is printed on or names (“小笨蛋”字样的
# 手机壳, “穷鬼套餐”零食礼包, “你给我等着”的表情包抱枕, “走着瞧”三个字), or announced as printed on one
# (印的是“走着瞧”, 印的字就是“你等着”, 图案叫“走着瞧”, 车贴“你等着 我超车”: eleventh pass), is a product,
# not words said to the buyer. Blanked only by rules that set
# `blank_products` (insults, threats, confrontational replies): for the advertising-law rule a
# claim printed on a product (“全网第一”字样) is the violation.
PRODUCT_NAME = (
    rf"{_quoted(12)}(?:的)?[^,.!?;:~。、…“”\"「」『』‘’']{{0,4}}"
    r"(?:字样|[一二三四五六七八九两\d]个字|图案|印花|套餐|礼包|表情包|抱枕|手机壳|贴纸|周边|t恤|卫衣|杯子|帽子|公仔|玩偶|钥匙扣|冰箱贴|徽章|挂件)"
    rf"|(?:印的是|印着|印有|绣着|绣的是|印的就是|(?:印|绣|刻)的(?:字|图案|文字)(?:就)?是|图案(?:就)?(?:是|叫)){_quoted(12)}"
    # or said to be what is printed on one (“走着瞧”是这款帆布包上的印花字: eighteenth pass)
    rf"|{_quoted(12)}是(?:这款|这个|这件|我们)?[^,.!?;:~。、…“”\"「」『』‘’']{{0,8}}(?:印花|字样|图案|印的字|绣的字|刻的字)"
    # the product named right before the quote (这款车贴“你等着 我超车”)
    rf"|(?:车贴|贴纸|手机壳|t恤|卫衣|杯子|抱枕|帽子|钥匙扣|冰箱贴|徽章|挂件|表情包){_quoted(12)}"
    # a co-branded name, quoted or not (笨蛋兔联名款鼠标垫: thirteenth pass)
    r"|[^,.!?;:~。、…“”\"「」『』‘’']{1,5}联名"
)
# Quoted words the agent disowns in the same sentence are a scam or a rumour being warned
# about, not the agent's offer: 包裹里要是有“好评返现卡”别扫码哦，不是我们放的; 卡片上写的“五星好评返
# 20元”不是本店的，遇到可以直接举报; 有人说“加微信退款”，那是骗子; 说“爱买不买”的客服已经被处理了;
# 说明书上的“后果自负”是提醒改装有风险，不是针对您 (the last two: eleventh pass). Blanked by every rule, with the
# words up to the cue (at most 14 characters, across commas but not past the sentence): the cue
# must follow the quote, so an evasion in quotes (加我“薇信”) is still matched.
DISOWNED = (
    _quoted(20) + r"""[^。!?“”"「」『』‘’']{0,14}?"""
    r"(?:不是(?:我们|本店|我家|咱家|店里|官方|客服)|别(?:扫|理|信|上当)|千万别|不要(?:扫|理|信)"
    r"|举报|挂断|诈骗|骗子|骗局|被骗|冒充|(?:客服|同事|员工|那位|那个人)(?:已经|已)?被(?:处理|处罚|开除|辞退|批评|通报)|不是针对(?:您|你))"
)


# What every span `_names` blanks holds: an opening quote of `_quoted` (DISOWNED, most of TITLE
# and PRODUCT_NAME), 《 (TITLE) or 联名 (PRODUCT_NAME's co-branded name). A text holding none of
# them is left as it is by `_names`, which the allow step skips for it (`_with_allowed`).
NAME_KEYS = ("“", '"', "「", "『", "‘", "'", "《", "联名")


def _names(m: Matcher) -> str:
    """What the rule blanks like allow phrases besides its lists, as one regex: disowned quotes
    always; titles and product names if the rule sets `blank_titles`, `blank_products`."""
    parts = [DISOWNED] + [TITLE] * m.titles + [PRODUCT_NAME] * m.products
    return "|".join(f"(?:{part})" for part in parts)


def _allowed(text: pl.Expr, m: Matcher) -> pl.Expr:
    """`text` with the rule's allow phrases and `_names` blanked."""
    return _blank(text, m.allow).str.replace_all(_names(m), " ")


HOT = "_hot"


def _with_allowed(frame: pl.DataFrame, m: Matcher, column: str) -> pl.DataFrame:
    """`frame` with ALLOWED (`_allowed` of `column`) and HOT (whether the text holds one of
    `m.hot`). The allow phrases and `_names` are applied to the hot texts only: any other
    text is its own allow-blanked text (a blank is a space, which makes no quote, 《 or 联名).
    Of the 751,800 distinct bench texts 4.5 % are hot for PDD-P1 and 7.7 % for PDD-P2: the
    allow phrases' `replace_many` and the `_names` regex cost 0.3-0.4 s CPU per rule on all
    of them, the one `contains_any` of `m.hot` about 0.2 s."""
    text = frame.get_column(column)
    # A matcher without `hot` (built by hand) sends every text through.
    hot = text.str.contains_any(list(m.hot), ascii_case_insensitive=True).fill_null(False) if m.hot else pl.repeat(True, frame.height, eager=True)
    rows = hot.arg_true()
    allowed = text.clone()
    if len(rows):
        allowed.scatter(rows, frame.select(pl.col(column).gather(rows)).select(_allowed(pl.col(column), m)).to_series())
    return frame.with_columns(allowed.alias(ALLOWED), hot.alias(HOT))


def steps(m: Matcher, norm: pl.Expr, negate: bool = True) -> dict[str, pl.Expr]:
    """Named expressions, each built on the previous ones (use with `with_columns` in order):
    `_allowed` (allow phrases blanked), `_checked` (negated spans blanked), `match_literal`,
    `match_pattern`, and for sound rules `_sounded`, `sound_match` (the folded text matched),
    `sound_source` (the message's own spelling there); finally `match` and `how`."""
    out: dict[str, pl.Expr] = {"_allowed": _allowed(norm, m)}
    checked = pl.col("_allowed")
    if m.negation and negate:
        checked = checked.str.replace_all(m.negation, " ", literal=False)
    out["_checked"] = checked
    text = pl.col("_checked")
    out["match_literal"] = text.str.extract_many(list(m.phrases)).list.first() if m.phrases else pl.lit(None, pl.String)
    out["match_pattern"] = text.str.extract(m.pattern, 1) if m.pattern else pl.lit(None, pl.String)
    # The hit reported is the one that starts first in the message (a listed phrase on a tie).
    pattern_first = (
        pl.col("match_literal").is_null()
        | (text.str.find(pl.col("match_pattern"), literal=True) < text.str.find(pl.col("match_literal"), literal=True))
    ).fill_null(False)
    out["_pattern_first"] = pattern_first
    first = pl.when(pl.col("_pattern_first")).then(pl.col("match_pattern")).otherwise(pl.col("match_literal"))
    kind = pl.when(pl.col("match_pattern").is_not_null() & pl.col("_pattern_first")).then(pl.lit("pattern")).when(pl.col("match_literal").is_not_null()).then(pl.lit("phrase"))
    candidates = [first]
    how = [kind]
    if m.sound_pattern:
        out["_sound_base"] = _blank(pl.col("_allowed"), m.sound_allow)
        out["_sounded"] = sound_fold(pl.col("_sound_base"), m.sound_targets)
        sounded = pl.col("_sounded")
        if m.sound_negation and negate:
            sounded = sounded.str.replace_all(m.sound_negation, " ", literal=False)
        out["sound_match"] = sounded.str.extract(m.sound_pattern, 1)
        offset = pl.col("_sounded").str.split(pl.col("sound_match")).list.first().str.len_chars()
        out["sound_source"] = pl.col("_sound_base").str.slice(offset, pl.col("sound_match").str.len_chars())
        candidates.append(pl.col("sound_source"))
        how.append(pl.when(pl.col("sound_match").is_not_null()).then(format_text("sounds like {}", pl.col("sound_match"))))
    out["match"] = pl.coalesce(candidates)
    out["how"] = pl.coalesce(how)
    return out


def _candidates(texts: pl.LazyFrame, m: Matcher, column: str) -> pl.DataFrame:
    """The texts (`column`, distinct) where some phrase, pattern or sound pattern occurs at
    all (before negation), with `_patterned`: whether a pattern does.

    A cheap prefilter: each pattern is tested on its own (small automata are far faster than
    one large alternation), and only candidate texts - a few percent of real chat - go
    through negation and extraction. The blanked and the sound-folded texts are columns, not
    expressions inside the filter: there each test re-derived them (0.94 s against 0.26 s
    for 100,000 texts, PDD-P2). Patterns with rare necessary literals (regex_factors: 加微信,
    傻 or 蠢 ...) run only on the texts holding one of them, found in one Aho-Corasick pass
    for all (PDD-P1: 4 % of bench texts); the others run on every text."""
    gated = [(p, lits) for p, lits in zip(m.pattern_parts, m.pattern_literals) if lits and selective(lits)]
    always = [p for p, lits in zip(m.pattern_parts, m.pattern_literals) if not (lits and selective(lits))]
    names = texts.collect_schema().names()
    if ALLOWED in names and HOT in names:
        frame = texts.select(column, ALLOWED, HOT).collect()
    else:
        frame = _with_allowed(texts.select(column).collect(), m, column)
    allowed = pl.col(ALLOWED)
    # The phrases and the gate only on the hot texts (`_with_allowed`): no other text holds a
    # phrase or a gated pattern's literal.
    hot = frame.filter(pl.col(HOT)).select(column, ALLOWED)
    listed = hot.select(allowed.str.contains_any(list(m.phrases)).fill_null(False)).to_series() if m.phrases else pl.repeat(False, hot.height, eager=True)
    gated_hit = pl.repeat(False, hot.height, eager=True)
    if gated:
        union = sorted({x for _, lits in gated for x in lits})
        gate = hot.select(allowed.str.contains_any(union, ascii_case_insensitive=True).fill_null(False)).to_series()
        inside = _gated_patterns(hot.filter(gate), gated, union, column)
        if inside.height:
            gated_hit = hot.select(column).join(inside, on=column, how="left", nulls_equal=True, maintain_order="left").get_column("_gated").fill_null(False)
    rows = frame.get_column(HOT).arg_true()
    listed_all = pl.repeat(False, frame.height, eager=True)
    gated_all = pl.repeat(False, frame.height, eager=True)
    if len(rows):
        listed_all.scatter(rows, listed)
        gated_all.scatter(rows, gated_hit)
    frame = frame.with_columns(listed_all.alias("_listed"), gated_all.alias("_gated")).lazy()
    tests = [pl.col("_listed")]
    if m.sound_pattern:
        frame = frame.with_columns(sound_fold(_blank(allowed, m.sound_allow), m.sound_targets).alias("_sounded_c"))
        tests += [pl.col("_sounded_c").str.contains(f"(?i){p}") for p in m.sound_parts]
    some = [allowed.str.contains(f"(?i){p}") for p in always]
    frame = frame.with_columns((pl.any_horizontal(some) if some else pl.lit(False)).alias("_patterned"))
    frame = frame.with_columns((pl.col("_patterned") | pl.col("_gated")).alias("_patterned"))
    keep = pl.any_horizontal([*tests, pl.col("_patterned")])
    return frame.filter(keep).select(column, "_patterned").collect()


def _gated_patterns(texts: pl.DataFrame, gated: list[tuple[str, tuple[str, ...]]], union: list[str], column: str) -> pl.DataFrame:
    """`column` and `_gated` (whether one of the `gated` patterns matches) for `texts`, each
    holding one of the literals of `union`. Each pattern runs only on the texts that hold one
    of its own literals: the same result as running every pattern on every text (a match
    contains one of them, regex_factors), but a text holding 还有 (one pattern's literal, in a
    third of the gated texts) no longer runs the other sixty patterns (PDD-P2 on 751,800
    texts: 57,951 gated, 0.77 s CPU for every pattern on each against 0.12 s)."""
    if texts.is_empty():
        return texts.select(column, pl.lit(False).alias("_gated"))
    rows = texts.with_row_index("_row")
    found = (
        rows.select("_row", pl.col(ALLOWED).str.extract_many(union, ascii_case_insensitive=True, overlapping=True).alias("_lit"))
        .explode("_lit")
        .drop_nulls("_lit")
        .with_columns(pl.col("_lit").str.to_lowercase())
    )
    owners = pl.DataFrame(
        [(literal.lower(), i) for i, (_, literals) in enumerate(gated) for literal in literals],
        schema={"_lit": pl.String, "_pattern": pl.Int32},
        orient="row",
    ).unique()
    pairs = found.join(owners, on="_lit").select("_row", "_pattern").unique().lazy()
    # One plan for all patterns, collected once: sixty eager filters and joins cost PDD-P1
    # 59 ms per batch of partitions even on a handful of texts (issue 13).
    lazy = rows.lazy()
    matched = [
        lazy.join(pairs.filter(pl.col("_pattern") == i), on="_row", how="semi").filter(pl.col(ALLOWED).str.contains(f"(?i){pattern}")).select("_row")
        for i, (pattern, _) in enumerate(gated)
    ]
    hit = pl.concat(matched, how="vertical").unique().with_columns(pl.lit(True).alias("_gated"))
    return lazy.join(hit, on="_row", how="left", maintain_order="left").select(column, pl.col("_gated").fill_null(False)).collect()


def model_names() -> list[str]:
    folder = resources.files("cservice_audit").joinpath("data/models")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def model(name: str) -> tuple[pl.DataFrame, float, float]:
    """A shipped model: its n-gram weights, bias and threshold (see `model_meta`)."""
    folder = resources.files("cservice_audit").joinpath("data/models")
    meta = data_yaml(f"data/models/{name}.yaml")
    weights = pl.read_csv(folder.joinpath(f"{name}.csv").read_bytes(), schema={"ngram": pl.String, "weight": pl.Float64})
    return weights, float(meta["bias"]), float(meta["threshold"])


@functools.cache
def model_meta(name: str) -> dict[str, Any]:
    return data_yaml(f"data/models/{name}.yaml")


# eq=False: compared and hashed by identity, as `scaled` caches one per model; hashing the
# 42,201 n-grams and weights of a value costs 5 ms per `_gram_columns_of` lookup.
@dataclass(frozen=True, eq=False)
class Scaled:
    """A model in exact integer units of 10**-decimals (the weights, bias and threshold are
    decimals written with at most `decimals` places: 5 in the shipped tables).

    Sums of integers do not depend on the order of the terms: a float sum did, so the same
    text could score 6.415 or 6.41499... from one run to the next and print 6.42 or 6.41, or
    fall either side of the threshold."""

    ngrams: tuple[str, ...]  # every n-gram of 1-3 characters in the table, once
    units: tuple[int, ...]  # its weight (repeated rows summed, as a join would add them)
    bias: int
    cut: int
    decimals: int
    folds: tuple[tuple[Any, Any], ...]  # `neutralize`, applied before n-grams are formed

    def score(self, units: pl.Expr) -> pl.Expr:
        """The logit as a float, from its exact integer units."""
        return units.cast(pl.Float64) / 10**self.decimals

    def rounded(self, units: pl.Expr) -> pl.Expr:
        """The logit rounded to 2 places, half to even (polars' `round` mode) on the exact value."""
        if self.decimals <= 2:
            cents = units * 10 ** (2 - self.decimals)
        else:
            step = 10 ** (self.decimals - 2)
            low = units // step
            twice = (units - low * step) * 2
            cents = low + ((twice > step) | ((twice == step) & (low % 2 == 1))).cast(pl.Int64)
        # round(2) of a value 1 ulp off: polars divides by multiplying by 0.01 (6.0200000000000005).
        return (cents.cast(pl.Float64) / 100).round(2)


# More places than this are rounded (still exact sums, of weights rounded to 1e-9).
MAX_DECIMALS = 9


def _decimals(value: float) -> int:
    text = repr(value)
    if "e" not in text and "." in text:  # the common case, without building a Decimal
        return len(text.partition(".")[2])
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _units(value: float, decimals: int) -> int:
    text = repr(value)
    if "e" not in text and "." in text:
        whole, _, fraction = text.partition(".")
        if len(fraction) <= decimals:  # exact: no rounding needed
            return int(whole + fraction) * 10 ** (decimals - len(fraction))
    return int(Decimal(repr(value)).scaleb(decimals).to_integral_value(rounding=ROUND_HALF_EVEN))


@functools.cache
def scaled(name: str) -> Scaled:
    """Model `name` in integer units (see `Scaled`). N-grams of another length can never
    match: a text is cut into 1-, 2- and 3-grams only."""
    weights, bias, cut = model(name)
    usable = (
        weights.filter(pl.col("ngram").str.len_chars().is_between(1, 3))
        .group_by("ngram", maintain_order=True)
        .agg(pl.col("weight").drop_nulls())
    )
    # Plain lists: iterating the list column itself makes a Series per n-gram (2 s for the
    # seven shipped models, against 0.1 s).
    grouped = usable["weight"].to_list()
    values = [w for ws in grouped for w in ws if math.isfinite(w)]
    decimals = min(MAX_DECIMALS, max([_decimals(v) for v in (*values, bias, cut)], default=0))
    # Keep a sum within Int64: a marked text of MODEL_MAX_CHARS characters holds about 3 x 402
    # n-gram occurrences (`neutralize` folds may add a few); the 2**62 bound leaves room for them.
    biggest = max([abs(v) for v in values] + [abs(bias), abs(cut), 1.0])
    while decimals > 0 and biggest * 10**decimals * 3 * (MODEL_MAX_CHARS + 3) >= 2**62:
        decimals -= 1
    units = tuple(sum(_units(w, decimals) for w in ws if math.isfinite(w)) for ws in grouped)
    folds = tuple((model_meta(name).get("neutralize") or {}).items())
    return Scaled(tuple(usable["ngram"]), units, _units(bias, decimals), _units(cut, decimals), decimals, folds)


def _marked(text: pl.Expr, folds: tuple[tuple[Any, Any], ...]) -> pl.Expr:
    """The text a model reads: its first MODEL_MAX_CHARS characters, `neutralize` folded,
    between the `^` and `$` end marks."""
    head = text.str.slice(0, MODEL_MAX_CHARS)
    folded = head.str.replace_many([k for k, _ in folds], [v for _, v in folds]) if folds else head
    return pl.concat_str(pl.lit("^"), folded, pl.lit("$"))


def _grams(marked: pl.Expr, vocabulary: list[str]) -> pl.Expr:
    """Every occurrence in `marked` of an n-gram of `vocabulary`, overlapping ones included
    (^aaa$ holds a, a, a, aa, aa, aaa), in order of where they end: the same multiset as
    cutting the text into every 1-3-gram at every position and keeping those the table weighs,
    in one Aho-Corasick pass (`extract_many`) instead of a row per cut. UTF-8 matches start
    on character boundaries, so byte matching finds exactly the character n-grams."""
    if not vocabulary:
        return pl.when(marked.is_not_null()).then(pl.lit([], pl.List(pl.String)))
    return marked.str.extract_many(vocabulary, overlapping=True)


def _with_units(frame: pl.DataFrame, wanted: list[tuple[str, str, str]]) -> pl.DataFrame:
    """`frame` with, for each (n-gram list column, model name, alias), the model's logit in
    integer units: bias plus the weight of every n-gram occurrence in the list (n-grams of
    another model sharing the list weigh nothing).

    Whole-column, no hashing join: the occurrences, flattened once per list column, are cast
    to the model's n-grams as an Enum (another model's n-gram: null, weight 0), whose
    physical codes index the weights; each list's sum is the difference of the running sum
    at its two ends. Integer sums are exact whatever the order, and a running sum that wraps
    past Int64 still gives exact differences (two's complement) for sums that fit, which
    `scaled` bounds. On the bench's 130,000 PDD-P1 model inputs (7.6 M occurrences) 0.45 s
    CPU with a join of the occurrences and the weight table, then a group-by, 0.30 s with
    this (issue 13); a join had itself replaced a lookup inside each list (3x)."""
    out = {}
    flat: dict[str, tuple[pl.Series, pl.Series, pl.Series] | None] = {}
    for grams, name, alias in wanted:
        if grams not in flat:
            lists = frame.get_column(grams)
            occurrences = lists.explode(empty_as_null=False, keep_nulls=True)
            # rows per list once flattened: a null list is one null row, an empty one none
            ends = lists.list.len().fill_null(1).cast(pl.Int64).cum_sum()
            starts = ends - lists.list.len().fill_null(1).cast(pl.Int64)
            flat[grams] = (occurrences, starts, ends) if len(occurrences) == (ends[-1] if len(ends) else 0) else None
        if flat[grams] is None:  # flattened otherwise than counted: the plain join
            out[alias] = _with_units_joined(frame, [(grams, name, alias)]).get_column(alias)
            continue
        occurrences, starts, ends = flat[grams]
        categories, weights = _unit_codes(scaled(name))
        codes = occurrences.cast(categories, strict=False).to_physical()
        running = pl.concat([pl.Series([0], dtype=pl.Int64), weights.gather(codes).fill_null(0).cum_sum()])
        out[alias] = (running.gather(ends) - running.gather(starts) + scaled(name).bias).alias(alias)
    return frame.with_columns(**out)


@functools.lru_cache(maxsize=32)
def _unit_codes(s: Scaled) -> tuple[pl.Enum, pl.Series]:
    """Model `s`'s n-grams as an Enum and its weights in integer units by the Enum's codes
    (`Scaled` compares by identity, so a cleared `scaled` cache never reads old weights)."""
    return pl.Enum(list(s.ngrams)), pl.Series(list(s.units), dtype=pl.Int64)


def _with_units_joined(frame: pl.DataFrame, wanted: list[tuple[str, str, str]]) -> pl.DataFrame:
    """`_with_units` by a join of the exploded occurrences with the weight table, summed per
    row: the reference the tests hold `_with_units` to, and its road if a list column ever
    flattens otherwise than counted."""
    rows = frame.with_row_index("_row")
    out = rows.lazy()
    # Exploded once per list column: the models of one rule share it (KS-P1, DY-P1).
    occurrences = {grams: rows.select("_row", pl.col(grams).alias("_g")).explode("_g") for grams, _, _ in wanted}
    for grams, name, alias in wanted:
        found = occurrences[grams].lazy().join(_weight_table(name).lazy(), on="_g", how="inner")
        sums = found.group_by("_row").agg(pl.col("_w").sum())
        out = out.join(sums, on="_row", how="left", maintain_order="left").with_columns(
            (pl.col("_w").fill_null(0) + scaled(name).bias).alias(alias)
        ).drop("_w")
    return out.drop("_row").collect()


def _weight_table(name: str) -> pl.DataFrame:
    """Model `name`'s n-grams (`_g`) and their weights in integer units (`_w`); built from
    `scaled` on each call (a few ms), so it never outlives a change of `scaled`'s cache."""
    s = scaled(name)
    return pl.DataFrame({"_g": list(s.ngrams), "_w": list(s.units)}, schema={"_g": pl.String, "_w": pl.Int64})


def _gram_columns(names: tuple[str, ...], text: str) -> tuple[dict[str, pl.Expr], dict[str, pl.Expr], dict[str, str]]:
    """One marked-text column (`_marked{i}`) and one n-gram list column (`_grams{i}`, read
    from it) per set of `neutralize` folds, over the union of the n-grams of the models that
    share it (one pass serves them all), and which n-gram column each model reads."""
    marks, grams, reads = _gram_columns_of(tuple(scaled(name) for name in names), names, text)
    return dict(marks), dict(grams), dict(reads)


@functools.lru_cache(maxsize=32)
def _gram_columns_of(models: tuple[Scaled, ...], names: tuple[str, ...], text: str) -> tuple[dict[str, pl.Expr], dict[str, pl.Expr], dict[str, str]]:
    """`_gram_columns`, built once per set of models: sorting the 42,201 n-grams of `abuse`
    into the expression took 18 ms, paid by every rule on every batch of partitions (issue
    13). Keyed by the `Scaled` objects (by identity), so a cleared `scaled` cache never
    reads old n-grams."""
    groups: dict[tuple[tuple[Any, Any], ...], list[tuple[str, Scaled]]] = {}
    for name, s in zip(names, models):
        groups.setdefault(s.folds, []).append((name, s))
    marks: dict[str, pl.Expr] = {}
    grams: dict[str, pl.Expr] = {}
    reads: dict[str, str] = {}
    for i, (folds, members) in enumerate(groups.items()):
        vocabulary = sorted({g for _, s in members for g in s.ngrams})
        marks[f"_marked{i}"] = _marked(pl.col(text), folds)
        grams[f"_grams{i}"] = _grams(pl.col(f"_marked{i}"), vocabulary)
        reads.update({name: f"_grams{i}" for name, _ in members})
    return marks, grams, reads


def model_scores(texts: pl.LazyFrame, key: str, text: str, name: str) -> pl.LazyFrame:
    """`key` with `score`: the model's logit on column `text` (bias plus the weights of every
    1-3-gram occurrence). Whole-column: one Aho-Corasick pass, then a join of the occurrences
    with the weights, summed per text."""
    marks, grams, reads = _gram_columns((name,), text)
    cut = texts.select(key, **marks).with_columns(**grams).collect()
    return _with_units(cut, [(reads[name], name, "_units")]).lazy().select(key, scaled(name).score(pl.col("_units")).alias("score"))


def _evidence(hits: pl.DataFrame, key: str, grams: str, name: str) -> pl.DataFrame:
    """`key` with `top`: the three n-gram occurrences that added most. N-grams that always occur
    together get equal weights (自己 and 己): a tie names the shorter n-gram, then the earlier
    one (the order the text used to be cut in: 1-grams by position, then 2-, then 3-grams)."""
    weights, _, _ = model(name)
    found = hits.select(key, pl.col(grams).alias("g")).explode("g").drop_nulls("g")
    joined = found.join(weights, left_on="g", right_on="ngram", how="inner", maintain_order="left")
    order = pl.col("g").sort_by(["weight", pl.col("g").str.len_chars()], descending=[True, False], maintain_order=True)
    return joined.group_by(key, maintain_order=True).agg(order.head(3).alias("top"))


@dataclass
class ScoreCache:
    """The model scores of the inputs already scored in this audit, per set of models: a
    reply template comes back every day, and each batch of partitions would score it again.
    Bounded: past LIMIT rows per set nothing more is kept, which only means scoring again.
    One per audit (Context.scores); results never depend on it."""

    LIMIT = 1_000_000
    frames: dict[tuple[str, ...], pl.DataFrame] = field(default_factory=dict)

    def known(self, models: tuple[str, ...]) -> pl.DataFrame | None:
        return self.frames.get(models)

    def add(self, models: tuple[str, ...], scored: pl.DataFrame) -> None:
        before = self.frames.get(models)
        if (0 if before is None else before.height) + scored.height > self.LIMIT:
            return
        # Its own buffers: the scored inputs are views into the whole batch's texts (compact.py).
        scored = compacted(scored)
        self.frames[models] = scored if before is None else pl.concat([before, scored], how="vertical")


def _model_units(
    texts: pl.LazyFrame, column: str, m: Matcher, cache: ScoreCache | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, list[str], dict[str, str]]:
    """What the rule's models make of `texts`, scored once per distinct model input.

    Returns (keys, scored, mark_columns, reads): `keys` maps each text (`column`) to
    the text its models read (`_marked{i}`: allow phrases, and titles if the rule blanks them,
    blanked; `neutralize` folded, end-marked); `scored` has one row per distinct such input
    with, for model i, `_units{i}` (its score in integer units), `_model` (the first model of
    the rule's order at or above its threshold, null if none) and, for the inputs with a
    `_model` only, the n-gram list columns `_grams{i}` that give the evidence; `reads` says
    which n-gram column each model reads.

    Why per distinct model input: the folds make texts that differ only in digits one input
    (订单123 and 订单456 are both 订单###), and a month of replies quoting order numbers,
    amounts and dates repeats few inputs: `make bench`'s 751,800 distinct agent texts are
    130,918 model inputs. With `cache`, inputs scored in an earlier batch are not scored again.
    The text is matched against the n-grams once for all the rule's models, and the hits keep
    those n-grams: cutting them again for the evidence was a second Aho-Corasick automaton
    of every n-gram built per rule and batch (30 ms each)."""
    marks, grams, reads = _gram_columns(m.models, "_model_text")
    mark_columns = list(marks)
    unit_columns = [f"_units{i}" for i in range(len(m.models))]
    blanked = pl.col(ALLOWED) if ALLOWED in texts.collect_schema().names() else _allowed(pl.col(column), m)
    keys = texts.select(column, blanked.alias("_model_text")).select(column, **marks).collect()
    distinct = keys.select(mark_columns).unique()
    known = cache.known(m.models) if cache is not None else None
    new = distinct if known is None else distinct.join(known, on=mark_columns, how="anti", nulls_equal=True)
    cut = new.lazy().with_columns(**grams).collect()
    first = pl.coalesce([pl.when(pl.col(f"_units{i}") >= scaled(name).cut).then(pl.lit(i, pl.Int32)) for i, name in enumerate(m.models)])
    units = _with_units(cut, [(reads[name], name, f"_units{i}") for i, name in enumerate(m.models)]).with_columns(first.alias("_model"))
    hit = pl.col("_model").is_not_null()
    # The n-gram lists of the few hits only, as rows of their own: a when/then over the list
    # column would copy every input's lists.
    scored = pl.concat(
        [
            units.filter(~hit).select(*mark_columns, *unit_columns, "_model", *(pl.lit(None, pl.List(pl.String)).alias(g) for g in grams)),
            units.filter(hit).select(*mark_columns, *unit_columns, "_model", *grams),
        ],
        how="vertical",
    )
    if cache is not None:
        cache.add(m.models, scored)
    if known is not None:
        scored = pl.concat([scored, distinct.join(known, on=mark_columns, how="inner", nulls_equal=True)], how="vertical")
    return keys, scored, mark_columns, reads


def _model_hits(texts: pl.LazyFrame, column: str, m: Matcher, cache: ScoreCache | None = None) -> pl.LazyFrame:
    """`column`, match, how for texts some model of the rule scores at or above its threshold;
    the first such model in the rule's order names the hit, and the n-grams that added most
    to its score are the evidence."""
    keys, scored, mark_columns, reads = _model_units(texts, column, m, cache)
    hits = keys.join(scored.filter(pl.col("_model").is_not_null()), on=mark_columns, how="inner", nulls_equal=True)
    parts = []
    for i, name in enumerate(m.models):
        _, _, cut = model(name)
        mine = hits.filter(pl.col("_model") == i)
        evidence = _evidence(mine, column, reads[name], name)
        parts.append(
            mine.join(evidence, on=column, how="left").select(
                column,
                pl.col("top").list.join("/").alias("match"),
                format_text("model {} {} >= {}", pl.lit(name), scaled(name).rounded(pl.col(f"_units{i}")), pl.lit(round(cut, 2))).alias("how"),
            )
        )
    return pl.concat(parts, how="vertical").lazy()


def match_distinct(texts: pl.LazyFrame, m: Matcher, column: str = "norm", cache: ScoreCache | None = None) -> pl.LazyFrame:
    """`texts` (one row per distinct normalized text) with `match` and `how` (null: no hit).

    Collected here and handed back as a frame: a rule reads its matches in several plans (day
    rows, findings, escalations) that one `collect_all` does not share, so a lazy result was
    matched and scored once per plan (pinduoduo, 500,000 rows: 47.5 s CPU lazy, 13.9 eager)."""
    # Collected once: the plan is read twice below (the texts, then the join back).
    frame = texts.collect()
    names = frame.columns
    if frame.is_empty():
        # `combine` runs every rule once more over no events (period metrics from the day
        # rows): the automata would still be built, 0.1-0.2 s per phrase rule for nothing.
        return frame.with_columns(pl.lit(None, pl.String).alias("match"), pl.lit(None, pl.String).alias("how")).lazy()
    texts = frame.lazy()
    if not m.models:
        return _match_lists(texts, m, column).collect().lazy()
    # The allow phrases are blanked once, for the lists' prefilter and the models alike.
    blanked = _with_allowed(frame.select(column), m, column)
    listed = _match_lists(blanked.lazy(), m, column).collect()
    unmatched = listed.filter(pl.col("match").is_null()).select(column, ALLOWED)
    by_model = _model_hits(unmatched.lazy(), column, m, cache).collect()
    found = pl.concat([listed.filter(pl.col("match").is_not_null()).select(column, "match", "how"), by_model], how="vertical")
    return texts.join(found.lazy(), on=column, how="left", nulls_equal=True, maintain_order="left").select(*names, "match", "how").collect().lazy()


def _match_lists(texts: pl.LazyFrame, m: Matcher, column: str = "norm") -> pl.LazyFrame:
    """`texts` with `match` and `how` from the lists, patterns and sounds only."""
    names = texts.collect_schema().names()
    if m.empty:
        return texts.with_columns(pl.lit(None, pl.String).alias("match"), pl.lit(None, pl.String).alias("how"))
    candidates = _candidates(texts, m, column)
    # Negation (one large expression) runs only where a cue occurs at all; without one, the
    # pattern alternation (slow) only where a single pattern matched: the same texts.
    has_cue = pl.col(column).str.contains(f"(?i){m.cues}") if m.cues else pl.lit(False)
    cued, plain = candidates.filter(has_cue), candidates.filter(~has_cue)
    no_pattern = replace(m, pattern=None)
    parts = []
    for negate, matcher, rows in (
        (True, m, cued),
        (False, m, plain.filter(pl.col("_patterned"))),
        (False, no_pattern, plain.filter(~pl.col("_patterned"))),
    ):
        lazy = rows.lazy()
        for name, expr in steps(matcher, pl.col(column), negate).items():
            lazy = lazy.with_columns(expr.alias(name))
        parts.append(lazy.select(column, "match", "how"))
    found = pl.concat(parts, how="vertical")
    return texts.join(found, on=column, how="left", nulls_equal=True, maintain_order="left").select(*names, "match", "how")


def explain(texts: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
    """For each text: every intermediate of the steps above, plus which allow phrases were
    blanked, which negated spans were blanked and which single pattern matched."""
    from cservice_audit.text import normalize

    m = compile_params(params)
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String}).with_columns(normalize(pl.col("text")).alias("norm"))
    frame = frame.with_columns(
        pl.col("norm").str.extract_many(list(m.allow)).alias("allowed") if m.allow else pl.lit([], pl.List(pl.String)).alias("allowed")
    )
    # disowned quotes, titles and product names are blanked like allow phrases, and shown with them
    frame = frame.with_columns(pl.concat_list("allowed", pl.col("norm").str.extract_all(_names(m))).alias("allowed"))
    for name, expr in steps(m, pl.col("norm")).items():
        frame = frame.with_columns(expr.alias(name))
    frame = frame.with_columns(
        pl.col("_allowed").str.extract_all(m.negation).alias("negated") if m.negation else pl.lit([], pl.List(pl.String)).alias("negated")
    )
    if m.sound_pattern and m.sound_negation:
        frame = frame.with_columns(pl.col("_sounded").str.extract_all(m.sound_negation).alias("sound_negated"))
    rows = frame.to_dicts()
    for row in rows:
        row["models"] = []
    if m.models:
        # What the models make of each text (they decide only where no list matched).
        keyed = pl.DataFrame({"norm": frame["norm"]}).unique().lazy()
        by_model = _model_hits(keyed, "norm", m).collect()
        hits = dict(zip(by_model["norm"], zip(by_model["match"], by_model["how"])))
        for row in rows:
            if row["match"] is None and row["norm"] in hits:
                row["match"], row["how"] = hits[row["norm"]]
        # Every model's score (rounded as in a finding's evidence) and threshold (as shipped),
        # from the same units that decide a hit, so a pass says how near the model came.
        keys, scored, mark_columns, _ = _model_units(keyed, "norm", m)
        scored = keys.join(scored, on=mark_columns, nulls_equal=True).select(
            "norm", *(scaled(name).rounded(pl.col(f"_units{i}")).alias(name) for i, name in enumerate(m.models))
        )
        by_text = {row["norm"]: row for row in scored.iter_rows(named=True)}
        for row in rows:
            row["models"] = [{"model": name, "score": by_text[row["norm"]][name], "threshold": model(name)[2]} for name in m.models]
    merged_params = merged(params)
    for row in rows:
        row["pattern"] = None
        if row.get("how") == "pattern":
            for raw in merged_params["patterns"]:
                if pl.select(pl.lit(row["match"]).str.contains(f"(?i)^(?:{normalize_pattern(raw)})$")).item():
                    row["pattern"] = raw
                    break
        if (row.get("how") or "").startswith("sounds like"):
            for raw in merged_params["sound_patterns"]:
                folded = "".join(sound_table(m.sound_targets).get(c, c) for c in normalize_pattern(raw))
                if pl.select(pl.lit(row["sound_match"]).str.contains(f"(?i){folded}")).item():
                    row["pattern"] = raw
                    break
    return rows
