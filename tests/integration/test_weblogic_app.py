"""REL-09 for real: gxtax.ops.weblogic_app through `ansible localhost` against the WebLogic
protocol double (tests/weblogic_double, with the deployment routes of deploy.py) on 127.0.0.1.

WebLogic cannot run here; the double answers Oracle's documented endpoints (edit sessions,
edit/appDeployments JSON and multipart, redeploy, progress objects, start/stop). Each test
reads the double's request log to prove what reached the "Admin Server".
"""

import hashlib
import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

from tests.weblogic_double import Domain, WeblogicDouble
from tests.weblogic_double import deploy as deploy_routes
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SENTINEL = "Sentinel-wlsdeploy-7e2a-not-for-output"
USERS = {"deployer": (SENTINEL, {"Deployer"}), "monitor": (SENTINEL + "-mon", {"Monitor"}),
         "weblogic": (SENTINEL + "-adm", {"Admin"})}
# Requests that change nothing: reads, and getCurrentState (a read invoked by POST).
READ_ONLY = ("GET",)



@pytest.fixture
def double():
    try:
        server = WeblogicDouble(domain=Domain.sample(), users=USERS)
        server.deploy = deploy_routes.install(server.router)
        server.deploy.delay = 0.2
        server.start()
    except OSError as exc:
        _unavailable("cannot listen on 127.0.0.1: %s" % exc)
    yield server
    server.stop()


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "gxtax-report.war"
    path.write_bytes(b"PK\x03\x04 gxtax-report 1.0")
    return path


def _run(url, args, *options, user="deployer", password=SENTINEL, ok=True, oneline=True):
    """gxtax.ops.weblogic_app through ansible on localhost; (result, whole output)."""
    args = dict({"url": url, "user": user, "password": password, "timeout": 20}, **args)
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", *(["-o"] if oneline else []),
           "-m", "gxtax.ops.weblogic_app", "-a", json.dumps(args),
           "-e", "ansible_python_interpreter=%s" % sys.executable, *options]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = proc.stdout + proc.stderr
    assert (proc.returncode == 0) is ok, output
    assert SENTINEL not in output  # SEC-02: never the password
    return json.loads(proc.stdout.split("=>", 1)[1]), output


def _changing(double):
    """Requests that could change the domain (anything but reads and getCurrentState)."""
    return [(r.method, r.path) for r in double.requests
            if r.method not in READ_ONLY and not r.path.endswith("/getCurrentState")]


def _new(archive, **extra):
    return dict({"name": "gxtax-report", "src": str(archive), "targets": ["gxtax-cluster"]}, **extra)


# ------------------------------------------------------------------ deploy, idempotence, redeploy


def test_deploy_upload_then_rerun_is_unchanged(double, archive):
    result, _ = _run(double.url, _new(archive, version="1.0"))
    assert result["changed"] is True and result["action"] == "deploy"
    assert result["states"] == {"ms1": "STATE_ACTIVE", "ms2": "STATE_ACTIVE"}
    assert result["steps"] == ["startEdit", "activate"]
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert result["checksum"] == sha and double.deploy.meta["gxtax-report"].sha256 == sha
    upload = double.requests_to("POST", r"edit/appDeployments$")
    assert len(upload) == 1 and upload[0].content_type.startswith("multipart/form-data")
    assert all(r.requested_by for r in double.requests if r.method in ("POST", "DELETE"))
    assert double.deploy.lock_owner is None
    before = len(double.requests)

    again, _ = _run(double.url, _new(archive, version="1.0"))
    assert again["changed"] is False and again["action"] == "none"
    assert not [r for r in double.requests[before:] if r.method != "GET" and
                not r.path.endswith("getCurrentState")]


