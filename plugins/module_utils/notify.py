# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inspection notifications (INSP-15 evidence): WeCom group robot and e-mail.

Builders are pure: an inspection report dict in, a message out. They read only
the report's title, overall status, counts, conclusion, run id and times, host
states, and the record fields item/host/status, so neither a credential nor
taxpayer data can reach a message (SEC-02). Senders are small and raise
NotifyError with a message that never holds the webhook key or a password.
Runs on the control node only (scripts/gxtax-inspect).
"""

from __future__ import annotations

import email.utils
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import (
    HOST_STATE_ZH,
    STATUS_ZH,
    checks_only,
)

WECOM_LIMIT = 4096  # bytes of markdown.content the group robot accepts
WECOM_MAX_ITEMS = 10
CONCLUSION_LIMIT = 1500  # bytes of the conclusion in a robot message
MAIL_MAX_ITEMS = 50
TIMEOUT = 15  # seconds for one HTTP or SMTP exchange: cron must not hang on a dead relay
# The robot knows three colours: info green, comment grey, warning orange-red.
COLOUR = {"ok": "info", "skipped": "comment", "warning": "warning", "critical": "warning",
          "error": "warning", "unreachable": "warning", "failed": "warning"}
# Order of abnormal items: what needs action now first. A host that was not
# inspected at all ranks right after critical findings.
RANK = {"critical": 0, "unreachable": 1, "failed": 1, "error": 2, "warning": 3}
# Characters the robot's markdown acts on, swapped for their full-width forms
# so an item such as "<@all>" or "*.log" shows as text and cannot mention
# anyone, italicise, link or open a colour tag.
_MD_TRANS = str.maketrans({"*": "＊", "_": "＿", "`": "｀", "[": "［", "]": "］", "<": "＜",
                           ">": "＞", "#": "＃", "\\": "＼"})


class NotifyError(Exception):
    """A notification could not be delivered; the message is safe to print."""


# ------------------------------------------------------------------ helpers

def md_escape(text):
    """One line of plain text that the robot's markdown shows as it is."""
    return " ".join(str(text).split()).translate(_MD_TRANS)


def truncate_utf8(text, limit, marker="…"):
    """text cut to at most limit UTF-8 bytes, on a character boundary.

    When something is cut, marker ends the result (within the limit).
    """
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    if room < 0:
        return ""
    # Dropping the bytes of a partial character at the cut: decode ignores them.
    return data[:room].decode("utf-8", "ignore") + marker


def _time(value):
    return str(value or "").replace("T", " ")


def _status_zh(status):
    return STATUS_ZH.get(status, HOST_STATE_ZH.get(status, str(status)))


def abnormal_items(report):
    """[(status, host, item)] of everything abnormal, most urgent first.

    Critical, error and warning checks, plus every host that was not
    inspected (status unreachable/failed, item 主机巡检). Basic-information
    records (INSP-14) are not checks and never appear.
    """
    items = [(r["status"], r["host"], r["item"]) for r in checks_only(report.get("records") or [])
             if r["status"] in RANK]
    for name, host in (report.get("hosts") or {}).items():
        if host.get("state") in RANK:
            items.append((host["state"], name, "主机巡检"))
    return sorted(items, key=lambda i: (RANK[i[0]], str(i[1]), str(i[2])))


def hosts_not_inspected(report):
    return sorted(n for n, h in (report.get("hosts") or {}).items() if h.get("state") != "ok")


def report_location(archive_root, entry, url_base=None):
    """Where a reader finds the report: a URL under url_base, else the file path.

    report.html when the run wrote one, else report.json.
    """
    name = "report.html" if "report.html" in (entry.get("files") or {}) else "report.json"
    if url_base:
        path = urllib.parse.quote("%s/%s" % (entry["path"].strip("/"), name))
        return url_base.rstrip("/") + "/" + path
    return "%s/%s/%s" % (archive_root.rstrip("/"), entry["path"], name)


def _counts_text(counts, sep):
    return sep.join("%s %d" % (STATUS_ZH[s], int(counts.get(s, 0))) for s in STATUS_ZH)


