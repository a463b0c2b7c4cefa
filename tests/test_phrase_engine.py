"""The phrase engine: normalization and folding, every lexicon term in a carrier sentence,
negation and pronunciation guards, and `cservice-audit check-text` through the installed command."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cservice_audit.phrase_engine import compile_params, match_distinct, merged
from cservice_audit.ruleset import load_platform, shipped_platforms
from cservice_audit.text import normalize

# A neutral carrier: the term alone would also be a whole message, which some patterns treat
# differently; 亲 … 哦 is how agents wrap everything.
CARRIER = "亲，{}哦"


def phrase_rules() -> list[tuple[str, str]]:
    return [(p, r.code) for p in shipped_platforms() for r in load_platform(p).rules if r.check == "phrases"]


def rules_with_terms() -> list[tuple[str, str]]:
    """Phrase rules that list literal terms (TB-P2..P4 are patterns only)."""
    return [(p, c) for p, c in phrase_rules() if merged(load_platform(p).rule(c).params)["phrases"]]


def _fires(params: dict, texts: list[str]) -> list[str | None]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String}).lazy().with_columns(normalize(pl.col("text")).alias("norm"))
    return match_distinct(frame, compile_params(params)).collect()["match"].to_list()


def test_every_phrase_rule_is_covered_here() -> None:
    assert len(phrase_rules()) >= 12  # PDD-P1/P2, KS-P1/P2, DY-P1/P2, TB-P1..P5, JD-P1


@pytest.mark.parametrize(("platform", "code"), rules_with_terms())
def test_every_listed_term_fires_in_a_carrier_sentence(platform: str, code: str) -> None:
    """Each active literal term (the rule's and its lexicons') fires in 亲，…哦, so no term is
    dead weight hidden by an allow list or a negation cue; terms left out are in `excluded`."""
    params = load_platform(platform).rule(code).params
    lists = merged(params)
    terms = lists["phrases"]
    matches = _fires(params, [CARRIER.format(t) for t in terms])
    silent = [t for t, m in zip(terms, matches) if m is None]
    assert not silent, f"{code}: listed terms that do not fire in {CARRIER!r}: {silent}"
    both = set(terms) & set(lists["excluded"])
    assert not both, f"{code}: terms both active and excluded: {sorted(both)}"


def test_tb_p1_decides_every_source_term() -> None:
    """TB-P1 keeps source 002's everyday words out by data, each with a reason."""
    lists = merged(load_platform("taobao").rule("TB-P1").params)
    for word in ("最后", "首次", "第二", "今天", "一天"):
        assert word in lists["excluded"] and lists["excluded"][word].strip()
    for word in ("独一无二", "完美", "首选", "独家", "王牌", "遥遥领先", "万人疯抢", "神器", "必备", "绝对"):
        assert word in lists["phrases"]


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("你等著", "你等着"),  # 著 is not in OpenCC's character table
        ("走著瞧", "走着瞧"),
        ("微❤️：abc", "微心:abc"),  # emoji and its variation selector
        ("➕V", "+v"),
        ("看我朋友⭕", "看我朋友圈"),
        ("最✨好✨的", "最好的"),
        ("ＷＸ 号", "wx号"),
        ("刷kǎ加wēi信", "刷ka加wei信"),  # pinyin tone marks (sixteenth pass)
        ("LǛ色", "lv色"),  # ü as the input method types it
    ],
)
def test_normalization_folds_variants_and_lookalikes(raw: str, folded: str) -> None:
    assert pl.select(normalize(pl.lit(raw))).item() == folded


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("亲，家V领红包哦", True),  # 家 sounds like 加
        ("薇芯搜一下 mm01", True),
        ("这个价位很划算了", False),  # 价位 sounds like 加微, an everyday word
        ("为新用户准备了券", False),  # 为新 sounds like 微信, no contact verb
        ("亲，平台规定不能私下加微信交易哦", False),  # a warning, not the act
        ("请不要添加任何自称客服的微信或QQ", False),
        ("支持微信支付的哦", False),
        ("一三九零零一二三四五六，有事找我", True),  # a phone number in Chinese numerals
        ("订单号是 240512338847162", False),  # a longer digit run is not a phone number
    ],
)
def test_contact_evasions_and_their_guards(text: str, fires: bool) -> None:
    params = load_platform("pinduoduo").rule("PDD-P2").params
    (match,) = _fires(params, [text])
    assert (match is not None) is fires, match


# Everyday replies that end in a number: a date, an order, tracking or member number, an
# amount. A model that reads digits learned that violations end in a phone number and fired
# on these (回复2026-11-160 scored 3.67 on `#$`, `##$`; docs/rulesets.md).
ENDS_IN_A_NUMBER = [
    "回复2026-11-160",
    "好的亲，已经给您备注了，预计发货2026-12-05",
    "亲，您的订单号是 240512338847162",
    "亲，快递单号 SF1402938475612",
    "您好，这边查到的会员编号是 88020613",
    "亲，实付金额是 128.50",
    "亲，本店营业时间 8:00-23:00",
    "好的，尺码已改成 42",
]


@pytest.mark.parametrize(("platform", "code"), phrase_rules())
def test_everyday_replies_ending_in_a_number_fire_nothing(platform: str, code: str) -> None:
    params = load_platform(platform).rule(code).params
    fired = [(t, m) for t, m in zip(ENDS_IN_A_NUMBER, _fires(params, ENDS_IN_A_NUMBER)) if m is not None]
    assert not fired, f"{code}: {fired}"


def test_check_text_shows_the_match_and_its_source(cli) -> None:
    run = cli("check-text", "亲，加我V发你券", "-p", "pinduoduo", "--format", "json")
    assert run.code == 1, run.err
    result = run.json()
    assert result["normalized"] == "亲,加我v发你券"
    by_code = {r["code"]: r for r in result["rules"]}
    assert set(by_code) == {"PDD-P1", "PDD-P2"}
    assert not by_code["PDD-P1"]["hit"]
    assert by_code["PDD-P2"]["hit"] and by_code["PDD-P2"]["match"] == "加我v"
    assert by_code["PDD-P2"]["origin"] == "in lexicon offplatform"


def test_check_text_shows_what_suppressed_a_match(cli) -> None:
    run = cli("check-text", "亲，平台规定不能私下加微信交易哦，支持微信支付", "-p", "taobao")
    assert run.code == 0, run.out + run.err
    assert "suppressed by negation: 平台规定不能私下加微信" in run.out
    assert "blanked as allowed: 微信支付" in run.out
    assert "TB-P5    pass" in run.out


def test_check_text_by_sound_and_errors(cli) -> None:
    run = cli("check-text", "嘉薇 xiaomei8866", "-p", "jd")
    assert run.code == 1
    assert "sounds like" in run.out and "JD-P1    HIT" in run.out
    bad = cli("check-text", "x", "-p", "nope")
    assert bad.code == 2 and len(bad.err_lines()) == 1


def test_check_text_takes_the_shops_config_and_offers_only_its_formats(cli, write) -> None:
    """Supervisors tune a shop's lists with check-text beside the shop's config: it reads the
    config's ruleset file (its own words) and language, as audit does; a flag still wins.
    Its --help listed the audit's eight formats, of which it takes two."""
    write("mine.yaml", "extends: jd\nversion: \"mine\"\nrules:\n  - code: JD-P1\n    params: {phrases: [蓝莓暗号]}\n")
    write("shop.toml", 'ruleset = "mine.yaml"\nlang = "zh"\n')
    own = cli("check-text", "亲，对下蓝莓暗号哈", "--config", "shop.toml")
    assert own.out.startswith("消息："), own.out[:200]
    flag = cli("check-text", "亲，对下蓝莓暗号哈", "--config", "shop.toml", "-p", "jd", "--lang", "en")
    assert flag.code == 0 and flag.out.startswith("message: "), flag.out[:300]
    assert own.code == 1 and "JD-P1" in own.out, own.out
    wrong = cli("check-text", "x", "-p", "jd", "-f", "xlsx")
    assert wrong.code == 2 and "'xlsx' is not one of 'table', 'json'" in wrong.err, wrong.err


def test_model_catches_what_no_list_holds_and_names_its_ngrams(cli) -> None:
    """The abuse model (n-grams, trained on dev) decides where no list matched, and the
    finding names the n-grams that weighed most."""
    run = cli("check-text", "就你事儿最多，谁惯的你", "-p", "pinduoduo", "--format", "json")
    assert run.code == 1
    (p1,) = [r for r in run.json()["rules"] if r["code"] == "PDD-P1"]
    assert p1["how"] == "model" and p1["listed"].startswith("model abuse")
    assert "/" in p1["match"]  # the top n-grams, e.g. 就/你/你


