"""Seeded generator of realistic customer-service chat exports.

`generate_events` makes a chat export in the canonical column layout of spec/metrics.md §1
(ts, shop, buyer, conversation, role, agent, text, spam, message_id, rating, reason, served_by,
all strings, naive local time), and `write_export` writes it as CSV or JSON lines, optionally
gzip-compressed, with English or Chinese export headers.

Why it exists: the bundled samples, the tests and the benchmarks need exports that exercise
every rule the auditor measures, without shipping anyone's real chats. So the data carries the
situations the rules care about, each drawn from the seed: agents with different habits (fast,
average, often late, sometimes silent), a robot that answers before a human does, suspected
spam nobody answers, transfers between agents, night messages (and 22:5x messages answered
after 23:00), multi-message turns, unanswered final turns, system rows, and buyer reviews
(满意/一般/失望, with reasons such as 服务态度差) that rate the last agent who replied, or the
robot when only it did, minutes to hours after the chat, so some fall outside 08:00–23:00.

The same `Profile` always gives the same frame: everything random comes from one
`random.Random(seed)`, never from global state or the clock. It is built for 10,000,000 rows:
the per-event loop only appends small integers to `array`s (a time in seconds, a conversation
number, a text code, an agent code) and polars turns those into strings once at the end. A text
code fixes the whole row apart from time, conversation and agent: text, role, spam flag, and on
review rows the rating, reason and served_by.
"""

from __future__ import annotations

import os
import random
import zlib
from array import array
from bisect import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from cservice_audit.errors import AuditError, os_reason
from cservice_audit.files import atomic_path

from cservice_audit.formatting import format_text
COLUMNS = (
    "ts", "shop", "buyer", "conversation", "role", "agent", "text", "spam", "message_id",
    "rating", "reason", "served_by",
)  # fmt: skip
BOT_AGENT = "机器人"
DEFAULT_AGENTS = ("小美", "阿强", "小周", "莉莉")

# Chinese export spellings; each one is listed in cservice_audit/data/aliases.yaml, so a
# `--headers zh` file reads back through the normal alias mapping.
ZH_HEADERS = {
    "ts": "发送时间",
    "shop": "店铺",
    "buyer": "买家",
    "conversation": "会话ID",
    "role": "发送方",
    "agent": "客服账号",
    "text": "消息内容",
    "spam": "疑似骚扰",
    "message_id": "消息ID",
    "rating": "评价结果",
    "reason": "评价原因",
    "served_by": "接待方式",
}
ZH_ROLES = {"buyer": "买家", "agent": "客服", "bot": "机器人", "system": "系统", "review": "评价"}
ZH_SPAM = {"true": "是", "false": "否"}
ZH_RATINGS = {"satisfied": "满意", "neutral": "一般", "disappointed": "失望"}
ZH_SERVED_BY = {"human": "人工", "bot": "机器人"}

_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}


@dataclass(frozen=True)
class Habit:
    """How one agent answers a buyer turn.

    Usually after `low`–`high` seconds; a `late_rate` share of turns after `late_low`–`late_high`
    seconds; a `stall_rate` share of turns waits so long that the buyer asks again (还在吗?)
    before the late answer; `drop_rate` is the chance that the conversation's last buyer turn is
    never answered. A review of this agent is satisfied/neutral/disappointed with the relative
    weights `ratings`, and `attitude` is the share of neutral and disappointed reviews that give
    服务态度差 as the reason.
    """

    low: int
    high: int
    late_rate: float = 0.0
    late_low: int = 200
    late_high: int = 600
    stall_rate: float = 0.0
    drop_rate: float = 0.0
    ratings: tuple[float, float, float] = (0.85, 0.10, 0.05)
    attitude: float = 0.10


# Assigned to agents in order (and cycled): fast, average, often late, sometimes silent.
DEFAULT_HABITS = (
    Habit(10, 60, late_rate=0.01, late_low=90, late_high=200, drop_rate=0.01,
          ratings=(0.93, 0.05, 0.02), attitude=0.04),
    Habit(45, 180, late_rate=0.06, late_low=200, late_high=420, stall_rate=0.01, drop_rate=0.02,
          ratings=(0.84, 0.10, 0.06), attitude=0.10),
    Habit(90, 200, late_rate=0.45, late_low=200, late_high=900, stall_rate=0.04, drop_rate=0.03,
          ratings=(0.64, 0.20, 0.16), attitude=0.25),
    Habit(20, 150, late_rate=0.05, late_low=200, late_high=600, stall_rate=0.10, drop_rate=0.10,
          ratings=(0.66, 0.14, 0.20), attitude=0.35),
)  # fmt: skip
# How buyers rate a conversation only the robot answered: more often let down, rarely about attitude.
BOT_RATINGS, BOT_ATTITUDE = (0.50, 0.25, 0.25), 0.03

