"""INSP-15 notifications: message builders, and the senders against a WeCom webhook and an
SMTP server played by this file on 127.0.0.1 (FakeWeCom, FakeSMTP; also used by
tests/integration/test_cron_entry.py)."""

import base64
import email
import email.policy
import http.server
import json
import pathlib
import socketserver
import threading

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import notify
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import build_report
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

SCHEMA = json.loads((pathlib.Path(__file__).parents[2] / "schemas" / "inspection-record.schema.json")
                    .read_text(encoding="utf-8"))
SENTINEL = "SENTINEL-7f3a9c"  # stands for a password or a taxpayer's name
META = {"run_id": "20261127T083000-abcdef", "started": "2026-11-27T08:30:00", "ended": "2026-11-27T08:31:05",
        "title": "系统巡检报告", "inventory": "inventories/" + SENTINEL, "operator": SENTINEL}
ENTRY = {"path": "inspection/2026/11/27/20261127T083000-abcdef",
         "files": {"report.json": "0" * 64, "report.html": "1" * 64}}


# ------------------------------------------------------------------ loopback servers

class FakeWeCom:
    """The group robot webhook on 127.0.0.1: records every JSON body it gets."""

    def __init__(self, answer=None, http_status=200):
        self.answer = answer if answer is not None else {"errcode": 0, "errmsg": "ok"}
        self.http_status = http_status
        self.received = []  # (path with query, parsed JSON body)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fake.received.append((self.path, json.loads(body.decode("utf-8"))))
                data = json.dumps(fake.answer).encode("utf-8")
                self.send_response(fake.http_status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def url(self, key):
        return "http://127.0.0.1:%d/cgi-bin/webhook/send?key=%s" % (self.server.server_address[1], key)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class FakeSMTP:
    """Enough SMTP on 127.0.0.1 for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT.

    Records each message as {"from", "to", "data", "auth"}; with credentials set,
    AUTH PLAIN must match them.
    """

    def __init__(self, credentials=None):
        self.credentials = credentials  # (user, password) or None
        self.messages = []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text):
                self.wfile.write(text.encode("ascii") + b"\r\n")

            def check_auth(self, b64):
                try:
                    _authzid, user, password = base64.b64decode(b64).decode("utf-8").split("\0")
                except ValueError:
                    return None
                return user if (user, password) == fake.credentials else None

            def handle(self):
                self.reply("220 127.0.0.1 fake ESMTP")
                envelope = {"from": None, "to": [], "auth": None}
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    words = line.decode("utf-8", "replace").rstrip("\r\n").split()
                    verb = words[0].upper() if words else ""
                    if verb == "EHLO":
                        self.wfile.write(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n")
                    elif verb == "HELO":
                        self.reply("250 127.0.0.1")
                    elif verb == "AUTH" and len(words) >= 2 and words[1].upper() == "PLAIN":
                        if len(words) == 2:
                            self.reply("334 ")
                            words.append(self.rfile.readline().decode("ascii").strip())
                        envelope["auth"] = self.check_auth(words[2])
                        self.reply("235 2.7.0 ok" if envelope["auth"] else "535 5.7.8 bad credentials")
                    elif verb == "MAIL":
                        if fake.credentials and not envelope["auth"]:
                            self.reply("530 5.7.0 authentication required")
                            continue
                        envelope["from"] = line.decode().split(":", 1)[1].split()[0].strip("<>")
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        envelope["to"].append(line.decode().split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        data = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b".\n", b""):
                                break
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        fake.messages.append(dict(envelope, data=b"".join(data)))
                        envelope = {"from": None, "to": [], "auth": envelope["auth"]}
                        self.reply("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 ok")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def port(self):
        return self.server.server_address[1]

    def parsed(self, index=-1):
        return email.message_from_bytes(self.messages[index]["data"], policy=email.policy.default)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Loopback traffic must not be sent to a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------ report fixtures

def _record(host, status, item, req="INSP-01"):
    bad = status in ("warning", "critical", "error")
    record = make_record(req, item, host, status, 97.5, "%", {"warning": 80, "critical": 90},
                         "说明含 %s。" % SENTINEL, direction="方向 %s" % SENTINEL if bad else None,
                         consequence="后果 %s" % SENTINEL if bad else None)
    jsonschema.validate(record, SCHEMA)
    return record


def _hosts(*names, **states):
    hosts = {n: {"state": "ok", "platforms": ["publicity"], "message": ""} for n in names}
    for name, state in states.items():
        hosts[name] = {"state": state, "platforms": ["avrecord"], "message": "ssh: %s" % SENTINEL}
    return hosts


def _report(records, hosts):
    return build_report(records, hosts, META)


def _mixed_report():
    records = [_record("db01", "ok", "CPU使用率"), _record("db01", "warning", "内存使用率"),
               _record("wls01", "error", "磁盘IO"), _record("wls01", "critical", "文件系统 /u01 空间使用率"),
               _record("db01", "skipped", "交换分区使用率")]
    return _report(records, _hosts("db01", "wls01", app03="unreachable"))


def _item_lines(content):
    return [line for line in content.splitlines() if "｜" in line]


# ------------------------------------------------------------------ builders

def test_wecom_message_lists_abnormal_items_most_urgent_first():
    content = notify.wecom_markdown(_mixed_report(), "/srv/reports/x/report.html")
    lines = _item_lines(content)
    labels = [line.split("</font>")[0].split(">")[-1] for line in lines]
    assert labels == ["严重", "无法连接", "检查失败", "警告"]
    assert "wls01｜文件系统 /u01 空间使用率" in lines[0]
    assert "app03｜主机巡检" in lines[1]
    assert not any("CPU使用率" in line or "交换分区" in line for line in lines)  # ok/skipped are not items
    assert '> 总体状态：<font color="warning">严重</font>' in content
    assert "**异常项**（共 4 项）" in content
    assert "> 主机：3 台，未完成巡检 1 台" in content
    assert content.rstrip().endswith("报告：`/srv/reports/x/report.html`")


def test_wecom_message_for_a_clean_run_is_green_and_has_no_items():
    report = _report([_record("db01", "ok", "CPU使用率")], _hosts("db01"))
    content = notify.wecom_markdown(report, "/r/report.html")
    assert '<font color="info">正常</font>' in content and "异常项" not in content
    assert report["conclusion"] in content
    payload = notify.wecom_payload(content)
    assert payload == {"msgtype": "markdown", "markdown": {"content": content}}


def test_wecom_message_stays_within_4096_bytes_and_keeps_the_report_link():
    records = [_record("host-%03d" % i, "critical", "表空间 非常长的业务表空间名称_%03d 使用率" % i)
               for i in range(400)]
    report = _report(records, _hosts(*("host-%03d" % i for i in range(400))))
    location = notify.report_location("/srv/reports", ENTRY, "https://reports.example.cn/巡检")
    content = notify.wecom_markdown(report, location, max_items=400)
    size = len(content.encode("utf-8"))
    assert size <= notify.WECOM_LIMIT
    assert size > notify.WECOM_LIMIT - 200  # filled, not emptied
    assert content.endswith("[查看完整报告](%s)" % location)
    assert "因消息长度限制省略" in content
    assert _item_lines(content)[0].startswith('<font color="warning">严重</font> host-000｜')


@pytest.mark.parametrize("limit", range(0, 40))
def test_truncate_utf8_cuts_on_a_character_boundary(limit):
    text = "巡检结论：表空间USERS使用率😀正常" * 3
    cut = notify.truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    if cut:
        assert cut.endswith("…") and text.startswith(cut[:-1])
        # Nothing that would have fitted was thrown away: one more character would not fit.
        assert len((text[:len(cut)] + "…").encode("utf-8")) > limit
    assert notify.truncate_utf8(text, len(text.encode("utf-8"))) == text


def test_long_conclusion_is_capped_so_items_still_show():
    report = _mixed_report()
    report["conclusion"] = "数据库表空间异常。" * 800
    content = notify.wecom_markdown(report, "/r/report.html")
    assert len(content.encode("utf-8")) <= notify.WECOM_LIMIT
    assert len(_item_lines(content)) == 4


def test_markdown_significant_characters_in_items_are_neutralised():
    item = ("日志 <@all> *.log [点我](http://evil.example/) `rm` #1 a_b_c "
            '<font color="info">假</font>\n# 标题')
    report = _report([_record("db01", "critical", item)], _hosts("db01"))
    content = notify.wecom_markdown(report, "/r/report.html")
    line = _item_lines(content)[0]
    shown = line.split("｜", 1)[1]
    for raw in ("<", ">", "*", "[", "]", "`", "#", "_", "\n"):
        assert raw not in shown, raw
    assert "＜@all＞ ＊.log ［点我］(http://evil.example/) ｀rm｀ ＃1 a＿b＿c" in shown
    assert content.count("<font") == 2  # overall status and this item's label: no injected tag
    assert [ln for ln in content.splitlines() if ln.startswith("#")] == ["## 系统巡检报告"]


def test_messages_carry_only_item_host_status_and_conclusion():
    """SEC-02: detail, value, direction, consequence, host messages and the operator never leave."""
    report = _mixed_report()
    assert SENTINEL not in report["conclusion"]
    location = notify.report_location("/srv/reports", ENTRY)
    texts = [notify.wecom_markdown(report, location), notify.mail_subject(report),
             notify.mail_body(report, location)]
    message = notify.build_mail(report, location, "ops@example.cn", ["a@example.cn"], html=None)
    texts.append(message.as_string())
    for text in texts:
        assert SENTINEL not in text
        assert "97.5" not in text


def test_report_location_is_a_quoted_url_or_the_file():
    assert notify.report_location("/srv/reports/", ENTRY) == \
        "/srv/reports/inspection/2026/11/27/20261127T083000-abcdef/report.html"
    only_json = dict(ENTRY, files={"report.json": "0" * 64})
    assert notify.report_location("/srv/reports", only_json).endswith("/report.json")
    url = notify.report_location("/srv/reports", ENTRY, "https://r.example.cn/a b/")
    assert url == "https://r.example.cn/a b/inspection/2026/11/27/20261127T083000-abcdef/report.html"
    content = notify.wecom_markdown(_mixed_report(), url)
    assert "(https://r.example.cn/a%20b/inspection/" in content


def test_mail_subject_and_body():
    report = _mixed_report()
    assert notify.mail_subject(report) == "[巡检] 系统巡检报告 2026-11-27 08:30 严重"
    body = notify.mail_body(report, "/srv/r/report.html")
    assert "[严重] wls01 文件系统 /u01 空间使用率" in body
    assert body.index("[严重]") < body.index("[无法连接]") < body.index("[检查失败]") < body.index("[警告]")
    assert report["conclusion"] in body and "/srv/r/report.html" in body


def test_failure_messages_say_no_report_was_written():
    content = notify.wecom_failure_markdown("系统巡检", "2026-11-27T08:30:00", "ctl01", "运行超时")
    assert "未生成报告" in content and "ctl01" in content and "运行超时" in content
    mail = notify.build_failure_mail("系统巡检", "2026-11-27T08:30:00", "ctl01", "运行超时",
                                     "ops@example.cn", ["a@example.cn"])
    assert mail["Subject"] == "[巡检] 系统巡检 2026-11-27 08:30 未生成报告"


# ------------------------------------------------------------------ senders

def test_post_wecom_sends_the_json_message():
    key = "key-%s" % SENTINEL
    with FakeWeCom() as robot:
        payload = notify.wecom_payload(notify.wecom_markdown(_mixed_report(), "/r/report.html"))
        answer = notify.post_wecom(robot.url(key), payload)
    assert answer["errcode"] == 0
    assert len(robot.received) == 1
    path, body = robot.received[0]
    assert path == "/cgi-bin/webhook/send?key=" + key
    assert body == payload and body["markdown"]["content"].startswith("## 系统巡检报告")


def test_post_wecom_nonzero_errcode_is_a_failure_without_the_key():
    key = "key-%s" % SENTINEL
    with FakeWeCom(answer={"errcode": 93000, "errmsg": "invalid webhook url"}) as robot:
        with pytest.raises(notify.NotifyError) as caught:
            notify.post_wecom(robot.url(key), notify.wecom_payload("x"))
    message = str(caught.value)
    assert "93000" in message and "127.0.0.1" in message
    assert SENTINEL not in message and "key=" not in message


def test_post_wecom_http_error_and_refused_connection():
    key = "key-%s" % SENTINEL
    with FakeWeCom(http_status=502) as robot:
        with pytest.raises(notify.NotifyError, match="HTTP 502"):
            notify.post_wecom(robot.url(key), notify.wecom_payload("x"))
        url = robot.url(key)
    # The server is gone now: the same port refuses.
    with pytest.raises(notify.NotifyError) as caught:
        notify.post_wecom(url, notify.wecom_payload("x"), timeout=5)
    assert SENTINEL not in str(caught.value)
    with pytest.raises(notify.NotifyError, match="http or https"):
        notify.post_wecom("file:///etc/passwd?key=" + key, notify.wecom_payload("x"))


def test_send_mail_with_login_and_attachment():
    report = _mixed_report()
    html = "<html><body>巡检报告 é</body></html>".encode()
    password = "pw-%s" % SENTINEL
    message = notify.build_mail(report, "/srv/r/report.html", "巡检 <ops@example.cn>",
                                ["a@example.cn", "b@example.cn"], html=html)
    with FakeSMTP(credentials=("ops", password)) as server:
        notify.send_mail(message, "127.0.0.1", server.port, "none", "ops", password)
        got = server.parsed()
        envelope = server.messages[0]
    assert envelope["auth"] == "ops"
    assert envelope["from"] == "ops@example.cn"
    assert envelope["to"] == ["a@example.cn", "b@example.cn"]
    assert got["Subject"] == "[巡检] 系统巡检报告 2026-11-27 08:30 严重"
    body = got.get_body(preferencelist=("plain",)).get_content()
    assert "[严重] wls01 文件系统 /u01 空间使用率" in body
    attachments = list(got.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["inspection-20261127T083000-abcdef.html"]
    assert attachments[0].get_content_type() == "text/html"
    assert attachments[0].get_content_charset() == "utf-8"
    assert attachments[0].get_payload(decode=True) == html  # byte for byte, as archived
    assert SENTINEL.encode() not in envelope["data"]


def test_send_mail_bad_password_is_a_failure_without_the_password():
    message = notify.build_mail(_mixed_report(), "/r", "ops@example.cn", ["a@example.cn"])
    with FakeSMTP(credentials=("ops", "right")) as server:
        with pytest.raises(notify.NotifyError) as caught:
            notify.send_mail(message, "127.0.0.1", server.port, "none", "ops", "wrong-%s" % SENTINEL)
        assert server.messages == []
    assert "535" in str(caught.value) and SENTINEL not in str(caught.value)