@pytest.mark.parametrize(
    ("code", "text", "fires"),
    [
        # a title or an announced name is blanked, lists and models alike
        ("PDD-P1", "亲，《白痴》是陀思妥耶夫斯基的长篇，这套是精装版", False),
        ("PDD-P1", "亲，白痴才买这套书", True),
        ("TB-P1", "亲，这支口红的色号名叫“绝对红”，偏正红", False),
        ("TB-P1", "亲，这支口红绝对红得正，全网第一", True),
        ("TB-P1", "亲，我们是“行业第一”的品牌", True),  # a claim in quotes is still a claim
        ("TB-P1", "我们家被叫做“国货之光”", True),  # 叫做 does not announce a name
        # a quoted name on or of a product is blanked by the insult rules (`blank_products`) ...
        ("PDD-P1", "“小笨蛋”字样的手机壳有透明和磨砂两款", False),
        ("KS-P1", "亲，这个是学生“穷鬼套餐”零食礼包，19.9元十样", False),
        ("DY-P1", "这个“你给我等着”的表情包抱枕是我们家新品哈哈", False),
        ("DY-P1", '这个"你给我等着"表情包抱枕是新品', False),  # any quotes agents type
        ("PDD-P1", "你就是个“小笨蛋”，还问", True),  # quoted, but said to the buyer
        ("DY-P1", "“你给我等着”，这单我记住了", True),
        # ... not by the advertising-law rule: a claim printed on a product is the violation
        ("TB-P1", "“全网第一”字样的手机壳", True),
        # the contact and bribery rules do not blank titles: there a title is an evasion
        ("PDD-P2", "加我《薇信》abc123", True),
        ("PDD-P2", "参加《好评返现5元》活动", True),
        # quoted words the agent disowns are blanked by every rule (a scam card, a rumour) ...
        ("PDD-P2", "包裹里的“好评返现卡”不是我们放的，别扫", False),
        ("PDD-P2", "卡片上写的\"加微信领红包\"，遇到直接举报哈", False),
        ("PDD-P1", "有人冒充客服说「你给我等着」的话，千万别理", False),
        ("TB-P1", "“全网第一”这种说法不是我们店写的", False),
        ("KS-P1", "这款T恤印的是“走着瞧”三个字", False),  # and a slogan printed on a product
        ("PDD-P1", "你脑门上刻着“蠢”这个字", True),  # but not any quote before 个字 (a review's find)
        # ... only when the cue follows the quote in the same sentence
        ("PDD-P2", "加我“薇信”返现5元", True),
        ("PDD-P2", "“好评返现”活动参加的话加我微信", True),
        ("PDD-P2", "“好评返现5元”。不是我们放的卡片别扫", True),
    ],
)
def test_titles_announced_names_and_product_names_are_blanked_where_the_rule_says(code: str, text: str, fires: bool) -> None:
    platform = {"PDD": "pinduoduo", "TB": "taobao", "KS": "kuaishou", "DY": "douyin"}[code.split("-")[0]]
    params = load_platform(platform).rule(code).params
    (match,) = _fires(params, [text])
    assert (match is not None) is fires, match


def test_check_text_says_how_to_change_each_verdict_and_the_entry_it_gives_works(cli, write) -> None:
    """check-text showed what decided but not where to change it (a newcomer tuning a shop's
    lists). Its last lines give an entry to paste under the ruleset's rules: pasted into a file
    that extends the platform, each hit it names passes, a model's hit included."""
    message = "亲，这个是全网最低价哦，加我V发你券"
    model_hit = "这种问题你自己百度一下不就知道了"
    first, model = cli.many(("check-text", message, "-p", "taobao", "--lang", "zh"), ("check-text", model_hit, "-p", "douyin"))
    assert first.code == 1 and model.code == 1, first.err + model.err
    tail = first.out.split("\n\n")[-1].splitlines()
    assert tail[0] == "改判：在本店规则集（extends: taobao）的 rules 下加一项，再用 validate-ruleset 检查", tail
    entries = [line.split("不该命中：")[1] for line in tail if "不该命中：" in line]
    assert [e.split(",")[0] for e in entries] == ["{code: TB-P1", "{code: TB-P5"], tail
    assert tail[-1] == "  漏掉的话术：{code: 规则代码, params: {phrases_add: [\"话术\"]}}", tail
    model_entry = next(line for line in model.out.splitlines() if "should not fire: " in line).split("should not fire: ")[1]
    write("tb.yaml", "extends: taobao\nrules:\n" + "".join(f"  - {e}\n" for e in entries))
    write("dy.yaml", f"extends: douyin\nrules:\n  - {model_entry}\n")
    tuned, tuned_model, other = cli.many(
        ("check-text", message, "--ruleset", "tb.yaml", "-f", "json"), ("check-text", model_hit, "--ruleset", "dy.yaml"),
        ("check-text", "亲，加我V发你券", "--ruleset", "dy.yaml"),
    )
    assert tuned.code == 0 and not any(r["hit"] for r in tuned.json()["rules"]), tuned.out
    assert tuned_model.code == 0 and "add an entry under rules in dy.yaml, then" in tuned_model.out, tuned_model.out
    assert other.code == 1, other.out  # the whole message allowed, not the rule switched off


def test_check_text_shows_how_near_each_model_came_on_a_pass(cli) -> None:
    """A passing message shows every model of the rule with its score and threshold (from the
    shipped model files), so a supervisor sees how near it came; a list hit does not."""
    from cservice_audit.phrase_engine import model_meta

    run = cli("check-text", "已为您催促快递", "-p", "douyin", "--format", "json")
    assert run.code == 0, run.err
    by_code = {r["code"]: r for r in run.json()["rules"]}
    scored = {m["model"]: m for m in by_code["DY-P1"]["models"]}
    assert set(scored) == {"abuse", "confrontational"}
    for name, m in scored.items():
        assert m["threshold"] == model_meta(name)["threshold"]
        assert m["score"] < m["threshold"]
    assert [m["model"] for m in by_code["DY-P2"]["models"]] == ["contact"]
    text = cli("check-text", "已为您催促快递", "-p", "douyin", env={"LANG": "zh_CN.UTF-8"})
    line = f"模型得分未到阈值：abuse（辱骂、暗语辱骂、威胁） {scored['abuse']['score']:.2f} < {scored['abuse']['threshold']:.2f}"
    assert line in text.out, text.out
    # Every shared list and model a shipped rule names reads in Chinese beside its file name.
    from cservice_audit.i18n import catalogue
    from cservice_audit.ruleset import load_platform

    named = {n for p in ("pinduoduo", "kuaishou", "douyin", "taobao", "jd") for r in load_platform(p).rules
             for n in (*(r.params.get("lexicons") or ()), *(r.params.get("models") or ()))}  # fmt: skip
    assert named and not [n for n in named if f"phrase_list.{n}" not in catalogue()], named
    hit = cli("check-text", "亲，加我V发你券", "-p", "douyin")
    assert hit.code == 1 and "DY-P2    HIT" in hit.out
    assert "contact" not in hit.out.split("DY-P2")[1]  # the list decided; no model line
    titled = cli("check-text", "亲，《白痴》是陀思妥耶夫斯基的长篇", "-p", "douyin")
    assert "DY-P1    pass" in titled.out and "blanked as allowed: 《白痴》" in titled.out, titled.out
    named = cli("check-text", "“小笨蛋”字样的手机壳有透明和磨砂两款", "-p", "douyin")
    assert "DY-P1    pass" in named.out and "blanked as allowed: “小笨蛋”字样的手机壳" in named.out, named.out
    disowned = cli("check-text", "包裹里的“好评返现卡”不是我们放的，别扫", "-p", "douyin")
    assert disowned.code == 0 and "DY-P2    pass" in disowned.out, disowned.out
    assert "blanked as allowed: “好评返现卡”不是我们" in disowned.out, disowned.out


def test_check_text_does_not_print_a_score_above_its_threshold() -> None:
    """Just under the threshold the two may round alike: then not `<`, which would read false."""
    from cservice_audit.check_text import render

    rule = {"code": "PDD-P1", "title": "t", "hit": False, "allowed": [], "negated": [],
            "models": [{"model": "abuse", "score": 3.01, "threshold": 3.01285}, {"model": "x", "score": 1.5, "threshold": 3.0}]}
    out = render({"text": "m", "normalized": "m", "platform": "pinduoduo", "rules": [rule]}, "en")
    assert "abuse 3.01 ≈ 3.01" in out and "x 1.50 < 3.00" in out


@pytest.mark.parametrize(
    "text",
    # polite replies that say 你 (not in tests/phrase_model_negatives.txt): the model must not
    # take 你 itself for rudeness
    ["你好亲，有什么可以帮你", "你收到货了吗", "谢谢你的支持", "你要哪个颜色呢", "你家宝宝多大了", "你发个照片给我看看", "我帮你问问仓库"],
)
def test_model_does_not_take_ni_for_an_insult(text: str) -> None:
    params = load_platform("pinduoduo").rule("PDD-P1").params
    assert _fires(params, [text]) == [None]


@pytest.mark.parametrize("limit", [10**9, 450])
def test_model_scores_cached_across_batches_change_nothing(monkeypatch, limit):
    """A batch of partitions reuses the model scores of earlier batches (ScoreCache); with the
    cache and without it, and with a cache that fills up after the first batch (limit 450), every batch gets the same
    matches. The batches overlap and repeat texts that differ only in their digits."""
    from pathlib import Path

    from cservice_audit.phrase_engine import ScoreCache

    monkeypatch.setattr(ScoreCache, "LIMIT", limit)
    corpus = pl.read_csv(Path(__file__).parent / "phrase_corpus" / "corpus.csv").filter(pl.col("split") == "dev")["text"].to_list()
    texts = corpus[:600] + [f"{t}订单{n}" for n, t in enumerate(corpus[:300])]
    batches = [texts[0:400], texts[200:700], texts[500:900], texts[0:900:3]]
    for platform, code in [("kuaishou", "KS-P1"), ("taobao", "TB-P1"), ("pinduoduo", "PDD-P2")]:
        matcher = compile_params(load_platform(platform).rule(code).params)
        cache = ScoreCache()
        hits = 0
        for batch in batches:
            frame = pl.DataFrame({"text": batch}).select(normalize(pl.col("text")).alias("norm")).unique().sort("norm")
            alone = match_distinct(frame.lazy(), matcher).collect()
            cached = match_distinct(frame.lazy(), matcher, cache=cache).collect()
            assert cached.equals(alone), (code, batch[:2])
            hits += alone["how"].str.starts_with("model ").sum()
        assert hits > 0, f"{code}: no model hit, the cache was not exercised"
        kept = cache.known(matcher.models)
        assert 0 < kept.height <= limit