# Relative chance that a conversation starts in each local hour (0..23): quiet at night,
# busy late morning and evening, as on the big platforms.
DEFAULT_HOUR_WEIGHTS = (
    1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.5, 4, 7, 9, 9, 7, 7, 8, 8, 7, 6, 6, 7, 9, 10, 8, 2.5,
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """What to generate. Only `rows`, `seed`, `start` and `days` are needed; the rest are knobs."""

    rows: int
    seed: int
    start: date
    days: int = 1
    shop: str = "示例旗舰店"
    agents: tuple[str, ...] = DEFAULT_AGENTS
    habits: tuple[Habit, ...] = DEFAULT_HABITS  # cycled over `agents`
    spam_rate: float = 0.06  # share of conversations that are suspected spam, never answered
    bot_rate: float = 0.30  # share of daytime conversations the robot greets first (0: no robot; else it
                            # answers every night conversation too)
    transfer_rate: float = 0.08  # share of multi-turn conversations handed to a second agent
    edge_rate: float = 0.015  # share of conversations started 22:50–22:59, answered after 23:00
    system_rate: float = 0.06  # chance of a system row (order placed, paid, ...) after a reply
    risky_rate: float = 0.002  # share of agent replies with phrases text rules flag (WeChat, 好评返现, ...)
    return_rate: float = 0.15  # chance that a conversation comes from a buyer seen before
    review_rate: float = 0.35  # share of answered, non-spam conversations the buyer reviews afterwards
    hour_weights: tuple[float, ...] = DEFAULT_HOUR_WEIGHTS  # 24 relative weights, one per local hour
    opens: int = 8  # the hour the human shift starts: night conversations before it get the robot
    buyer_gap: int = 40  # a buyer's next message in the same turn comes 3 to 3 + buyer_gap seconds later
    variety: float = 0.0  # share of texts made one of a kind (order numbers, products, amounts, typos)
    conversation_ids: bool = True  # False: the export has no session column (sessions come from silences)
    topic_weights: tuple[float, ...] | None = None  # relative weight of each topic (shipping, quality, sizes,
                                                    # price, returns, invoices); None: all alike


# --------------------------------------------------------------------------- phrases

_GREETINGS = ("在吗", "在吗？", "你好", "您好", "亲在吗", "有人吗", "老板在吗", "客服在吗", "hello", "在不在")
_TOPICS = (
    (  # shipping and logistics
        ("什么时候发货", "今天能发货吗？", "我的快递到哪了", "物流怎么一直没更新", "能发顺丰吗", "下单三天了还没发货",
         "可以催一下快递吗", "发什么快递", "几天能到上海", "地址填错了能改吗"),
        ("亲，今天下单48小时内发货哦", "已为您催促快递", "亲，默认发中通，顺丰需要补差价哦",
         "亲，帮您查了一下，包裹已经到您所在城市了", "亲，物流信息可能有延迟，请再耐心等一下",
         "亲，已经联系仓库优先为您发出", "预计2-3天送达哦", "亲，还没发货的话可以帮您改地址"),
    ),
    (  # quality complaints
        ("质量有问题", "收到的东西是坏的", "衣服有线头", "颜色和图片不一样", "刚用一次就坏了", "有色差",
         "东西有异味", "这个是正品吗", "少发了一件", "包装都压坏了"),
        ("非常抱歉给您带来不好的体验", "亲，麻烦拍一下照片发给我们看看", "亲，我们支持七天无理由退换",
         "已为您登记，给您补发一个新的", "亲，我们都是正品，支持验货", "亲，新品可能有点味道，通风两天就好了",
         "亲，已经帮您申请了补偿"),
    ),
    (  # sizes
        ("我165斤穿多大码", "这个偏大还是偏小", "身高170体重120穿什么码", "鞋码正常吗", "有没有加大码", "腰围二尺二穿哪个"),
        ("亲，建议您拿XL码哦", "亲，版型是正常码，按平时尺码拍就可以", "亲，详情页有尺码表可以参考一下",
         "亲，偏小一码，建议拍大一码", "亲，M码比较合适哦"),
    ),
    (  # price and coupons
        ("有优惠券吗", "能便宜点吗", "怎么领券", "买两件有优惠吗", "双十一还会降价吗", "价格保护吗", "有赠品吗"),
        ("亲，店铺首页可以领取满199减20的优惠券哦", "亲，已经是活动价了哦", "亲，拍两件自动打九折",
         "亲，我们支持价保，降价可以联系客服退差价", "亲，下单备注一下送小样哦"),
    ),
    (  # returns and refunds
        ("我要退货", "怎么申请退款", "可以换个颜色吗", "退货运费谁出", "退款什么时候到账", "我已经寄回去了", "不想要了可以退吗"),
        ("亲，在订单页面点申请退货就可以哦", "亲，我们有运费险，退货运费可以报销", "亲，收到退货后24小时内给您退款",
         "亲，已经为您审核通过了", "亲，可以换的，麻烦在订单里申请换货"),
    ),
    (  # invoices
        ("可以开发票吗", "发票怎么开", "能开专票吗", "发票抬头写错了"),
        ("亲，可以开电子发票，确认收货后自动发送哦", "亲，麻烦提供一下抬头和税号", "亲，专票需要提供公司信息哦",
         "亲，已经为您重新开具了"),
    ),
)  # fmt: skip
_BUYER_CLOSINGS = ("好的谢谢", "谢谢亲", "知道了", "行，那我下单了", "好的，等你消息", "嗯嗯", "好吧", "ok")
_BUYER_NUDGES = ("还在吗？", "人呢", "？？", "怎么不说话", "快点回复啊", "有人吗？")
_AGENT_HELLOS = ("亲，在的", "亲，在的，请问有什么可以帮您？", "在的亲，您说", "您好，请问有什么可以帮您")
_AGENT_HOLDS = ("亲，请稍等，正在为您查询", "好的亲，马上帮您看一下", "亲，稍等哦")
_AGENT_SORRY = ("抱歉久等了", "亲，刚才咨询量大，让您久等了", "不好意思，刚刚在忙")
_AGENT_CLOSINGS = ("不客气，祝您生活愉快～", "亲，还有其他可以帮您的吗？", "感谢您的支持，有问题随时联系我们哦")
_AGENT_TRANSFER = "亲，这边为您转接售后同事处理，请稍等"
_AGENT_RISKY = ("亲，加我微信 wx13800138000 发你高清图", "亲，给个五星好评返现5元哦", "全网最低价，买不了吃亏",
                "你自己看不懂详情页吗", "亲，麻烦您先关闭交易重新拍一下")  # fmt: skip
_BOT_DAY = ("亲，客服正在赶来，请稍等哦", "【自动回复】亲，您的问题已收到，人工客服将尽快回复")
_BOT_NIGHT = ("亲，现在是非工作时间，客服上线后会第一时间回复您", "夜间自动回复：客服工作时间为{opens}:00-23:00，请留言")
_SYSTEM_ENTER = ("系统消息：买家从商品详情页进入咨询", "系统消息：买家从订单页进入咨询")
_SYSTEM_ORDER = ("系统消息：买家已下单", "系统消息：买家已付款", "系统消息：买家申请退款", "系统消息：买家已确认收货")
_SPAM = ("加V领取福利", "兼职刷单日赚300，详情加微信", "点击链接领取红包 http://t.cn/A6x", "低价代购，需要的私聊",
         "【推广】免费领取会员", "你好，我们是推广公司，可以帮店铺提升销量")  # fmt: skip
# Review reasons. Neutral and disappointed reviews always give one: 服务态度差 with the rated
# habit's `attitude` share, else one of the others by weight. A few satisfied reviews give one too.
ATTITUDE_REASON = "服务态度差"
_OTHER_REASONS = (("回复太慢", 3.0), ("没有解决问题", 3.0), ("物流太慢", 2.0), ("商品质量问题", 2.0))
_GOOD_REASONS = ("回复及时", "服务热情", "解答专业")
_GOOD_REASON_RATE = 0.12
_RATINGS = ("satisfied", "neutral", "disappointed")


class _Book:
    """Every text the generator can write, interned as small integer codes.

    A code fixes the text, the role and the spam flag together (and on review rows the rating,
    reason and served_by), so the event loop appends one integer per row instead of several
    strings; the same words said by two roles get two codes.
    """

    def __init__(self, profile: Profile) -> None:
        self.text: list[str | None] = []
        self.role: list[str] = []
        self.spam: list[str] = []
        self.rating: list[str | None] = []
        self.reason: list[str | None] = []
        self.served_by: list[str | None] = []
        self._codes: dict[tuple, int] = {}
        buyer, agent = (lambda words: self.add("buyer", words)), (lambda words: self.add("agent", words))
        self.greetings = buyer(_GREETINGS)
        self.topics = [(buyer(b), agent(a)) for b, a in _TOPICS]
        self.buyer_closings = buyer(_BUYER_CLOSINGS)
        self.nudges = buyer(_BUYER_NUDGES)
        self.hellos = agent(_AGENT_HELLOS)
        self.holds = agent(_AGENT_HOLDS)
        self.sorry = agent(_AGENT_SORRY)
        self.agent_closings = agent(_AGENT_CLOSINGS)
        self.transfer = agent([_AGENT_TRANSFER])[0]
        self.risky = agent(_AGENT_RISKY)
        # Per-agent lines name the agent, as real greetings and transfer notices do.
        self.intros = [agent([f"您好，我是客服{name}，很高兴为您服务"])[0] for name in profile.agents]
        self.takeovers = [agent([f"您好，我是售后客服{name}，接下来由我为您处理"])[0] for name in profile.agents]
        self.handed = [self.add("system", [f"系统消息：会话已转接给{name}"])[0] for name in profile.agents]
        self.bot_welcome = self.add("bot", [f"您好，欢迎光临{profile.shop}，请问有什么可以帮您？"] + list(_BOT_DAY))
        self.bot_waiting = self.add("bot", _BOT_DAY)
        self.bot_night = self.add("bot", [word.format(opens=profile.opens) for word in _BOT_NIGHT])
        self.system_enter = self.add("system", _SYSTEM_ENTER)
        self.system_order = self.add("system", _SYSTEM_ORDER)
        self.spam_texts = self.add("buyer", _SPAM, spam=True)
        # Review rows have no text: review[served_by == "bot"][rating][reason] -> code, where
        # reason 0 is none, 1 is 服务态度差, then the other reasons, then the satisfied ones.
        reasons = (None, ATTITUDE_REASON, *(r for r, _ in _OTHER_REASONS), *_GOOD_REASONS)
        self.review = [
            [[self._row("review", None, False, rating, reason, served) for reason in reasons] for rating in _RATINGS]
            for served in ("human", "bot")
        ]

    def add(self, role: str, words, spam: bool = False) -> list[int]:
        return [self._row(role, word, spam) for word in words]

    def _row(self, role, word, spam, rating=None, reason=None, served_by=None) -> int:
        key = (role, word, spam, rating, reason, served_by)
        if key not in self._codes:
            self._codes[key] = len(self.text)
            self.text.append(word)
            self.role.append(role)
            self.spam.append("true" if spam else "false")
            self.rating.append(rating)
            self.reason.append(reason)
            self.served_by.append(served_by)
        return self._codes[key]


# --------------------------------------------------------------------------- generation

_NO_AGENT, _BOT = 0, 1  # agent codes; human agent i is code 2 + i
_GREETED, _ASKED, _CLOSED = 0, 1, 2  # what a buyer turn ended with
_DAY = 86_400
# Turns per conversation (1..8) and buyer messages per turn (1..3): cumulative weights.
_TURNS_CUM = (0.20, 0.45, 0.65, 0.80, 0.90, 0.95, 0.98, 1.0)
_MESSAGES_CUM = (0.68, 0.92, 1.0)


def generate_events(profile: Profile) -> pl.DataFrame:
    """Make the export for `profile`: String columns in COLUMNS order, sorted by time."""
    _check(profile)
    rng = random.Random(profile.seed)
    rand = rng.random  # the only randomness; drawn through local names because the loop is hot
    book = _Book(profile)
    n_agents = len(profile.agents)
    habits = [profile.habits[i % len(profile.habits)] for i in range(n_agents)]

    # Some days and some agents are busier than others; drawn once per profile.
    day_cum = _cumulative([0.75 + 0.5 * rand() for _ in range(profile.days)])
    agent_cum = _cumulative([0.7 + 0.6 * rand() for _ in range(n_agents)])
    hour_cum = _cumulative(profile.hour_weights)
    # Who a review rates decides how it goes: (rating weights, 服务态度差 share, codes by rating and reason).
    raters = [(_cumulative(h.ratings), h.attitude, book.review[0]) for h in habits]
    bot_rater = (_cumulative(BOT_RATINGS), BOT_ATTITUDE, book.review[1])
    other_cum = _cumulative([w for _, w in _OTHER_REASONS])
    first_good = 2 + len(_OTHER_REASONS)
    review_rate = profile.review_rate

    # One entry per event: time in seconds from the first day's midnight, text code, agent code.
    ts, text, who = array("q"), array("i"), array("b")
    ts_add, text_add, who_add = ts.append, text.append, who.append

    def emit(t: int, code: int, agent: int = _NO_AGENT) -> None:
        ts_add(t)
        text_add(code)
        who_add(agent)

    # One entry per conversation: its day, start, buyer number and first event's position.
    conv_day, conv_start, conv_buyer, conv_first = array("i"), array("q"), array("i"), array("q")
    buyers_seen = 0
    spam_rate, bot_rate, edge_rate = profile.spam_rate, profile.bot_rate, profile.edge_rate
    transfer_rate, system_rate, risky_rate = profile.transfer_rate, profile.system_rate, profile.risky_rate
    greetings, nudges, buyer_closings = book.greetings, book.nudges, book.buyer_closings
    hellos, holds, sorry, agent_closings, risky = book.hellos, book.holds, book.sorry, book.agent_closings, book.risky
    topics = book.topics
    topic_cum = _cumulative(profile.topic_weights) if profile.topic_weights is not None else None
    target = profile.rows

    while len(ts) < target:
        day = bisect(day_cum, rand())
        day_base = day * _DAY
        if rand() < profile.return_rate and buyers_seen:
            buyer_no = 1 + int(rand() * buyers_seen)
        else:
            buyers_seen += 1
            buyer_no = buyers_seen

        if rand() < spam_rate:
            # Suspected spam: one to three ad messages, never answered by anyone.
            t = day_base + int(rand() * _DAY)
            _start(conv_day, conv_start, conv_buyer, conv_first, day, t, buyer_no, len(ts))
            for _ in range(1 + int(rand() * 3)):
                emit(t, _pick(rand, book.spam_texts))
                t += 2 + int(rand() * 60)
            continue

        edge = rand() < edge_rate
        if edge:  # 22:50–22:58:59, first answer only after 23:00 (the clock keeps running)
            hour = 22
            t = day_base + 22 * 3600 + 50 * 60 + int(rand() * 540)
        else:
            hour = bisect(hour_cum, rand())
            t = day_base + hour * 3600 + int(rand() * 3600)
        night = hour >= 23 or hour < profile.opens
        _start(conv_day, conv_start, conv_buyer, conv_first, day, t, buyer_no, len(ts))

        ai = bisect(agent_cum, rand())
        habit = habits[ai]
        agent_code = 2 + ai
        n_turns = 1 + bisect(_TURNS_CUM, rand())
        drop_last = rand() < habit.drop_rate
        bot_on = bot_rate > 0 and (night or rand() < bot_rate)
        if topic_cum is None:
            buyer_words, agent_words = topics[int(rand() * len(topics))]
        else:
            buyer_words, agent_words = topics[bisect(topic_cum, rand())]
        transfer_at = int(rand() * (n_turns - 1)) if n_turns > 1 and n_agents > 1 and rand() < transfer_rate else -1
        introduce = None  # the greeting the next human reply starts with, if any
        replied = _NO_AGENT  # the last human agent who replied

        if rand() < 0.1:
            emit(t, _pick(rand, book.system_enter))
            t += 1 + int(rand() * 20)
        if rand() < 0.3:
            introduce = book.intros[ai]

        for turn in range(n_turns):
            last = turn == n_turns - 1
            # The buyer's turn: one to three messages before anyone replies.
            k = 1 + bisect(_MESSAGES_CUM, rand())
            said = _ASKED  # what the buyer's last message was, so the answer fits it
            for j in range(k):
                if j:
                    t += 3 + int(rand() * profile.buyer_gap)
                if turn == 0 and j == 0 and (k > 1 or rand() < 0.35):
                    word, said = _pick(rand, greetings), _GREETED
                elif last and turn and j == k - 1 and rand() < 0.6:
                    word, said = _pick(rand, buyer_closings), _CLOSED
                else:
                    word, said = _pick(rand, buyer_words), _ASKED
                emit(t, word)

            # The robot answers instantly; it is not a human reply, so the turn keeps waiting.
            if bot_on and turn == 0:
                t += 1 + int(rand() * 3)
                emit(t, _pick(rand, book.bot_night if night else book.bot_welcome), _BOT)

            if last and drop_last:
                break  # the conversation ends on an unanswered buyer turn

            r = rand()
            if r < habit.stall_rate:
                # So slow that the buyer asks again before the (late) answer arrives.
                t += 60 + int(rand() * 240)
                emit(t, _pick(rand, nudges))
                delay = habit.late_low + int(rand() * (habit.late_high - habit.late_low))
            elif r < habit.stall_rate + habit.late_rate:
                delay = habit.late_low + int(rand() * (habit.late_high - habit.late_low))
            else:
                delay = habit.low + int(rand() * (habit.high - habit.low))
            reply_at = t + max(1, delay)

            if turn == 0 and night:
                r = rand()
                if r < 0.25:
                    break  # nobody on duty: only the robot ever answered
                if r < 0.65:  # answered when the shift starts (08:00; 09:00 on JD)
                    morning = day_base + (_DAY if hour >= 23 else 0) + profile.opens * 3600 + int(rand() * 1200)
                    reply_at = max(reply_at, morning)
            elif turn == 0 and edge:
                reply_at = max(reply_at, day_base + 23 * 3600 + 5 + int(rand() * 400))
            elif bot_on and reply_at - t > 150 and rand() < 0.5:
                t += 2
                emit(t, _pick(rand, book.bot_waiting), _BOT)

            # The human reply, sometimes introduced, apologised for, or in two messages.
            waited, t = reply_at - t, reply_at
            if introduce is not None:
                emit(t, introduce, agent_code)
                t += 2 + int(rand() * 8)
                introduce = None
            elif waited > 180 and rand() < 0.5:
                emit(t, _pick(rand, sorry), agent_code)
                t += 2 + int(rand() * 8)
            elif turn == 0 and k > 1 and rand() < 0.4:
                emit(t, _pick(rand, hellos), agent_code)
                t += 2 + int(rand() * 8)
            if rand() < risky_rate:
                word = _pick(rand, risky)
            elif said == _GREETED:
                word = _pick(rand, hellos)
            elif said == _CLOSED:
                word = _pick(rand, agent_closings)
            elif rand() < 0.15:
                word = _pick(rand, holds)
            else:
                word = _pick(rand, agent_words)
            emit(t, word, agent_code)
            replied = agent_code
            if said == _ASKED and rand() < 0.25:
                t += 3 + int(rand() * 30)
                emit(t, _pick(rand, agent_words), agent_code)

            if turn == transfer_at:
                # Handed to a second agent, who answers the later turns.
                t += 2 + int(rand() * 10)
                emit(t, book.transfer, agent_code)
                ai = (ai + 1 + int(rand() * (n_agents - 1))) % n_agents
                habit, agent_code = habits[ai], 2 + ai
                t += 1 + int(rand() * 5)
                emit(t, book.handed[ai])
                introduce = book.takeovers[ai]
            if rand() < system_rate:
                t += 5 + int(rand() * 300)
                emit(t, _pick(rand, book.system_order))

            # The buyer reads and types; now and then comes back much later.
            t += 5 + int(rand() * (1800 if rand() < 0.1 else 115))

        # Now and then the buyer rates the chat afterwards: the last human who replied, else the
        # robot if it spoke. Minutes to hours later, so some land after 23:00 or next morning.
        if (replied or bot_on) and rand() < review_rate:
            rating_cum, attitude, codes = raters[replied - 2] if replied else bot_rater
            rating = bisect(rating_cum, rand())
            if rating:
                reason = 1 if rand() < attitude else 2 + bisect(other_cum, rand())
            else:
                reason = first_good + int(rand() * len(_GOOD_REASONS)) if rand() < _GOOD_REASON_RATE else 0
            r = rand()
            if r < 0.55:
                delay = 120 + int(rand() * 1680)  # 2–30 minutes
            elif r < 0.88:
                delay = 1800 + int(rand() * 9000)  # half an hour to three hours
            else:
                delay = 10_800 + int(rand() * 43_200)  # three to fifteen hours
            emit(ts[-1] + delay, codes[rating][reason], replied or _BOT)

    return _assemble(profile, book, ts, text, who, conv_day, conv_start, conv_buyer, conv_first)


def _pick(rand, codes: list[int]) -> int:
    return codes[int(rand() * len(codes))]


def _start(conv_day, conv_start, conv_buyer, conv_first, day: int, t: int, buyer_no: int, first: int) -> None:
    conv_day.append(day)
    conv_start.append(t)
    conv_buyer.append(buyer_no)
    conv_first.append(first)


def _cumulative(weights) -> list[float]:
    """Cumulative weights scaled to 1, for `bisect(cum, random())`."""
    total, running, out = float(sum(weights)), 0.0, []
    for weight in weights:
        running += weight
        out.append(running / total)
    out[-1] = 1.0 + 1e-9  # random() < 1, so bisect never runs past the end
    return out


def _check(profile: Profile) -> None:
    if profile.rows < 0:
        raise AuditError("error.gen_rows", rows=profile.rows)
    if profile.days < 1:
        raise AuditError("error.gen_days", days=profile.days)
    if not profile.agents or not profile.habits:
        raise AuditError("error.gen_agents_habits")
    if len(profile.agents) > 120:
        raise AuditError("error.gen_agents_max")  # agent codes are stored as signed bytes
    if profile.topic_weights is not None and (
        len(profile.topic_weights) != len(_TOPICS) or min(profile.topic_weights) < 0 or sum(profile.topic_weights) <= 0
    ):
        raise AuditError("error.gen_topic_weights", n=len(_TOPICS))
    if not 0 <= profile.variety <= 1:
        raise AuditError("error.gen_variety", variety=profile.variety)
    if len(profile.hour_weights) != 24 or sum(profile.hour_weights) <= 0:
        raise AuditError("error.gen_hour_weights")
    for habit in profile.habits:
        if len(habit.ratings) != 3 or min(habit.ratings) < 0 or sum(habit.ratings) <= 0:
            raise AuditError("error.gen_ratings")


def _assemble(profile, book, ts, text, who, conv_day, conv_start, conv_buyer, conv_first) -> pl.DataFrame:
    """Turn the integer columns into the string export, sorted by time like a real export."""
    origin = (profile.start - date(1970, 1, 1)).days * _DAY
    end = profile.days * _DAY  # the export stops at the end of the last day
    # Each conversation's events are contiguous, so its number repeats (next first - first) times.
    firsts = pl.Series(conv_first, dtype=pl.Int64)
    counts = pl.concat([firsts, pl.Series([len(ts)], dtype=pl.Int64)]).diff().drop_nulls()
    events = (
        pl.DataFrame(
            {
                "t": pl.Series(ts, dtype=pl.Int64),
                "c": pl.int_range(0, len(firsts), dtype=pl.Int32, eager=True).repeat_by(counts).explode(),
                "x": pl.Series(text, dtype=pl.Int32),
                "a": pl.Series(who, dtype=pl.Int8),
            }
        )
        .filter(pl.col("t") < end)
        .sort("t", maintain_order=True)  # ties keep generation order, so conversations stay in order
    )

    # Conversation ids number each day's conversations by start time.
    day_names = pl.Series([(profile.start + timedelta(days=d)).strftime("%Y%m%d") for d in range(profile.days)])
    conversations = pl.DataFrame(
        {
            "day": pl.Series(conv_day, dtype=pl.Int32),
            "start": pl.Series(conv_start, dtype=pl.Int64),
            "buyer_no": pl.Series(conv_buyer, dtype=pl.Int64),
        }
    ).with_columns(n=pl.col("start").rank("ordinal").over("day"))
    conversation_ids = (
        pl.lit(f"{profile.shop}-")
        + pl.lit(day_names).gather(pl.col("day"))
        + pl.lit("-")
        + pl.col("n").cast(pl.String).str.zfill(6)
    )
    conversations = conversations.select(
        conversation=conversation_ids,
        buyer=pl.lit("buyer_") + pl.col("buyer_no").cast(pl.String).str.zfill(5),
    )

    # Unique across shops, seeds and start days too, so two generated files can be audited together.
    key = f"{profile.shop}|{profile.seed}|{profile.start.isoformat()}|{profile.days}".encode()
    id_prefix = f"m{zlib.crc32(key):08x}-"
    agent_names = pl.Series([None, BOT_AGENT, *profile.agents], dtype=pl.String)
    c = events.get_column("c")
    x = events.get_column("x")
    frame = events.select(
        ts=pl.from_epoch(pl.col("t") + origin, time_unit="s").dt.strftime("%Y-%m-%d %H:%M:%S"),
        shop=pl.repeat(profile.shop, events.height, dtype=pl.String),
        buyer=conversations.get_column("buyer").gather(c),
        conversation=conversations.get_column("conversation").gather(c)
        if profile.conversation_ids
        else pl.repeat(None, events.height, dtype=pl.String),
        role=pl.Series(book.role, dtype=pl.String).gather(x),
        agent=agent_names.gather(events.get_column("a")),
        text=pl.Series(book.text, dtype=pl.String).gather(x),
        spam=pl.Series(book.spam, dtype=pl.String).gather(x),
        message_id=pl.lit(id_prefix) + pl.int_range(1, events.height + 1).cast(pl.String).str.zfill(9),
        rating=pl.Series(book.rating, dtype=pl.String).gather(x),
        reason=pl.Series(book.reason, dtype=pl.String).gather(x),
        served_by=pl.Series(book.served_by, dtype=pl.String).gather(x),
    )
    frame = frame.select(COLUMNS)
    return _vary(frame, profile) if profile.variety > 0 else frame


# --------------------------------------------------------------------------- platforms


@dataclass(frozen=True)
class Flavour:
    """How one platform's export looks: its header language, whether it names sessions, what
    its agent accounts look like, how much its robot answers and what its buyers ask about."""

    shop: str
    headers: str
    agents: tuple[str, ...]
    conversation_ids: bool = True
    bot_rate: float = 0.30
    topic_weights: tuple[float, ...] | None = None
    habits: tuple[Habit, ...] = DEFAULT_HABITS
    opens: int = 8  # the hour agents come on duty (the platform's reply window opens)
    buyer_gap: int = 40


# Agent names a platform's back office shows (Taobao sub-accounts are `shop:name`); JD's
# export has no session column, so its conversations come from silences (session_gap).
# JD judges the first reply within 30 seconds and a mean wait of 40 (jd.yaml), where the others
# count 3 and 5 minutes: JD agents answer in seconds (a shop that does not, fails), so with the
# default habits every generated JD agent failed every day. Fast, average, often late,
# sometimes silent, as DEFAULT_HABITS, on JD's clock; and a buyer's second message comes within
# seconds (a wait runs from the turn's first message, so 40 s of typing alone failed 30 s).
JD_HABITS = (
    Habit(4, 22, late_rate=0.03, late_low=35, late_high=90, drop_rate=0.01, ratings=(0.93, 0.05, 0.02), attitude=0.04),
    Habit(5, 27, late_rate=0.06, late_low=35, late_high=150, stall_rate=0.01, drop_rate=0.02,
          ratings=(0.84, 0.10, 0.06), attitude=0.10),
    Habit(15, 45, late_rate=0.35, late_low=40, late_high=300, stall_rate=0.04, drop_rate=0.03,
          ratings=(0.64, 0.20, 0.16), attitude=0.25),
    Habit(6, 28, late_rate=0.06, late_low=35, late_high=240, stall_rate=0.10, drop_rate=0.10,
          ratings=(0.66, 0.14, 0.20), attitude=0.35),
)  # fmt: skip

# Douyin's help page (as reposted) guides a mean response of 40 s and a first response of 60 s
# (DY-A1, DY-A2 in douyin.yaml), between JD's seconds and the others' minutes: with the default
# habits even the fast agent averaged 45 s, so every generated Douyin agent failed DY-A1 every
# day. The same four habits on Douyin's clock; a buyer's second message comes within 15 s.
DOUYIN_HABITS = (
    Habit(5, 35, late_rate=0.02, late_low=60, late_high=200, drop_rate=0.01, ratings=(0.93, 0.05, 0.02), attitude=0.04),
    Habit(8, 45, late_rate=0.04, late_low=60, late_high=300, stall_rate=0.01, drop_rate=0.02,
          ratings=(0.84, 0.10, 0.06), attitude=0.10),
    Habit(30, 120, late_rate=0.35, late_low=200, late_high=900, stall_rate=0.04, drop_rate=0.03,
          ratings=(0.64, 0.20, 0.16), attitude=0.25),
    Habit(8, 45, late_rate=0.05, late_low=60, late_high=400, stall_rate=0.10, drop_rate=0.10,
          ratings=(0.66, 0.14, 0.20), attitude=0.35),
)  # fmt: skip

FLAVOURS = {
    "pinduoduo": Flavour("拼多多示例店", "zh", DEFAULT_AGENTS, topic_weights=(1.0, 1.6, 0.8, 1.4, 1.0, 0.3)),
    "taobao": Flavour("淘宝示例旗舰店", "zh", tuple(f"淘宝示例旗舰店:{a}" for a in DEFAULT_AGENTS), bot_rate=0.45,
                      topic_weights=(1.0, 1.2, 1.2, 1.0, 1.0, 0.6)),
    "jd": Flavour("京东示例自营店", "en", ("jd_小美", "jd_阿强", "jd_小周", "jd_莉莉"), conversation_ids=False,
                  topic_weights=(1.4, 1.2, 0.4, 0.8, 1.0, 1.2), habits=JD_HABITS, opens=9, buyer_gap=10),
    "douyin": Flavour("抖音示例小店", "zh", DEFAULT_AGENTS, bot_rate=0.50, topic_weights=(1.2, 1.4, 1.2, 1.2, 1.0, 0.2),
                      habits=DOUYIN_HABITS, buyer_gap=15),
    "kuaishou": Flavour("快手示例小店", "zh", DEFAULT_AGENTS, bot_rate=0.40, topic_weights=(1.2, 1.4, 1.2, 1.2, 1.0, 0.2)),
}


def agent_names(count: int, base: tuple[str, ...] = DEFAULT_AGENTS) -> tuple[str, ...]:
    """`count` agent names: the given ones first, then 客服05, 客服06, ... (prefixed like them)."""
    if not 1 <= count <= 120:
        raise AuditError("error.gen_agents", count=count)
    shared = os.path.commonprefix(list(base))
    prefix = shared if shared.endswith((":", "_")) else ""
    extra = [f"{prefix}客服{i + 1:02d}" for i in range(len(base), count)]
    return (*base, *extra)[:count]


# --------------------------------------------------------------------------- variety

# Real chats repeat few texts verbatim: buyers paste order numbers and product names, agents
# quote prices, everybody makes typos. `Profile.variety` dresses that share of the texts up,
# so a benchmark pays what a real export costs per distinct text. None of these words holds
# anything a shipped rule or topic list looks for (no 质量/坏/漏/滚/微..., no 11-digit number).
_PRODUCTS = (
    "纯棉T恤", "连帽卫衣", "牛仔裤", "羽绒服", "运动鞋", "帆布包", "保温杯", "蓝牙耳机", "手机壳", "数据线",
    "面霜", "洗发水", "收纳盒", "四件套", "拖鞋", "围巾", "台灯", "电饭煲", "瑜伽垫", "雨伞",
)  # fmt: skip
_COLOURS = ("白色", "黑色", "灰色", "藏青", "米色", "粉色", "卡其", "酒红")
_SIZES = ("S码", "M码", "L码", "XL码", "XXL码", "均码", "36码", "40码", "42码")
# (before, after): one misspelling a hurried typist makes; applied to the first occurrence only.
_TYPOS = (("吗", "嘛"), ("您", "你"), ("的", "地"), ("在", "再"), ("哦", "噢"), ("，", ","), ("？", "?"), ("了", "啦"))


def _vary(frame: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """Make `profile.variety` of the texts one of a kind, by whole-column expressions.

    Every choice comes from a hash of (seed, row number), so the same profile gives the same
    frame. A row gets an order number (18 digits), a product (name, colour, size), an amount
    or a typo; most get two of them, so nearly every varied text is distinct.
    """
    n = frame.height
    h = pl.int_range(0, n, dtype=pl.UInt64).hash(profile.seed)
    bits = lambda shift, size: ((h // (1 << shift)) % size).cast(pl.Int64)  # noqa: E731 - independent draws from one hash
    varied = pl.col("text").is_not_null() & ((h % 10_000).cast(pl.Float64) < profile.variety * 10_000)
    order = format_text("订单号{}", (((h // 8) % 900_000_000_000_000_000) + 100_000_000_000_000_000).cast(pl.String))
    product = pl.concat_str(
        pl.lit(pl.Series(_PRODUCTS)).gather(bits(8, len(_PRODUCTS))),
        pl.lit(pl.Series(_COLOURS)).gather(bits(16, len(_COLOURS))),
        pl.lit(pl.Series(_SIZES)).gather(bits(24, len(_SIZES))),
    )
    amount = format_text("{}.{}元", bits(32, 2000) + 9, bits(44, 10) * 10)
    text = pl.col("text")
    typo = bits(52, len(_TYPOS) + 4)  # the last four: no typo
    for i, (before, after) in enumerate(_TYPOS):
        text = pl.when(typo == i).then(pl.col("text").str.replace(before, after, literal=True)).otherwise(text)
    kind = bits(56, 6)
    dressed = (
        pl.when(kind == 0).then(format_text("{}，{}", text, order))
        .when(kind == 1).then(format_text("【{}】{}", product, text))
        .when(kind == 2).then(format_text("{} {} {}", text, product, amount))
        .when(kind == 3).then(format_text("{} {}", order, text))
        .when(kind == 4).then(format_text("{}（{}，{}）", text, product, order))
        .otherwise(format_text("{}，实付{}", text, amount))
    )  # fmt: skip
    return frame.with_columns(pl.when(varied).then(dressed).otherwise(pl.col("text")).alias("text"))


# --------------------------------------------------------------------------- writing


def write_export(frame: pl.DataFrame, path: str | Path, headers: str = "en") -> None:
    """Write `frame` to `path`: .csv/.tsv/.txt as CSV, .jsonl/.ndjson as JSON lines, + .gz to gzip.

    headers="en" keeps the canonical names and values; "zh" writes a Chinese export
    (发送时间, 发送方 = 买家/客服/机器人/系统/评价, 疑似骚扰 = 是/否, 评价结果 = 满意/一般/失望,
    接待方式 = 人工/机器人, ...).
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    gzip = bool(suffixes) and suffixes[-1] == ".gz"
    if gzip:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind not in _CSV_SUFFIXES and kind not in _JSONL_SUFFIXES:
        raise AuditError("error.gen_format", path=path)
    if headers == "zh":
        values = {"role": ZH_ROLES, "spam": ZH_SPAM, "rating": ZH_RATINGS, "served_by": ZH_SERVED_BY}
        frame = frame.with_columns(
            pl.col(name).replace(mapping) for name, mapping in values.items() if name in frame.columns
        ).rename({k: v for k, v in ZH_HEADERS.items() if k in frame.columns})
    elif headers != "en":
        raise AuditError("error.gen_headers", headers=repr(headers))
    compression = "gzip" if gzip else "uncompressed"
    try:
        # Whole or not at all: a generator killed mid-write (a benchmark's 10 GB file) must
        # not leave a truncated export that a later run would take for data.
        with atomic_path(path, what="export") as temporary:
            if kind in _JSONL_SUFFIXES:
                frame.write_ndjson(temporary, compression=compression, check_extension=False)
            else:
                frame.write_csv(temporary, separator=_CSV_SUFFIXES[kind], compression=compression, check_extension=False)
    except OSError as exc:
        raise AuditError("error.gen_write", path=path, reason=os_reason(exc)) from None
