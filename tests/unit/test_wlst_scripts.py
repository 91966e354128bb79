"""The WLST scripts for WebLogic 10.3.6 (files/wlst/) and how the rolling-restart role hands them
credentials. WLST (Jython 2.2.1) cannot run here, so this checks what can be checked: the scripts
parse, use no syntax newer than Jython 2.2 (by their syntax tree), behave as intended when run
with stand-ins of the WLST commands (RUNNER below, also used by the role's integration test), read the
password only from the credentials file, and the role writes that file with mode 0600, never puts
the password on a command line and deletes the file afterwards."""

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
WLST = ROOT / "files" / "wlst"
ROLE = ROOT / "roles" / "weblogic_rolling_restart"
WLST_ROLE = ROOT / "roles" / "weblogic_wlst"
SCRIPTS = sorted(WLST.glob("*.py"))
SECRET = "Sentinel-wlst-2b9c-secret"

# Run a script as wlst.sh would, with stand-ins of the WLST commands that log each call and a
# small domain: servers move SHUTDOWN/RUNNING at once; FAIL_START names a server that fails.
RUNNER = r'''
import json, os, sys
log, states = [], {"ms1": "RUNNING", "ms2": "RUNNING"}
apps = {"gxtax-web": "STATE_ACTIVE", "gxtax-api": os.environ.get("API_STATE", "STATE_ACTIVE")}
class Done(Exception):
    pass
class Bean:
    def __init__(self, path): self.path = path
    def getState(self): return states[self.path.rsplit("/", 1)[1]]
    def getCurrentState(self, app, target): return apps[app]
def record(name):
    def call(*args, **kwargs):
        log.append([name, list(args), kwargs])
        if name == "shutdown": states[args[0]] = "SHUTDOWN"
        if name == "start":
            failed = args[0] == os.environ.get("FAIL_START")
            states[args[0]] = "FAILED_NOT_RESTARTABLE" if failed else "RUNNING"
        if name == "deploy" and os.environ.get("FAIL_DEPLOY"): raise RuntimeError("activation failed")
    return call
def wlst_exit(exitcode=0):
    raise Done(exitcode)
script = sys.argv[1]
sys.argv = sys.argv[1:]
absent = os.environ.get("ABSENT_APPS", "").split(",")
def get_mbean(path):
    if path.startswith("/AppDeployments/") and path.rsplit("/", 1)[1] in absent: return None
    return Bean(path)
namespace = {"__name__": "__main__", "exit": wlst_exit, "getMBean": get_mbean,
             "execfile": lambda path: exec(compile(open(path).read(), path, "exec"), namespace)}
for name in ("connect", "disconnect", "domainRuntime", "serverConfig", "shutdown", "start", "deploy",
             "redeploy", "undeploy", "startApplication"):
    namespace[name] = record(name)
code = 0
try:
    exec(compile(open(script).read(), script, "exec"), namespace)
except Done as done:
    code = done.args[0]
sys.stderr.write(json.dumps({"log": log, "states": states}) + "\n")
sys.exit(code)
'''


def run(tmp_path, script, *args, env=None, credentials=True):
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    environ = {"PATH": os.environ["PATH"]}
    if credentials:
        creds = tmp_path / "credentials.properties"
        creds.write_text("url=t3://wls-admin:7001\nuser=operator\npassword=%s\n" % SECRET)
        environ["GXTAX_WLST_CREDENTIALS"] = str(creds)
    environ.update(env or {})
    proc = subprocess.run([sys.executable, str(runner), str(WLST / script), *args], env=environ,
                          capture_output=True, text=True, timeout=60)
    state = json.loads(proc.stderr.strip().splitlines()[-1])
    return proc.returncode, proc.stdout, state["log"], state["states"]


# ------------------------------------------------------------------ syntax