# The fifth pass's cues and allow phrases (docs/rulesets.md, "Fifth writing pass"), each written
# as the phrase that motivated it: two reviews found short cues (不是, 别, 收到的, 不收, 不敢,
# a ？ followed by anything, 有的店说, 快递员让 ...), wide title forms and allow phrases letting
# these real violations through the lists.
FIFTH_PASS_VIOLATIONS = [
    ("pinduoduo", "PDD-P2", "是不是加我微信方便点"),
    ("pinduoduo", "PDD-P2", "不是开玩笑好评返现10元"),
    ("pinduoduo", "PDD-P2", "有别的需要私聊我"),
    ("pinduoduo", "PDD-P2", "区别不大加我vx看实拍图"),
    ("pinduoduo", "PDD-P2", "收到的话晒单有礼哦"),
    ("pinduoduo", "PDD-P2", "好评返现10元绝对不敢少您的"),
    ("pinduoduo", "PDD-P2", "五星好评返5元？没有问题的亲"),
    ("pinduoduo", "PDD-P2", "加我vx？不是什么坏事"),
    ("pinduoduo", "PDD-P2", "加我微信转账不用加钱"),
    ("pinduoduo", "PDD-P1", "你才2b的"),
    ("pinduoduo", "PDD-P1", "你就等着瞧好吧"),
    ("pinduoduo", "PDD-P1", "我就跟你说“你是个傻子”"),
    ("taobao", "TB-P1", "这款叫“国货之光”"),
    ("taobao", "TB-P1", "“全网第一”字样的包装，品质保证"),
    ("taobao", "TB-P1", "我们家就是您说的“全网最低价”"),
    ("taobao", "TB-P1", "这价格不能再低了史低"),
    ("taobao", "TB-P3", "我们不开发票，也不影响您使用的"),
    ("taobao", "TB-P4", "我们不收信用卡只收储蓄卡"),
    # a second review of the narrowed cues
    ("pinduoduo", "PDD-P1", "你是不是2b的"),
    ("pinduoduo", "PDD-P1", "跟个不识字的老人一样，说明书都不看"),
    ("pinduoduo", "PDD-P1", "你说的“神经病”就是你自己"),
    ("taobao", "TB-P1", "您说的“国货之光”就是我们家"),
    ("taobao", "TB-P1", "我们是全网最低价吗？不是的话差价十倍赔"),
    ("taobao", "TB-P1", "我们的质量全网第一？这个没法比的"),
    ("taobao", "TB-P3", "有的店说不开票，我们也不开"),
    ("pinduoduo", "PDD-P2", "加个微信好吗？没有的话就算了"),
    ("pinduoduo", "PDD-P2", "好评返现不是本店老客户也可以参加"),
    ("pinduoduo", "PDD-P2", "是不是好评返现？是的呢亲"),
    ("pinduoduo", "PDD-P2", "快递员让我转告您加这个微信号"),
    ("pinduoduo", "PDD-P2", "您加我微信吧我这边不能加您"),
]


