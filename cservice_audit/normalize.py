"""Normalize: raw export columns -> the canonical event table of spec/metrics.md §1.

Headers and values are mapped through alias data (`data/aliases.yaml` plus a user's
`--mapping`), timestamps are parsed into the ruleset's timezone, rows that cannot be
normalized are split off with the reason (never dropped), and exact duplicates are removed.
Everything is whole-column polars expressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import polars as pl

from cservice_audit import limits
from cservice_audit.errors import InputError
from cservice_audit.formatting import format_text
from cservice_audit.i18n import listed, t, text_expr
from cservice_audit.load import RawTable, encoding_hint
from cservice_audit.shipped import data_yaml

REQUIRED = ("ts", "buyer", "role")
CANONICAL = (
    "ts", "shop", "buyer", "conversation", "role", "agent", "text",
    "spam", "rating", "reason", "served_by", "message_id",
)  # fmt: skip
DEFAULT_SHOP = "-"
EARLIEST_YEAR = 2000  # in the ruleset's local time: 2000-01-01 00:00 local is accepted
BOT_WITHOUT_ACCOUNT = "(bot)"
# 10000-01-01T00:00:00Z in epoch seconds: an epoch number below it is seconds, else ms.
EPOCH_SECONDS_BELOW = 253_402_300_800

@dataclass(frozen=True)
class Aliases:
    """Header spellings per canonical column, value spellings per field, timestamp layouts."""

    columns: dict[str, list[str]]
    values: dict[str, dict[str, list[str]]]
    timestamp_formats: dict[str, list[str]]

    @classmethod
    def shipped(cls) -> Aliases:
        data = data_yaml("data/aliases.yaml")
        return cls(data["columns"], data["values"], data["timestamp_formats"])

    def with_mapping(self, path: str | Path) -> Aliases:
        """Put a user's mapping file in front of the shipped spellings."""
        from cservice_audit.ruleset import read_yaml_file

        data = read_yaml_file(path, "mapping file", InputError) or {}
        if not isinstance(data, dict):
            raise InputError("error.mapping_shape", path=path)
        unknown = set(data) - {"columns", "values", "timestamp_formats", "description", "example"}
        if unknown:
            raise InputError("error.mapping_key", path=path, name=sorted(unknown)[0])
        for key in ("columns", "values", "timestamp_formats"):
            # A list or a scalar here was an internal error (AttributeError), not one line.
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise InputError("error.mapping_table", path=path, name=key)
        for field_name, mapping in (data.get("values") or {}).items():
            if mapping is not None and not isinstance(mapping, dict):
                raise InputError("error.mapping_table", path=path, name=f"values.{field_name}")
        for layout in _as_list((data.get("timestamp_formats") or {}).get("naive") or []):
            if any(z in str(layout) for z in ("%z", "%Z", "%:z", "%#z")):
                # polars cannot put a zoned and a naive parse in one column (SchemaError crash).
                raise InputError("error.mapping_naive_zone", path=path, layout=str(layout))
        columns = {k: list(v) for k, v in self.columns.items()}
        for name, spellings in (data.get("columns") or {}).items():
            if name not in CANONICAL:
                raise InputError("error.mapping_column", path=path, name=name, known=listed(CANONICAL))
            columns[name] = [str(s) for s in _as_list(spellings)] + columns[name]
        values = {field: {k: list(v) for k, v in m.items()} for field, m in self.values.items()}
        for field_name, mapping in (data.get("values") or {}).items():
            if field_name not in values:
                raise InputError("error.mapping_field", path=path, name=field_name, known=listed(values))
            for canonical, spellings in (mapping or {}).items():
                if str(canonical) not in values[field_name]:
                    raise InputError("error.mapping_value", path=path, name=f"{field_name}.{canonical}", known=listed(values[field_name]))
                values[field_name][str(canonical)] = [str(s) for s in _as_list(spellings)] + values[field_name][str(canonical)]
        formats = {k: list(v) for k, v in self.timestamp_formats.items()}
        for kind, layouts in (data.get("timestamp_formats") or {}).items():
            if kind not in formats:
                raise InputError("error.mapping_timestamps", path=path, name=kind)
            formats[kind] = [str(s) for s in _as_list(layouts)] + formats[kind]
        return Aliases(columns, values, formats)

    def value_map(self, field_name: str) -> dict[str, str]:
        """Lower-cased spelling -> canonical value."""
        mapping: dict[str, str] = {}
        for canonical, spellings in self.values[field_name].items():
            for spelling in [canonical, *spellings]:
                mapping.setdefault(_header_key(str(spelling)), canonical)
        return mapping