def test_redeploy_with_new_version(double, archive):
    _run(double.url, _new(archive, version="1.0"))
    archive.write_bytes(b"PK\x03\x04 gxtax-report 1.1")
    result, _ = _run(double.url, _new(archive, version="1.1"), "--diff")
    assert result["action"] == "redeploy" and result["changed"] is True
    assert result["before"]["version"] == "1.0" and result["after"]["version"] == "1.1"
    assert result["after"]["checksum"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert len(double.requests_to("POST", r"appDeployments/gxtax-report/redeploy$")) == 1
    assert double.deploy.meta["gxtax-report"].version == "1.1"


def test_source_path_deploy_sends_json(double):
    args = {"name": "gxtax-batch", "source_path": "/u01/deploy/gxtax-batch.war", "targets": ["ms1"]}
    result, _ = _run(double.url, args)
    assert result["changed"] and result["states"] == {"ms1": "STATE_ACTIVE"}
    sent = double.requests_to("POST", r"edit/appDeployments$")[0]
    assert sent.content_type == "application/json"
    assert double.domain.applications["gxtax-batch"].source_path == "/u01/deploy/gxtax-batch.war"
    assert _run(double.url, args)[0]["changed"] is False


def test_check_mode_changes_nothing(double, archive):
    result, _ = _run(double.url, _new(archive), "--check", "--diff")
    assert result["changed"] is True and result["action"] == "deploy"
    assert result["before"] == {"state": "absent"} and result["after"]["state"] == "active"
    assert _changing(double) == []
    assert "gxtax-report" not in double.domain.applications
    absent, _ = _run(double.url, {"name": "gxtax-api", "state": "absent"}, "--check")
    assert absent["action"] == "undeploy" and _changing(double) == []
    assert "gxtax-api" in double.domain.applications


def test_diff_mode_shows_state_before_and_after(double):
    result, output = _run(double.url, {"name": "gxtax-api", "state": "stopped"}, "--check", "--diff",
                          oneline=False)
    assert result["action"] == "stop" and _changing(double) == []
    assert '-    "state": "active"' in output and '+    "state": "stopped"' in output
    assert '+        "ms1": "STATE_PREPARED"' in output


# ------------------------------------------------------------------ undeploy, stop, start


def test_undeploy_then_rerun(double):
    result, _ = _run(double.url, {"name": "gxtax-api", "state": "absent"})
    assert result["changed"] and result["action"] == "undeploy" and result["after"] == {"state": "absent"}
    assert "gxtax-api" not in double.domain.applications
    assert len(double.requests_to("DELETE", r"edit/appDeployments/gxtax-api$")) == 1
    assert _run(double.url, {"name": "gxtax-api", "state": "absent"})[0]["changed"] is False


def test_stop_and_start(double):
    stopped, _ = _run(double.url, {"name": "gxtax-web", "state": "stopped"})
    assert stopped["action"] == "stop" and set(stopped["states"].values()) == {"STATE_PREPARED"}
    assert _run(double.url, {"name": "gxtax-web", "state": "stopped"})[0]["changed"] is False
    started, _ = _run(double.url, {"name": "gxtax-web", "state": "started"})
    assert started["action"] == "start" and set(started["states"].values()) == {"STATE_ACTIVE"}
    # runtime operations: no edit session
    assert not double.requests_to("POST", r"startEdit$")


# ------------------------------------------------------------------ errors


def test_unreachable(archive):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result, _ = _run("http://127.0.0.1:%d" % port, _new(archive), ok=False)
    assert result["error"]["kind"] == "unreachable" and "无法连接" in result["msg"]


def test_wrong_password(double, archive):
    result, _ = _run(double.url, _new(archive), password=SENTINEL + "-wrong", ok=False)
    assert result["error"]["status"] == 401 and "deployer" in result["msg"]


def test_monitor_user_is_told_it_needs_deployer(double, archive):
    result, _ = _run(double.url, _new(archive), user="monitor", password=SENTINEL + "-mon", ok=False)
    assert result["error"]["kind"] == "forbidden" and "Deployer" in result["msg"]
    assert double.deploy.lock_owner is None and "gxtax-report" not in double.domain.applications


def test_edit_lock_held_by_another_user(double, archive):
    double.deploy.lock_owner = "weblogic"
    result, _ = _run(double.url, _new(archive), ok=False)
    assert result["error"]["kind"] == "locked" and "weblogic" in result["msg"] and "编辑锁" in result["msg"]
    assert not double.requests_to("POST", r"startEdit$") and double.deploy.lock_owner == "weblogic"


def test_failed_activation_cancels_the_edit(double, archive):
    double.inject("POST", r"edit/changeManager/activate", 400,
                  detail="Activation failed: weblogic.application.ModuleException: bad web.xml")
    result, _ = _run(double.url, _new(archive), ok=False)
    assert result["error"]["kind"] == "activation" and "bad web.xml" in result["msg"]
    assert len(double.requests_to("POST", r"edit/changeManager/cancelEdit$")) == 1
    assert double.deploy.lock_owner is None and double.deploy.pending == []
    assert "gxtax-report" not in double.domain.applications


def test_deployment_that_never_finishes_times_out(double, archive):
    double.deploy.stuck.add("gxtax-report")
    result, _ = _run(double.url, _new(archive, timeout=2), ok=False)
    assert result["error"]["kind"] == "timeout" and "未完成" in result["msg"]
    assert "STATE_RUNNING" in result["msg"]


def test_failed_deployment_reports_the_server_message(double, archive):
    double.deploy.fail["gxtax-report"] = "java.lang.ClassNotFoundException: gov.tax.Report"
    result, _ = _run(double.url, _new(archive), ok=False)
    assert result["error"]["kind"] == "failed" and "ClassNotFoundException" in result["msg"]
