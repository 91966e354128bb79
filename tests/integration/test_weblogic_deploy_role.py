"""REL-09 role weblogic_deploy through ansible-playbook, both ways a domain is managed:

- rest (12.2.1+): against the WebLogic protocol double (tests/weblogic_double, deployment routes)
  on 127.0.0.1. The double is not WebLogic; it follows Oracle's documented REST endpoints.
- wlst (10.3.6): wlst.sh is a stand-in that runs the real scripts of files/wlst/ with fake WLST
  commands (tests/unit/test_wlst_scripts.RUNNER) and logs each call; no WLST runs here.
"""

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.weblogic_double import Domain, WeblogicDouble
from tests.weblogic_double import deploy as deploy_routes
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SENTINEL = "Sentinel-wls-deployrole-51c0-not-for-output"



@pytest.fixture
def double():
    try:
        server = WeblogicDouble(domain=Domain.sample(), users={"deployer": (SENTINEL, {"Deployer"})})
        server.deploy = deploy_routes.install(server.router)
        server.deploy.delay = 0.1
        server.start()
    except OSError as exc:
        _unavailable("cannot listen on 127.0.0.1: %s" % exc)
    yield server
    server.stop()


def _play(tmp_path, host_vars, *extra, env=None):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"weblogic_admin": {"hosts": {"wls-admin": dict(
            {"gxtax_weblogic_user": "deployer", "gxtax_weblogic_password": SENTINEL}, **host_vars)}}}}}))
    environ = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), **(env or {}))
    environ.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                           str(ROOT / "playbooks" / "weblogic_deploy.yml"), *extra],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert SENTINEL not in output  # SEC-02
    return proc.returncode, output


def _recap_changed(output):
    line = next(x for x in output.splitlines() if x.startswith("wls-admin") and "changed=" in x)
    return int(line.split("changed=")[1].split()[0])


# ------------------------------------------------------------------ REST (protocol double)


def test_rest_deploys_then_a_rerun_changes_nothing_then_a_new_archive_redeploys(tmp_path, double):
    archive = tmp_path / "gxtax-report.war"
    archive.write_bytes(b"PK\x03\x04 gxtax-report 1.0.2.05")
    host = {"gxtax_weblogic_url": double.url, "gxtax_weblogic_deploy_name": "gxtax-report",
            "gxtax_weblogic_deploy_src": str(archive), "gxtax_weblogic_deploy_targets": ["ms1", "ms2"],
            "gxtax_weblogic_deploy_timeout": 20, "gxtax_weblogic_deploy_version": "1.0.2.05"}
    rc, output = _play(tmp_path, host)
    assert rc == 0, output
    assert _recap_changed(output) >= 1
    app = double.domain.applications["gxtax-report"]
    assert {app.states.get(s, "STATE_ACTIVE") for s in ("ms1", "ms2")} == {"STATE_ACTIVE"}
    assert len(double.requests_to("POST", r"edit/appDeployments$")) == 1

    posts = len(double.requests_to("POST", r"startEdit$"))
    rc, output = _play(tmp_path, host)
    assert rc == 0 and _recap_changed(output) == 0, output
    assert len(double.requests_to("POST", r"startEdit$")) == posts  # no edit session at all

    archive.write_bytes(b"PK\x03\x04 gxtax-report 1.0.2.06")
    rc, output = _play(tmp_path, dict(host, gxtax_weblogic_deploy_version="1.0.2.06"))
    assert rc == 0 and _recap_changed(output) >= 1, output
    assert len(double.requests_to("POST", r"appDeployments/gxtax-report/redeploy$")) == 1
    assert double.deploy.meta["gxtax-report"].version == "1.0.2.06"


def test_rest_failure_names_the_application_and_the_servers_reason(tmp_path, double):
    double.inject("POST", r"edit/changeManager/activate", 400,
                  detail="Activation failed: Unable to contact ms2")
    archive = tmp_path / "gxtax-report.war"
    archive.write_bytes(b"PK\x03\x04 gxtax-report")
    rc, output = _play(tmp_path, {"gxtax_weblogic_url": double.url,
                                  "gxtax_weblogic_deploy_name": "gxtax-report",
                                  "gxtax_weblogic_deploy_src": str(archive),
                                  "gxtax_weblogic_deploy_targets": ["ms1"],
                                  "gxtax_weblogic_deploy_timeout": 20})
    assert rc != 0
    assert "应用 gxtax-report 部署失败" in output and "Unable to contact ms2" in output


def test_bad_api_and_missing_archive_are_refused_before_anything_runs(tmp_path):
    rc, output = _play(tmp_path, {"gxtax_weblogic_api": "t3", "gxtax_weblogic_deploy_name": "x"})
    assert rc != 0 and "gxtax_weblogic_api must be one of: rest, wlst" in output
    rc, output = _play(tmp_path, {"gxtax_weblogic_url": "http://127.0.0.1:9",
                                  "gxtax_weblogic_deploy_name": "x"})
    assert rc != 0 and "present needs gxtax_weblogic_deploy_src" in output


# ------------------------------------------------------------------ WLST (10.3.6, stand-in wlst.sh)