def shipped_profiles() -> list[str]:
    folder = resources.files("cservice_audit").joinpath("profiles")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def profile_path(name: str) -> Path:
    """The file of a shipped export profile (`--profile NAME`)."""
    if name not in shipped_profiles():
        raise InputError("error.unknown_profile", name=name, known=listed(shipped_profiles()))
    return Path(str(resources.files("cservice_audit").joinpath(f"profiles/{name}.yaml")))


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _header_key(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def resolve_columns(table: RawTable, aliases: Aliases) -> dict[str, str]:
    """Canonical column -> the export's header for it. A missing required column is an error,
    which names the shipped profile that reads the export, when one does."""
    headers = [c for c in table.frame.collect_schema().names() if c != "_record"]
    found = _columns_found(headers, aliases)
    if table.kind == "jsonl" and not headers:
        return found  # every line was rejected; nothing to map
    for canonical in REQUIRED:
        if canonical == "role" and table.default_role is not None:
            continue
        if canonical not in found:
            if any("\ufffd" in h for h in headers):
                # The header did not decode (a GBK export read with --encoding utf-8): said so,
                # as for a data row, not as a column the export lacks.
                raise InputError("error.header_encoding", path=table.source, encoding=table.encoding, hint=encoding_hint(table.encoding))
            tried = listed(aliases.columns[canonical])
            profile = _profile_reading(headers, table)
            if profile is not None:
                raise InputError("error.missing_column_profile", path=table.source, name=canonical, profile=profile)
            raise InputError("error.missing_column", path=table.source, name=canonical, tried=tried)
    return found


def _profile_reading(headers: list[str], table: RawTable) -> str | None:
    """The first shipped profile under which every required column of `headers` is found and
    the column it takes for the role holds roles (a back office's 发送人 saying 买家/客服 is
    `backoffice-zh`'s; a 发送人 of account names beside a 身份 column is `speaker-columns`'s):
    the error then names it. Only on the way to that error, so reading a sample costs nothing
    on a good run."""
    for name in shipped_profiles():
        aliases = Aliases.shipped().with_mapping(profile_path(name))
        found = _columns_found(headers, aliases)
        if not all(c in found or (c == "role" and table.default_role is not None) for c in REQUIRED):
            continue
        if "role" in found:
            spellings = {v.casefold() for canon, names in aliases.values["role"].items() for v in [canon, *names]}
            sample = [str(v).strip().casefold() for v in table.frame.select(found["role"]).head(200).collect().to_series() if v is not None and str(v).strip()]
            if not sample or sum(v in spellings for v in sample) < 0.8 * len(sample):
                continue
        return name
    return None


def _columns_found(headers: list[str], aliases: Aliases) -> dict[str, str]:
    """Canonical column -> the first header that spells it (each header used once)."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_header_key(header), header)
    found: dict[str, str] = {}
    for canonical in CANONICAL:
        for spelling in aliases.columns.get(canonical, []):
            header = by_key.get(_header_key(spelling))
            if header is not None and header not in found.values():
                found[canonical] = header
                break
    return found


def _canonical_strings(table: RawTable, aliases: Aliases) -> pl.LazyFrame:
    """The export's columns renamed to canonical names, still raw strings."""
    found = resolve_columns(table, aliases)
    missing = {"role": table.default_role}
    columns = [
        (pl.col(found[name]) if name in found else pl.lit(missing.get(name), dtype=pl.String)).alias(name)
        for name in CANONICAL
    ]
    headers = [c for c in table.frame.collect_schema().names() if c != "_record"]
    return table.frame.select(
        *columns,
        pl.lit(table.source).alias("_source"),
        pl.col("_record").cast(pl.UInt32),
        # A blank line (or a row of empty cells, as spreadsheets leave at the end) is skipped
        # and counted, not rejected: a file of blank lines must not become a finding per line.
        pl.all_horizontal([pl.col(h).is_null() for h in headers] or [pl.lit(False)]).alias("_blank"),
    )


def parse_timestamps(frame: pl.LazyFrame, column: str, *, tz: str, naive_tz: str, formats: dict[str, list[str]]) -> pl.LazyFrame:
    """Add `_ts`: `column` parsed into tz-aware datetimes in `tz`; null where no layout fits.

    Epoch seconds and milliseconds (9 to 13 digits, told apart by magnitude) are UTC instants; values with an
    offset are converted; naive values are read in `naive_tz` (the ruleset's zone unless
    --input-tz says otherwise).

    Speed: a failed parse attempt costs as much as a successful one, so the first naive
    layout is tried on everything and the others only see the values it could not read
    (the rest are null, which costs nothing). Each step is its own column so polars
    computes it once (nested when/then chains recompute shared parts).
    """
    first, *other_naive = formats["naive"]
    text = pl.col("_ts_text")
    iso = pl.col("_ts_rest").str.replace_all("/", "-", literal=True)
    iso = iso.str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})T", "$1 ").str.replace(r"Z$", "+00:00")
    epoch = pl.col("_ts_rest").cast(pl.Float64, strict=False)
    # Seconds or milliseconds, by magnitude: seconds up to the last second of year 9999, ms
    # above (ms of any year from 2000 on are above it; values between are years 1978-1999 in
    # ms, rejected as before 2000 either way). docs/inputs.md "Epoch timestamps".
    epoch_ms = pl.when(epoch >= EPOCH_SECONDS_BELOW).then(epoch).otherwise(epoch * 1000).round(0).cast(pl.Int64)
    is_epoch = pl.col("_ts_rest").str.contains(r"^\d{9,13}(\.\d+)?$")
    # Excel stores times as days since 1899-12-30 (e.g. 46348.3354): a CSV saved from Excel
    # can carry that serial number instead of a date.
    is_serial = pl.col("_ts_rest").str.contains(r"^\d{5}(\.\d+)?$")
    serial = (
        pl.lit(datetime(1899, 12, 30)).dt.cast_time_unit("ms")
        + pl.duration(milliseconds=(pl.col("_ts_rest").cast(pl.Float64, strict=False) * 86_400_000).round(0).cast(pl.Int64))
    ).dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    naive = pl.coalesce(
        pl.col("_ts_common"), *[pl.col("_ts_iso").str.to_datetime(f, strict=False, time_unit="ms") for f in other_naive]
    ).dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null")
    with_offset = [pl.col("_ts_iso").str.to_datetime(f, strict=False, time_unit="ms").dt.convert_time_zone("UTC") for f in formats["with_offset"]]
    return (
        frame.with_columns(pl.col(column).str.strip_chars().alias("_ts_text"))
        .with_columns(text.str.to_datetime(first, strict=False, time_unit="ms").alias("_ts_common"))
        .with_columns(pl.when(pl.col("_ts_common").is_null()).then(text).alias("_ts_rest"))
        .with_columns(iso.alias("_ts_iso"))
        .with_columns(
            pl.when(is_epoch)
            .then(pl.from_epoch(epoch_ms, time_unit="ms").dt.replace_time_zone("UTC"))
            .when(is_serial)
            .then(serial)
            .otherwise(pl.coalesce(*with_offset, naive.dt.convert_time_zone("UTC")))
            .dt.convert_time_zone(tz)
            .alias("_ts")
        )
        .drop("_ts_text", "_ts_common", "_ts_rest", "_ts_iso")
    )