def test_there_are_scripts_for_every_operation():
    names = {p.name for p in SCRIPTS}
    assert {"deploy.py", "redeploy.py", "undeploy.py", "start_application.py", "server_lifecycle.py",
            "app_state.py", "gxtax_wlst.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_use_no_syntax_newer_than_jython_2_2(script):
    tree = ast.parse(script.read_text(encoding="utf-8"), str(script))
    newer = (ast.With, ast.IfExp, ast.GeneratorExp, ast.SetComp, ast.DictComp, ast.Set, ast.JoinedStr,
             ast.Lambda, ast.AsyncFunctionDef, ast.Await, ast.Starred, ast.NamedExpr)
    for node in ast.walk(tree):
        assert not isinstance(node, newer), "%s:%s %s" % (script.name, node.lineno, type(node).__name__)
        if isinstance(node, ast.ExceptHandler):
            assert node.name is None and node.type is None, "%s:%s except E as e" % (script.name, node.lineno)
        if isinstance(node, ast.Try):
            assert not (node.handlers and node.finalbody), "%s:%s try/except/finally" % (
                script.name, node.lineno)
        if isinstance(node, ast.FunctionDef):
            assert not node.decorator_list and not node.args.kwonlyargs
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("print", "sorted", "set", "reversed", "any", "all", "enumerate")
        if isinstance(node, ast.ImportFrom):
            assert node.module != "__future__"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_never_take_the_password_from_the_command_line(script):
    text = script.read_text(encoding="utf-8")
    if script.name != "gxtax_wlst.py":
        assert "password" not in text.lower()  # only the shared reader touches it
        return
    tree = ast.parse(text)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    reader = ast.unparse(functions["gxtax_read_credentials"])
    assert "os.environ.get(GXTAX_CREDENTIALS_ENV)" in reader and "sys.argv" not in reader
    connects = [n for n in ast.walk(tree)
                if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "connect"]
    assert [ast.unparse(c.args[1]) for c in connects] == ["creds['password']"]
    # The password leaves memory after the login, and no message prints the credentials.
    assert "creds['password'] = None" in ast.unparse(functions["gxtax_connect"])
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("gxtax_say", "gxtax_fail"):
            assert "password" not in ast.unparse(node)


# ------------------------------------------------------------------ behaviour with WLST stand-ins


def test_restart_shuts_down_starts_and_checks_the_applications(tmp_path):
    rc, out, log, states = run(tmp_path, "server_lifecycle.py", "restart", "ms1", "90", "true", "30",
                               "gxtax-web,gxtax-api")
    assert rc == 0, out
    calls = [c[0] for c in log if c[0] in ("connect", "shutdown", "start", "disconnect")]
    assert calls == ["connect", "shutdown", "start", "disconnect"]
    connect = next(c for c in log if c[0] == "connect")
    assert connect[1] == ["operator", SECRET, "t3://wls-admin:7001"]
    shutdown = next(c for c in log if c[0] == "shutdown")
    assert shutdown[1] == ["ms1", "Server"] and shutdown[2]["timeOut"] == 90
    assert shutdown[2]["ignoreSessions"] == "true" and shutdown[2]["force"] == "false"
    assert states["ms1"] == "RUNNING" and "GXTAX server ms1 is RUNNING" in out
    assert SECRET not in out


def test_a_server_that_fails_to_start_is_named(tmp_path):
    rc, out, _log, _states = run(tmp_path, "server_lifecycle.py", "restart", "ms2", env={"FAIL_START": "ms2"})
    assert rc == 2
    assert "GXTAX server ms2 failed to start (state FAILED_NOT_RESTARTABLE)" in out


def test_an_inactive_application_fails_the_restart(tmp_path):
    rc, out, _log, _states = run(tmp_path, "server_lifecycle.py", "start", "ms1", "0", "false", "10",
                                 "gxtax-api", env={"API_STATE": "STATE_FAILED"})
    assert rc == 2 and "application gxtax-api is STATE_FAILED on server ms1" in out


def test_without_the_credentials_file_nothing_connects(tmp_path):
    rc, out, log, _states = run(tmp_path, "undeploy.py", "gxtax-web", credentials=False)
    assert rc == 2 and "GXTAX no credentials file" in out
    assert log == []


@pytest.mark.parametrize("script,args,call", [
    ("deploy.py", ["gxtax-web", "/u01/deploy/gxtax-web.war", "ms1,ms2"], "deploy"),
    ("redeploy.py", ["gxtax-web"], "redeploy"),
    ("undeploy.py", ["gxtax-web"], "undeploy"),
    ("start_application.py", ["gxtax-web", "ms1"], "startApplication"),
])
def test_deployment_scripts_call_their_wlst_command(tmp_path, script, args, call):
    rc, out, log, _states = run(tmp_path, script, *args)
    assert rc == 0, out
    made = next(c for c in log if c[0] == call)
    assert made[1][0] == "gxtax-web" and made[2]["block"] == "true"
    assert SECRET not in out


def test_app_state_says_whether_the_application_is_deployed_and_its_state_per_target(tmp_path):
    rc, out, log, _states = run(tmp_path, "app_state.py", "gxtax-web", "ms1,ms2")
    assert rc == 0, out
    assert out.splitlines()[-3:] == ["GXTAX deployed yes", "GXTAX state ms1 STATE_ACTIVE",
                                     "GXTAX state ms2 STATE_ACTIVE"]
    assert [c[0] for c in log][:2] == ["connect", "serverConfig"]
    rc, out, log, _states = run(tmp_path, "app_state.py", "gxtax-web", "ms1",
                                env={"ABSENT_APPS": "gxtax-web"})
    assert rc == 0 and "GXTAX deployed no" in out and "GXTAX state" not in out


def test_a_failed_deployment_says_so(tmp_path):
    rc, out, _log, _states = run(tmp_path, "deploy.py", "gxtax-web", "/u01/x.war", "ms1",
                                 env={"FAIL_DEPLOY": "1"})
    assert rc == 2 and "deployment of gxtax-web failed: activation failed" in out


# ------------------------------------------------------------------ how the role passes credentials


def _tasks(name, role=ROLE):
    return yaml.safe_load((role / "tasks" / name).read_text(encoding="utf-8"))


def test_role_writes_the_credentials_file_private_and_hidden():
    task = next(t for t in _tasks("main.yml", WLST_ROLE) if "credentials" in t["name"])
    assert task["ansible.builtin.copy"]["mode"] == "0600" and task["no_log"] is True
    assert "gxtax_weblogic_password" in task["ansible.builtin.copy"]["content"]


def test_role_never_puts_the_password_on_a_command_line():
    task = next(t for t in _tasks("server.yml") if "ansible.builtin.command" in t)
    argv = task["ansible.builtin.command"]["argv"]
    assert not [a for a in argv if "password" in a]
    assert task["environment"]["GXTAX_WLST_CREDENTIALS"].endswith("credentials.properties")


def test_role_deletes_the_credentials_whatever_happens():
    block = next(t for t in _tasks("main.yml") if "block" in t)
    cleanup = block["always"][0]["ansible.builtin.include_role"]
    assert cleanup == {"name": "gxtax.ops.weblogic_wlst", "tasks_from": "cleanup"}
    [remove] = _tasks("cleanup.yml", WLST_ROLE)
    assert remove["ansible.builtin.file"] == {"path": "{{ gxtax_weblogic_wlst_workdir }}", "state": "absent"}
