"""Push the digest of a JSON report to a group bot: WeCom, DingTalk or Feishu (docs/outputs.md).

Each platform's documented custom-bot webhook:
- WeCom (企业微信群机器人): POST {"msgtype": "markdown", "markdown": {"content": ...}};
  content at most 4,096 bytes of UTF-8; the reply is {"errcode": 0, "errmsg": "ok"}.
- DingTalk (钉钉自定义机器人): POST {"msgtype": "markdown", "markdown": {"title", "text"}}; with a
  secret (加签), `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(key=secret,
  msg="timestamp\\nsecret"))) as query parameters; the reply is {"errcode": 0, ...}.
- Feishu (飞书自定义机器人): POST {"msg_type": "interactive", "card": {...markdown element...}}; with
  a secret (签名校验), `timestamp` (s) and `sign` = base64(HMAC-SHA256(key="timestamp\\nsecret",
  msg="")) in the body; the reply is {"code": 0, ...}.

A webhook address is itself a credential (WeCom's `key`, DingTalk's `access_token`, Feishu's
hook id): neither it nor the secret is ever printed; errors name the host only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cservice_audit.errors import AuditError, Term, os_reason
from cservice_audit.render.digest import LIMIT, digest, heading
from cservice_audit.sanitize import one_line

PLATFORMS = ("wecom", "dingtalk", "feishu")
TIMEOUT = 10.0  # seconds per attempt
RETRIES = 2  # after the first attempt, on 5xx and network errors only
BACKOFF = 1.0  # seconds before the first retry, doubled for the next


class NotifyError(AuditError):
    """The push failed; the message never holds the webhook address or the secret."""


@dataclass(frozen=True)
class Request:
    url: str
    body: dict[str, Any]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, "timestamp\\nsecret")), not yet url-encoded."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key="timestamp\\nsecret", msg=""))."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def title_of(report: dict[str, Any], lang: str | None = None) -> str:
    """The digest's own heading (cservice-audit · 快手小店 · 2026-11-22): the title was
    `cservice-audit kuaishou 2026-11-22`, the platform's code, over a Chinese digest."""
    return heading(report, lang)


def build_request(platform: str, url: str, text: str, title: str, *, secret: str | None, now: float) -> Request:
    """The platform's documented payload for `text` (the digest), signed when a secret is given."""
    if platform == "wecom":
        # WeCom signs nothing: the key in the address is the credential.
        return Request(url, {"msgtype": "markdown", "markdown": {"content": text}})
    if platform == "dingtalk":
        if secret:
            stamp = int(now * 1000)
            query = urllib.parse.urlencode({"timestamp": stamp, "sign": dingtalk_sign(secret, stamp)})
            url = f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"
        return Request(url, {"msgtype": "markdown", "markdown": {"title": title, "text": text}})
    if platform == "feishu":
        body: dict[str, Any] = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": [{"tag": "markdown", "content": text}],
            },
        }
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        return Request(url, body)
    raise AuditError("error.push_platform", platform=repr(platform))


def _host(url: str) -> str | Term:
    return urllib.parse.urlsplit(url).hostname or Term("error.push_webhook")


def _platform_error(platform: str, reply: object) -> Term | None:
    """The platform's own error in a 200 reply, or None when it accepted the message.
    Feishu answers {"code": 0} (older hooks {"StatusCode": 0}); the others {"errcode": 0}."""
    if not isinstance(reply, dict):
        return Term("error.push_unexpected")
    code = reply.get("code", reply.get("StatusCode")) if platform == "feishu" else reply.get("errcode")
    if code == 0:
        return None
    message = reply.get("msg") or reply.get("errmsg") or reply.get("StatusMessage") or ""
    return Term("error.push_code", code=code, message=one_line(message)[:200])


# The resolver's reasons a push meets most (gai_strerror's words in English).
_RESOLVER_REASONS = {socket.EAI_NONAME: "os.eai_noname", socket.EAI_AGAIN: "os.eai_again"}


def _network_problem(exc: BaseException, timeout: float) -> str | Term:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return Term("error.push_timeout", seconds=f"{timeout:g}")
    if isinstance(reason, socket.gaierror) and reason.errno in _RESOLVER_REASONS:
        return Term(_RESOLVER_REASONS[reason.errno])
    # strerror, never str(exc): some exceptions quote the address.
    if isinstance(reason, OSError) and reason.errno and reason.strerror:
        return os_reason(reason)
    return one_line(getattr(reason, "strerror", None) or type(reason).__name__)


def post(
    platform: str,
    request: Request,
    *,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """POST the payload; retry 5xx and network errors `retries` times with doubling backoff;
    raise NotifyError for anything else or when the tries run out."""
    data = json.dumps(request.body, ensure_ascii=False).encode("utf-8")
    host = _host(request.url)
    bot = Term(f"bot.{platform}")  # named in the reader's words (企业微信), not its key (wecom)
    problem: str | Term = ""
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        outgoing = urllib.request.Request(
            request.url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(outgoing, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            problem = Term("error.push_http", code=exc.code, host=host)
            if exc.code >= 500:
                continue
            raise NotifyError("error.push_failed", platform=bot, problem=problem) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, DNS
            problem = Term("error.push_no_answer", host=host, reason=_network_problem(exc, timeout))
            continue
        try:
            reply = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise NotifyError("error.push_not_json", platform=bot, host=host) from None
        failed = _platform_error(platform, reply)
        if failed:
            raise NotifyError("error.push_refused", platform=bot, host=host, problem=failed) from None
        return
    raise NotifyError("error.push_tries", platform=bot, tries=retries + 1, problem=problem)


def notify(
    report: dict[str, Any],
    *,
    wecom: str | None = None,
    dingtalk: str | None = None,
    feishu: str | None = None,
    secret: str | None = None,
    report_url: str | None = None,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    now: Callable[[], float] = time.time,
    lang: str | None = None,
) -> str:
    """Push the digest of `report` (a parsed JSON report) to the one webhook given, in `lang`
    (default: the environment's); returns the platform's name. Plain arguments, so a config
    file's [notify] table maps onto them."""
    platform, url = target(wecom=wecom, dingtalk=dingtalk, feishu=feishu, secret=secret)
    text = digest(report, report_url=report_url, limit=LIMIT, lang=lang)
    request = build_request(platform, url, text, title_of(report, lang), secret=secret, now=now())
    post(platform, request, timeout=timeout, retries=retries, backoff=backoff)
    return platform


def target(*, wecom: str | None, dingtalk: str | None, feishu: str | None, secret: str | None) -> tuple[str, str]:
    """(platform, address) of the one bot given, checked: `notify` calls it before it decides
    whether to push, so a wrong bot is said on a quiet night too, not first on a night with news."""
    targets = {name: url for name, url in (("wecom", wecom), ("dingtalk", dingtalk), ("feishu", feishu)) if url}
    if len(targets) != 1:
        raise AuditError("error.push_one_target")
    (platform, url), = targets.items()
    url = url.strip()
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise AuditError("error.push_address", platform=platform)
    # An address pasted from a chat can carry a full-width comma or space, or a word after it:
    # http.client cannot send it (an internal error). Named by code point, never the address
    # itself (a credential).
    odd = next(((i, c) for i, c in enumerate(url, 1) if not c.isascii() or not c.isprintable() or c.isspace()), None)
    if odd is not None:
        raise AuditError("error.push_address_chars", platform=platform, pos=odd[0], char=f"U+{ord(odd[1]):04X}")
    if secret and platform == "wecom":
        raise AuditError("error.push_secret")
    return platform, url