def _mapped(column: str, mapping: dict[str, str]) -> pl.Expr:
    return (
        pl.col(column)
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.String)
    )


def _time_only(column: str) -> pl.Expr:
    """A time of day without its date: `10:01:00` in a CSV, or an Excel cell formatted as a
    time, which calamine reads on Excel's day zero (`1899-12-31 10:01:00`; `1904-01-01` in a
    workbook on the 1904 date system, Excel for Mac's and Numbers'). Said apart from an
    unparseable or pre-2000 timestamp so the fix (export the date too) is in the reason."""
    return pl.col(column).str.strip_chars().str.contains(r"^(1899-12-3[01][ T]|1904-01-01[ T])?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _shown(column: str) -> pl.Expr:
    """A raw value as quoted in a rejection reason: at most 80 characters (one huge bad cell
    must not flood the report; the whole row is in --rejects)."""
    value = pl.col(column).fill_null("")
    return pl.when(value.str.len_chars() > 80).then(value.str.slice(0, 80) + "…").otherwise(value)


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")


@dataclass
class Normalized:
    """The canonical events (lazy, duplicates flagged) and the rows that could not be
    normalized."""

    events: pl.LazyFrame
    rejects: pl.LazyFrame  # canonical raw strings + _source, _record, problem, problem_zh (the first rejects_kept)
    # Per file (_source): rows_blank (skipped blank lines) and rows_rejected (all of them).
    counts: pl.LazyFrame | None = None


def normalize(
    tables: list[RawTable],
    aliases: Aliases,
    *,
    tz: str,
    input_tz: str | None = None,
    latest: datetime | None = None,
    order_offset: int = 0,
) -> Normalized:
    """Map, parse and validate every table into one canonical event table.

    `order_offset`: the input position (`_order`) of the first row, when the tables are a
    slice of a bigger input normalized piece by piece (spill.write).

    A timestamp before 2000 or after `latest` (the run's own time plus a day's slack) is
    rejected: one such row would otherwise move the as-of day, and every period, silently.
    """
    frames = [_canonical_strings(t, aliases) for t in tables if t.frame.collect_schema().names() != ["_record"]]
    if frames:
        raw = pl.concat(frames, how="vertical")
    else:
        raw = pl.LazyFrame(
            schema={**{c: pl.String for c in CANONICAL}, "_source": pl.String, "_record": pl.UInt32, "_blank": pl.Boolean}
        )
    # The events, the rejects and the counts are three plans over the same scan and parse,
    # collected together (collect_all); without the two `cache` nodes each plan scanned and
    # parsed the input again (2 M rows: 7.1 s CPU for the three, 3.5 s for the events alone;
    # with them 3.9 s, and the 2 M-row audit's peak 1.34 -> 1.23 GB).
    whole = raw = raw.cache()
    raw = raw.filter(~pl.col("_blank")).drop("_blank").with_row_index("_order", offset=order_offset)

    role = _mapped("role", aliases.value_map("role"))
    spam = _mapped("spam", aliases.value_map("spam"))
    rating = _mapped("rating", aliases.value_map("rating"))
    served_by = _mapped("served_by", aliases.value_map("served_by"))
    # Compared as epoch milliseconds: the same instant whatever the zones involved.
    too_late = (
        pl.col("_ts").dt.epoch("ms") > int((latest + timedelta(days=1)).timestamp() * 1000)
        if latest is not None
        else pl.lit(False)
    )
    parsed = parse_timestamps(raw, "ts", tz=tz, naive_tz=input_tz or tz, formats=aliases.timestamp_formats)
    parsed = parsed.with_columns(
        role.alias("_role"),
        spam.alias("_spam"),
        rating.alias("_rating"),
        served_by.alias("_served_by"),
    )
    def reason(lang: str) -> pl.Expr:
        """Why a row is rejected, in `lang` (catalogue `reject.*`): the first test it fails."""

        def say(key: str, column: str | None = None) -> pl.Expr:
            return text_expr(f"reject.{key}", lang, value=_shown(column)) if column else pl.lit(t(f"reject.{key}", lang))

        return (
            pl.when(_blank("ts")).then(say("missing_ts"))
            .when(_time_only("ts")).then(say("ts_time_only", "ts"))
            .when(pl.col("_ts").is_null()).then(say("bad_ts", "ts"))
            .when(pl.col("_ts").dt.year() < EARLIEST_YEAR).then(say("ts_before_2000", "ts"))
            .when(too_late).then(say("ts_future", "ts"))
            .when(_blank("role")).then(say("missing_role"))
            .when(pl.col("_role").is_null()).then(say("unknown_role", "role"))
            .when(_blank("buyer")).then(say("missing_buyer"))
            .when((pl.col("_role") == "agent") & _blank("agent")).then(say("agent_message_without_agent"))
            .when((pl.col("_role") == "review") & _blank("agent")).then(say("review_without_agent"))
            .when((pl.col("_role") == "review") & pl.col("_rating").is_null()).then(say("unknown_rating", "rating"))
            .when(~_blank("spam") & pl.col("_spam").is_null()).then(say("unknown_spam", "spam"))
            .when(~_blank("served_by") & pl.col("_served_by").is_null()).then(say("unknown_served_by", "served_by"))
            .otherwise(None)
        )  # fmt: skip

    # The same tests as `reason`, as one boolean: when/then evaluates every branch on every
    # row, so the reason text (ten formatted strings) is built only for rejected rows.
    rejected = (
        _blank("ts") | pl.col("_ts").is_null() | (pl.col("_ts").dt.year() < EARLIEST_YEAR) | too_late
        | _blank("role") | pl.col("_role").is_null() | _blank("buyer")
        | ((pl.col("_role") == "agent") & _blank("agent"))
        | ((pl.col("_role") == "review") & (_blank("agent") | pl.col("_rating").is_null()))
        | (~_blank("spam") & pl.col("_spam").is_null())
        | (~_blank("served_by") & pl.col("_served_by").is_null())
    ).fill_null(False)  # fmt: skip  (as when/then reads a null test: not taken)
    parsed = parsed.with_columns(rejected.alias("_rejected")).cache()  # shared: see `whole`

    rejected = parsed.filter(pl.col("_rejected"))
    # Only the first `rejects_kept` rejected rows are kept whole (findings, --rejects); every
    # one is counted, per file, with the blank lines skipped.
    # The reason in English (`problem`: --rejects, JSON) and in Chinese for the human formats.
    rejects = rejected.select(*CANONICAL, "_source", "_record", reason("en").alias("problem"), reason("zh").alias("problem_zh")).head(
        limits.current().rejects_kept
    )
    counts = (
        whole.group_by("_source")
        .agg(pl.col("_blank").sum().cast(pl.Int64).alias("rows_blank"))
        .join(rejected.group_by("_source").agg(pl.len().cast(pl.Int64).alias("rows_rejected")), on="_source", how="left")
        .with_columns(pl.col("rows_rejected").fill_null(0))
    )
    shop = pl.when(_blank("shop")).then(pl.lit(DEFAULT_SHOP)).otherwise(pl.col("shop").str.strip_chars())
    agent = (
        pl.when(~_blank("agent")).then(pl.col("agent").str.strip_chars())
        .when(pl.col("_role") == "bot").then(pl.lit(BOT_WITHOUT_ACCOUNT))
        .otherwise(None)
    )  # fmt: skip
    events = parsed.filter(~pl.col("_rejected")).select(
        pl.col("_ts").alias("ts"),
        pl.col("_ts").dt.date().alias("day"),
        # Local time of day in seconds, computed once: every rule's window reads it.
        (pl.col("_ts").dt.hour().cast(pl.Int32) * 3600 + pl.col("_ts").dt.minute().cast(pl.Int32) * 60 + pl.col("_ts").dt.second().cast(pl.Int32)).alias("tod"),
        shop.alias("shop"),
        pl.col("buyer").str.strip_chars(),
        pl.when(_blank("conversation")).then(None).otherwise(pl.col("conversation").str.strip_chars()).alias("conversation"),
        pl.col("_role").alias("role"),
        agent.alias("agent"),
        pl.col("text"),
        pl.col("_spam").fill_null("false").eq("true").alias("spam"),
        pl.col("_rating").alias("rating"),
        pl.when(_blank("reason")).then(None).otherwise(pl.col("reason")).alias("reason"),
        pl.col("_served_by").fill_null("human").alias("served_by"),
        pl.when(_blank("message_id")).then(None).otherwise(pl.col("message_id").str.strip_chars()).alias("message_id"),
        "_source",
        "_record",
        pl.col("_order").cast(pl.UInt32),
    )
    return Normalized(events=mark_duplicates(events), rejects=rejects, counts=counts)


def duplicate_key() -> pl.Expr:
    """What makes two rows the same message: the shop and message id, or (rows without an
    id) the shop and everything else. Shared with spill.duplicates, which must agree."""
    no_id = pl.col("message_id").is_null()
    content = ["ts", "buyer", "conversation", "role", "agent", "text", "spam", "rating", "reason", "served_by"]
    return pl.struct(
        pl.col("shop"),
        pl.col("message_id"),
        *[pl.when(no_id).then(pl.col(c)).alias(c) for c in content],
    )


def mark_duplicates(events: pl.LazyFrame) -> pl.LazyFrame:
    """Flag (`_duplicate`) all but the first of rows with the same message id (per shop), or
    the same everything. They are counted per file before they leave."""
    return events.with_columns((~duplicate_key().is_first_distinct()).alias("_duplicate"))


WAIT_BOUND = 86_400  # seconds a session stays open for a buyer waiting for a person
NO_DAY = date(1970, 1, 1)  # `sessions`: no buyer waiting (a day no chat has)


def sessions(events: pl.LazyFrame, session_gap: float, opens: int | None = None) -> pl.LazyFrame:
    """(_order, _session): each event's session within its shop and buyer, named by its start
    (`20261122-1323`), a new one after a silence longer than `session_gap` seconds (but for a
    reply to a buyer waiting, up to WAIT_BOUND and, with `opens` (the ruleset's service day
    opening, seconds after midnight), before the next day's opening). From the key columns only, sorted once and
    scanned linearly (windows keyed by shop and buyer strings, over every column, cost
    several times more), joined back by input order."""
    same = ((pl.col("shop") == pl.col("shop").shift(1)) & (pl.col("buyer") == pl.col("buyer").shift(1))).fill_null(False)
    # Silence is between the people in it: a system notice or a review row starts nothing and
    # breaks no silence (a transfer notice at 14:11 made a reply at 14:11:30 a session of its own).
    speaker = pl.col("role").is_in(["buyer", "agent", "bot"])
    spoke_at = pl.when(speaker | ~same).then(pl.col("ts")).forward_fill()
    silence = (pl.col("ts") - spoke_at.shift(1)) > timedelta(seconds=session_gap)
    # A session does not end while its buyer waits for a person: after the buyer's message
    # (the last of buyer and agent; a robot's greeting answers nobody on a human-only rule),
    # a late reply, or the buyer writing again, stays in the buyer's session. The late reply
    # is counted late and for the agent who gave it, not as an unanswered turn of nobody's
    # and a "conversation" opened by the agent.
    # Up to a day: a buyer who wrote on Monday and came back on Thursday opened a new
    # session; kept open, the first reply of Thursday became a three-day wait in JD-A1's mean
    # (which counts answered turns only), and every agent of the week was at risk for one
    # such buyer. A day is the platforms' own bound on a wait (PDD-N1's 24-hour clause).
    last_person = pl.when(pl.col("role").is_in(["buyer", "agent"])).then(pl.col("role")).when(~same).then(pl.lit("")).forward_fill()
    waiting = (last_person.shift(1) == "buyer").fill_null(False) & ((pl.col("ts") - spoke_at.shift(1)) <= timedelta(seconds=WAIT_BOUND))
    if opens is not None:
        # Not across the night either (2026-12-07, a newcomer's JD week): the nightly export of a
        # day ends at 02:30 and never held the next morning, so a week's audit kept open what
        # the nights had closed. A buyer unanswered at 13:37 who greeted the 09:57 shift the next
        # day made its 5-second reply a 20-hour wait in JD-A1's mean, in the week only. So,
        # counted from the day the buyer started waiting (the first message after a person's
        # reply, not a later follow-up):
        # - the buyer writing again on a later day starts a new session (as the next night's
        #   export starts with it), the unanswered question its own day's failure;
        # - a reply stays in the session until the next day's service opens (`opens`, 09:00 on
        #   JD): a 22:50 question answered at 00:20 is late and its agent's.
        buyer = pl.col("role") == "buyer"
        new_day = (pl.col("day") != pl.when(speaker | ~same).then(pl.col("day")).forward_fill().shift(1)).fill_null(True)
        opens_wait = buyer & (~same | (last_person.shift(1) != "buyer").fill_null(True) | new_day)
        answered = (pl.col("role") == "agent") | ~same
        asked_day = pl.when(opens_wait).then(pl.col("day")).when(answered).then(pl.lit(NO_DAY)).forward_fill().shift(1)
        next_day = asked_day + timedelta(days=1)
        before_opening = (pl.col("day") < next_day) | ((pl.col("day") == next_day) & (pl.col("tod") < opens))
        waiting = waiting & pl.when(buyer).then(~new_day).otherwise(before_opening).fill_null(False)
    starts = ~same | (speaker & silence & ~waiting)
    # Named by when it starts, in local time to the minute (sessions start 10 minutes apart
    # at least): the same in a day's export and a week's, where a number (#1, #2, …) counted
    # the buyer's sessions of that export and `show ID` on another export opened another chat.
    start = pl.when(starts).then(pl.col("ts")).forward_fill().dt.strftime("%Y%m%d-%H%M")
    # A suspected-spam buyer message starts and answers nothing (spec §3): like a notice, it
    # neither breaks a silence nor keeps a buyer's session open (a spam row 9 minutes after a
    # reply made the real question at 18 minutes no session's first consultation).
    role = pl.when((pl.col("role") == "buyer") & pl.col("spam")).then(pl.lit("system")).otherwise(pl.col("role"))
    return (
        events.select("shop", "buyer", "ts", role.alias("role"), "_order", "day", "tod")
        .sort("shop", "buyer", "ts", "_order")
        .select("_order", start.alias("_session"))
    )


def assign_conversations(events: pl.LazyFrame, session_gap: float | None, opens: int | None = None) -> pl.LazyFrame:
    """Fill in conversations the export does not give: shop + buyer, split at silences.

    With `session_gap` (seconds), a silence longer than it between two events of the same
    shop and buyer starts a new conversation (JD's 10-minute session rule), named by its
    start: `shop/buyer#20261122-1323`; `opens` as for `sessions`. A conversation
    id given by the export is the platform's own session and is kept as it is.
    """
    base = format_text("{}/{}", pl.col("shop"), pl.col("buyer"))
    if session_gap is None:
        derived = base
    else:
        if "_session" not in events.collect_schema().names():  # spill.with_sessions brings its own
            events = events.join(sessions(events, session_gap, opens), on="_order", how="left", maintain_order="left")
        derived = format_text("{}#{}", base, pl.col("_session"))
    events = events.with_columns(
        pl.when(pl.col("conversation").is_null()).then(derived).otherwise(pl.col("conversation")).alias("conversation")
    )
    return events if session_gap is None else events.drop("_session")