# The seventh session's list changes (docs/rulesets.md, "Half of fresh spent on dev"), each in a
# sentence of its own: the sources' cases the lists now hold, and the denials they now leave.
SEVENTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P3", "不好意思亲，我们暂时没有开票资格"),
    ("taobao", "TB-P3", "特价款都不带发票的哈"),
    ("taobao", "TB-P3", "电子票可以开，不过要加5%税点"),
    ("taobao", "TB-P3", "开了发票就不能退了哦亲"),
    ("taobao", "TB-P3", "纸质票需要的话加10元邮费"),
    ("taobao", "TB-P3", "发票单独寄的话邮费您出哈"),
    ("taobao", "TB-P4", "用花呗付款的话发货要晚两天"),
    ("taobao", "TB-P4", "信用卡付的订单我们不退货"),
    ("taobao", "TB-P4", "刷信用卡要多加百分之三"),
    ("taobao", "TB-P4", "您是用信用卡吗，我们这边刷不了"),
    ("taobao", "TB-P1", "这是市面上唯一一款无线的"),
    ("pinduoduo", "PDD-P1", "你tm看清楚再下单"),
    ("kuaishou", "KS-P1", "这个我也不清楚"),
    ("kuaishou", "KS-P1", "那你想怎么着"),
    ("pinduoduo", "PDD-P2", "加我微xin发你券"),
    ("pinduoduo", "PDD-P2", "您的一星能不能动一动，动了给您返10元"),
]
# 2026-12-04, eighth pass: each fails when its list entry goes (worded apart from the corpus rows).
EIGHTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P3", "发票能开，快递费需要您自付哈"),
    ("taobao", "TB-P3", "亲，电脑的发票可以帮您开成办公用品"),
    ("taobao", "TB-P4", "信用卡付款要承担一点通道成本哦"),
    ("taobao", "TB-P4", "分期也行，价格上浮3%"),
    ("taobao", "TB-P1", "这支口红绝对不掉色"),
    ("pinduoduo", "PDD-P1", "你脑壳怕是有包哦"),
    ("pinduoduo", "PDD-P1", "体重180斤还想穿M码"),
    ("kuaishou", "KS-P1", "你想怎样嘛？"),
    # and these were let through by a first, wider cue or blank
    ("pinduoduo", "PDD-P1", "“神经病”，别回我了"),
    ("pinduoduo", "PDD-P1", "滚，这句话我只说一次"),
    ("pinduoduo", "PDD-P1", "我不会说你笨，但是这个问题详情页写得很清楚"),
    ("taobao", "TB-P5", "快递员电话打不通就加我微信abc12345"),
    # the second batch of the pass
    ("taobao", "TB-P3", "公司刚变更纳税主体，发票暂时没法弄"),
    ("taobao", "TB-P3", "打印机罢工了，发票下次吧"),
    ("taobao", "TB-P3", "会计出差了，开票的事等等吧"),
    ("taobao", "TB-P3", "税控盘出问题了"),
    ("taobao", "TB-P3", "发票给您寄，您掏下快递费就行"),
    ("taobao", "TB-P3", "发票邮费10块自理哈"),
    ("taobao", "TB-P3", "低于300的订单不单开票哦"),
    ("taobao", "TB-P3", "签收满30天才能申请发票"),
    ("taobao", "TB-P3", "发票三个月后再补开给您"),
    ("taobao", "TB-P3", "我们小店从来没开过发票"),
    ("taobao", "TB-P3", "自家种的茶叶，没票哦"),
    ("taobao", "TB-P3", "改成公司抬头不行的哈"),
    ("taobao", "TB-P3", "发票能给您写成'办公用品'"),
    ("taobao", "TB-P3", "发票您想写啥就写啥"),
    ("taobao", "TB-P4", "花呗付的只能给您排到下周发"),
    ("taobao", "TB-P4", "信用卡也能付，不过赠品不送哈"),
    ("taobao", "TB-P4", "分期这款利润太薄，开不了哈"),
    ("taobao", "TB-P4", "分6期我们这不支持"),
    ("taobao", "TB-P4", "信用卡也行，不过差价要补上"),
    ("taobao", "TB-P4", "余额付是399，刷卡的话是415"),
    ("kuaishou", "KS-P1", "我们只是卖货的，质量问题你找厂家"),
    ("pinduoduo", "PDD-P1", "尺码都能选错，您平时也这么马虎吗"),
]
EIGHTH_PASS_EVERYDAY = [
    ("taobao", "TB-P3", "发票只能按实际商品开，开不了办公用品的"),
    ("taobao", "TB-P3", "这个不能开成礼品哦，只能开实际商品"),
    ("taobao", "TB-P4", "平台规定不能因为刷信用卡加收费用，您放心"),
    ("taobao", "TB-P4", "刷卡加价是违规的，我们不会这样"),
    ("taobao", "TB-P1", "您的手机号我们绝对不会泄露"),
    ("kuaishou", "KS-P1", "客服不能说不关我的事这种话，您放心"),
    ("pinduoduo", "PDD-P1", "等着瞧这个词我们不会对顾客说"),
    ("pinduoduo", "PDD-P2", "有人打电话说好评返现，那是诈骗"),
    ("pinduoduo", "PDD-P2", "好评返现这种做法是要扣分的，我们不做"),
    ("pinduoduo", "PDD-P2", "派件员电话是13800001111，您直接问他几点到"),
    ("taobao", "TB-P3", "发票不能开成办公用品哦，只能写实际商品"),
    ("taobao", "TB-P3", "发票写成办公用品不行的，抱歉"),
    ("taobao", "TB-P3", "没票的话您跟我说一声，马上补开"),
    ("pinduoduo", "PDD-P1", "您问的\"憨憨\"系列摆件还有货"),
    # a review of the pass found each of these flagged by a first, wider version of an entry
    ("taobao", "TB-P1", "真丝面料绝对不能机洗哦"),
    ("pinduoduo", "PDD-P1", "130斤还要穿宽松的话选XL哦"),
    ("taobao", "TB-P3", "快递面单的品名可以给您写成日用品，保护隐私"),
    ("taobao", "TB-P3", "包裹里没发票哦，送人不会露价格的"),
    ("taobao", "TB-P4", "花呗可以用的哦，不过赠品已经没有了"),
    ("taobao", "TB-P4", "花呗支付的订单也是正常发货，最近爆单发货会慢一些"),
    ("taobao", "TB-P4", "花呗分期免息只到今晚，明天价格上调哦"),
    ("kuaishou", "KS-P1", "电器质保期内你找厂家售后免费维修"),
    ("taobao", "TB-P3", "贺卡内容您想写啥就写啥"),
    ("taobao", "TB-P3", "您可以凑满199再说，能用满减券"),
    ("kuaishou", "KS-P1", "你想怎样呢？换货还是退款都可以的"),
    ("taobao", "TB-P4", "分6期您那边显示不支持，是花呗对订单金额的限制"),
    ("taobao", "TB-P3", "这个品种温度低于10度不开花哦"),
    ("taobao", "TB-P3", "确认收货满15天才能申请保价哦"),
    ("kuaishou", "KS-P1", "我只是发货的同事，售后客服马上回复您"),
    ("pinduoduo", "PDD-P1", "快递员也这么马虎吗？我马上帮您核实"),
    ("pinduoduo", "PDD-P1", "宝宝脑壳后面有包的话建议去医院看看"),
]
# 2026-12-04, ninth pass (blind batch of 149 rows, and the dev split's false alarms): each fails
# when its entry goes.
NINTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P1", "这款羽绒服决对保暖"),
    ("taobao", "TB-P3", "您想开成“礼品”都行，您定"),
    ("kuaishou", "KS-P1", "图不是发你了么？还来问"),
    ("pinduoduo", "PDD-P1", "你脸太黑了撑不起白色的"),
    ("pinduoduo", "PDD-P1", "您这身材撑不起这款的"),
    # a review of the pass found each of these let through by a first, laxer version of an entry
    ("taobao", "TB-P3", "开票产生的费用由贵司承担哈"),
    ("taobao", "TB-P3", "开专票的话税率高一些，需要另外加钱哈"),
    ("taobao", "TB-P3", "开票要多付5块钱哦"),
    ("taobao", "TB-P3", "开票的话麻烦把这个链接一起下单哦"),
    ("taobao", "TB-P4", "店里不收任何刷卡费用就是信用卡价格要贵一点"),
    ("taobao", "TB-P4", "花呗分期贵5块其他价格不变"),
    ("taobao", "TB-P4", "我们不收额外费用信用卡只需要加2个点"),
    ("taobao", "TB-P4", "刷信用卡加3%花呗价格不变"),
    ("pinduoduo", "PDD-P2", "稍后我们有人私下联系您，给您发个红包哈"),
    ("pinduoduo", "PDD-P2", "我们安装师傅让你加他微信约上门时间哈"),
    ("pinduoduo", "PDD-P1", "你说客服傻你才傻呢"),
    ("pinduoduo", "PDD-P1", "你说我笨你全家都笨"),
    ("pinduoduo", "PDD-P1", "不是你笨难道是我笨啊"),
]
NINTH_PASS_EVERYDAY = [
    # ... and each of these flagged by a first, wider version
    ("taobao", "TB-P1", "亲，我们会尽快帮您解决对应的问题哈"),
    ("taobao", "TB-P1", "这边帮您解决对您造成的不便深表歉意"),
    ("pinduoduo", "PDD-P1", "亲，不是您脸太大哈，是这款口罩偏小，换大号就好"),
    ("pinduoduo", "PDD-P1", "您个子不会撑不起的，165穿刚好"),
    ("pinduoduo", "PDD-P1", "您的身材别担心撑不起，这款很显瘦"),
    ("taobao", "TB-P3", "我们没票的呢，这是车票夹"),
    ("taobao", "TB-P3", "发票链接给您补发一下哈"),
    ("taobao", "TB-P3", "亲，您买的是A4纸，发票开成办公用品可以的"),
    ("kuaishou", "KS-P1", "不是给您补发了吗？您还问下快递呢"),
    ("taobao", "TB-P4", "我们不收卡费的，放心刷"),
    ("taobao", "TB-P4", "能不能分期要看您花呗的额度哈"),
    ("taobao", "TB-P3", "开票信息请贵司财务发我一下"),
    ("taobao", "TB-P3", "专票也能开，税率13%"),
    ("taobao", "TB-P3", "发票链接会发到您的邮箱"),
    ("taobao", "TB-P3", "发票不管多少金额都能开"),
    ("taobao", "TB-P1", "这本是第一版的复刻"),
    ("taobao", "TB-P1", "最新款是蓝色的那个"),
    ("taobao", "TB-P1", "排第一的那个是大包装"),
    ("kuaishou", "KS-P1", "抱歉，我重新说一遍：周五发货"),
    ("pinduoduo", "PDD-P1", "您一点也不笨，是说明书没写清楚"),
    ("pinduoduo", "PDD-P1", "您说客服是不是傻，确实是我们没讲清楚，抱歉"),
    ("pinduoduo", "PDD-P2", "有人私下联系您的话，点右上角投诉就行"),
    ("pinduoduo", "PDD-P2", "快递员让你加他微信就别加了"),
]
# The tenth pass (docs/rulesets.md, "Tenth pass"), each case reworded from a blind row the
# lists missed or flagged.
TENTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P4", "这款手镯分六期没问题，但是每期要多收15块"),
    ("taobao", "TB-P4", "用卡付也行，不过优惠券就不能用了哈"),
    ("pinduoduo", "PDD-P2", "姐妹去我们小红书店铺里看，有更多颜色"),
    ("pinduoduo", "PDD-P1", "这条裤子您穿估计悬，先减点肥再来买吧"),
    ("pinduoduo", "PDD-P1", "说明书写得很清楚，智商正常的都看得懂"),
    ("taobao", "TB-P3", "特价款没法提供发票哦"),
    ("taobao", "TB-P3", "活动款不支持开发票的亲"),
    ("taobao", "TB-P3", "我们这边统一开成“办公用品”哈"),
    ("taobao", "TB-P4", "白条付款的话要加3个点哦"),
    ("taobao", "TB-P4", "信用卡满100元才能用哈"),
    ("taobao", "TB-P4", "花呗付款的单子统一下周再发哈"),
    ("pinduoduo", "PDD-P2", "驱动不会的话打我手机 139-1234-5678"),
    ("pinduoduo", "PDD-P1", "再闹我让快递把你的货扔了"),
    ("kuaishou", "KS-P1", "又来？订单早就发了"),
    ("kuaishou", "KS-P1", "不是已经跟你说了么，周三发"),
    ("kuaishou", "KS-P1", "你和厂家自己协商吧，我们管不到"),
    ("taobao", "TB-P3", "品名能给您改一下，写成办公耗材方便报销"),
    ("taobao", "TB-P3", "笔记本可以开票，但必须开成“办公设备”哈"),
    ("taobao", "TB-P3", "发票寄过去邮费另算哈"),
    ("taobao", "TB-P3", "发票我们寄，邮费自理，我们不包邮的"),
    ("pinduoduo", "PDD-P1", "买不起的话就先存点钱再来看看哈"),
    ("pinduoduo", "PDD-P1", "尺码表都发了，看字都不会吗亲"),
    ("douyin", "DY-P1", "亲你这脑回路我是真跟不上"),
    # a review's messages: let through by the pass's first version
    ("pinduoduo", "PDD-P1", "您这水平可以回去重新上个小学了"),
    ("pinduoduo", "PDD-P1", "你本来就长这样，怪不了衣服"),
    ("pinduoduo", "PDD-P1", "不识字的老人家也能装好，您还问"),
    ("pinduoduo", "PDD-P1", "跟我们作对的代价可能是你想不到的"),
    ("kuaishou", "KS-P1", "我哪知道您这么多事"),
    ("kuaishou", "KS-P1", "仓库说了多少遍了不发偏远地区，您还拍"),
    ("kuaishou", "KS-P1", "我管不了太费劲"),
    ("douyin", "DY-P2", "进我们快手粉丝群领券"),
    ("kuaishou", "KS-P2", "进我们抖音粉丝群领券"),
    ("jd", "JD-P1", "进我们抖音粉丝群领券"),
    ("taobao", "TB-P3", "活动价商品不提供发票，原价商品也照开"),
]
TENTH_PASS_EVERYDAY = [
    ("douyin", "DY-P2", "您的私信我这边收到了，马上回复您"),
    ("kuaishou", "KS-P2", "点一下主播头像就能进快手粉丝群，有新品会通知"),
    ("pinduoduo", "PDD-P1", "理解您觉得被当傻子耍了，是我们详情写得不清楚"),
    ("pinduoduo", "PDD-P1", "这款玩偶实物就长这样，圆滚滚的很可爱"),
    ("kuaishou", "KS-P1", "我哪知道您这么快就下单了，赠品马上补上"),
    ("kuaishou", "KS-P1", "自己看详情页比较费劲的话，我给您标出重点"),
    ("taobao", "TB-P3", "有的店说特价不开发票哈，我们不这样，特价也给开"),
    ("pinduoduo", "PDD-P1", "快递又延误了，我也是服了，帮您催一下"),
    ("pinduoduo", "PDD-P1", "您家老人眼睛不好使的话，可以选大字版"),
    ("pinduoduo", "PDD-P1", "嫌贵的话可以等618，到时候有满减"),
    ("taobao", "TB-P3", "可以开的，不过得开成电子发票哈"),
    ("taobao", "TB-P3", "品名改不了哦，只能按实际商品开"),
    ("taobao", "TB-P3", "快递面单都写成日用品，保护隐私"),
    ("pinduoduo", "PDD-P1", "不用您跑，我让快递小哥明早上门取件"),
    ("pinduoduo", "PDD-P1", "这款是网红穷鬼套餐，两块钱一包"),
    ("taobao", "TB-P3", "发票只能按实际商品开哦，没法开成办公耗材的"),
    ("pinduoduo", "PDD-P2", "QQ会员是充到您填的QQ号上的，五分钟到账"),
    # a review's messages: flagged by the pass's first version
    ("pinduoduo", "PDD-P1", "这款屏幕大，老人看字也不会吃力"),
    ("pinduoduo", "PDD-P1", "现在查物流也不会显示，要等快递揽收后才有"),
    ("pinduoduo", "PDD-P1", "看说明书也不会装的话，我给您发个安装视频"),
    ("pinduoduo", "PDD-P1", "您眼睛不太好使的话选300度的老花镜就行"),
    ("pinduoduo", "PDD-P1", "这款存钱罐很受欢迎，嫌贵的话看存钱罐小号款"),
    ("douyin", "DY-P2", "闲鱼店有很多冒充我们的，您别上当"),
    ("douyin", "DY-P2", "得物上的店便宜的多半是假货"),
    ("douyin", "DY-P2", "您在小红书主页看到的那个博主推荐的就是这款"),
    ("taobao", "TB-P3", "发票品名能改成具体型号，您需要的话告诉我"),
    ("taobao", "TB-P3", "可以开，但是得写成营业执照上的名称"),
    ("taobao", "TB-P3", "发票可以开，不过得写成实际购买的商品名称"),
    ("taobao", "TB-P4", "花呗可以用的，不过新疆要加收运费"),
    ("taobao", "TB-P4", "刷卡没问题，就是加5元可以换购一个收纳袋"),
    ("taobao", "TB-P4", "花呗可以付，不过这款是活动价不参加满减"),
    ("taobao", "TB-P4", "信用卡可以用，但是优惠券过期了就用不了"),
    ("taobao", "TB-P4", "刷卡可以的，但赠品没了就不送了"),
]
# Eleventh pass (docs/rulesets.md, "Eleventh pass"): what its blind rows showed the lists lacked,
# and the everyday talk the new entries must leave alone.
ELEVENTH_PASS_VIOLATIONS = [
    ("pinduoduo", "PDD-P1", "穷就别天天来问价了，这个价不会再降"),
    ("pinduoduo", "PDD-P1", "你这吨位还是先少吃点再买吧"),
    ("douyin", "DY-P1", "就您这身板，练三个月也白搭"),
    ("pinduoduo", "PDD-P1", "你是不是zz，说了是尾款"),
    ("pinduoduo", "PDD-P2", "图片太大传不了的话QQ发我 35876421"),
    ("taobao", "TB-P5", "文件传不上来就扣扣加我 4458127"),
    ("taobao", "TB-P3", "能开的，但要写成办公耗材，您看行不行"),
    ("taobao", "TB-P3", "过了售后期就不给补开发票了哈"),
    ("taobao", "TB-P4", "花呗分12期可以，不过每期多加30块手续费"),
    ("kuaishou", "KS-P1", "鞋子是厂家直发的，你问他们去"),
    ("kuaishou", "KS-P1", "我都回您两遍了，七天内才能退"),
    # the review of the pass: violations its first version let through
    ("pinduoduo", "PDD-P1", "你个2b-.-"),
    ("pinduoduo", "PDD-P1", "nmsl-"),
    ("pinduoduo", "PDD-P1", "冒充官方来吓唬我 你是不是傻"),
    ("pinduoduo", "PDD-P1", "冒充平台客服吓唬谁呢 我知道你住哪"),
    ("pinduoduo", "PDD-P1", "‘傻子’才退款呢"),
    ("kuaishou", "KS-P1", "“说了多少遍”这款不退！"),
    ("pinduoduo", "PDD-P1", "“爱买不买”，不买拉倒，给你道歉行了吧"),
    ("taobao", "TB-P4", "亲，“信用卡”要加3%手续费哈，跟您道歉"),
    ("taobao", "TB-P5", "亲，“售后”加我vx：abc888，给您道歉"),
    ("taobao", "TB-P1", "我们家是“全网第一”，买贵了给您道歉"),
    ("pinduoduo", "PDD-P2", "亲 加我“微信”abc12345，超时订单会被处理哦"),
    ("taobao", "TB-P3", "亲，it's ok 发票开不了哦 don't worry"),
]
ELEVENTH_PASS_EVERYDAY = [
    ("pinduoduo", "PDD-P1", "型号ZZ-05是加厚款，适合大型犬"),
    ("pinduoduo", "PDD-P1", "之前说'你是不是傻'的那个客服已经被处理了，真的很抱歉"),
    ("pinduoduo", "PDD-P1", "他们冒充我们客服说不删差评就曝光您？那是骗子，请别理"),
    ("pinduoduo", "PDD-P1", "这件卫衣印的字就是“走着瞧”，是设计师的梗"),
    ("douyin", "DY-P1", "钥匙扣的图案叫“你等着”，小熊举牌那款"),
    ("pinduoduo", "PDD-P1", "这个车贴“你给我等着”卖得最好，反光的"),
    ("douyin", "DY-P1", "包装上的“后果自负”是提醒别自己拆电池，不是针对您哈"),
    ("kuaishou", "KS-P1", "这个我去问仓库去，您稍等两分钟"),
    ("kuaishou", "KS-P1", "您可以问问他们去年买的是不是这款"),
    ("kuaishou", "KS-P1", "我们已经回访您2次了，还有问题随时找我"),
    # the review of the pass: everyday replies its first version flagged
    ("pinduoduo", "PDD-P1", "亲 乐趣无穷就不要犹豫啦，孩子超喜欢"),
    ("pinduoduo", "PDD-P1", "亲，新款层出不穷就别纠结啦，这款现在最划算"),
    ("pinduoduo", "PDD-P1", "亲 您的吨位需求是多少呢？千斤顶有3吨5吨10吨的"),
    ("pinduoduo", "PDD-P1", "您这吨位的货车建议选5吨的卧式千斤顶哦"),
    ("pinduoduo", "PDD-P1", "就您这体格穿XL正好哈，放心拍"),
    ("taobao", "TB-P5", "亲 不会组装的话别加陌生人微信哦，在淘宝联系我们就行"),
    ("taobao", "TB-P3", "亲 不能补开了吗？可以的呀，您提供下抬头和税号"),
    ("taobao", "TB-P3", "亲 电子发票已经发您邮箱啦，纸质的就无法补开了，电子版效力一样的哦"),
    ("taobao", "TB-P3", "亲 可以隐私发货哈，但面单要写成礼品哦，别人看不出来"),
    ("taobao", "TB-P3", "贺卡可以免费写的，但要写成礼品的祝福语请在备注里留言哦"),
    ("taobao", "TB-P4", "可以用花呗哦，不过多加一件只要5元，很划算"),
    ("taobao", "TB-P4", "刷卡没问题，但多加个杯子才3块钱，要不要带一个"),
]
SEVENTH_PASS_EVERYDAY = [
    ("pinduoduo", "PDD-P2", "无论您给好评还是差评，这个补偿都照给"),
    ("pinduoduo", "PDD-P2", "好评有礼这个活动我们没有参加哦"),
    ("taobao", "TB-P1", "抱歉这次包装没做完美，给您补个新盒子"),
    ("taobao", "TB-P1", "名牌我们不卖的，都是自己设计的款"),
]


