"""REL-09 rolling restart for real: playbooks/weblogic_rolling_restart.yml through ansible-playbook,
its weblogic_admin host pointing at the WebLogic protocol double (tests/weblogic_double, with the
life-cycle routes of lifecycle.py) on 127.0.0.1, every task delegated to localhost.

WebLogic cannot run here: the double is not WebLogic, it moves servers through SHUTTING_DOWN,
SHUTDOWN, STARTING and RUNNING as Oracle documents, and can keep one server from coming back.
"""

import json
import os
import pathlib
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.weblogic_double import Domain, WeblogicDouble, lifecycle
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SENTINEL = "Sentinel-wls-restart-7e3a-not-for-output"
USERS = {"operator": (SENTINEL, {"Operator"})}
SERVERS = ["ms1", "ms2", "ms3"]



class _Health(BaseHTTPRequestHandler):
    """The applications' health URL: 200, or 503 for the paths in `failing`."""

    failing: set = set()

    def do_GET(self):  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        status = 503 if self.path in self.failing else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def double():
    domain = Domain.sample()
    domain.add_server("ms3", 7003, cluster="gxtax-cluster")
    try:
        server = WeblogicDouble(domain=domain, users=USERS).start()
    except OSError as exc:
        _unavailable("cannot listen on 127.0.0.1: %s" % exc)
    server.control = lifecycle.install(server.router, steps=2)
    yield server
    server.stop()


@pytest.fixture
def health():
    _Health.failing = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _inventory(tmp_path, double, health):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    base = "http://127.0.0.1:%d" % health.server_address[1]
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"weblogic_admin": {"hosts": {"pub-wls-admin": {"gxtax_weblogic_url": double.url}}}},
    }}))
    (inventory / "group_vars" / "weblogic_admin.yml").write_text(yaml.safe_dump({
        "gxtax_weblogic_user": "operator", "gxtax_weblogic_password": SENTINEL,
        "gxtax_weblogic_restart_servers": SERVERS,
        "gxtax_weblogic_restart_apps": ["gxtax-web", "gxtax-api"],
        "gxtax_weblogic_restart_health_urls": {s: "%s/%s/health" % (base, s) for s in SERVERS},
        "gxtax_weblogic_restart_poll_interval": 0.05,
        "gxtax_weblogic_restart_wait_timeout": 20,
        "gxtax_weblogic_restart_check_retries": 2,
        "gxtax_weblogic_restart_check_delay": 0,
    }))
    return inventory


def _play(inventory):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                           str(ROOT / "playbooks" / "weblogic_rolling_restart.yml"), "-v"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert SENTINEL not in output  # SEC-02: the password is never echoed
    return proc.returncode, output


def _operations(double):
    return [tuple(r.path.split("/")[-2:]) for r in double.requests if r.method == "POST"
            and "serverLifeCycleRuntimes" in r.path]


def test_every_server_is_restarted_one_at_a_time_in_order(tmp_path, double, health):
    rc, output = _play(_inventory(tmp_path, double, health))
    assert rc == 0, output
    assert _operations(double) == [(s, op) for s in SERVERS for op in ("shutdown", "start")]
    moves = double.control.transitions
    # ms2 went down only after ms1 was RUNNING again, and ms3 only after ms2.
    assert moves.index(("ms1", "RUNNING")) < moves.index(("ms2", "SHUTTING_DOWN"))
    assert moves.index(("ms2", "RUNNING")) < moves.index(("ms3", "SHUTTING_DOWN"))
    for server in SERVERS:
        states = [state for name, state in moves if name == server]
        assert states[0] == "SHUTTING_DOWN" and states[-1] == "RUNNING" and "SHUTDOWN" in states
        assert double.control.shutdown_args[server] == {"timeout": 300, "ignoreSessions": False}
        assert double.domain.server(server).state == "RUNNING"
    # The applications were asked about on each server after its restart.
    assert len(double.requests_to("POST", r"getCurrentState$")) >= 2 * len(SERVERS)


def test_the_play_stops_at_a_server_that_does_not_come_back(tmp_path, double, health):
    double.control.never_returns["ms2"] = "STARTING"
    rc, output = _play(_inventory(tmp_path, double, health))
    assert rc != 0
    assert "滚动重启停止于服务器 ms2" in output and "rolling restart stopped at server ms2" in output
    assert "STARTING" in output
    assert ("ms3", "shutdown") not in _operations(double)
    assert not [r for r in double.requests if "/ms3" in r.path]  # ms3 was never touched
    assert double.domain.server("ms3").state == "RUNNING" and double.domain.server("ms1").state == "RUNNING"


def test_the_play_stops_when_node_manager_gives_up(tmp_path, double, health):
    double.control.never_returns["ms1"] = "FAILED_NOT_RESTARTABLE"
    rc, output = _play(_inventory(tmp_path, double, health))
    assert rc != 0
    assert "滚动重启停止于服务器 ms1" in output and "FAILED_NOT_RESTARTABLE" in output
    assert _operations(double) == [("ms1", "shutdown"), ("ms1", "start")]


