"""INSP-10 for real, against the WebLogic protocol double (tests/weblogic_double) on 127.0.0.1:
gxtax.ops.weblogic_info through ansible, over HTTP and HTTPS, healthy and degraded domains,
every way the Admin Server can refuse, the client's write side that the deployment work will
use, and the weblogic_inspection role through ansible-playbook and the report callback.

WebLogic cannot run here: the double answers Oracle's documented endpoints (each cited in
tests/weblogic_double/runtime.py). Traffic goes to 127.0.0.1 only. When loopback or openssl
is missing the tests skip, or fail when CI is set.
"""

import base64
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
from urllib import request as urlrequest
from urllib.error import HTTPError

import jsonschema
import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import WeblogicClient, WeblogicError
from tests.weblogic_double import Domain, DoubleError, WeblogicDouble
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
SENTINEL = "Sentinel-wls-5d1e-not-for-reports"
USERS = {"monitor": (SENTINEL, {"Monitor"}), "nobody": (SENTINEL + "-nobody", set()),
         "weblogic": (SENTINEL + "-admin", {"Admin"})}



def _start(**kwargs):
    try:
        return WeblogicDouble(users=USERS, **kwargs).start()
    except OSError as exc:
        _unavailable("cannot listen on 127.0.0.1: %s" % exc)


@pytest.fixture
def double():
    server = _start()
    yield server
    server.stop()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    if not shutil.which("openssl"):
        _unavailable("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def _env(**extra):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    env.pop("ANSIBLE_CONFIG", None)
    env.update(extra)
    return env


def _module(url, user="monitor", password=SENTINEL, *options, **args):
    """Run gxtax.ops.weblogic_info through ansible on localhost; (result, whole output)."""
    args = dict({"url": url, "user": user, "password": password, "host": "pub-wls-admin"}, **args)
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-m", "gxtax.ops.weblogic_info",
           "-a", json.dumps(args), "-e", "ansible_python_interpreter=%s" % sys.executable, *options]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert SENTINEL not in output  # SEC-02: the password is never echoed
    result = json.loads(proc.stdout.split("=>", 1)[1])
    for record in result["records"]:
        jsonschema.validate(record, SCHEMA)
    return result, output


def _by_item(result):
    items = [r["item"] for r in result["records"]]
    assert len(items) == len(set(items)), items
    return {r["item"]: r for r in result["records"]}


# ------------------------------------------------------------------ the module against the double


def test_healthy_domain_is_all_ok(double):
    result, _output = _module(double.url)
    records = _by_item(result)
    assert {r["status"] for r in records.values()} == {"ok"} and result["status"] == "ok"
    assert result["changed"] is False
    # AdminServer: 6 items; ms1, ms2: 6 + their data source; two applications on both managed servers.
    assert len(records) == 6 + 7 + 7 + 4
    assert {s["name"]: s["cluster"] for s in result["servers"]} == {
        "AdminServer": None, "ms1": "gxtax-cluster", "ms2": "gxtax-cluster"}
    assert records["数据源 jdbc/gxtaxDS@ms1 连接使用率"]["value"] == 8.0  # 4 of 50
    # Every request was compact, and the one POST carried X-Requested-By (as WebLogic demands).
    gets = [r for r in double.requests if r.method == "GET"]
    assert gets and all(r.query.get("links") == "none" and r.query.get("fields") for r in gets)
    posts = double.requests_to("POST", r"appRuntimeStateRuntime/getCurrentState$")
    assert len(posts) == 4 and all(r.requested_by == "gxtax-ops" and r.status == 200 for r in posts)
    assert {r.user for r in double.requests} == {"monitor"}


def degrade(domain: Domain):
    """A SHUTDOWN managed server, a HEALTH_WARN server with stuck threads, a data source at
    96 % with waiters and a failed application."""
    domain.set_state("ms2", "SHUTDOWN")
    ms1 = domain.server("ms1")
    ms1.health, ms1.health_subsystem, ms1.symptoms = "HEALTH_WARN", "threadpool", ["3 stuck threads"]
    ms1.threads.stuck, ms1.threads.hogging = 3, 7
    runtime = domain.datasource_runtime(domain.datasources["gxtaxDS"], "ms1")
    runtime.active, runtime.curr_capacity, runtime.waiting = 48, 50, 4
    domain.applications["gxtax-web"].states["ms1"] = "STATE_FAILED"