# A violation after a short, ordinary service clause is still the violation. A model veto of
# list hits was withdrawn over exactly this (docs/rulesets.md, "a model veto, tried and
# withdrawn"): the models weigh shipping and sizing talk against a violation, and vetoed 53 of
# 200 such advertising claims. Nothing may drop these again.
SERVICE_CLAUSES = ["您的订单已经发货了，中通快递，", "尺码的话建议拍大一码，", "这款是纯棉的，建议冷水手洗，"]
WRAPPED = [
    ("pinduoduo", "PDD-P2", "加我微信abc123"), ("pinduoduo", "PDD-P2", "好评返现5元"), ("pinduoduo", "PDD-P2", "关注公众号领券"),
    ("taobao", "TB-P1", "这款万能的"), ("taobao", "TB-P1", "买到就是赚到"), ("taobao", "TB-P1", "这款是全网销量第一"),
    ("pinduoduo", "PDD-P1", "神经病"), ("pinduoduo", "PDD-P1", "你是不是傻"), ("pinduoduo", "PDD-P1", "你眼瞎吗"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "code", "text"), WRAPPED)
def test_a_violation_after_ordinary_service_talk_still_fires(platform: str, code: str, text: str) -> None:
    texts = [text] + [clause + text for clause in SERVICE_CLAUSES] + [clause + text + "，感谢您的支持" for clause in SERVICE_CLAUSES]
    assert None not in _fires(load_platform(platform).rule(code).params, texts)


