"""INSP-17 / INSP-02 for real: url_check against an HTTP server on 127.0.0.1, tcp_port_check
against a listening and a closed loopback port, the app_inspection role through
ansible-playbook with the report callback, and storage_trend across real archived runs.

Traffic goes to 127.0.0.1 only. Needs nothing but loopback; when even that is missing the
tests skip, or fail when CI is set.
"""

import base64
import collections
import glob
import json
import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
URL_PASSWORD = "pw-in-url-7Q"
TICKET = "SECRET-TICKET-9Z"
PAGE = "<html><head><title>行政执法信息公示平台</title></head><body>首页</body></html>"
MAINTENANCE_BODY = "<title>系统维护中，请稍后访问</title>"



class Handler(BaseHTTPRequestHandler):
    """The pages an inspection meets: fast, GBK, slow, failing, wrong, redirecting, protected, big."""

    def _send(self, code, body=b"", content_type="text/html; charset=utf-8", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        path = urlsplit(self.path).path
        self.server.hits[path] += 1
        if path in ("/fast", "/landing"):
            self._send(200, PAGE.encode())
        elif path == "/gbk":  # a GBK page that declares no charset
            self._send(200, "<title>执法音像记录信息管理平台</title>".encode("gb18030"), "text/html")
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, PAGE.encode())
        elif path == "/error":
            self._send(500, "内部错误 java.lang.NullPointerException".encode())
        elif path == "/maintenance":
            self._send(200, MAINTENANCE_BODY.encode())
        elif path == "/redirect":
            port = self.server.server_address[1]
            self._send(302, headers=[("Location", "http://127.0.0.1:%d/landing?ticket=%s" % (port, TICKET))])
        elif path == "/auth":
            wanted = "Basic " + base64.b64encode(("ops:%s" % URL_PASSWORD).encode()).decode()
            if self.headers.get("Authorization") == wanted:
                self._send(200, PAGE.encode())
            else:
                self._send(401, headers=[("WWW-Authenticate", 'Basic realm="gxtax"')])
        elif path == "/big":
            self._send(200, b"x" * (2 << 20) + b"END-MARKER")
        else:
            self._send(404)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the client gave up on /slow (timeout test): nothing to report


