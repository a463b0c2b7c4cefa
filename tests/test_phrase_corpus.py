"""The contract of the labelled phrase corpus (`tests/phrase_corpus/corpus.csv`, issue 10).

The phrase rules are tuned on the `dev` rows and measured on the `heldout` rows, so the file
must keep its shape: fixed columns, nine categories with enough violating and everyday rows,
enough held-out rows in every category and label (at most half of them), unique ids and texts, and no
message (up to width, spacing and punctuation) labelled both ways or present in both splits,
which would leak tuning data into the measurement. `contract_problems` lists every breach;
the second test feeds it a broken corpus to show it notices.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

CORPUS = Path(__file__).parent / "phrase_corpus" / "corpus.csv"
COLUMNS = ["id", "split", "category", "label", "text", "note"]
CATEGORIES = (
    "insult", "threat", "confrontational", "offplatform", "bribery",
    "adlaw", "closetrade", "invoice", "creditcard",
)
LABELS = ("violation", "ok")
SPLITS = ("dev", "heldout")
MIN_ROWS = {"violation": 150, "ok": 300}
# The split was assigned as about 60 % dev / 40 % heldout per category and label. Since then the
# dev split has grown (more training messages), so the held-out floor is a number of rows, which
# is what sets how exactly a figure is measured, not a share: a share floor would forbid growing
# the training set. The held-out split stays at most half, so tuning always sees more than the
# measurement does.
HELDOUT_MIN = {"violation": 60, "ok": 120}
HELDOUT_MAX_SHARE = 0.50


def load_corpus(path: Path = CORPUS) -> pl.DataFrame:
    # Every column is text: ids and notes must not be parsed as numbers or dates.
    return pl.read_csv(path, infer_schema=False, encoding="utf8")


def _folded(text: pl.Expr) -> pl.Expr:
    # Full-width to ASCII and compatibility forms folded, then spacing, punctuation and
    # symbols dropped: "不 知 道！" and "不知道!" are the same message for leakage purposes.
    return text.str.normalize("NFKC").str.to_lowercase().str.replace_all(r"[\s\p{P}\p{S}]", "")


def _row_problems(df: pl.DataFrame, splits: tuple[str, ...], id_prefix: str) -> list[str]:
    """Breaches row by row, shared by corpus.csv and fresh.csv: values outside their lists,
    ids not `<id_prefix><category>-NNNN` of their own category or repeated, empty or padded texts."""
    problems = []
    for column, allowed in (("category", CATEGORIES), ("label", LABELS), ("split", splits)):
        bad = df.filter(~pl.col(column).is_in(allowed) | pl.col(column).is_null())
        if bad.height:
            problems.append(f"{bad.height} rows with a {column} outside {allowed}: {bad['id'].head(5).to_list()}")
    bad_ids = df.filter(
        pl.col("id").is_null()
        | ~pl.col("id").str.contains(rf"^{id_prefix}[a-z]+-\d{{4}}$")
        | (pl.col("id").str.extract(rf"^{id_prefix}([a-z]+)-", 1) != pl.col("category"))
    )
    if bad_ids.height:
        problems.append(f"ids not '{id_prefix}<category>-NNNN' of their own category: {bad_ids['id'].head(5).to_list()}")
    duplicated_ids = df.filter(pl.col("id").is_duplicated())["id"].unique().to_list()
    if duplicated_ids:
        problems.append(f"duplicate ids: {duplicated_ids[:5]}")
    empty = df.filter(pl.col("text").is_null() | (pl.col("text").str.strip_chars() == ""))
    if empty.height:
        problems.append(f"empty texts: {empty['id'].head(5).to_list()}")
    padded = df.filter(pl.col("text") != pl.col("text").str.strip_chars())
    if padded.height:
        problems.append(f"texts with leading or trailing whitespace: {padded['id'].head(5).to_list()}")
    return problems


def contract_problems(df: pl.DataFrame) -> list[str]:
    if df.columns != COLUMNS:
        return [f"columns are {df.columns}, expected {COLUMNS}"]

    problems: list[str] = _row_problems(df, SPLITS, id_prefix="")

    counts = df.group_by("category", "label", "split").len()
    for category in CATEGORIES:
        for label in LABELS:
            part = counts.filter(pl.col("category") == category, pl.col("label") == label)
            total = int(part["len"].sum())
            if total < MIN_ROWS[label]:
                problems.append(f"{category}/{label}: {total} rows, need at least {MIN_ROWS[label]}")
                continue
            heldout = int(part.filter(pl.col("split") == "heldout")["len"].sum())
            if heldout < HELDOUT_MIN[label]:
                problems.append(f"{category}/{label}: {heldout} heldout rows, need at least {HELDOUT_MIN[label]}")
            elif heldout / total > HELDOUT_MAX_SHARE:
                problems.append(f"{category}/{label}: heldout share {heldout / total:.2f} above {HELDOUT_MAX_SHARE}")

    duplicated_texts = df.filter(pl.col("text").is_duplicated())["text"].unique().to_list()
    if duplicated_texts:
        problems.append(f"duplicate texts: {duplicated_texts[:5]}")

    folded = df.with_columns(_folded(pl.col("text")).alias("folded"))
    for column, what in (("label", "labelled both ways"), ("split", "in both splits")):
        clash = (
            folded.group_by("folded")
            .agg(pl.col(column).n_unique().alias("n"), pl.col("id"))
            .filter(pl.col("n") > 1)
        )
        if clash.height:
            problems.append(f"{clash.height} messages {what}, e.g. {clash['id'].head(3).to_list()}")
    return problems


def test_corpus_meets_its_contract():
    problems = contract_problems(load_corpus())
    assert problems == [], "\n".join(problems)


def test_contract_notices_a_broken_corpus():
    good = load_corpus()
    first = good.row(0, named=True)
    insult_ok = good.filter(pl.col("category") == "insult", pl.col("label") == "ok")
    extra = insult_ok.filter(pl.col("split") == "dev").height - insult_ok.filter(pl.col("split") == "heldout").height + 1
    broken = pl.concat([
        # one category's heldout rows dropped: too few heldout rows
        good.filter(~((pl.col("category") == "invoice") & (pl.col("split") == "heldout"))),
        # another's everyday rows held out more than dev has: over half held out
        pl.DataFrame({
            "id": [f"insult-{9000 + i:04d}" for i in range(extra)], "split": ["heldout"] * extra, "category": ["insult"] * extra,
            "label": ["ok"] * extra, "text": [f"亲，测试用的第{i}条消息" for i in range(extra)], "note": [None] * extra,
        }, schema={c: pl.String for c in COLUMNS}),
        # the first message again, spaced out, with the other label, in the other split, same id
        pl.DataFrame([{
            **first,
            "label": "ok" if first["label"] == "violation" else "violation",
            "split": "heldout" if first["split"] == "dev" else "dev",
            "text": " ".join(first["text"]),
        }]),
    ])
    problems = contract_problems(broken)
    assert any(p.startswith("invoice/violation:") and "heldout rows" in p for p in problems)
    assert any(p.startswith("invoice/ok:") for p in problems)
    assert any(p.startswith("insult/ok: heldout share") for p in problems)
    assert any(p.startswith("duplicate ids") for p in problems)
    assert any("labelled both ways" in p for p in problems)
    assert any("in both splits" in p for p in problems)
    assert contract_problems(good.drop("note")) == [f"columns are {COLUMNS[:-1]}, expected {COLUMNS}"]


# --- the fresh split (tests/phrase_corpus/fresh.csv) -------------------------------------------
# A separate file of messages written blind after tuning (README "The fresh split"). It is only
# ever measured, so its contract is about shape and independence: every row in split `fresh`,
# ids `fresh-<category>-NNNN`, enough rows per category and label, and no message that is also
# in corpus.csv (once width, case, spacing and punctuation are folded), which would make it a
# copy of rows that were tuned on or already measured.

FRESH = Path(__file__).parent / "phrase_corpus" / "fresh.csv"
# 60 per category and label until 2026-12-04; then half of every category and label moved to
# dev (README "The fresh split", spent half), leaving at least 30 of each.
FRESH_MIN_ROWS = {"violation": 30, "ok": 30}


def fresh_problems(fresh: pl.DataFrame, corpus: pl.DataFrame) -> list[str]:
    if fresh.columns != COLUMNS:
        return [f"columns are {fresh.columns}, expected {COLUMNS}"]
    problems = _row_problems(fresh, ("fresh",), id_prefix="fresh-")

    counts = fresh.group_by("category", "label").len()
    for category in CATEGORIES:
        for label in LABELS:
            total = int(counts.filter(pl.col("category") == category, pl.col("label") == label)["len"].sum())
            if total < FRESH_MIN_ROWS[label]:
                problems.append(f"{category}/{label}: {total} rows, need at least {FRESH_MIN_ROWS[label]}")

    folded = fresh.with_columns(_folded(pl.col("text")).alias("folded"))
    repeated = folded.filter(pl.col("folded").is_duplicated())
    if repeated.height:
        problems.append(f"{repeated.height} rows repeat another fresh message, e.g. {repeated['id'].head(3).to_list()}")
    # Only fresh ids are reported: the corpus texts stay unprinted for whoever writes fresh rows.
    known = corpus.select(_folded(pl.col("text")).alias("folded")).unique()
    copied = folded.join(known, on="folded", how="semi")
    if copied.height:
        problems.append(f"{copied.height} fresh messages are also in corpus.csv: {copied['id'].head(5).to_list()}")
    return problems


def test_fresh_split_meets_its_contract():
    problems = fresh_problems(load_corpus(FRESH), load_corpus())
    assert problems == [], "\n".join(problems)


def test_fresh_contract_notices_a_broken_file():
    good = load_corpus(FRESH)
    corpus = load_corpus()
    first = good.row(0, named=True)
    broken = pl.concat([
        # one category's violations dropped
        good.filter(~((pl.col("category") == "invoice") & (pl.col("label") == "violation"))),
        # a corpus message copied in (spaced out), under a duplicate id, with an unknown label
        pl.DataFrame([{**first, "label": "maybe", "text": " ".join(corpus["text"][0])}]),
        # a row in the wrong split with an id of another category
        pl.DataFrame([{**first, "id": "fresh-threat-9999", "split": "heldout", "text": "亲，新写的一句"}]),
    ])
    problems = fresh_problems(broken, corpus)
    assert any(p.startswith("invoice/violation:") for p in problems)
    assert any("label outside" in p for p in problems)
    assert any("split outside" in p for p in problems)
    assert any(p.startswith("duplicate ids") for p in problems)
    assert any(p.startswith("ids not 'fresh-") for p in problems)
    assert any("also in corpus.csv" in p for p in problems)
    assert not any(p.startswith("insult/") for p in problems)
    assert fresh_problems(good.drop("note"), corpus) == [f"columns are {COLUMNS[:-1]}, expected {COLUMNS}"]


def test_phrase_eval_reports_the_fresh_split(capsys):
    """`make phrase-eval` prints a fresh line per rule, after dev and heldout, and never a fresh text."""
    from phrase_eval import main

    assert main(["--rule", "TB-P2", "--misses"]) == 0
    out = capsys.readouterr().out
    splits = [line.split()[1] for line in out.splitlines() if line.startswith("TB-P2 ")]
    assert splits == ["dev", "heldout", "fresh"]
    # --misses lists dev rows only: no fresh id (hence no fresh text) is ever printed
    assert "fresh-" not in out


def test_phrase_eval_refuses_a_missing_fresh_file(tmp_path, capsys):
    from phrase_eval import main

    assert main(["--fresh", str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no fresh split" in err