# Issue 10, twelfth pass (docs/rulesets.md, "Twelfth pass").
TWELFTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P3", "fp不开哈🙏"),
    ("taobao", "TB-P3", "亲亲 咱这边暂不支持开piao的哦~"),
    ("taobao", "TB-P3", "发票内容写“电脑配件”还是“办公耗材”都可以的，您报销方便写哪个就写哪个哦~"),
    ("taobao", "TB-P3", "我们票是走合作的贸易公司开的，抬头那边不是店铺名，一样能报销的放心"),
    ("taobao", "TB-P3", "税点没含在报价里，开票要另加6个点"),
    ("taobao", "TB-P4", "我们店铺已经关闭信用卡支付了哈，您下单的时候选不了的"),
    ("taobao", "TB-P4", "credit card付款 extra 2% 哈，pls note，储蓄卡没有的"),
    ("taobao", "TB-P4", "不收信用卡，只能用储蓄卡"),
    ("pinduoduo", "PDD-P2", "加我QQ号 38475629 给你便宜充值"),
    ("taobao", "TB-P3", "不开fp哈"),
]
TWELFTH_PASS_EVERYDAY = [
    ("pinduoduo", "PDD-P1", "台湾地区的报价是NT$1,200，含运费哦"),
    ("pinduoduo", "PDD-P1", "师傅说您小区那段在修路货车进不去，他先开过去走着瞧，实在不行就用小推车搬进去，您放心"),
    ("taobao", "TB-P3", "钢筋水泥大宗采购也能开专票，税点已经含在报价里，不另外收的老板"),
    ("taobao", "TB-P3", "游戏60fps不开垂直同步会撕裂"),
    ("taobao", "TB-P3", "FP系列的耳机没有了哦"),
    ("taobao", "TB-P3", "发票已开好发您邮箱了，评价您想写啥就写啥哈"),
    ("taobao", "TB-P4", "您可以关闭信用卡免密支付，更安全"),
    ("taobao", "TB-P4", "我们店铺不收信用卡手续费哦"),
    ("taobao", "TB-P4", "店铺没法关掉花呗分期，也不会去关，您想分就分"),
    ("pinduoduo", "PDD-P2", "Q币直充填您要充值的QQ号就行，下单页有输入框，一般5分钟内到账~"),
]
# thirteenth pass (docs/rulesets.md, Thirteenth pass): paraphrases of what its blind batches
# showed, each failing with the lists of f4ffac9
THIRTEENTH_PASS_VIOLATIONS = [
    ("pinduoduo", "PDD-P1", "您这算盘打得挺响啊，一分钱不想多出"),
    ("pinduoduo", "PDD-P1", "这个价都算不明白，小学数学没学过吗"),
    ("pinduoduo", "PDD-P1", "钱不够就到隔壁店看看吧亲"),
    ("kuaishou", "KS-P1", "讲咗几多次啦，七日内发货"),
    ("pinduoduo", "PDD-P2", "五星写完发我，cashback 5r"),
    ("pinduoduo", "PDD-P2", "好pin写完截个屏，立减你3元"),
    ("pinduoduo", "PDD-P2", "好评有礼我们都没有限制的亲"),  # the denial cue ends its clause: not 没有限制
    ("taobao", "TB-P3", "补开发票得交工本费的，一张15"),
    ("taobao", "TB-P3", "开票内容您看看，哪个好报就写哪个"),
    ("taobao", "TB-P3", "发票过段时间再弄吧，最近单子多"),
]
THIRTEENTH_PASS_EVERYDAY = [
    ("taobao", "TB-P1", "您放心，这个问题绝对会帮您跟进到底的"),
    ("taobao", "TB-P1", "要到顶级（50级）才能领这个坐骑哦"),
    ("taobao", "TB-P1", "账号升到顶级就送限定皮肤"),
    ("taobao", "TB-P1", "您要的是No.1色号吧，有货的"),
    ("taobao", "TB-P1", "亲说用起来很完美，那我们就放心啦"),
    ("taobao", "TB-P1", "看到您说的“居家必备”啦😊谢谢亲的认可"),
    ("taobao", "TB-P1", "是「懒人神器 X3」这个型号哦，黑色有货"),
    ("pinduoduo", "PDD-P1", "我家小笨蛋也用这款猫砂，结团很快"),
    ("pinduoduo", "PDD-P1", "小笨蛋猫联名款钥匙扣到货了"),
    ("pinduoduo", "PDD-P2", "VX-300的滤芯和VX-200不通用哦"),
    ("pinduoduo", "PDD-P2", "在app里搜店名就能找到我们哦"),
    ("pinduoduo", "PDD-P2", "官方公众号昨天发布了涨价通知，这批还是原价"),
    ("pinduoduo", "PDD-P2", "晒图有礼这个活动本店没有哈"),
    ("taobao", "TB-P3", "纸质普票随货寄，抬头写贵公司全称就行"),
    ("taobao", "TB-P3", "发票我忙完手上这单再给您开"),  # a short wait, not put off: 忙完这阵子 only
]

# fourteenth pass (docs/rulesets.md, Fourteenth pass): paraphrases of what its blind batches
# showed, each failing with the lists of 568a786
FOURTEENTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P3", "纸质发票能寄，不过邮寄自理哦"),
    ("taobao", "TB-P3", "Sorry, we can't issue invoices for clearance items"),
    ("pinduoduo", "PDD-P2", "那款店里缺货，打开 www点abc-home点com 就能拍"),
    ("pinduoduo", "PDD-P2", "先扫一下我发的收钱码，运费差价我马上退给您"),
]
FOURTEENTH_PASS_EVERYDAY = [
    ("taobao", "TB-P1", "亲说的“宿舍神器”是指这个小风扇吗？有三种颜色"),
    ("taobao", "TB-P3", "开票系统维护中暂时开不了，星期四前发到您邮箱"),
    ("taobao", "TB-P3", "We can't issue the invoice today, we will send it by Monday"),
    ("pinduoduo", "PDD-P2", "扫瓶身上的防伪码能查真假，差价会在平台原路退回"),
]
# fifteenth pass (paraphrases of the late batches' misses and false alarms, not the rows themselves)
FIFTEENTH_PASS_VIOLATIONS = [
    ("pinduoduo", "PDD-P1", "中评还不改的话 ndz 哈"),
    ("douyin", "DY-P1", "差评不撤的话，你的手机号我们会挂出去"),
    ("pinduoduo", "PDD-P1", "您这是七秒记忆吧，上午刚说过的"),
    ("douyin", "DY-P1", "这都问第三遍了，有点若智哦"),
    ("pinduoduo", "PDD-P1", "这个记性，建议多吃点核桃"),
    ("pinduoduo", "PDD-P1", "腿粗就认了吧，换个阔腿裤"),
    ("pinduoduo", "PDD-P1", "嫌贵的话先回去攒攒钱哈"),
    ("kuaishou", "KS-P1", "尺码不是写了嘛？M码"),
    ("kuaishou", "KS-P1", "bzd，晚点再说"),
    ("kuaishou", "KS-P1", "这个我们也不知道哦，您自己打客服电话问问"),
    ("taobao", "TB-P1", "Our tea is the best quality in town"),
    ("taobao", "TB-P3", "这单能给您开成办公用品，报销方便"),
    ("taobao", "TB-P3", "开发票这边不太方便哈亲"),
    ("taobao", "TB-P3", "税控系统暂停了，开票时间还不确定"),
    ("taobao", "TB-P4", "信用卡支付我们这边是关掉的哦"),
    ("taobao", "TB-P4", "不支持花bei哈，只能余额"),
    ("taobao", "TB-P4", "刷信用卡我们要亏钱的，麻烦换个支付方式"),
]
FIFTEENTH_PASS_EVERYDAY = [
    ("pinduoduo", "PDD-P1", "若智能锁没反应，先换一下电池"),
    ("jd", "JD-P1", "评价送京豆是平台的规则哈，我们店铺不参与"),
    ("pinduoduo", "PDD-P1", "亲，不是您操作傻，是系统卡了"),
    ("pinduoduo", "PDD-P1", "很多顾客一开始都看不懂这个表，我帮您算"),
    ("kuaishou", "KS-P1", "不清楚哦，问下仓库马上回您"),
    ("kuaishou", "KS-P1", "不用找快递，我这边给您申请理赔"),
    ("taobao", "TB-P1", "“神器”是网友自己叫的，我们不这么说"),
    ("taobao", "TB-P1", "We will try our best to ship today"),
    ("taobao", "TB-P3", "不可以给您开成办公设备哦，只能按实际商品开"),
    ("taobao", "TB-P4", "花呗免密支付关掉的话每次要输密码哦"),
    ("pinduoduo", "PDD-P2", "公众号上不处理售后哈，就在这里给您办"),
]
SIXTEENTH_PASS_VIOLATIONS = [
    ("pinduoduo", "PDD-P1", "再闹下去让你们全家好看"),
    ("pinduoduo", "PDD-P2", "好评晒图fx 3r，截图发我"),
    ("taobao", "TB-P5", "五星好评 fx，拍下留言"),
    ("taobao", "TB-P1", "This cream is the best on the market"),
    ("taobao", "TB-P3", "专票能开，不过运费得买家自己出"),
    ("taobao", "TB-P4", "xyk的话不太方便哦，用储蓄卡吧"),
    ("taobao", "TB-P4", "拍下1299，刷kǎ的话是1338"),
    # after the review of the pass
    ("pinduoduo", "PDD-P1", "信不信让你一家子好看"),
    ("pinduoduo", "PDD-P2", "五星好评截图 5rmb"),
    ("taobao", "TB-P3", "发票的邮费亲们自理哈"),
    ("taobao", "TB-P3", "财务请假了，明天看能不能给您开"),
    ("taobao", "TB-P4", "花呗暂时不方便哦"),
]
SIXTEENTH_PASS_EVERYDAY = [
    ("pinduoduo", "PDD-P1", "这支口红能让你上镜时气色好看不少"),
    ("pinduoduo", "PDD-P2", "之前同事说的好评返现不合规，您别当真"),
    ("pinduoduo", "PDD-P2", "师傅送货前会打这个电话联系您，请保持畅通"),
    ("pinduoduo", "PDD-P2", "关注店铺就能进粉丝群，上新有提醒"),
    ("douyin", "DY-P2", "售后问题可以随时抖音私信我们哈"),
    ("taobao", "TB-P1", "色号No.1是最浅的那个"),
    ("taobao", "TB-P3", "财务今天请假，明天上班就给您开，您放心"),
    # after the review of the pass
    ("pinduoduo", "PDD-P2", "评价里提到的fx模式在设置里"),
    ("pinduoduo", "PDD-P2", "好评里说的6R相框还有货"),
    ("pinduoduo", "PDD-P2", "快递员会打这个电话给你，注意接听"),
    ("pinduoduo", "PDD-P2", "Menü:abcd1234"),
    ("douyin", "DY-P2", "有事抖音上私信我们就行"),
    ("taobao", "TB-P4", "分期付款页面不太方便查看的话我截图给您"),
    ("taobao", "TB-P4", "刷卡的话也是1299哦"),
    ("taobao", "TB-P4", "拍下1299，花呗的话是3期免息"),
]