@pytest.fixture
def web():
    try:
        server = Server(("127.0.0.1", 0), Handler)
    except OSError as exc:
        _unavailable("cannot listen on 127.0.0.1: %s" % exc)
    server.hits = collections.Counter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    yield base, server.hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def listener():
    """A listening loopback port (what an Oracle listener looks like at TCP level)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on: bound to learn a free number, then closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _env(**extra):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    env.pop("ANSIBLE_CONFIG", None)
    env.update(extra)
    return env


def _adhoc(module, args, env=None, interpreter=None):
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-m", module, "-a", json.dumps(args)]
    if interpreter:
        cmd += ["-e", "ansible_python_interpreter=%s" % interpreter]
    proc = subprocess.run(cmd, cwd=ROOT, env=env or _env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split("=>", 1)[1]), proc.stdout + proc.stderr


def _by_item(records):
    items = [r["item"] for r in records]
    assert len(items) == len(set(items)), items
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return {r["item"]: r for r in records}


# ------------------------------------------------------------------ url_check


def test_url_check_grades_every_kind_of_page(web, closed_port):
    base, hits = web
    auth_url = base.replace("http://", "http://ops:%s@" % URL_PASSWORD) + "/auth"
    urls = [
        {"url": base + "/fast", "name": "公示平台首页", "expect_text": "执法信息公示"},
        {"url": base + "/fast", "name": "重复条目"},  # same URL: checked once, under the first entry
        {"url": base + "/gbk", "name": "音像平台首页", "expect_text": "执法音像"},
        {"url": base + "/slow", "name": "慢页面", "warn_ms": 300, "crit_ms": 60000, "timeout": 30},
        {"url": base + "/slow?case=timeout", "name": "超时页面", "timeout": 0.3},
        {"url": base + "/error", "name": "错误页面"},
        {"url": base + "/maintenance", "name": "维护页面", "expect_text": "执法信息公示"},
        {"url": base + "/redirect", "name": "跳转页面"},
        {"url": base + "/redirect?follow=1", "name": "跟随跳转", "follow_redirects": True,
         "expect_text": "执法信息公示"},
        {"url": auth_url + "?token=abc", "name": "认证页面"},
        {"url": base + "/big", "name": "大页面", "expect_text": "END-MARKER"},
        {"url": "http://127.0.0.1:%d/" % closed_port, "name": "未监听端口"},
        {"url": "ftp://127.0.0.1/", "name": "错误配置"},
    ]
    # A proxy that does not exist: were the environment's proxy used, every request would fail.
    env = _env(http_proxy="http://127.0.0.1:%d" % closed_port, HTTP_PROXY="http://127.0.0.1:%d" % closed_port)
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    result, output = _adhoc("gxtax.ops.url_check", {"urls": urls, "host": "pub-wls01"}, env)
    records = _by_item(result["records"])
    status = {item.split(" ", 1)[1]: r["status"] for item, r in records.items()}
    assert status == {
        "公示平台首页": "ok", "音像平台首页": "ok", "慢页面": "warning", "超时页面": "critical",
        "错误页面": "critical", "维护页面": "critical", "跳转页面": "critical", "跟随跳转": "ok",
        "认证页面": "ok", "大页面": "critical", "未监听端口": "critical", "错误配置": "error"}
    assert all(r["host"] == "pub-wls01" for r in records.values())
    assert records["应用访问 慢页面"]["value"] >= 1000
    assert "超时" in records["应用访问 超时页面"]["detail"]
    assert "HTTP 500" in records["应用访问 错误页面"]["detail"]
    assert "/landing" in records["应用访问 跳转页面"]["detail"]
    assert "前 1024 KiB" in records["应用访问 大页面"]["detail"]
    assert "连接被拒绝" in records["应用访问 未监听端口"]["detail"]
    assert result["status"] == "critical"
    # each URL once; the redirect was followed once; the protected page answered the challenge
    assert hits["/fast"] == 1 and hits["/landing"] == 1 and hits["/auth"] == 2
    assert len(result["results"]) == len(urls) - 1
    # SEC-02: no credentials, query strings or page bodies in what the module returns
    for secret in (URL_PASSWORD, TICKET, "token=abc", "NullPointerException", "系统维护中"):
        assert secret not in output, secret


@pytest.fixture
def tls_web(tmp_path):
    """The same pages over HTTPS with a self-signed certificate for 127.0.0.1."""
    if not shutil.which("openssl"):
        _unavailable("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = Server(("127.0.0.1", 0), Handler)
    server.hits = collections.Counter()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_url_check_over_https(tls_web):
    base, cert = tls_web
    url = {"url": base + "/fast", "expect_text": "执法信息公示"}
    untrusted, _ = _adhoc("gxtax.ops.url_check", {"urls": [url]})
    record = untrusted["records"][0]
    jsonschema.validate(record, SCHEMA)
    assert record["status"] == "critical" and "证书" in record["detail"] and "ca_path" in record["direction"]
    trusted, _ = _adhoc("gxtax.ops.url_check", {"urls": [url], "ca_path": str(cert)})
    assert trusted["records"][0]["status"] == "ok"
    unchecked, _ = _adhoc("gxtax.ops.url_check", {"urls": [url], "validate_certs": False})
    assert unchecked["records"][0]["status"] == "ok"


# ------------------------------------------------------------------ tcp_port_check


def test_tcp_port_check_against_listening_and_closed_ports(listener, closed_port):
    targets = [{"host": "127.0.0.1", "port": listener, "name": "pub-db01", "record_host": "pub-db01"},
               {"host": "127.0.0.1", "port": closed_port, "name": "av-db01", "record_host": "av-db01"},
               {"host": "127.0.0.1", "port": listener, "name": "重复"}]
    result, _output = _adhoc("gxtax.ops.tcp_port_check", {"targets": targets, "timeout": 2})
    records = _by_item(result["records"])
    assert len(records) == 2
    ok = records["数据库监听端口 127.0.0.1:%d 可达性" % listener]
    bad = records["数据库监听端口 127.0.0.1:%d 可达性" % closed_port]
    assert (ok["status"], ok["host"], ok["unit"]) == ("ok", "pub-db01", "ms") and ok["value"] >= 0
    assert (bad["status"], bad["host"], bad["value"]) == ("critical", "av-db01", None)
    assert "lsnrctl status" in bad["direction"] and bad["consequence"] == "应用无法连接数据库，业务中断"
    assert [r["connected"] for r in result["results"]] == [True, False]


# ------------------------------------------------------------------ the role through ansible-playbook


def _playbook(tmp_path, roles=("gxtax.ops.app_inspection",), tasks=None):
    play = {"name": "INSP-17 INSP-02 | test play", "hosts": "all", "gather_facts": False,
            "vars": {"gxtax_report_kind": "inspection"}}
    if roles:
        play["roles"] = [{"role": r} for r in roles]
    if tasks:
        play["tasks"] = tasks
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([play], allow_unicode=True), encoding="utf-8")
    return path


def _run(playbook, inventory, reports, *extra):
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra],
                          cwd=ROOT, env=_env(GXTAX_REPORT_ROOT=str(reports)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    archive = ReportArchive(reports)
    assert archive.verify() == []
    run_dir = pathlib.Path(archive.root) / archive.entries()[-1]["path"]
    return json.loads((run_dir / "report.json").read_text(encoding="utf-8"))


def _estate(tmp_path, base, listener, closed_port):
    """An estate whose hosts all live on this machine (local connection)."""
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "publicity": {"hosts": {"web1": {}, "web2": {"gxtax_inspection_urls": [
                {"url": base + "/error", "name": "公示平台错误页"},
                {"url": base + "/fast", "name": "公示平台首页（web2）"}]}}},
            "oracle_db": {"hosts": {
                "db1": {"ansible_host": "127.0.0.1", "gxtax_oracle_listener_port": listener},
                "db2": {"ansible_host": "127.0.0.1", "gxtax_oracle_listener_port": closed_port}}},
            "app_storage": {"hosts": {"nas1": {"gxtax_inspection_media_mounts": ["/", "/not-mounted"]}}},
            "other": {"hosts": {"plain1": {}}},
        }}}
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "group_vars").mkdir()
    (tmp_path / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory, allow_unicode=True))
    (tmp_path / "inventory" / "group_vars" / "publicity.yml").write_text(yaml.safe_dump(
        {"gxtax_inspection_urls": [{"url": base + "/fast", "name": "公示平台首页"}]}, allow_unicode=True))
    return tmp_path / "inventory"


def test_role_checks_each_entry_once_and_reads_back_the_media_figure(tmp_path, web, listener, closed_port):
    base, hits = web
    inventory = _estate(tmp_path, base, listener, closed_port)
    playbook = _playbook(tmp_path)
    reports = tmp_path / "reports"

    report = _run(playbook, inventory, reports, "-e", "gxtax_inspection_media_min_interval_hours=0")
    assert {name: h["state"] for name, h in report["hosts"].items()} == dict.fromkeys(
        ["web1", "web2", "db1", "db2", "nas1", "plain1"], "ok")
    records = _by_item(report["records"])
    found = {(r["host"], r["item"]): r["status"] for r in records.values()}
    assert found == {
        # the group's URL is declared by web1 and web2: checked once, for web1 (first in play order)
        ("web1", "应用访问 公示平台首页"): "ok",
        ("web2", "应用访问 公示平台错误页"): "critical",
        ("db1", "数据库监听端口 127.0.0.1:%d 可达性" % listener): "ok",
        ("db2", "数据库监听端口 127.0.0.1:%d 可达性" % closed_port): "critical",
        ("nas1", "媒体存储 / 已用容量"): "ok",
        ("nas1", "媒体存储 / 预计可用天数"): "skipped",
        ("nas1", "媒体存储 /not-mounted 已用容量"): "error",
        ("nas1", "媒体存储 /not-mounted 预计可用天数"): "skipped",
    }
    assert hits["/fast"] == 1 and hits["/error"] == 1
    assert "首次巡检" in records["媒体存储 / 预计可用天数"]["detail"]

    report = _run(playbook, inventory, reports, "-e", "gxtax_inspection_media_min_interval_hours=0")
    records = _by_item(report["records"])
    days = records["媒体存储 / 预计可用天数"]
    # The root filesystem grows or shrinks as it likes between the runs: whatever the status,
    # the estimate now starts from the first run's figure.
    assert "自上次巡检" in days["detail"] and "首次巡检" not in days["detail"]
    assert hits["/fast"] == 2


def test_role_records_nothing_on_the_local_inventory(tmp_path):
    report = _run(_playbook(tmp_path), ROOT / "inventories" / "local", tmp_path / "reports")
    assert report["hosts"]["localhost"]["state"] == "ok"
    assert report["records"] == []


# ------------------------------------------------------------------ storage_trend across archived runs


def test_storage_trend_reads_the_previous_run_from_the_archive(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    task = {"name": "INSP-17 | Media storage trend", "gxtax.ops.storage_trend": {
        "host": "av-nas01",
        "mounts": [{"path": "/data/media", "total_bytes": "{{ 1000 * 2**30 }}",
                    "used_bytes": "{{ (used_gib | float * 2**30) | int }}"}],
        "archive_root": "{{ lookup('env', 'GXTAX_REPORT_ROOT') }}",
        "min_interval_hours": "{{ min_hours | default(0) }}"}}
    playbook = _playbook(tmp_path, roles=(), tasks=[task])
    reports = tmp_path / "reports"

    def days(*extra):
        records = _by_item(_run(playbook, inventory, reports, *extra)["records"])
        assert records["媒体存储 /data/media 已用容量"]["status"] == "ok"
        return records["媒体存储 /data/media 预计可用天数"]

    first = days("-e", "used_gib=100")
    assert first["status"] == "skipped" and "首次巡检" in first["detail"]
    # 10 GiB more within seconds: at that rate 890 GiB last far less than 30 days
    second = days("-e", "used_gib=110")
    assert second["status"] == "critical" and 0 <= second["value"] < 30
    assert "增长 10 GiB" in second["detail"]
    # only reports at least an hour old count: both are seconds old
    third = days("-e", "used_gib=120", "-e", "min_hours=1")
    assert third["status"] == "skipped" and "至少 1 小时前" in third["detail"]
    # shrinking usage gives no estimate
    fourth = days("-e", "used_gib=105")
    assert fourth["status"] == "skipped" and "减少 15 GiB" in fourth["detail"]
    assert len(ReportArchive(reports).entries()) == 4


# ------------------------------------------------------------------ Python 3.7 (any python3 may run them)


def _python37():
    found = next(iter(sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7*/bin/python3.7")))),
                 None) or shutil.which("python3.7")
    if not found:
        _unavailable("no Python 3.7 interpreter on this machine (expected pyenv's 3.7)")
    return found


def test_modules_run_on_python37(tmp_path, web, listener):
    python37 = _python37()
    base, _hits = web
    result, _ = _adhoc("gxtax.ops.url_check", {"urls": [{"url": base + "/gbk", "expect_text": "执法音像"}]},
                       interpreter=python37)
    assert result["records"][0]["status"] == "ok"
    result, _ = _adhoc("gxtax.ops.tcp_port_check", {"targets": [{"host": "127.0.0.1", "port": listener}]},
                       interpreter=python37)
    assert result["records"][0]["status"] == "ok"
    result, _ = _adhoc("gxtax.ops.storage_trend", {
        "host": "av-nas01", "archive_root": str(tmp_path),
        "mounts": [{"path": "/data/media", "total_bytes": 1000, "used_bytes": 10}]}, interpreter=python37)
    assert [r["status"] for r in result["records"]] == ["ok", "skipped"]
    for record in result["records"]:
        jsonschema.validate(record, SCHEMA)