def test_degraded_domain_gives_the_right_statuses(double):
    degrade(double.domain)
    result, _output = _module(double.url)
    records = _by_item(result)
    status = {item: r["status"] for item, r in records.items()}
    assert status["WebLogic 服务器 ms2 状态"] == "critical"
    for item in ("WebLogic ms2 堆内存使用率", "WebLogic ms2 卡住线程(stuck)", "应用 gxtax-web@ms2 状态",
                 "数据源 jdbc/gxtaxDS@ms2 连接使用率", "应用 gxtax-api@ms2 状态"):
        assert status[item] == "skipped", item
    assert status["WebLogic 服务器 ms1 健康状态"] == "warning"
    assert "threadpool" in records["WebLogic 服务器 ms1 健康状态"]["detail"]
    stuck = records["WebLogic ms1 卡住线程(stuck)"]
    assert (stuck["status"], stuck["value"]) == ("warning", 3)
    assert status["WebLogic ms1 占用线程(hogging)"] == "warning"
    datasource = records["数据源 jdbc/gxtaxDS@ms1 连接使用率"]
    assert (datasource["status"], datasource["value"]) == ("critical", 96.0)
    assert "等待连接的请求 4 个" in datasource["detail"]
    assert status["应用 gxtax-web@ms1 状态"] == "critical" and status["应用 gxtax-api@ms1 状态"] == "ok"
    assert {item for item, s in status.items() if item.startswith("WebLogic") and "AdminServer" in item
            and s != "ok"} == set()
    assert result["status"] == "critical"
    # The shut-down server was never asked for runtime data.
    assert not double.requests_to("GET", r"serverRuntimes/ms2/")


def test_check_mode_reads_the_same(double):
    degrade(double.domain)
    result, _output = _module(double.url, "monitor", SENTINEL, "--check")
    assert result["changed"] is False
    assert _by_item(result)["应用 gxtax-web@ms1 状态"]["status"] == "critical"


def test_one_missing_runtime_and_one_hung_server(double):
    double.inject("GET", r"domainRuntime/serverRuntimes/ms1/JVMRuntime", 404, "Not Found")
    # Hangs far longer than the module waits; 2 s leaves room for a loaded test machine.
    double.inject("GET", r"domainRuntime/serverRuntimes/ms2/JVMRuntime", None, delay=8)
    result, _output = _module(double.url, timeout=2)
    records = _by_item(result)
    assert records["WebLogic ms1 堆内存使用率"]["status"] == "error"
    assert "HTTP 404" in records["WebLogic ms1 堆内存使用率"]["detail"]
    assert records["WebLogic ms1 卡住线程(stuck)"]["status"] == "ok"
    assert records["WebLogic ms2 堆内存使用率"]["status"] == "error"
    assert "2 秒内未响应" in records["WebLogic ms2 堆内存使用率"]["detail"]
    assert records["数据源（全部）@ms2 连接使用率"]["status"] == "error"  # asked once: the server hung
    assert len(double.requests_to("GET", r"serverRuntimes/ms2/")) == 1
    assert records["应用 gxtax-web@ms2 状态"]["status"] == "ok"  # the Admin Server still answers


# ------------------------------------------------------------------ the Admin Server refuses


def _one_error(result, *words):
    assert len(result["records"]) == 1, result["records"]
    record = result["records"][0]
    assert (record["item"], record["status"], record["host"]) == ("WebLogic 管理服务器 REST 接口", "error",
                                                                  "pub-wls-admin")
    for word in words:
        assert word in record["detail"], (word, record["detail"])
    return record


def test_wrong_password_is_401(double):
    result, _output = _module(double.url, "monitor", SENTINEL + "-wrong")
    record = _one_error(result, "HTTP 401", "用户 monitor", "用户名或密码错误")
    assert "gxtax_weblogic_user" in record["direction"]


def test_user_without_the_monitor_role_is_403(double):
    result, _output = _module(double.url, "nobody", SENTINEL + "-nobody")
    record = _one_error(result, "HTTP 403", "用户 nobody", "Monitor 角色")
    assert "Monitors" in record["direction"]


def test_weblogic_without_the_rest_api_is_404():
    server = _start(rest_api=False)
    try:
        result, _output = _module(server.url)
    finally:
        server.stop()
    _one_error(result, "HTTP 404", "12.2.1", "WLST")