def test_the_play_stops_when_an_application_or_the_health_url_fails(tmp_path, double, health):
    _Health.failing = {"/ms2/health"}
    rc, output = _play(_inventory(tmp_path, double, health))
    assert rc != 0
    assert "滚动重启停止于服务器 ms2" in output and "/ms2/health" in output
    assert ("ms3", "shutdown") not in _operations(double)

    double.requests.clear()
    double.control.transitions.clear()
    _Health.failing = set()
    double.domain.applications["gxtax-api"].states["ms1"] = "STATE_FAILED"
    rc, output = _play(_inventory(tmp_path / "again", double, health))
    assert rc != 0
    assert "滚动重启停止于服务器 ms1" in output and "gxtax-api" in output and "STATE_FAILED" in output
    assert not [r for r in double.requests if "/ms2" in r.path]


# ------------------------------------------------------------------ 10.3.6: the same role through WLST


def test_wlst_mode_passes_credentials_in_a_private_file_and_stops_at_the_failed_server(tmp_path):
    """gxtax_weblogic_api=wlst on a 10.3.6 domain: wlst.sh is a stand-in running the scripts with
    fake WLST commands (tests/unit/test_wlst_scripts.RUNNER); it logs its argv and the mode of the
    credentials file. ms2 fails to start: the play names it and never runs WLST for ms3."""
    from tests.unit.test_wlst_scripts import RUNNER  # noqa: PLC0415 - shared stand-in

    runner, log = tmp_path / "runner.py", tmp_path / "wlst.log"
    runner.write_text(RUNNER)
    wlst = tmp_path / "wlst.sh"
    wlst.write_text('#!/bin/sh\n'
                    'echo "argv $*" >> "%s"\n'
                    'echo "creds $GXTAX_WLST_CREDENTIALS $(stat -c %%a "$GXTAX_WLST_CREDENTIALS")" >> "%s"\n'
                    'exec "%s" "%s" "$@" 2>/dev/null\n' % (log, log, sys.executable, runner))
    wlst.chmod(0o755)
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"weblogic_admin": {"hosts": {"av-wls-admin": {
            "gxtax_weblogic_api": "wlst", "gxtax_weblogic_wlst_path": str(wlst),
            "gxtax_weblogic_t3_url": "t3://127.0.0.1:7001",
            "gxtax_weblogic_user": "operator", "gxtax_weblogic_password": SENTINEL,
            "gxtax_weblogic_restart_servers": SERVERS, "gxtax_weblogic_restart_apps": ["gxtax-web"],
            "gxtax_weblogic_restart_wait_timeout": 10,
        }}}},
    }}))
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), FAIL_START="ms2")
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                           str(ROOT / "playbooks" / "weblogic_rolling_restart.yml"), "-v"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert SENTINEL not in output
    assert proc.returncode != 0
    assert "滚动重启停止于服务器 ms2" in output and "FAILED_NOT_RESTARTABLE" in output

    lines = log.read_text().splitlines()
    argvs = [line for line in lines if line.startswith("argv ")]
    assert [a.split()[3] for a in argvs] == ["ms1", "ms2"]  # ms3 never reached
    assert all(SENTINEL not in a for a in argvs)
    creds = [line.split() for line in lines if line.startswith("creds ")]
    assert {mode for _c, _path, mode in creds} == {"600"}
    assert not os.path.exists(creds[0][1])  # the credentials file was deleted after the failure
    assert not os.path.exists(os.path.dirname(creds[0][1]))


# ------------------------------------------------------------------ the module through ansible


def _module(double, *options, **args):
    """gxtax.ops.weblogic_server through ansible on localhost; (rc, result, output)."""
    args = dict({"url": double.url, "user": "operator", "password": SENTINEL, "poll_interval": 0.05,
                 "wait_timeout": 10}, **args)
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-o",
                           "-m", "gxtax.ops.weblogic_server", "-a", json.dumps(args),
                           "-e", "ansible_python_interpreter=%s" % sys.executable, *options],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert SENTINEL not in output
    return proc.returncode, json.loads(proc.stdout.split("=>", 1)[1]), output


def test_module_restart_idempotence_check_mode_and_failure(double):
    rc, result, output = _module(double, name="ms1", state="running")
    assert rc == 0 and result["changed"] is False and result["state"] == "RUNNING", output

    rc, result, output = _module(double, "--check", name="ms1", state="shutdown")
    assert rc == 0 and result["changed"] is True and result["actions"] == ["shutdown"], output
    assert double.domain.server("ms1").state == "RUNNING" and not _operations(double)

    rc, result, output = _module(double, name="ms1", state="restarted", apps=["gxtax-web"])
    assert rc == 0, output
    assert result["states"] == ["RUNNING", "SHUTTING_DOWN", "SHUTDOWN", "STARTING", "RUNNING"]
    assert result["app_states"] == {"gxtax-web": "STATE_ACTIVE"} and result["health"] == "HEALTH_OK"

    rc, result, output = _module(double, name="ms2", state="shutdown", graceful=False)
    assert rc == 0 and result["changed"] and result["state"] == "SHUTDOWN", output
    rc, result, output = _module(double, name="ms2", state="shutdown")
    assert rc == 0 and result["changed"] is False, output

    double.control.never_returns["ms2"] = "STARTING"
    rc, result, output = _module(double, name="ms2", state="running", wait_timeout=1)
    assert rc != 0 and "ms2" in result["msg"] and result["error"]["kind"] == "timeout", output
    assert result["states"][-1] == "STARTING"