# nineteenth pass (hP, docs/rulesets.md, Nineteenth pass): paraphrases of the wording its batch
# showed the lists lacked, each failing with the lists of 29afeb3
NINETEENTH_PASS_VIOLATIONS = [
    ("taobao", "TB-P3", "亲 爆款秒杀价不出票的哦"),
    ("taobao", "TB-P3", "开票的订单不参与店铺活动哈"),
    ("taobao", "TB-P3", "开票的税金您这边自理哦"),
    ("taobao", "TB-P3", "税盘在年检呢，发票先等等"),
    ("taobao", "TB-P3", "本月票额度满了哈"),
    ("taobao", "TB-P3", "开票服务我们还没开通哈"),
    ("taobao", "TB-P3", "几块钱的东西就别开票了哈"),
    ("taobao", "TB-P3", "签收二十天后才能申请开票哦"),
    ("taobao", "TB-P3", "发票年后再说哈亲"),
    ("taobao", "TB-P3", "开票主体是我们的代工厂哈"),
    ("taobao", "TB-P3", "给企业开不了哦亲"),
    ("taobao", "TB-P3", "fa piao mei you o"),
    ("taobao", "TB-P3", "Sorry, no invoice for sale items"),
    ("taobao", "TB-P3", "发票要您自己去税局代开哦"),
    ("taobao", "TB-P3", "给您开个送货单代替发票哈"),
    ("taobao", "TB-P3", "票的话只能随您下一单一起寄"),
    ("taobao", "TB-P3", "这单实在太小了，开票划不来"),
    ("taobao", "TB-P3", "我们没有正规发票哈，只能给收据"),
    ("taobao", "TB-P4", "本店不走花呗哈亲"),
    ("taobao", "TB-P4", "hb付款不行哦"),
    ("taobao", "TB-P4", "刷信用卡的那点损耗算您的哈"),
    ("taobao", "TB-P4", "信用卡手续费您自理哦"),
    ("taobao", "TB-P4", "花呗付款每单多5块"),
    ("taobao", "TB-P4", "信用卡那是另外的价哈"),
    ("taobao", "TB-P4", "用hb要jia 2 dian"),
    ("taobao", "TB-P4", "花呗下的单子放后头发哈"),
    ("taobao", "TB-P4", "信用卡支付的话满减就没了"),
    ("taobao", "TB-P4", "信用卡付的单子要核实，核实不了不发货"),
    ("taobao", "TB-P4", "分期？小店没这个功能哈"),
    ("taobao", "TB-P4", "用花呗的话价格得重新算"),
    ("taobao", "TB-P4", "分期的赠品等您最后一期付清再寄"),
    ("taobao", "TB-P4", "xyk不给用哈"),
    ("taobao", "TB-P4", "信用卡下单的不能送货上门"),
    ("kuaishou", "KS-P1", "您自个儿翻下记录呗"),
]
NINETEENTH_PASS_EVERYDAY = [
    ("taobao", "TB-P4", "这台POS机刷卡费率0.6是银联规定的"),
    ("taobao", "TB-P4", "信用卡手续费我们一分都不收哦"),
    ("taobao", "TB-P4", "信用卡付不了是什么提示呀？发个截图我看看"),
    ("taobao", "TB-P4", "分3期的话花呗会收服务费，店铺不收"),
    ("taobao", "TB-P3", "打印机坏了吗？这款保修一年的"),
    ("taobao", "TB-P3", "纸质票暂时用完了，先给您开电子发票"),
    # review hR: 不走 as advice, and a product's HB, are no refusal
    ("taobao", "TB-P4", "您如果不走分期，可以直接付全款"),
    ("taobao", "TB-P4", "不走花呗的话可以用余额宝付款"),
    ("taobao", "TB-P4", "这款HB铅芯不支持退换"),
    ("taobao", "TB-P4", "HB-05型号不支持快充"),
    # guards of entries narrowed in the pass (they pass on the old lists too)
    ("taobao", "TB-P3", "发票由工厂直发的仓库一起寄出"),
    ("taobao", "TB-P3", "收据跟发票一样吗？不一样的，我们给您开正式发票"),
    ("taobao", "TB-P3", "发票这个不难，我们弄不了的话平台也能开"),
    ("taobao", "TB-P3", "票上给您写“乳胶床垫”哈，跟您买的一样"),
    ("taobao", "TB-P3", "快递费也能开票，不过单寄的话不行哈，会跟货一起走"),
    ("taobao", "TB-P3", "打印机卡纸的话打开后盖取出来就行"),
    ("taobao", "TB-P4", "hb铅笔不能用来画水彩哦"),
    ("taobao", "TB-P4", "credit card 付款 ok 的，no extra fee 哈"),
    ("taobao", "TB-P4", "花呗付清了再发吗？不用等的亲"),
    ("taobao", "TB-P3", "开票的税我们负担，您放心"),
    ("taobao", "TB-P3", "发票开好了，快递停了哦"),
    ("taobao", "TB-P4", "信用卡手续费由我们负担"),
]

# 让你好看 is the source's threat and, in a beauty or clothing shop, a compliment: the product
# makes the buyer look better. Found reading the sixteenth pass's own notes, not in a batch;
# checked with the models on (a blanked compliment must not become a model hit either), on
# every platform whose insult rule reads the `abuse` lexicon.
LOOK_BETTER_COMPLIMENTS = ["这款粉底能让你好看很多哦", "亲，这个发型会让你好看不少", "穿上它让你好看又显瘦", "这件衣服让你好看还显白", "这个色号让你好看起来，气色满满"]
LOOK_BETTER_THREATS = [
    "你再差评试试，我让你好看", "我会让你好看的", "让你好看，等着",
    # the threat going on (a review of the allow phrases: 让你好看还/也/又 had hidden these)
    "我让你好看也不迟", "让你好看还不行？", "再啰嗦，让你好看还是轻的", "我让你好看又如何",
]
ABUSE_RULES = [("pinduoduo", "PDD-P1"), ("douyin", "DY-P1"), ("kuaishou", "KS-P1")]


@pytest.mark.parametrize(("platform", "code"), ABUSE_RULES)
def test_looking_better_is_a_compliment_and_the_threat_still_fires(platform: str, code: str) -> None:
    params = load_platform(platform).rule(code).params
    assert _fires(params, LOOK_BETTER_COMPLIMENTS) == [None] * len(LOOK_BETTER_COMPLIMENTS)
    assert None not in _fires(params, LOOK_BETTER_THREATS)


@pytest.mark.parametrize(("platform", "code", "text"), FIFTH_PASS_VIOLATIONS + SEVENTH_PASS_VIOLATIONS + EIGHTH_PASS_VIOLATIONS + NINTH_PASS_VIOLATIONS + TENTH_PASS_VIOLATIONS + ELEVENTH_PASS_VIOLATIONS + TWELFTH_PASS_VIOLATIONS + THIRTEENTH_PASS_VIOLATIONS + FOURTEENTH_PASS_VIOLATIONS + FIFTEENTH_PASS_VIOLATIONS + SIXTEENTH_PASS_VIOLATIONS + NINETEENTH_PASS_VIOLATIONS)
def test_the_lists_alone_hold_these_violations(platform: str, code: str, text: str) -> None:
    params = {**load_platform(platform).rule(code).params, "models": []}
    assert _fires(params, [text]) != [None]


@pytest.mark.parametrize(("platform", "code", "text"), SEVENTH_PASS_EVERYDAY + EIGHTH_PASS_EVERYDAY + NINTH_PASS_EVERYDAY + TENTH_PASS_EVERYDAY + ELEVENTH_PASS_EVERYDAY + TWELFTH_PASS_EVERYDAY + THIRTEENTH_PASS_EVERYDAY + FOURTEENTH_PASS_EVERYDAY + FIFTEENTH_PASS_EVERYDAY + SIXTEENTH_PASS_EVERYDAY + NINETEENTH_PASS_EVERYDAY)
def test_the_lists_leave_these_denials_and_warnings_alone(platform: str, code: str, text: str) -> None:
    # The lists only: the models do not read negation (the contact model still scores
    # 无论您给好评… above its threshold on 给好评).
    params = {**load_platform(platform).rule(code).params, "models": []}
    assert _fires(params, [text]) == [None]


@pytest.mark.parametrize(
    ("platform", "code", "text"),
    [
        ("pinduoduo", "PDD-P2", "亲，好评送赠品？没有的哈，赠品是下单就送的那个"),
        ("pinduoduo", "PDD-P2", "家人们想要的扣1，我在直播间统一上链接，别私下找人买哈"),
        ("pinduoduo", "PDD-P1", "您说“客服都是傻子”，抱歉让您有这种感觉"),
        ("pinduoduo", "PDD-P1", "2B的有货亲"),
        ("taobao", "TB-P1", "亲，冠军同款？不是的，我们没有代言，就是普通款"),
        ("taobao", "TB-P1", "亲，这张手机膜不能完美贴合曲面屏，边上会有一点白边"),
        ("taobao", "TB-P3", "亲，财务不在也没事，开票我这边有权限，现在就给您开"),
        # the abuse model, before 40 short 是不是 checks joined its negatives
        ("pinduoduo", "PDD-P1", "您是不是拍错了"),
        ("pinduoduo", "PDD-P1", "您是不是地址填错了"),
        # a sales slogan the abuse model took for a threat on a generated week of two shops
        ("pinduoduo", "PDD-P1", "【瑜伽垫黑色均码】全网最低价,买不了吃亏"),
        # the creditcard model read 刷卡/用卡/卡 as a surcharge before 刷卡不加价 was an allow phrase (eleventh pass)
        ("taobao", "TB-P4", "支持花呗和信用卡，刷卡不加价哒😊"),
    ],
)
def test_the_fifth_pass_everyday_replies_fire_nothing(platform: str, code: str, text: str) -> None:
    assert _fires(load_platform(platform).rule(code).params, [text]) == [None]


# A user's report after the sixteenth pass: TB-P3 took any surcharge in points (bare 加\d+个点) for
# tax points on an invoice, so loyalty points (会员积分每单再加2个点哦) were an invoice error and a card
# surcharge (刷信用卡要加3个点手续费) was counted twice, TB-P4's and TB-P3's. Points are the invoice's
# only next to an invoice or tax word; the rule as shipped, models on (what an audit reports).
TAX_POINTS_VIOLATIONS = [
    "开票要加6个点",
    "要发票的话加3个点税点",
    "专票加8个点",
    "要票的话得加六个点",
    "加6个点就能开发票",
    "加6个点可以给您开专票",
    "加3个点的税点哈",
    "含税的话要加6个点",
    "税点的话加6个点",
    "价格不含税，加6个点",
]
TAX_POINTS_EVERYDAY = [
    "会员积分每单再加2个点哦",
    "刷信用卡要加3个点手续费",
    "积分加2个点",
    "刷卡加3个点",
    "返2个点",
    "老会员积分再加3个点哦",
    "花呗付款要加2个点哦",
    "用信用卡付款需要加三个点手续费哦",
    "大促期间佣金加5个点",
    "本月返利再给您加1个点",
    "88VIP再加5个点的折扣",
    "积分加2个点，票随货寄",
    "刷卡加3个点，发票照常免费开",
    "含税价，积分加2个点",  # review of the whole change: 含税 across a comma reached loyalty points
]


