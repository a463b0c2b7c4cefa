"""The phrase engine behind the `phrases` check and `cservice-audit check-text`.

A phrase rule is data (its ruleset's `params`, plus shared lexicons from
`data/lexicons/*.yaml` named in `lexicons`). Everything runs as whole-column polars
expressions over the distinct normalized texts (`text.normalize`: NFKC, lower case,
traditional -> simplified, variant and look-alike folding, white space removed):

1. `allow` phrases (innocent compounds: 微信支付, 最近, 滚动) are blanked out;
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
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import polars as pl

from cservice_audit.formatting import format_text
from cservice_audit.text import normalize_pattern, normalize_phrases, sound_fold, sound_table

# Characters that end a clause: negation does not reach across them. Full-width forms are
# already NFKC-folded to ASCII in normalized text, except the ideographic ones listed.
CLAUSE_END = r",.!?;:~。、…"
SCOPES = ("clause", "message")
# Models read at most this many characters of a text: chat messages are short, and n-grams cut
# by character position cost time quadratic in a text's length (a million-character cell).
MODEL_MAX_CHARS = 400
LIST_KEYS = ("phrases", "patterns", "allow", "negate_before", "negate_after", "sound_patterns", "sound_allow")


@functools.cache
def lexicon(name: str) -> dict[str, Any]:
    """A shared lexicon, `data/lexicons/<name>.yaml` (validated by `lexicon_error`)."""
    import yaml

    path = resources.files("cservice_audit").joinpath(f"data/lexicons/{name}.yaml")
    return yaml.safe_load(path.read_text("utf-8")) or {}


def lexicon_names() -> list[str]:
    folder = resources.files("cservice_audit").joinpath("data/lexicons")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def lexicon_error(name: str) -> str | None:
    """Why `name` is not a usable lexicon, or None."""
    if name not in lexicon_names():
        return f"unknown lexicon {name!r} (shipped: {', '.join(lexicon_names())})"
    data = lexicon(name)
    unknown = set(data) - {*LIST_KEYS, "name", "title", "description", "source", "sound_targets", "excluded", "negation_window"}
    if unknown:
        return f"lexicon {name}: unknown keys {sorted(unknown)}"
    return None


def merged(params: dict[str, Any]) -> dict[str, Any]:
    """The rule's own lists plus those of every lexicon it names (rule's first)."""
    out: dict[str, Any] = {key: list(params.get(key) or ()) for key in LIST_KEYS}
    out["sound_targets"] = params.get("sound_targets") or ""
    out["excluded"] = dict(params.get("excluded") or {})
    out["negation_window"] = params.get("negation_window", 8)
    out["negation_scope"] = params.get("negation_scope") or "clause"
    out["models"] = list(params.get("models") or ())
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
        models=tuple(p.get("models") or ()),
        sound_parts=sound_parts if sound and targets else (),
    )


def compile_params(params: dict[str, Any]) -> Matcher:
    """The matcher of one rule's params (cached: rules are compiled once per process)."""
    import json

    return _compile(json.dumps(merged(params), ensure_ascii=False, sort_keys=True))


def _blank(text: pl.Expr, words: tuple[str, ...]) -> pl.Expr:
    # A space, not "": white space is gone from normalized text, so a blank keeps the words on
    # either side apart (微信支付给我 must not become a new match across the gap).
    return text.str.replace_many(list(words), [" "] * len(words)) if words else text


def steps(m: Matcher, norm: pl.Expr, negate: bool = True) -> dict[str, pl.Expr]:
    """Named expressions, each built on the previous ones (use with `with_columns` in order):
    `_allowed` (allow phrases blanked), `_checked` (negated spans blanked), `match_literal`,
    `match_pattern`, and for sound rules `_sounded`, `sound_match` (the folded text matched),
    `sound_source` (the message's own spelling there); finally `match` and `how`."""
    out: dict[str, pl.Expr] = {"_allowed": _blank(norm, m.allow)}
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


def _candidate(m: Matcher, allowed: pl.Expr) -> pl.Expr:
    """True where some phrase, pattern or sound pattern occurs at all (before negation).

    A cheap prefilter: each pattern is tested on its own (small automata are far faster than
    one large alternation), and only candidate texts - a few percent of real chat - go
    through negation and extraction."""
    tests = []
    if m.phrases:
        tests.append(allowed.str.contains_any(list(m.phrases)))
    tests += [allowed.str.contains(f"(?i){p}") for p in m.pattern_parts]
    if m.sound_pattern:
        sounded = sound_fold(_blank(allowed, m.sound_allow), m.sound_targets)
        tests += [sounded.str.contains(f"(?i){p}") for p in m.sound_parts]
    return pl.any_horizontal(tests) if tests else pl.lit(False)


def model_names() -> list[str]:
    folder = resources.files("cservice_audit").joinpath("data/models")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def model(name: str) -> tuple[pl.DataFrame, float, float]:
    """A shipped model: its n-gram weights, bias and threshold (see `model_meta`)."""
    import yaml

    folder = resources.files("cservice_audit").joinpath("data/models")
    meta = yaml.safe_load(folder.joinpath(f"{name}.yaml").read_text("utf-8"))
    weights = pl.read_csv(folder.joinpath(f"{name}.csv").read_bytes(), schema={"ngram": pl.String, "weight": pl.Float64})
    return weights, float(meta["bias"]), float(meta["threshold"])