# ------------------------------------------------------------------ WeCom

def _fit(head, body, tail, limit):
    """Join head, body lines and tail within limit bytes; whole lines only.

    Body lines are dropped from the end first (the omission said in one
    line), so the report's location in tail always survives.
    """
    def join(lines):
        return "\n".join(lines)

    if len(join(head + body + tail).encode("utf-8")) <= limit:
        return join(head + body + tail)
    body = list(body)
    dropped = 0
    while body:
        body.pop()
        dropped += 1
        lines = head + body + ["……另有 %d 行因消息长度限制省略，详见报告" % dropped] + tail
        if len(join(lines).encode("utf-8")) <= limit:
            return join(lines)
    return truncate_utf8(join(head + tail), limit)


def wecom_markdown(report, location, limit=WECOM_LIMIT, max_items=WECOM_MAX_ITEMS):
    """The markdown content for the group robot, at most limit UTF-8 bytes."""
    meta = report.get("meta") or {}
    status = report.get("overall_status", "error")
    missing = hosts_not_inspected(report)
    head = [
        "## %s" % md_escape(report.get("title") or "系统巡检报告"),
        '> 总体状态：<font color="%s">%s</font>' % (COLOUR.get(status, "warning"),
                                                  _status_zh(status)),
        "> 巡检时间：%s 至 %s" % (md_escape(_time(meta.get("started"))),
                             md_escape(_time(meta.get("ended")))),
        "> 运行编号：%s" % md_escape(meta.get("run_id", "")),
        "> 检查项：%s" % _counts_text(report.get("counts") or {}, "，"),
        "> 主机：%d 台，未完成巡检 %d 台" % (len(report.get("hosts") or {}), len(missing)),
    ]
    items = abnormal_items(report)
    # The conclusion is capped so a long one still leaves room for the items.
    body = ["", "**巡检结论**", truncate_utf8(md_escape(report.get("conclusion") or ""), CONCLUSION_LIMIT)]
    if items:
        body += ["", "**异常项**（共 %d 项）" % len(items)]
        for state, host, item in items[:max_items]:
            body.append('<font color="%s">%s</font> %s｜%s' % (COLOUR.get(state, "warning"),
                                                             _status_zh(state), md_escape(host),
                                                             md_escape(item)))
        if len(items) > max_items:
            body.append("……另有 %d 项异常，详见报告" % (len(items) - max_items))
    if location.startswith(("http://", "https://")):
        tail = ["", "[查看完整报告](%s)" % location.replace(")", "%29").replace(" ", "%20")]
    else:
        tail = ["", "报告：`%s`" % location.replace("`", "'")]
    return _fit(head, body, tail, limit)


def wecom_failure_markdown(title, started, node, reason):
    """The robot message for a run that wrote no report: evidence of the gap."""
    return "\n".join([
        "## %s" % md_escape(title),
        '> 总体状态：<font color="warning">未生成报告</font>',
        "> 巡检时间：%s" % md_escape(_time(started)),
        "> 控制节点：%s" % md_escape(node),
        "> 原因：%s" % md_escape(reason),
        "",
        "请登录控制节点查看运行目录中的 ansible-runner 输出，排除故障后手工补做巡检。",
    ])


def wecom_payload(content):
    return {"msgtype": "markdown", "markdown": {"content": content}}


def webhook_host(url):
    """The host part of the webhook URL: the only part ever printed."""
    return urllib.parse.urlsplit(url).hostname or "?"