@pytest.fixture
def wlst(tmp_path):
    from tests.unit.test_wlst_scripts import RUNNER  # noqa: PLC0415 - shared stand-in

    runner, log, absent = tmp_path / "runner.py", tmp_path / "wlst.log", tmp_path / "absent"
    runner.write_text(RUNNER)
    script = tmp_path / "wlst.sh"
    # The stand-in forgets everything between runs: the file `absent` lists the applications not
    # deployed yet, and a successful deploy.py takes them off it.
    script.write_text('#!/bin/sh\necho "argv $*" >> "{log}"\n'
                      'ABSENT_APPS=$(cat "{absent}" 2>/dev/null); export ABSENT_APPS\n'
                      '"{py}" "{runner}" "$@" 2>/dev/null; rc=$?\n'
                      'case "$1" in */deploy.py) [ $rc = 0 ] && : > "{absent}";; esac\n'
                      'exit $rc\n'.format(log=log, absent=absent, py=sys.executable, runner=runner))
    script.chmod(0o755)
    return script, log, absent


def _wlst_calls(log):
    """(script, args) per wlst.sh run, in order."""
    calls = []
    for line in log.read_text().splitlines() if log.exists() else []:
        argv = line.split()[1:]
        calls.append((os.path.basename(argv[0]), argv[1:]))
    return calls


def test_wlst_deploys_new_app_skips_unchanged_and_redeploys_changed_bits(tmp_path, wlst):
    script, log, absent = wlst
    absent.write_text("gxtax-web")
    stage = tmp_path / "stage"
    archive = tmp_path / "gxtax-web-1.0.2_05.war"
    archive.write_bytes(b"PK\x03\x04 web 1.0.2.05")
    host = {"gxtax_weblogic_api": "wlst", "gxtax_weblogic_wlst_path": str(script),
            "gxtax_weblogic_t3_url": "t3://127.0.0.1:7001", "gxtax_weblogic_deploy_name": "gxtax-web",
            "gxtax_weblogic_deploy_src": str(archive), "gxtax_weblogic_deploy_targets": ["ms1", "ms2"],
            "gxtax_weblogic_deploy_stage_dir": str(stage)}
    staged = stage / "gxtax-web" / "gxtax-web.war"

    rc, output = _play(tmp_path, host)
    assert rc == 0, output
    assert [c[0] for c in _wlst_calls(log)] == ["app_state.py", "deploy.py", "app_state.py"]
    assert _wlst_calls(log)[1][1] == ["gxtax-web", str(staged), "ms1,ms2"]
    assert staged.read_bytes() == archive.read_bytes()

    log.unlink()
    rc, output = _play(tmp_path, host)  # deployed now, same bits
    assert rc == 0 and _recap_changed(output) == 0, output
    assert [c[0] for c in _wlst_calls(log)] == ["app_state.py", "app_state.py"]

    log.unlink()
    archive.write_bytes(b"PK\x03\x04 web 1.0.2.06")
    rc, output = _play(tmp_path, host)
    assert rc == 0, output
    assert [c[0] for c in _wlst_calls(log)] == ["app_state.py", "redeploy.py", "app_state.py"]
    assert staged.read_bytes() == archive.read_bytes()


def test_wlst_check_mode_runs_only_the_read_only_script(tmp_path, wlst):
    script, log, absent = wlst
    absent.write_text("gxtax-web")
    archive = tmp_path / "gxtax-web.war"
    archive.write_bytes(b"PK\x03\x04 web")
    rc, output = _play(tmp_path, {
        "gxtax_weblogic_api": "wlst", "gxtax_weblogic_wlst_path": str(script),
        "gxtax_weblogic_deploy_name": "gxtax-web", "gxtax_weblogic_deploy_src": str(archive),
        "gxtax_weblogic_deploy_targets": ["ms1"], "gxtax_weblogic_deploy_stage_dir": str(tmp_path / "stage")},
        "--check")
    assert rc == 0, output
    assert [c[0] for c in _wlst_calls(log)] == ["app_state.py"]
    assert not (tmp_path / "stage").exists()


def test_wlst_failed_deploy_and_inactive_app_are_named(tmp_path, wlst):
    script, _log, absent = wlst
    absent.write_text("gxtax-web")
    archive = tmp_path / "gxtax-web.war"
    archive.write_bytes(b"PK\x03\x04 web")
    host = {"gxtax_weblogic_api": "wlst", "gxtax_weblogic_wlst_path": str(script),
            "gxtax_weblogic_deploy_name": "gxtax-web", "gxtax_weblogic_deploy_src": str(archive),
            "gxtax_weblogic_deploy_targets": ["ms1"], "gxtax_weblogic_deploy_stage_dir": str(tmp_path / "s")}
    rc, output = _play(tmp_path, host, env={"FAIL_DEPLOY": "1"})
    assert rc != 0
    assert "应用 gxtax-web 的 WLST deploy 失败" in output and "activation failed" in output

    rc, output = _play(tmp_path, dict(host, gxtax_weblogic_deploy_name="gxtax-api",
                                      gxtax_weblogic_deploy_state="started"),
                       env={"API_STATE": "STATE_FAILED"})
    assert rc != 0 and "STATE_FAILED" in output and "gxtax-api" in output
