"""The seeded export generator: determinism, the situations it must contain, and its writers."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta
from importlib import resources

import polars as pl
import pytest
import yaml

from cservice_audit.errors import AuditError
from cservice_audit.generate import (
    BOT_AGENT,
    COLUMNS,
    ZH_HEADERS,
    ZH_RATINGS,
    ZH_ROLES,
    ZH_SERVED_BY,
    ZH_SPAM,
    Profile,
    generate_events,
    write_export,
)

START = date(2026, 11, 22)
PROFILE = Profile(rows=2000, seed=7, start=START, days=2)
RATINGS = {"satisfied", "neutral", "disappointed"}


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return generate_events(PROFILE)


@pytest.fixture(scope="module")
def events(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with parsed times and a boolean spam flag, for the checks below."""
    return frame.with_columns(t=pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S"), is_spam=pl.col("spam") == "true")


def test_same_seed_same_frame_and_other_seed_differs(frame: pl.DataFrame) -> None:
    assert generate_events(PROFILE).equals(frame)
    other = generate_events(Profile(rows=2000, seed=8, start=START, days=2))
    assert not other.equals(frame)


def test_columns_are_strings_in_canonical_order(frame: pl.DataFrame) -> None:
    assert tuple(frame.columns) == COLUMNS
    assert all(dtype == pl.String for dtype in frame.dtypes)


@pytest.mark.parametrize("rows", [2000, 5000])
def test_row_count_near_requested(rows: int) -> None:
    height = generate_events(Profile(rows=rows, seed=3, start=START, days=3)).height
    assert abs(height - rows) <= rows * 0.05


def test_zero_rows_gives_empty_frame_with_columns() -> None:
    empty = generate_events(Profile(rows=0, seed=1, start=START, days=1))
    assert empty.height == 0 and tuple(empty.columns) == COLUMNS


def test_bad_profile_is_an_audit_error() -> None:
    with pytest.raises(AuditError, match="days"):
        generate_events(Profile(rows=10, seed=1, start=START, days=0))


def test_identifiers_and_time_range(frame: pl.DataFrame, events: pl.DataFrame) -> None:
    assert frame.get_column("message_id").n_unique() == frame.height
    assert frame.get_column("shop").unique().to_list() == [PROFILE.shop]
    assert frame.get_column("buyer").str.contains(r"^buyer_\d{5,}$").all()
    assert frame.get_column("conversation").str.contains(rf"^{PROFILE.shop}-2026112[23]-\d{{6}}$").all()
    # Every event lies inside the profile's days, and the frame is sorted by time.
    assert events.get_column("t").min() >= datetime(2026, 11, 22)
    assert events.get_column("t").max() < datetime(2026, 11, 22) + timedelta(days=2)
    assert events.get_column("t").is_sorted()


def test_times_strictly_increase_within_each_conversation(events: pl.DataFrame) -> None:
    steps = events.select(step=pl.col("t").diff().over("conversation")).drop_nulls()
    assert steps.height > 0
    assert (steps.get_column("step") > timedelta(0)).all()


def test_every_role_with_the_right_agent_column(frame: pl.DataFrame) -> None:
    assert set(frame.get_column("role").unique()) == {"buyer", "agent", "bot", "system", "review"}
    by_role = {role: group.get_column("agent") for (role,), group in frame.group_by("role")}
    assert by_role["buyer"].is_null().all() and by_role["system"].is_null().all()
    assert (by_role["bot"] == BOT_AGENT).all()
    assert set(by_role["agent"].unique()) == set(PROFILE.agents)  # every agent works
    assert set(by_role["review"].unique()) <= {*PROFILE.agents, BOT_AGENT}


def test_review_columns_only_on_review_rows(frame: pl.DataFrame) -> None:
    others = frame.filter(pl.col("role") != "review")
    assert others.select(pl.col("rating", "reason", "served_by").is_null().all()).row(0) == (True, True, True)
    reviews = frame.filter(pl.col("role") == "review")
    assert reviews.height > 0
    assert reviews.get_column("text").is_null().all() and (reviews.get_column("spam") == "false").all()


def test_spam_is_buyer_only_and_never_answered(events: pl.DataFrame) -> None:
    spam = events.filter(pl.col("is_spam"))
    assert spam.height > 0
    assert spam.height / events.filter(pl.col("role") == "buyer").height < 0.10  # a few %, not a flood
    assert set(spam.get_column("role")) == {"buyer"}
    spam_conversations = spam.get_column("conversation").unique().implode()
    answered = events.filter(pl.col("conversation").is_in(spam_conversations) & (pl.col("role") != "buyer"))
    assert answered.height == 0


def test_some_conversations_end_on_an_unanswered_buyer_turn(events: pl.DataFrame) -> None:
    talk = events.filter(pl.col("role").is_in(["buyer", "agent"]) & ~pl.col("is_spam"))
    last = talk.group_by("conversation").agg(pl.col("role").last())
    share = (last.get_column("role") == "buyer").mean()
    assert 0 < share < 0.15


def test_night_messages_and_2250_messages_answered_after_2300(events: pl.DataFrame) -> None:
    buyer = events.filter((pl.col("role") == "buyer") & ~pl.col("is_spam"))
    hour = pl.col("t").dt.hour()
    # Conversations that start at night, not only evening ones running past 23:00.
    openers = buyer.group_by("conversation").agg(pl.col("t").first())
    assert openers.filter((hour >= 23) | (hour < 8)).height > 0
    # A buyer message at 22:5x whose next human reply in the conversation comes at or after 23:00.
    replies = events.with_columns(
        reply_t=pl.when(pl.col("role") == "agent").then(pl.col("t")).backward_fill().over("conversation")
    )
    edge = replies.filter(
        (pl.col("role") == "buyer")
        & ~pl.col("is_spam")
        & (hour == 22)
        & (pl.col("t").dt.minute() >= 50)
        & (pl.col("reply_t").dt.hour() == 23)
        & (pl.col("reply_t").dt.date() == pl.col("t").dt.date())
    )
    assert edge.height > 0


def test_robot_answers_before_the_human(events: pl.DataFrame) -> None:
    # Some bot row comes right after a buyer row and before the next human reply.
    ordered = events.filter(~pl.col("is_spam") & (pl.col("role") != "system"))
    pairs = ordered.with_columns(
        before=pl.col("role").shift(1).over("conversation"),
        after=pl.col("role").shift(-1).over("conversation"),
    )
    assert pairs.filter((pl.col("role") == "bot") & (pl.col("before") == "buyer") & (pl.col("after") == "agent")).height > 0


def test_multi_message_turns(events: pl.DataFrame) -> None:
    buyer_runs = events.filter(~pl.col("is_spam") & pl.col("role").is_in(["buyer", "agent"])).with_columns(
        before=pl.col("role").shift(1).over("conversation")
    )
    assert buyer_runs.filter((pl.col("role") == "buyer") & (pl.col("before") == "buyer")).height > 0


def test_a_transfer_puts_two_agents_in_one_conversation(frame: pl.DataFrame) -> None:
    agents = frame.filter(pl.col("role") == "agent").group_by("conversation").agg(pl.col("agent").n_unique().alias("n"))
    assert agents.filter(pl.col("n") >= 2).height > 0


def test_agent_habits_differ(events: pl.DataFrame) -> None:
    # Wait of each turn (first buyer message after a human reply) until the next human reply.
    talk = events.filter(pl.col("role").is_in(["buyer", "agent"]) & ~pl.col("is_spam")).with_columns(
        before=pl.col("role").shift(1).over("conversation"),
        reply_t=pl.when(pl.col("role") == "agent").then(pl.col("t")).backward_fill().over("conversation"),
        reply_agent=pl.when(pl.col("role") == "agent").then(pl.col("agent")).backward_fill().over("conversation"),
    )
    turns = talk.filter((pl.col("role") == "buyer") & (pl.col("before").is_null() | (pl.col("before") == "agent")))
    turns = turns.filter(pl.col("t").dt.hour().is_between(9, 21))  # daytime, no night shifts
    median = dict(
        turns.group_by("reply_agent")
        .agg(pl.col("reply_t").sub(pl.col("t")).dt.total_seconds().median().alias("m"))
        .drop_nulls()
        .iter_rows()
    )
    fast, slow = PROFILE.agents[0], PROFILE.agents[2]
    assert median[fast] <= 60
    assert median[slow] > 3 * median[fast]


def test_zh_csv_headers_and_values_match_aliases(frame: pl.DataFrame, tmp_path) -> None:
    path = tmp_path / "export.csv"
    write_export(frame, path, headers="zh")
    back = pl.read_csv(path, infer_schema=False)
    assert back.columns == [ZH_HEADERS[c] for c in COLUMNS]
    assert set(back.get_column("发送方")) == {"买家", "客服", "机器人", "系统", "评价"}
    assert set(back.get_column("疑似骚扰")) == {"是", "否"}
    assert set(back.get_column("评价结果").drop_nulls()) == {"满意", "一般", "失望"}
    assert set(back.get_column("接待方式").drop_nulls()) <= {"人工", "机器人"}
    assert back.get_column("消息内容").equals(frame.get_column("text"), check_names=False)
    assert back.get_column("评价原因").equals(frame.get_column("reason"), check_names=False)

    # Every spelling written must be one the loader knows for that field.
    aliases = yaml.safe_load(resources.files("cservice_audit").joinpath("data/aliases.yaml").read_text("utf-8"))
    for canonical, header in ZH_HEADERS.items():
        assert header in aliases["columns"][canonical]
    for canonical, value in ZH_ROLES.items():
        assert value in aliases["values"]["role"][canonical]
    for canonical, value in ZH_SPAM.items():
        assert value in aliases["values"]["spam"][canonical]
    for canonical, value in ZH_RATINGS.items():
        assert value in aliases["values"]["rating"][canonical]
    for canonical, value in ZH_SERVED_BY.items():
        assert value in aliases["values"]["served_by"][canonical]
    assert set(ZH_RATINGS) == RATINGS and set(ZH_SERVED_BY) == {"human", "bot"}


def test_en_csv_round_trip(frame: pl.DataFrame, tmp_path) -> None:
    path = tmp_path / "export.csv.gz"
    write_export(frame, path, headers="en")
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    back = pl.read_csv(gzip.decompress(path.read_bytes()), infer_schema=False)
    assert back.equals(frame)


def test_jsonl_gz_round_trip(frame: pl.DataFrame, tmp_path) -> None:
    path = tmp_path / "export.jsonl.gz"
    write_export(frame, path, headers="en")
    data = path.read_bytes()
    assert data[:2] == b"\x1f\x8b"
    back = pl.read_ndjson(gzip.decompress(data), schema={c: pl.String for c in COLUMNS})
    assert back.equals(frame)


def test_written_files_normalize_without_rejects(frame: pl.DataFrame, tmp_path) -> None:
    from cservice_audit.load import load
    from cservice_audit.normalize import Aliases, normalize

    zh, en = tmp_path / "zh.csv", tmp_path / "en.jsonl.gz"
    write_export(frame, zh, headers="zh")
    write_export(frame, en, headers="en")
    for path in (zh, en):
        result = normalize(load([str(path)]), Aliases.shipped(), tz="Asia/Shanghai")
        events, rejects = pl.collect_all([result.events, result.rejects])
        assert rejects.height == 0
        assert events.height == frame.height
        assert events.get_column("role").value_counts().sort("role").equals(
            frame.get_column("role").value_counts().sort("role")
        )
        assert events.get_column("spam").sum() == (frame.get_column("spam") == "true").sum()
        # Review rows come back as role review with canonical ratings, the rated agent and served_by.
        reviews = events.filter(pl.col("role") == "review").sort("message_id")
        expected = frame.filter(pl.col("role") == "review").sort("message_id")
        assert reviews.height == expected.height > 0
        for column in ("agent", "rating", "reason", "served_by", "message_id"):
            assert reviews.get_column(column).equals(expected.get_column(column)), column


@pytest.mark.parametrize("name", ["export.parquet", "export", "export.gz", "export.xlsx.gz"])
def test_unsupported_suffix_is_an_audit_error(frame: pl.DataFrame, tmp_path, name: str) -> None:
    with pytest.raises(AuditError, match="format"):
        write_export(frame.head(3), tmp_path / name, headers="en")
    assert not (tmp_path / name).exists()


def test_unknown_headers_is_an_audit_error(frame: pl.DataFrame, tmp_path) -> None:
    with pytest.raises(AuditError, match="headers"):
        write_export(frame.head(3), tmp_path / "x.csv", headers="fr")


# --------------------------------------------------------------------------- reviews


@pytest.fixture(scope="module")
def rated() -> pl.DataFrame:
    """Every answered conversation reviewed, enough of them to see each agent's habit."""
    return generate_events(Profile(rows=30_000, seed=11, start=START, days=3, review_rate=1.0))


def test_reviews_exist_with_a_rating_and_an_agent(frame: pl.DataFrame) -> None:
    reviews = frame.filter(pl.col("role") == "review")
    conversations = frame.filter(pl.col("spam") == "false").get_column("conversation").n_unique()
    assert 0.15 * conversations < reviews.height < 0.5 * conversations  # about review_rate of them
    assert set(reviews.get_column("rating")) == RATINGS
    assert reviews.get_column("agent").is_not_null().all()
    served_by = set(reviews.get_column("served_by"))
    assert "human" in served_by and served_by <= {"human", "bot"}  # robot-only ones: see below
    assert reviews.get_column("conversation").is_unique().all()  # at most one per conversation


def test_review_is_the_last_row_and_rates_the_last_responder(rated: pl.DataFrame) -> None:
    last = rated.group_by("conversation", maintain_order=True).agg(
        pl.col("role").last().alias("last_role"),
        pl.col("agent").filter(pl.col("role") == "agent").last().alias("last_human"),
        pl.col("role").is_in(["bot"]).any().alias("bot_spoke"),
        pl.col("agent").filter(pl.col("role") == "review").first().alias("rated"),
        pl.col("served_by").filter(pl.col("role") == "review").first(),
        (pl.col("role") == "review").sum().alias("n"),
    )
    reviewed = last.filter(pl.col("n") > 0)
    assert (reviewed.get_column("n") == 1).all() and (reviewed.get_column("last_role") == "review").all()
    human = reviewed.filter(pl.col("last_human").is_not_null())
    assert (human.get_column("rated") == human.get_column("last_human")).all()
    assert (human.get_column("served_by") == "human").all()
    robot_only = reviewed.filter(pl.col("last_human").is_null())
    assert robot_only.height > 0
    assert robot_only.get_column("bot_spoke").all()
    assert (robot_only.get_column("rated") == BOT_AGENT).all()
    assert (robot_only.get_column("served_by") == "bot").all()
    # With review_rate 1 every conversation someone answered is reviewed, and no other (on the
    # first day: later reviews may fall past the export's end and are left out with it).
    first_day = last.filter(pl.col("conversation").str.contains("-20261122-"))
    answered = first_day.filter(pl.col("last_human").is_not_null() | pl.col("bot_spoke"))
    assert answered.height > 0
    assert answered.get_column("conversation").equals(
        first_day.filter(pl.col("n") > 0).get_column("conversation")
    )


def test_spam_conversations_are_never_reviewed(rated: pl.DataFrame) -> None:
    spam = rated.filter(pl.col("spam") == "true").get_column("conversation").unique().implode()
    assert rated.filter(pl.col("conversation").is_in(spam) & (pl.col("role") == "review")).height == 0


def test_some_reviews_fall_outside_the_daytime_window(events: pl.DataFrame) -> None:
    reviews = events.filter(pl.col("role") == "review")
    hour = pl.col("t").dt.hour()
    outside = reviews.filter((hour >= 23) | (hour < 8))
    assert 0 < outside.height < reviews.height / 2
    # Some are written the day after the conversation started (the id carries its day).
    started = pl.col("conversation").str.extract(r"-(\d{8})-\d{6}$").str.to_date("%Y%m%d")
    assert reviews.filter(pl.col("t").dt.date() > started).height > 0


def test_review_reasons(rated: pl.DataFrame) -> None:
    reviews = rated.filter(pl.col("role") == "review")
    unhappy = reviews.filter(pl.col("rating") != "satisfied")
    assert unhappy.get_column("reason").is_not_null().all()
    reasons = unhappy.get_column("reason").value_counts(sort=True)
    assert {"服务态度差", "回复太慢", "没有解决问题", "物流太慢", "商品质量问题"} <= set(reasons.get_column("reason"))
    attitude = (unhappy.get_column("reason") == "服务态度差").mean()
    assert 0.06 < attitude < 0.5  # enough for the 服务态度差比例 rule (at most 6%) to find
    happy = reviews.filter(pl.col("rating") == "satisfied")
    assert 0 < happy.get_column("reason").is_not_null().mean() < 0.25  # mostly no reason
    assert "服务态度差" not in set(happy.get_column("reason").drop_nulls())


def test_ratings_follow_agent_habits(rated: pl.DataFrame) -> None:
    by_agent = dict(
        rated.filter((pl.col("role") == "review") & (pl.col("served_by") == "human"))
        .group_by("agent")
        .agg(
            good=(pl.col("rating") == "satisfied").mean(),
            attitude=((pl.col("reason") == "服务态度差").sum() / (pl.col("rating") != "satisfied").sum()),
        )
        .select("agent", pl.struct("good", "attitude"))
        .iter_rows()
    )
    fast, slow, flaky = (by_agent[PROFILE.agents[i]] for i in (0, 2, 3))
    assert fast["good"] > 0.85 and slow["good"] < 0.8 and flaky["good"] < 0.8
    assert slow["attitude"] > 2 * fast["attitude"] and flaky["attitude"] > 2 * fast["attitude"]


def test_no_reviews_when_review_rate_is_zero() -> None:
    quiet = generate_events(Profile(rows=2000, seed=7, start=START, days=2, review_rate=0.0))
    assert quiet.filter(pl.col("role") == "review").height == 0
    assert tuple(quiet.columns) == COLUMNS


# --------------------------------------------------------------------------- variety and platforms


def test_variety_makes_texts_distinct_and_changes_nothing_else() -> None:
    """`variety` dresses texts up after the events are drawn: same rows, same roles, same
    times; only the texts differ, and nearly all of them are one of a kind."""
    plain = generate_events(Profile(rows=20_000, seed=5, start=START, days=3))
    varied = generate_events(Profile(rows=20_000, seed=5, start=START, days=3, variety=0.95))
    assert varied.drop("text").equals(plain.drop("text"))
    texts = varied.get_column("text").drop_nulls()
    assert texts.n_unique() / texts.len() >= 0.9
    assert plain.get_column("text").drop_nulls().n_unique() / texts.len() < 0.1
    assert generate_events(Profile(rows=20_000, seed=5, start=START, days=3, variety=0.95)).equals(varied)


def test_variety_adds_nothing_a_text_rule_or_topic_looks_for(tmp_path, cli) -> None:
    """The words variety adds (order numbers, products, amounts, typos) fire no pinduoduo
    text rule: the same export with and without variety gives the same phrase findings."""
    counts = []
    for variety in (0.0, 1.0):
        path = tmp_path / f"v{variety}.csv"
        frame = generate_events(Profile(rows=6000, seed=9, start=START, days=2, variety=variety, risky_rate=0.05))
        write_export(frame, path)
        report = json.loads(cli("audit", str(path), "--platform", "pinduoduo", "--format", "json", "--exit-zero",
                                "--no-history", "--select", "PDD-P1,PDD-P2").out)
        counts.append(sorted((f["code"], f["ts"] or "", f["agent"] or "", f["conversation"] or "") for f in report["findings"]))
    assert counts[0] and counts[0] == counts[1]


def test_platform_flavours_from_the_command_line(tmp_path, cli) -> None:
    jd, pdd = tmp_path / "jd.csv", tmp_path / "pdd.csv"
    cli("generate", "-o", str(jd), "--rows", "3000", "--platform", "jd", "--agents", "6")
    cli("generate", "-o", str(pdd), "--rows", "3000", "--platform", "pinduoduo", "--agents", "2")
    jd_frame = pl.read_csv(jd, infer_schema=False)
    # JD's export names no sessions: the ruleset's session_gap splits them.
    assert jd_frame.get_column("conversation").null_count() == jd_frame.height
    humans = set(jd_frame.filter(pl.col("role") == "agent").get_column("agent").unique())
    assert humans == {"jd_小美", "jd_阿强", "jd_小周", "jd_莉莉", "jd_客服05", "jd_客服06"}
    pdd_frame = pl.read_csv(pdd, infer_schema=False)
    assert "发送时间" in pdd_frame.columns and pdd_frame.get_column("店铺").unique().to_list() == ["拼多多示例店"]
    assert set(pdd_frame.filter(pl.col("发送方") == "客服").get_column("客服账号").unique()) == {"小美", "阿强"}
    report = cli("audit", str(jd), "--platform", "jd", "--format", "json", "--exit-zero", "--no-history").json()
    assert report["input"]["rows_used"] == jd_frame.height


def test_jd_flavour_answers_on_jds_clock(tmp_path, cli) -> None:
    """JD counts a reply within 30 s from 09:00 (jd.yaml): the generated JD agents answer in
    seconds, fast ones pass JD-R30 and slow ones fail it (with the other platforms' minutes
    every JD agent failed every day), and the night robot names JD's hours."""
    path = tmp_path / "jd.csv"
    cli("generate", "-o", str(path), "--rows", "6000", "--platform", "jd", "--agents", "8", "--seed", "5")
    frame = pl.read_csv(path, infer_schema=False)
    night = frame.filter(pl.col("text").str.contains("工作时间为")).get_column("text").unique().to_list()
    assert night == ["夜间自动回复：客服工作时间为9:00-23:00，请留言"]
    report = cli("audit", str(path), "--platform", "jd", "--format", "json", "--exit-zero", "--no-history").json()
    statuses = {m["agent"]: m["status"] for m in report["metrics"] if m["rule"] == "JD-R30" and m["scope"] == "agent"}
    assert statuses["jd_小美"] == "pass" and statuses["jd_小周"] == "fail", statuses
    assert 0 < sum(s == "pass" for s in statuses.values()) < len(statuses)


def test_douyin_flavour_answers_on_douyins_clock(tmp_path, cli) -> None:
    """Douyin's guidance is a mean response of 40 s (DY-A1): the generated fast agent passes it
    and the often-late one fails it (with the other platforms' habits every Douyin agent failed
    DY-A1 every day, the fast one at 45 s)."""
    path = tmp_path / "douyin.csv"
    cli("generate", "-o", str(path), "--rows", "6000", "--platform", "douyin", "--agents", "8", "--seed", "5")
    report = cli("audit", str(path), "--platform", "douyin", "--format", "json", "--exit-zero", "--no-history").json()
    statuses = {m["agent"]: m["status"] for m in report["metrics"] if m["rule"] == "DY-A1" and m["scope"] == "agent"}
    assert statuses["小美"] == "pass" and statuses["小周"] == "fail", statuses
    assert 0 < sum(s == "pass" for s in statuses.values()) < len(statuses)


def test_taobao_sub_accounts_are_named_after_the_shop_asked_for(tmp_path, cli) -> None:
    """Taobao sub-accounts are `shop:name`; a file generated for 小林数码专营店 must not show
    淘宝示例旗舰店:客服09 working there (the agents beyond the first four keep the prefix)."""
    path = tmp_path / "tb.csv"
    cli("generate", "-o", str(path), "--rows", "3000", "--platform", "taobao", "--agents", "6", "--shop", "小林数码专营店")
    frame = pl.read_csv(path, infer_schema=False)
    humans = set(frame.filter(pl.col("发送方") == "客服").get_column("客服账号").unique())
    assert humans == {f"小林数码专营店:{a}" for a in ("小美", "阿强", "小周", "莉莉", "客服05", "客服06")}, humans


def test_unknown_platform_is_one_line_and_exit_2(tmp_path, cli) -> None:
    code, _, err = cli("generate", "-o", str(tmp_path / "x.csv"), "--platform", "amazon")
    assert code == 2 and err.count("\n") == 1 and "amazon" in err


def test_generate_takes_the_short_options_audit_has(tmp_path, cli) -> None:
    """`generate -p pinduoduo` was `No such option: -p` while `audit -p` worked: an option that
    two commands share by name takes the same short form in both."""
    short, long = tmp_path / "short.csv", tmp_path / "long.csv"
    run = cli("generate", "-p", "pinduoduo", "-o", short, "--rows", "300")
    assert run.code == 0, run.err
    assert cli("generate", "--platform", "pinduoduo", "--output", long, "--rows", "300").code == 0
    assert short.read_bytes() == long.read_bytes()
    from typer.main import get_command

    from cservice_audit.cli import app

    commands = get_command(app).commands
    shorts = {
        name: {o for o in opt.opts if not o.startswith("--")}
        for opt in commands["audit"].params
        for name in opt.opts
        if name.startswith("--")
    }
    for command_name, command in commands.items():
        for opt in command.params:
            for name in (o for o in opt.opts if o.startswith("--")):
                assert shorts.get(name, set()) <= set(opt.opts), (command_name, name, opt.opts)


# A generator killed half-way through writing: polars' writer is wrapped so that it writes
# half the file, then the process is killed, as a Ctrl-C or an OOM kill would.
_KILLED_MID_WRITE = r"""
import os, signal, sys
import polars as pl

original = pl.DataFrame.write_csv

def write_csv(self, file, *args, **kwargs):
    original(self, file, *args, **kwargs)
    data = open(file, "rb").read()
    with open(file, "wb") as fh:
        fh.write(data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)

pl.DataFrame.write_csv = write_csv
sys.argv = ["cservice-audit", *sys.argv[1:]]
from cservice_audit.cli import main
main()
"""


def test_a_generator_killed_mid_write_leaves_the_old_file_or_none(tmp_path) -> None:
    import signal
    import subprocess
    import sys

    target = tmp_path / "export.csv"
    args = ["generate", "-o", str(target), "--rows", "500", "--seed", "3"]
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, *args], capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    # No truncated export: at most a hidden temporary (a killed process cleans nothing up).
    assert not target.exists()
    assert all(p.name.startswith(".export.csv.") and p.name.endswith(".tmp") for p in tmp_path.iterdir())
    target.write_text("ts,shop\nearlier,export\n", "utf-8")
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, *args], capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert target.read_text("utf-8") == "ts,shop\nearlier,export\n"  # the earlier file, whole