@functools.cache
def model_meta(name: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(resources.files("cservice_audit").joinpath(f"data/models/{name}.yaml").read_text("utf-8"))


def _model_grams(texts: pl.LazyFrame, key: str, text: str, name: str) -> pl.LazyFrame:
    """`key`, `g`, `weight`: every weighted 1-3-gram occurrence of each text."""
    weights, _, _ = model(name)
    folds = model_meta(name).get("neutralize") or {}
    head = pl.col(text).str.slice(0, MODEL_MAX_CHARS)
    folded = head.str.replace_many(list(folds), list(folds.values())) if folds else head
    marked = texts.select(key, pl.concat_str(pl.lit("^"), folded, pl.lit("$")).alias("_m")).with_columns(
        pl.int_ranges(0, pl.col("_m").str.len_chars()).alias("_p")
    ).explode("_p")
    # Each n-gram is a slice at every position (no window functions); slices cut short at the
    # end of a text are dropped.
    grams = pl.concat(
        [marked.select(key, pl.col("_m").str.slice(pl.col("_p"), n).alias("g")).filter(pl.col("g").str.len_chars() == n) for n in (1, 2, 3)],
        how="vertical",
    )
    return grams.join(weights.lazy(), left_on="g", right_on="ngram", how="inner")


def model_scores(texts: pl.LazyFrame, key: str, text: str, name: str) -> pl.LazyFrame:
    """`key` with `score`: the model's logit on column `text` (bias plus the weights of every
    1-3-gram occurrence). Whole-column: characters to n-grams, a join, a sum per text."""
    _, bias, _ = model(name)
    per_text = _model_grams(texts, key, text, name).group_by(key).agg(pl.col("weight").sum().alias("_sum"))
    return (
        texts.select(key)
        .join(per_text, on=key, how="left", nulls_equal=True)
        .with_columns((pl.col("_sum").fill_null(0.0) + bias).alias("score"))
        .select(key, "score")
    )


def model_evidence(texts: pl.LazyFrame, key: str, text: str, name: str) -> pl.LazyFrame:
    """`key` with `top`: the three n-grams that added most (computed for hits only)."""
    return (
        _model_grams(texts, key, text, name)
        .group_by(key)
        .agg(pl.col("g").sort_by("weight", descending=True).head(3).alias("top"))
    )


def _model_hits(texts: pl.LazyFrame, column: str, m: Matcher) -> pl.LazyFrame:
    """`column`, match, how for texts some model of the rule scores at or above its threshold
    (scored on the text with the rule's allow phrases blanked)."""
    prepared = texts.select(column, _blank(pl.col(column), m.allow).alias("_model_text")).cache()
    parts = []
    for name in m.models:
        _, _, cut = model(name)
        hits = model_scores(prepared, column, "_model_text", name).filter(pl.col("score") >= cut)
        evidence = model_evidence(prepared.join(hits.select(column), on=column, how="semi"), column, "_model_text", name)
        parts.append(
            hits.join(evidence, on=column, how="left").select(
                column,
                pl.col("top").list.join("/").alias("match"),
                format_text("model {} {} >= {}", pl.lit(name), pl.col("score").round(2), pl.lit(round(cut, 2))).alias("how"),
            )
        )
    return pl.concat(parts, how="vertical").unique(column, keep="first", maintain_order=True)


def match_distinct(texts: pl.LazyFrame, m: Matcher, column: str = "norm") -> pl.LazyFrame:
    """`texts` (one row per distinct normalized text) with `match` and `how` (null: no hit)."""
    names = texts.collect_schema().names()
    if m.models:
        # Cached: both the hits and the texts left for the models read it.
        listed = _match_lists(texts.select(column), m, column).cache()
        unmatched = listed.filter(pl.col("match").is_null()).select(column)
        by_model = _model_hits(unmatched, column, m)
        found = pl.concat([listed.filter(pl.col("match").is_not_null()), by_model], how="vertical")
        return texts.join(found, on=column, how="left", nulls_equal=True, maintain_order="left").select(*names, "match", "how")
    return _match_lists(texts, m, column)


def _match_lists(texts: pl.LazyFrame, m: Matcher, column: str = "norm") -> pl.LazyFrame:
    """`texts` with `match` and `how` from the lists, patterns and sounds only."""
    names = texts.collect_schema().names()
    if m.empty:
        return texts.with_columns(pl.lit(None, pl.String).alias("match"), pl.lit(None, pl.String).alias("how"))
    candidates = texts.select(column).filter(_candidate(m, _blank(pl.col(column), m.allow))).cache()
    # Negation (one large expression) runs only where a cue occurs at all.
    has_cue = pl.col(column).str.contains(f"(?i){m.cues}") if m.cues else pl.lit(False)
    parts = []
    for negate, rows in ((True, candidates.filter(has_cue)), (False, candidates.filter(~has_cue))):
        for name, expr in steps(m, pl.col(column), negate).items():
            rows = rows.with_columns(expr.alias(name))
        parts.append(rows.select(column, "match", "how"))
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
    for name, expr in steps(m, pl.col("norm")).items():
        frame = frame.with_columns(expr.alias(name))
    frame = frame.with_columns(
        pl.col("_allowed").str.extract_all(m.negation).alias("negated") if m.negation else pl.lit([], pl.List(pl.String)).alias("negated")
    )
    if m.sound_pattern and m.sound_negation:
        frame = frame.with_columns(pl.col("_sounded").str.extract_all(m.sound_negation).alias("sound_negated"))
    rows = frame.to_dicts()
    if m.models:
        # What the models make of each text (they decide only where no list matched).
        keyed = pl.DataFrame({"norm": frame["norm"]}).unique().lazy()
        by_model = _model_hits(keyed, "norm", m).collect()
        hits = dict(zip(by_model["norm"], zip(by_model["match"], by_model["how"])))
        for row in rows:
            if row["match"] is None and row["norm"] in hits:
                row["match"], row["how"] = hits[row["norm"]]
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