def test_unreachable_admin_server(closed_port):
    result, _output = _module("http://127.0.0.1:%d" % closed_port)
    record = _one_error(result, "连接被拒绝", "127.0.0.1:%d" % closed_port)
    assert "防火墙" in record["direction"]
    assert result["status"] == "error" and result["servers"] == []


def test_missing_url_is_an_error_record():
    result, _output = _module("")
    _one_error(result, "url 为空")


# ------------------------------------------------------------------ HTTPS


def test_https_with_a_self_signed_certificate(certificate):
    server = _start(tls=certificate)
    try:
        untrusted, _ = _module(server.url)
        trusted, _ = _module(server.url, ca_path=certificate[0])
        unchecked, _ = _module(server.url, validate_certs=False)
    finally:
        server.stop()
    record = _one_error(untrusted, "TLS", "ca_path")
    assert "证书" in record["direction"]
    for result in (trusted, unchecked):
        assert {r["status"] for r in result["records"]} == {"ok"} and len(result["records"]) == 24
        assert result["url"].startswith("https://127.0.0.1:")


# ------------------------------------------------------------------ the write side (later: deployment)


def test_post_and_delete_need_x_requested_by_which_the_client_sends(double):
    url = double.url + "/management/weblogic/latest/domainRuntime/appRuntimeStateRuntime/getCurrentState"
    headers = {"Accept": "application/json",
               "Authorization": "Basic " + base64.b64encode(("monitor:" + SENTINEL).encode()).decode()}
    bare = urlrequest.Request(url, data=b'{"appid": "gxtax-web", "target": "ms1"}', method="POST",
                              headers=dict(headers, **{"Content-Type": "application/json"}))
    with pytest.raises(HTTPError) as refused:
        urlrequest.build_opener(urlrequest.ProxyHandler({})).open(bare, timeout=10)  # noqa: S310
    assert refused.value.code == 400 and b"X-Requested-By" in refused.value.read()
    bare = urlrequest.Request(double.url + "/management/weblogic/latest/edit/appDeployments/gxtax-web",
                              method="DELETE", headers=headers)
    with pytest.raises(HTTPError) as refused:
        urlrequest.build_opener(urlrequest.ProxyHandler({})).open(bare, timeout=10)  # noqa: S310
    assert refused.value.code == 400
    client = WeblogicClient(double.url, "monitor", SENTINEL)
    assert client.post("domainRuntime/appRuntimeStateRuntime/getCurrentState",
                       {"appid": "gxtax-web", "target": "gxtax-cluster"}) == {"return": "STATE_ACTIVE"}
    with pytest.raises(WeblogicError) as missing:  # past the header check, no such route in the double yet
        client.delete("edit/appDeployments/gxtax-web")
    assert missing.value.kind == "not_found"
    assert [r.requested_by for r in double.requests[-2:]] == ["gxtax-ops", "gxtax-ops"]


def test_routes_added_by_later_work_and_their_roles(double, tmp_path):
    """The deployment work registers its own routes: here a stand-in upload and an edit action."""
    def upload(request):
        parts = request.multipart()
        return 201, {"fields": sorted(parts), "model": json.loads(parts["model"]["data"]),
                     "size": len(parts["sourcePath"]["data"]), "filename": parts["sourcePath"]["filename"]}

    def start_edit(request):
        raise DoubleError(400, "The edit lock is owned by another session (user deployer2).")

    double.router.register("POST", r"edit/appDeployments", upload, roles={"Admin", "Deployer"})
    double.router.register("POST", r"edit/changeManager/startEdit", start_edit, roles={"Admin"})
    archive = tmp_path / "gxtax-web.war"
    archive.write_bytes(b"PK\x03\x04" + os.urandom(200_000))
    admin = WeblogicClient(double.url, "weblogic", SENTINEL + "-admin")
    model = {"name": "gxtax-web", "targets": ["ms1"]}
    answer = admin.post_multipart("edit/appDeployments", {"model": model}, {"sourcePath": str(archive)})
    assert answer == {"fields": ["model", "sourcePath"], "model": {"name": "gxtax-web", "targets": ["ms1"]},
                      "size": archive.stat().st_size, "filename": "gxtax-web.war"}
    assert double.requests[-1].content_type.startswith("multipart/form-data")
    monitor = WeblogicClient(double.url, "monitor", SENTINEL)
    with pytest.raises(WeblogicError) as refused:
        monitor.post_multipart("edit/appDeployments", {"model": {}}, {"sourcePath": str(archive)})
    assert refused.value.kind == "forbidden" and "Deployer 角色" in refused.value.message
    with pytest.raises(WeblogicError) as locked:
        admin.post("edit/changeManager/startEdit")
    assert locked.value.kind == "bad_request" and "deployer2" in locked.value.message
    assert SENTINEL not in str(refused.value) + str(locked.value)