def test_tax_points_fire_tb_p3_only_next_to_an_invoice_or_tax_word() -> None:
    params = load_platform("taobao").rule("TB-P3").params
    missed = [t for t, m in zip(TAX_POINTS_VIOLATIONS, _fires(params, TAX_POINTS_VIOLATIONS)) if m is None]
    fired = [(t, m) for t, m in zip(TAX_POINTS_EVERYDAY, _fires(params, TAX_POINTS_EVERYDAY)) if m is not None]
    assert not missed and not fired, f"invoice surcharges missed: {missed}; everyday points fired: {fired}"


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("亲，我们没办法给你开发票", True),  # a supervisor's check (2026-12-07): passed, while 没法开发票 fired
        ("亲，不能帮您开票哦", True),
        ("亲，可以给您开发票的哦", False),
        ("亲，下单后备注抬头，我们会给您开发票的", False),
        ("亲，实在没办法给您开发票", True),
        # Everyday replies: what the invoice needs, when it comes, the electronic one instead
        # of paper, a refusal denied (each fired with the first pattern of 2026-12-07).
        ("没有抬头的话无法为您开具发票哦，麻烦提供一下抬头", False),
        ("没有您的邮箱没办法给您开电子发票哦，留一下邮箱", False),
        ("付款前不能给您开发票哦，付款后就可以开了", False),
        ("确认收货前无法为您开具发票，确认收货后系统自动开", False),
        ("亲，不能为您开具纸质发票，电子发票会发到您的订单里", False),
        ("亲，哪里不能给您开发票了？可以开的呀", False),
        # The buyer's missing details as the reason, in the clause before (2026-12-07): ask, not refuse.
        ("您还没提供抬头，不能给您开发票哦", False),
        ("亲您还没给我们发税号呢，没法开票哦", False),
        ("您没填发票抬头，暂时没办法给您开票", False),
        ("个人抬头的不给开的哦，只能开单位的，亲有公司税号吗？没有就开不了", True),
        # …but a concession is no condition: a refusal whatever the buyer gives (review).
        ("就算您没填税号，我们也不开发票", True),
        ("即使没发税号也一样，我们家不给开发票", True),
    ],
)
def test_an_invoice_refused_with_whom_between_is_tb_p3(text, fires):
    from cservice_audit.check_text import check_text
    from cservice_audit.ruleset import load_platform

    verdict = {r["code"]: r for r in check_text(text, load_platform("taobao"))["rules"]}["TB-P3"]
    assert verdict["hit"] is fires, verdict


def test_check_text_tunes_an_entry_the_file_has_and_a_file_that_extends_nothing(cli, write) -> None:
    """The entry check-text gave was right only for a code the shop's file did not list yet: a
    second TB-P1 entry was 'the code is used twice' (a supervisor's second tuning), and in a file
    that extends nothing `allow_add` is an unknown parameter. The first now goes into the entry
    there, the second into the rule's own list."""
    import yaml

    write("shop.yaml", "extends: taobao\nrules:\n  - {code: TB-P1, params: {phrases_add: [竞品家]}}\n")
    shipped = yaml.safe_load((Path(__file__).resolve().parents[1] / "cservice_audit" / "rulesets" / "taobao.yaml").read_text("utf-8"))
    shipped["rules"] = [r for r in shipped["rules"] if r["code"] == "TB-P1"]
    write("alone.yaml", yaml.safe_dump(shipped, allow_unicode=True))
    listed, alone = cli.many(("check-text", "全网最低", "--ruleset", "shop.yaml"), ("check-text", "全网最低", "--ruleset", "alone.yaml", "--lang", "zh"))
    assert listed.code == 1 and alone.code == 1, listed.err + alone.err
    tail = listed.out.split("\n\n")[-1].splitlines()
    assert tail[1] == '  TB-P1 should not fire: in the TB-P1 entry already there, under params, write allow_add: ["全网最低"] (or add to its allow_add)', tail
    write("shop.yaml", "extends: taobao\nrules:\n  - {code: TB-P1, params: {phrases_add: [竞品家], allow_add: [\"全网最低\"]}}\n")
    assert cli("check-text", "全网最低", "--ruleset", "shop.yaml").code == 0
    tail = alone.out.split("\n\n")[-1].splitlines()
    assert tail == [
        "改判：改 alone.yaml 里该规则的列表，再用 validate-ruleset 检查",
        '  TB-P1 不该命中：在 TB-P1 一项的 params.allow 列表里加上 "全网最低"',
    ] and "_add" not in alone.out, tail



def test_check_text_tunes_a_plain_allow_list_the_entry_writes_into_that_list(cli, write) -> None:
    """A shop's TB-P1 entry writes a plain `allow:` (replacing the base's); check-text said to
    write `allow_add` beside it, which validate-ruleset refuses ("write one of allow and
    allow_add"). The word now goes into that allow list, and the file so changed stops the hit."""
    write("shop.yaml", "extends: taobao\nrules:\n  - {code: TB-P1, params: {allow: [最近]}}\n")
    hit = cli("check-text", "全网最低", "--ruleset", "shop.yaml")
    assert hit.code == 1, hit.err
    assert hit.out.split("\n\n")[-1].splitlines()[1] == '  TB-P1 should not fire: add "全网最低" to params.allow of the TB-P1 entry', hit.out
    write("shop.yaml", "extends: taobao\nrules:\n  - {code: TB-P1, params: {allow: [最近, 全网最低]}}\n")
    assert cli("validate-ruleset", "shop.yaml").code == 0 and cli("check-text", "全网最低", "--ruleset", "shop.yaml").code == 0


# A card's own limit (review hR of the nineteenth pass): 额度满了 and 额度没批下来 joined TB-P3's
# excuses for an invoice quota with no invoice word beside them, so a reply about a buyer's
# credit-card or Huabei limit fired the invoice rule.
CARD_LIMIT_REPLIES = [
    "信用卡额度满了的话可以用花呗",
    "亲，您的花呗额度已经满了，可以用其他方式付款",
    "您的信用卡额度满了，换张卡试试",
    "花呗额度没批下来的话可以用信用卡",
    "分期额度没申请下来的话可以全款",
]


@pytest.mark.parametrize("text", CARD_LIMIT_REPLIES)
def test_a_card_limit_is_no_invoice_quota(text: str) -> None:
    assert _fires(load_platform("taobao").rule("TB-P3").params, [text]) == [None]
    # the invoice quota itself still fires
    assert _fires(load_platform("taobao").rule("TB-P3").params, ["亲，这个月的发票额度已经满了，开不了"]) != [None]


# The shop bearing the fee for the buyer (review hR): 负担/分担 after 您 fired on 帮您分担, the
# shop's own subsidy, though the pass meant the buyer bearing it.
@pytest.mark.parametrize("text", ["信用卡分期手续费店铺帮您分担一半", "信用卡分期手续费我们帮您负担", "花呗分期的手续费我们替您负担"])
def test_the_shop_bearing_a_card_fee_for_the_buyer_fires_nothing(text: str) -> None:
    params = load_platform("taobao").rule("TB-P4").params
    assert _fires(params, [text]) == [None]
    assert _fires(params, ["信用卡手续费需要您负担哦"]) != [None]


@pytest.mark.parametrize("text", ["开票产生的费用店铺帮您分担", "发票的邮费我们替您负担"])
def test_the_shop_bearing_an_invoice_charge_for_the_buyer_fires_nothing(text: str) -> None:
    params = load_platform("taobao").rule("TB-P3").params
    assert _fires(params, [text]) == [None]
    assert _fires(params, ["开票的税点需要您负担哦"]) != [None]


# A card payer's extra discount (review hR): 多5元 after a card word is a surcharge, but 多5元优惠,
# 多10元红包 and 多3元立减 are the promotion the buyer gets.
@pytest.mark.parametrize("text", ["用花呗付款还能多5元优惠呢", "信用卡支付可以多10元红包哦", "花呗分期还能多3块减免"])
def test_a_card_payers_extra_discount_fires_nothing(text: str) -> None:
    params = load_platform("taobao").rule("TB-P4").params
    assert _fires(params, [text]) == [None]
    assert _fires(params, ["亲，xyk付款每单多10元"]) != [None]


def test_check_text_names_the_model_that_hit_not_one_whose_rounded_score_passes() -> None:
    """check-text's line for a model hit named the first model whose score, rounded to two
    places, was >= its unrounded threshold (review hR): abuse at -0.2849 (no hit, rounded -0.28 >=
    -0.28123) was named for confrontational's hit, and a hit rounded down below its threshold
    (2.1330 -> 2.13 < 2.13269) named none. The engine's own `how` names the model that hit."""
    from cservice_audit.check_text import render

    rule = {
        "code": "DY-P1", "title": "服务态度", "hit": True, "match": "x/y", "how": "model",
        "listed": "model confrontational 2.13 >= 2.13", "sounds_like": None, "origin": None, "allowed": [], "negated": [],
        "models": [{"model": "abuse", "score": -0.28, "threshold": -0.28123}, {"model": "confrontational", "score": 2.13, "threshold": 2.13269}],
    }
    result = {"text": "t", "normalized": "t", "platform": "douyin", "version": "1", "rules": [rule]}
    en, zh = render(result, "en"), render(result, "zh")
    assert "model confrontational 2.13 >= 2.13" in en and "abuse" not in en, en
    assert "模型 confrontational" in zh and "得分 2.13 ≥ 阈值 2.13" in zh and "abuse" not in zh, zh
