"""The HTML report (`--format html`): one self-contained file a supervisor can mail or open
offline. No request ever leaves it: the CSS is inline, every chart is inline SVG, the one
script (the findings filter) is inline, and a Content-Security-Policy forbids any load.

Charts are Vega-Lite specifications rendered to SVG at report time by `vl-convert-python`
(Vega's own renderer in an embedded engine; no browser, no network): the file stays small
(tens of kilobytes, against ~4 MB for a chart library's bundle inlined) and the charts need no
JavaScript to show, so they survive mail clients and viewers that run none.

Untrusted text (agent, shop, conversation names, chat text) goes through `html_safe` in the
page; in the charts it is data that the SVG writer escapes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import SENTINEL_KEYS, t
from cservice_audit.render.digest import chosen_lang, labels
from cservice_audit.people import KIND_ORDER, agent_kind
from cservice_audit.render.matrix import agent_matrix
from cservice_audit.render.names import in_shop, many_shops, report_cuts
from cservice_audit.render.views import finding_rows, header_lines, no_findings_line, reader_note_lines
from cservice_audit.render.xlsx import readable_values
from cservice_audit.sanitize import html_safe, one_line

RATE_CHECKS = ("reply_rate", "review_rate")
WAIT_CHECKS = ("average_wait",)
STATUS_COLOR = {"fail": "#d9534f", "at_risk": "#f0ad4e", "pass": "#5cb85c", "insufficient": "#b0b0b0"}
FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"
MAX_ROWS = 2000  # findings and items shown in the page; the workbook and JSON have them all
TREND_DAYS = 30

CSS = """
body{font-family:__FONT__;margin:24px;color:#222;background:#fff;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px;margin:2px 0}
.runnote{color:#8a5300;background:#fff4e0;font-weight:bold;padding:4px 8px;margin:4px 0}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0}
td.fail{background:#fbd5d5;color:#9c0006;font-weight:bold}td.at_risk{background:#fff0c2;color:#9c5700}
td.pass{background:#e3f4e3;color:#006100}td.insufficient{color:#888}
td.num{text-align:right}td{white-space:nowrap}td:last-child{white-space:normal;min-width:240px}
figure{margin:12px 0 20px}figcaption{font-weight:bold;font-size:14px;margin-bottom:4px}
.filters{margin:8px 0;font-size:13px}.filters select{margin-right:12px}
.note{color:#666;font-size:13px}
.wrap{overflow-x:auto}
""".replace("__FONT__", FONT)

SCRIPT = """
(function () {
  var agent = document.getElementById("f-agent"), rule = document.getElementById("f-rule");
  var rows = document.querySelectorAll("#findings-table tbody tr"), count = document.getElementById("f-count");
  function apply() {
    var a = agent.value, r = rule.value, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var ok = (!a || rows[i].getAttribute("data-agent") === a) && (!r || rows[i].getAttribute("data-rule") === r);
      rows[i].hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = String(shown);
  }
  agent.addEventListener("change", apply);
  rule.addEventListener("change", apply);
  apply();
  document.body.setAttribute("data-ready", "1");
})();
"""


def _svg(spec: dict[str, Any]) -> str:
    import vl_convert

    base = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": {"font": FONT, "axis": {"labelLimit": 180}}}
    return vl_convert.vegalite_to_svg({**base, **spec})


def _table(columns: list[str], rows: list[list[str]], *, classes: list[list[str]] | None = None, attrs: list[str] | None = None, id_: str = "") -> str:
    head = "".join(f"<th>{html_safe(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = classes[i] if classes else [""] * len(row)
        cells = "".join(f'<td class="{c}">{html_safe(v)}</td>' if c else f"<td>{html_safe(v)}</td>" for v, c in zip(row, cls, strict=True))
        body.append(f"<tr{attrs[i] if attrs else ''}>{cells}</tr>")
    ident = f' id="{id_}"' if id_ else ""
    return f'<div class="wrap"><table{ident}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _who(agent: str, words: dict[str, Any]) -> str:
    """An agent's name, the sentinels of metrics.waits in the reader's language."""
    return words["_who"].get(agent, agent)


def summary_section(result: AuditResult, words: dict[str, Any], lang: str) -> str:
    matrix = agent_matrix(result)
    status = words["_status"]
    if not matrix.rows:
        return f'<p class="note">{html_safe(words["none"])}</p>'
    many = many_shops(result)
    cuts = report_cuts(result)  # the shop is named above or in its own column: 客服07, not 小林数码专营店:客服07
    points = result.ruleset.deducts_points  # a platform that counts violations has no points column, as the table
    columns = (["shop"] if many else []) + [words["agent"], *matrix.rules, *([words["points"]] if points else []), words["tiers"]]
    rows, classes = [], []
    for row in matrix.rows:
        who = _who(in_shop(row.agent, cuts.get(row.shop, "")), words) if row.agent is not None else words["shop_total"]
        cells = ([row.shop] if many else []) + [who]
        cells += [status.get(row.statuses.get(code, ""), "-") for code in matrix.rules]
        cells += [f"{row.points:g}" if row.points else ""] if points else []
        cells += [t("list.semi", lang).join(f"{m.code} {m.text(lang)}" for m in row.tiers)]
        rows.append(cells)
        lead = [""] * (2 if many else 1)
        classes.append(lead + [row.statuses.get(code, "") for code in matrix.rules] + (["num"] if points else []) + [""])
    return _table(columns, rows, classes=classes, id_="matrix")


def _current(result: AuditResult) -> pl.DataFrame:
    as_of = result.as_of
    if as_of is None:
        return result.metrics.clear()
    return result.metrics.filter((pl.col("period_start") <= as_of) & (pl.col("period_end") >= as_of))


def rate_charts(result: AuditResult, words: dict[str, str]) -> str:
    """Per rule: each agent's figure as a bar coloured by status, the threshold as a rule; or,
    when the run reports several of the rule's periods (a week's audit of a daily rule), a grid
    of agents by period, each cell coloured by that period's status and labelled with its
    figure: the bars of the as-of day alone sat green beside the matrix's ✗ for an earlier day."""
    current = _current(result)
    cuts = report_cuts(result)
    many = many_shops(result)
    status_words = words["_status"]
    figures = []
    for rule in result.ruleset.rules:
        if rule.check not in RATE_CHECKS + WAIT_CHECKS:
            continue
        rate = rule.check in RATE_CHECKS
        every = result.metrics.filter((pl.col("rule") == rule.code) & (pl.col("scope") == "agent") & pl.col("value").is_not_null())
        if every.get_column("period_start").n_unique() > 1:
            figures.append(_period_grid(result, rule, every, rate, words, cuts, many))
            continue
        rows = current.filter((pl.col("rule") == rule.code) & (pl.col("scope") == "agent") & pl.col("value").is_not_null())
        if rows.is_empty():
            continue
        data = [
            {"agent": _chart_name(r, words, cuts, many), "value": r["value"], "status": status_words[r["status"]], "threshold": r["threshold"]}
            for r in rows.iter_rows(named=True)
        ]  # fmt: skip
        # Worst first: lowest on a minimum rule, highest on a maximum one (waits, bad-review share).
        at_most = not rate or rule.params.get("measure", "good_rate") != "good_rate"
        x = {"field": "value", "type": "quantitative", "title": words["axis_rate"] if rate else words["axis_seconds"]}
        if rate:
            x |= {"axis": {"format": "%"}, "scale": {"domain": [0, 1]}}
        colors = {status_words[k]: v for k, v in STATUS_COLOR.items()}
        spec = {
            "data": {"values": data},
            "width": 640,
            "height": {"step": 16},
            "layer": [
                {"mark": "bar", "encoding": {
                    "y": {"field": "agent", "type": "nominal", "sort": "-x" if at_most else "x", "title": None},
                    "x": x,
                    "color": {"field": "status", "type": "nominal", "title": None,
                              "scale": {"domain": list(colors), "range": list(colors.values())}},
                }},
                {"mark": {"type": "rule", "color": "#333", "strokeDash": [4, 3], "strokeWidth": 2},
                 "encoding": {"x": {"aggregate": "max", "field": "threshold", "type": "quantitative"}}},
            ],
        }  # fmt: skip
        first = rows.row(0, named=True)
        kind = words["periods"].get(first["period"], first["period"])
        period = f"{kind} {first['period_start']}" + (f"..{first['period_end']}" if first["period_start"] != first["period_end"] else "")
        caption = words["caption"].format(code=rule.code, title=rule.title, period=period, limit=_limit(first["threshold"], rate, words))
        figures.append(f'<figure><figcaption>{html_safe(caption)}</figcaption>{_svg(spec)}</figure>')
    return "".join(figures) or f'<p class="note">{html_safe(words["none"])}</p>'


def _chart_name(row: dict[str, Any], words: dict[str, Any], cuts: dict[str, str], many: bool) -> str:
    """An agent's name on a chart's axis: with the shop when the report has several."""
    who = _who(in_shop(row["agent"], cuts.get(row["shop"], "")), words)
    return one_line(f"{row['shop']} / {who}" if many else who)


def _limit(threshold: float, rate: bool, words: dict[str, str]) -> str:
    return f"{threshold * 100:g}%" if rate else words["seconds"].format(n=f"{threshold:g}")


def _period_grid(result: AuditResult, rule: Any, rows: pl.DataFrame, rate: bool, words: dict[str, Any], cuts: dict[str, str], many: bool) -> str:
    """One rule's figures over the run's periods: agents down, periods across, a cell per
    (agent, period) coloured by its status and labelled with its figure."""
    status_words = words["_status"]
    bots = getattr(result, "bots", frozenset())
    # As in the matrix: per shop, agents before robots and unassigned items, the agent with the
    # most failed periods first.
    order = {a: KIND_ORDER[agent_kind(a, s, bots)] for s, a in rows.select("shop", "agent").unique().iter_rows()}
    ranked = rows.with_columns(
        pl.col("agent").replace_strict(order, return_dtype=pl.Int64).alias("_kind"),
        (pl.col("status") == "fail").sum().over("shop", "agent").alias("_fails"),
    ).sort("shop", "_kind", "_fails", "agent", "period_start", descending=[False, False, True, False, False])
    data = [
        {"agent": _chart_name(r, words, cuts, many), "period": r["period_start"].strftime("%m-%d"), "status": status_words[r["status"]],
         "label": f"{r['value'] * 100:.1f}%" if rate else f"{r['value']:.1f}"}
        for r in ranked.iter_rows(named=True)
    ]  # fmt: skip
    colors = {status_words[k]: v for k, v in STATUS_COLOR.items()}
    # The columns in date order, named: left to Vega (`sort: None`, the data's order) they came
    # as the first-ranked agent's periods, so one who missed the first day put it last.
    columns = [d.strftime("%m-%d") for d in rows.get_column("period_start").unique().sort()]
    encoding = {
        "y": {"field": "agent", "type": "nominal", "title": None, "sort": None},
        "x": {"field": "period", "type": "ordinal", "title": None, "sort": columns, "axis": {"orient": "top", "labelAngle": 0}},
    }
    spec = {
        "data": {"values": data},
        "width": {"step": 50},
        "height": {"step": 18},
        "encoding": encoding,
        "layer": [
            {"mark": "rect", "encoding": {"color": {"field": "status", "type": "nominal", "title": None,
                                                    "scale": {"domain": list(colors), "range": list(colors.values())}}}},
            {"mark": {"type": "text", "fontSize": 10, "color": "#111"}, "encoding": {"text": {"field": "label"}}},
        ],
    }  # fmt: skip
    first = rows.row(0, named=True)
    kind = words["periods"].get(first["period"], first["period"])
    span = f"{rows.get_column('period_start').min()}..{rows.get_column('period_end').max()}"
    caption = words["caption_periods"].format(code=rule.code, title=rule.title, kind=kind, span=span, limit=_limit(first["threshold"], rate, words))
    return f'<figure><figcaption>{html_safe(caption)}</figcaption><div class="wrap">{_svg(spec)}</div></figure>'


def waits_chart(result: AuditResult, words: dict[str, str]) -> str:
    """The waits as a distribution: a histogram of each listed item's wait when the result
    carries items with waits; else each agent's median-to-90th-percentile range and mean."""
    items = getattr(result, "items", None)
    if isinstance(items, pl.DataFrame) and "wait" in items.columns and items.get_column("wait").drop_nulls().len():
        values = [{"wait": w} for w in items.get_column("wait").drop_nulls().to_list()]
        spec = {
            "data": {"values": values}, "width": 640, "height": 220, "mark": "bar",
            "encoding": {"x": {"field": "wait", "bin": {"maxbins": 40}, "type": "quantitative", "title": words["axis_seconds"]},
                         "y": {"aggregate": "count", "type": "quantitative", "title": words["axis_items"]}},
        }  # fmt: skip
        return f'<figure><figcaption>{html_safe(words["waits_items"])}</figcaption>{_svg(spec)}</figure>'
    waits = {r.code for r in result.ruleset.rules if r.check in RATE_CHECKS + WAIT_CHECKS}
    current = _current(result).filter(pl.col("rule").is_in(list(waits)) & (pl.col("scope") == "agent") & pl.col("wait_p50").is_not_null())
    if current.is_empty():
        return f'<p class="note">{html_safe(words["none"])}</p>'
    first_rule = current.get_column("rule")[0]
    rows = current.filter(pl.col("rule") == first_rule)
    data = [
        {"agent": one_line(_who(r["agent"], words)), "p50": r["wait_p50"], "p90": r["wait_p90"], "mean": r["wait_mean"]}
        for r in rows.iter_rows(named=True)
    ]
    y = {"field": "agent", "type": "nominal", "sort": {"field": "p90", "order": "descending"}, "title": None}
    spec = {
        "data": {"values": data}, "width": 640, "height": {"step": 16},
        "layer": [
            {"mark": {"type": "bar", "color": "#9ecae1"},
             "encoding": {"y": y, "x": {"field": "p50", "type": "quantitative", "title": words["axis_seconds"]}, "x2": {"field": "p90"}}},
            {"mark": {"type": "tick", "color": "#08519c", "thickness": 2},
             "encoding": {"y": y, "x": {"field": "mean", "type": "quantitative"}}},
        ],
    }  # fmt: skip
    return f'<figure><figcaption>{html_safe(words["waits_agents"] + " · " + first_rule)}</figcaption>{_svg(spec)}</figure>'


def trend_charts(result: AuditResult, history_rows: pl.LazyFrame | None, words: dict[str, str]) -> str:
    """Shop-level figures day by day over the last TREND_DAYS stored days, one line per rule:
    rates in one chart, waits in another."""
    if history_rows is None or result.as_of is None:
        return ""
    checks = {r.code: r.check for r in result.ruleset.rules if r.check in RATE_CHECKS + WAIT_CHECKS}
    first = result.as_of - timedelta(days=TREND_DAYS - 1)
    daily = (
        history_rows.filter(
            (pl.col("scope") == "shop") & pl.col("rule").is_in(list(checks))
            & (pl.col("day") >= first) & (pl.col("day") <= result.as_of) & (pl.col("denominator") > 0)
        )
        .group_by("rule", "shop", "day")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .with_columns((pl.col("numerator") / pl.col("denominator")).alias("value"))
        .sort("rule", "shop", "day")
        .collect()
    )  # fmt: skip
    if daily.get_column("day").n_unique() < 2:
        return ""
    many = daily.get_column("shop").n_unique() > 1
    # Whole days between ticks, at most about 15 labels. The axis spans the calendar days from
    # the first to the last, not the days with data: 8 stored days over 30 got 30 labels.
    span = (daily.get_column("day").max() - daily.get_column("day").min()).days + 1
    step = -(-span // 15)
    out = []
    # The axis titles are the page's words and the days read 11-22 in both languages: the
    # trend chart of a Chinese page said `rate`, `seconds` and `Nov 22, 2026` (2026-12-07).
    for kinds, title, y in ((RATE_CHECKS, words["axis_rate"], {"axis": {"format": "%"}}), (WAIT_CHECKS, words["axis_seconds"], {})):
        rows = daily.filter(pl.col("rule").is_in([c for c, k in checks.items() if k in kinds]))
        if rows.is_empty():
            continue
        data = [
            {"day": r["day"].isoformat(), "value": r["value"], "series": one_line(f"{r['rule']} {r['shop']}" if many else r["rule"])}
            for r in rows.iter_rows(named=True)
        ]
        spec = {
            "data": {"values": data}, "width": 640, "height": 220,
            "mark": {"type": "line", "point": True},
            "encoding": {"x": {"field": "day", "type": "temporal", "timeUnit": "yearmonthdate", "title": None,
                               "axis": {"format": "%m-%d", "tickCount": {"interval": "day", "step": step}}},
                         "y": {"field": "value", "type": "quantitative", "title": title, **y},
                         "color": {"field": "series", "type": "nominal", "title": None}},
        }  # fmt: skip
        out.append(f"<figure>{_svg(spec)}</figure>")
    if not out:
        return ""
    return f'<section id="trend"><h2>{html_safe(words["trend"])}</h2>{"".join(out)}</section>'


def findings_section(result: AuditResult, words: dict[str, str]) -> str:
    columns, rows = finding_rows(result, words["_lang"])
    if not rows:
        return f'<p class="note">{html_safe(no_findings_line(result, words["_lang"]))}</p>'
    shown = rows[:MAX_ROWS]
    agents = sorted({r[2] for r in shown})
    rules = list(dict.fromkeys(r[0] for r in shown))

    def options(values: list[str], all_word: str) -> str:
        return f'<option value="">{html_safe(all_word)}</option>' + "".join(
            f'<option value="{html_safe(v)}">{html_safe(v)}</option>' for v in values
        )

    filters = (
        f'<div class="filters"><select id="f-agent" aria-label="agent">{options(agents, words["all_agents"])}</select>'
        f'<select id="f-rule" aria-label="rule">{options(rules, words["all_rules"])}</select>'
        f'<span id="f-count">{len(shown)}</span> / {len(rows)}</div>'
    )
    attrs = [f' data-agent="{html_safe(r[2])}" data-rule="{html_safe(r[0])}"' for r in shown]
    note = f'<p class="note">{html_safe(words["shown"].format(shown=len(shown), total=len(rows)))}</p>' if len(rows) > len(shown) else ""
    return filters + _table(columns, shown, attrs=attrs, id_="findings-table") + note


def items_section(result: AuditResult, words: dict[str, str]) -> str:
    items = getattr(result, "items", None)
    if not isinstance(items, pl.DataFrame):
        return ""
    tz = result.ruleset.timezone
    local = items.head(MAX_ROWS).with_columns(
        pl.col(n).dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M:%S")
        for n, t in items.schema.items() if isinstance(t, pl.Datetime) and t.time_zone is not None
    )  # fmt: skip
    local = readable_values(local, words["_lang"])
    rows = [["" if v is None else str(v) for v in row] for row in local.iter_rows()]
    body = _table([words["_columns"].get(c, c) for c in local.columns], rows) if rows else f'<p class="note">{html_safe(words["none"])}</p>'
    note = f'<p class="note">{html_safe(words["shown"].format(shown=len(rows), total=items.height))}</p>' if items.height > len(rows) else ""
    return f'<section id="items"><h2>{html_safe(words["items"])}</h2>{body}{note}</section>'


def render(
    result: AuditResult, *, history_rows: pl.LazyFrame | None = None, show_paths: bool = False, lang: str = "en", **_: Any
) -> str:
    # The page's words, with the status words, column headers and language the sections need.
    words = {**labels(lang)["html"], "_status": labels(lang)["status"], "_columns": labels(lang)["columns"], "_lang": lang,
             "_who": {name: t(key, lang) for name, key in SENTINEL_KEYS.items()}}
    rs = result.ruleset
    # The platform as its readers call it, as the digest's title does: 快手小店 in Chinese, the
    # code in English (the Chinese page said `kuaishou`, 2026-12-07).
    platform = rs.name if chosen_lang(lang) == "zh" and (rs.name or "").strip() else rs.platform
    title = words["title"].format(platform=platform, day=result.as_of or "-")
    shops = sorted(set(result.metrics.get_column("shop").to_list()))
    meta = "".join(f'<p class="meta">{html_safe(line)}</p>' for line in header_lines(result, lang, show_paths=show_paths))
    meta += "".join(f'<p class="runnote">{html_safe(line)}</p>' for line in reader_note_lines(result, lang))
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; font-src data:"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html_safe(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{html_safe(title)}</h1><p class=\"meta\">{html_safe(', '.join(shops))}</p>{meta}</header>",
        f'<section id="summary"><h2>{html_safe(words["summary"])}</h2>{summary_section(result, words, lang)}</section>',
        f'<section id="rates"><h2>{html_safe(words["rates"])}</h2>{rate_charts(result, words)}</section>',
        f'<section id="waits"><h2>{html_safe(words["waits"])}</h2>{waits_chart(result, words)}</section>',
        trend_charts(result, history_rows, words),
        f'<section id="findings"><h2>{html_safe(words["findings"])}</h2>{findings_section(result, words)}</section>',
        items_section(result, words),
        f"<script>{SCRIPT}</script>" if result.findings.height else "<script>document.body.setAttribute('data-ready','1');</script>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"