def redact(text, secrets):
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def post_wecom(url, payload, timeout=TIMEOUT):
    """POST payload to the group robot; raise NotifyError unless errcode is 0."""
    parts = urllib.parse.urlsplit(url)
    host = webhook_host(url)
    if parts.scheme not in ("http", "https"):
        raise NotifyError("WeCom webhook (%s): URL must be http or https" % host)
    # Both the whole URL and its query (the key) are secrets.
    hide = (url, parts.query, urllib.parse.parse_qs(parts.query).get("key", [""])[0])
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    # Scheme checked above, so neither call can be steered to file: or ftp:.
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise NotifyError("WeCom webhook (%s): HTTP %s" % (host, exc.code)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(redact("WeCom webhook (%s): %s" % (host, reason), hide)) from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise NotifyError("WeCom webhook (%s): answer is not JSON" % host) from None
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        errmsg = str(answer.get("errmsg", "") if isinstance(answer, dict) else "")[:200]
        raise NotifyError(redact("WeCom webhook (%s): errcode %s %s" % (host, errcode, errmsg), hide))
    return answer


# ------------------------------------------------------------------ e-mail

def _date_minute(started):
    return _time(started)[:16]


def mail_subject(report):
    """[巡检] <title> <date> <状态>, the date with the minute: three runs a day."""
    meta = report.get("meta") or {}
    return "[巡检] %s %s %s" % (report.get("title") or "系统巡检报告",
                              _date_minute(meta.get("started")),
                              _status_zh(report.get("overall_status", "error")))


def mail_body(report, location, max_items=MAIL_MAX_ITEMS):
    meta = report.get("meta") or {}
    items = abnormal_items(report)
    lines = [
        report.get("title") or "系统巡检报告",
        "总体状态：%s" % _status_zh(report.get("overall_status", "error")),
        "巡检时间：%s 至 %s" % (_time(meta.get("started")), _time(meta.get("ended"))),
        "运行编号：%s" % meta.get("run_id", ""),
        "检查项：%s" % _counts_text(report.get("counts") or {}, "，"),
        "主机：%d 台，未完成巡检 %d 台" % (len(report.get("hosts") or {}),
                                   len(hosts_not_inspected(report))),
        "",
        "巡检结论：",
        report.get("conclusion") or "",
        "",
    ]
    if items:
        lines.append("异常项（共 %d 项）：" % len(items))
        lines += ["[%s] %s %s" % (_status_zh(s), h, i) for s, h, i in items[:max_items]]
        if len(items) > max_items:
            lines.append("……另有 %d 项，见附件报告" % (len(items) - max_items))
        lines.append("")
    lines.append("完整报告见附件；存档位置：%s" % location)
    return "\n".join(lines) + "\n"


def _message(subject, body, sender, recipients):
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = email.utils.formatdate(localtime=True)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2]
    message["Message-ID"] = email.utils.make_msgid(domain=domain or None)
    message.set_content(body, charset="utf-8")
    return message


def build_mail(report, location, sender, recipients, html=None):
    """The report mail; html (the bytes of report.html) is attached when given."""
    message = _message(mail_subject(report), mail_body(report, location), sender, recipients)
    if html is not None:
        run_id = (report.get("meta") or {}).get("run_id") or "report"
        # An ASCII file name: RFC 2231 names are mangled by some mail clients.
        # Bytes as archived (base64), so the attachment's SHA-256 is the index's.
        message.add_attachment(html, maintype="text", subtype="html", params={"charset": "utf-8"},
                               filename="inspection-%s.html" % run_id)
    return message


def build_failure_mail(title, started, node, reason, sender, recipients):
    subject = "[巡检] %s %s 未生成报告" % (title, _date_minute(started))
    body = "\n".join([
        title, "总体状态：未生成报告", "巡检时间：%s" % _time(started), "控制节点：%s" % node,
        "原因：%s" % reason, "",
        "请登录控制节点查看运行目录中的 ansible-runner 输出，排除故障后手工补做巡检。", ""])
    return _message(subject, body, sender, recipients)


def send_mail(message, host, port, security="starttls", user=None, password=None, timeout=TIMEOUT):
    """Send message; security is starttls, ssl or none. Raise NotifyError on failure."""
    context = ssl.create_default_context()
    recipients = [a for _n, a in email.utils.getaddresses(message.get_all("To", []))]
    try:
        if security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if user:
                client.login(user, password or "")
            refused = client.send_message(message, to_addrs=recipients)
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(redact("mail via %s:%s: %s" % (host, port, exc), [password])) from None
    if refused:
        raise NotifyError("mail via %s:%s: recipients refused: %s" % (host, port, ", ".join(sorted(refused))))