# ------------------------------------------------------------------ the role and the report


def _playbook(tmp_path):
    play = {"name": "INSP-10 | test play", "hosts": "all", "gather_facts": False,
            "vars": {"gxtax_report_kind": "inspection"},
            "roles": [{"role": "gxtax.ops.weblogic_inspection"}]}
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([play], allow_unicode=True), encoding="utf-8")
    return path


def _run(playbook, inventory, reports, *extra):
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra],
                          cwd=ROOT, env=_env(GXTAX_REPORT_ROOT=str(reports)), capture_output=True, text=True,
                          timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    archive = ReportArchive(reports)
    assert archive.verify() == []
    run_dir = pathlib.Path(archive.root) / archive.entries()[-1]["path"]
    return json.loads((run_dir / "report.json").read_text(encoding="utf-8")), output


def test_role_reports_the_domain_of_each_weblogic_admin_host(tmp_path, double, closed_port):
    degrade(double.domain)
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "publicity": {"hosts": {"pub-wls-admin": {}, "pub-web1": {}}},
            # Its Admin Server is down and so is its SSH: the REST check runs from the control
            # node all the same and reports the Admin Server as unreachable.
            "avrecord": {"hosts": {"av-wls-admin": {
                "ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": closed_port,
                "gxtax_weblogic_url": "http://127.0.0.1:%d" % closed_port}}},
            "weblogic_admin": {"hosts": {"pub-wls-admin": {"gxtax_weblogic_url": double.url},
                                         "av-wls-admin": {}}},
        }}}))
    (inventory / "group_vars" / "weblogic_admin.yml").write_text(yaml.safe_dump(
        {"gxtax_weblogic_user": "monitor", "gxtax_weblogic_password": SENTINEL,
         "gxtax_inspection_weblogic_thresholds": {"hogging_threads_warning": 10}}))
    reports = tmp_path / "reports"
    report, output = _run(_playbook(tmp_path), inventory, reports, "-v")

    assert {name: h["state"] for name, h in report["hosts"].items()} == dict.fromkeys(
        ["pub-wls-admin", "pub-web1", "av-wls-admin"], "ok")
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)
    assert {r["requirement_id"] for r in report["records"]} == {"INSP-10"}
    assert not [r for r in report["records"] if r["host"] == "pub-web1"]
    pub = {r["item"]: r["status"] for r in report["records"] if r["host"] == "pub-wls-admin"}
    assert pub["WebLogic 服务器 ms2 状态"] == "critical" and pub["应用 gxtax-web@ms1 状态"] == "critical"
    assert pub["WebLogic ms1 占用线程(hogging)"] == "ok"  # 7 hogging threads, threshold raised to 10
    av = [r for r in report["records"] if r["host"] == "av-wls-admin"]
    assert [(r["item"], r["status"]) for r in av] == [("WebLogic 管理服务器 REST 接口", "error")]
    assert "连接被拒绝" in av[0]["detail"]
    section = next(s for s in report["sections"] if s["title"] == "中间件（WebLogic）")
    assert section["configured"] and section["status"] == "critical"
    assert "WebLogic存在" in report["conclusion"]

    # SEC-02: the password is in no output and no file of the archive.
    assert SENTINEL not in output
    for path in reports.rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path


def test_role_does_nothing_on_the_local_inventory(tmp_path):
    report, _output = _run(_playbook(tmp_path), ROOT / "inventories" / "local", tmp_path / "reports")
    assert report["hosts"]["localhost"]["state"] == "ok"
    assert report["records"] == []
    section = next(s for s in report["sections"] if s["title"] == "中间件（WebLogic）")
    assert section["configured"] is False
