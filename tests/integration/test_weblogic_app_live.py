"""REL-09 deployment against a real WebLogic Admin Server, when one is given in the environment.
It changes the domain, so it needs its own opt-in besides WLS_TEST_URL:

    WLS_TEST_URL              e.g. https://wls-admin:7002 (WebLogic 12.2.1+ or 14.1)
    WLS_TEST_DEPLOY_TARGET    a managed server or cluster of a TEST domain to deploy on
    WLS_TEST_DEPLOYER_USER    a user in the Deployer role (default: deployer)
    WLS_TEST_DEPLOYER_PASSWORD its password
    WLS_TEST_CA_PATH / WLS_TEST_VALIDATE_CERTS as in test_weblogic_live.py

It deploys a generated two-file WAR named gxtax-live-probe, checks it is STATE_ACTIVE, re-runs
(unchanged), redeploys a new version, and undeploys it again whatever happened. Skipped (even in
CI) without WLS_TEST_URL and WLS_TEST_DEPLOY_TARGET: no WebLogic runs on the test machines; the
protocol double covers the same paths in test_weblogic_app.py.
"""

import json
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (os.environ.get("WLS_TEST_URL") and os.environ.get("WLS_TEST_DEPLOY_TARGET")),
                       reason="WLS_TEST_URL and WLS_TEST_DEPLOY_TARGET are not both set: no real WebLogic "
                              "domain to deploy on (skipped even in CI; test_weblogic_app.py covers the "
                              "paths against the protocol double)"),
]

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
APP = "gxtax-live-probe"


def _war(path, version):
    with zipfile.ZipFile(path, "w") as war:
        war.writestr("WEB-INF/web.xml", '<?xml version="1.0"?>\n<web-app version="3.0" '
                     'xmlns="http://java.sun.com/xml/ns/javaee"><display-name>%s</display-name></web-app>\n'
                     % APP)
        war.writestr("index.html", "gxtax live probe %s\n" % version)
    return path


def _module(**args):
    password = os.environ.get("WLS_TEST_DEPLOYER_PASSWORD", "")
    base = {"url": os.environ["WLS_TEST_URL"], "user": os.environ.get("WLS_TEST_DEPLOYER_USER", "deployer"),
            "password": password, "name": APP, "timeout": 300,
            "validate_certs": os.environ.get("WLS_TEST_VALIDATE_CERTS", "true").lower()
            not in ("false", "no", "0")}
    if os.environ.get("WLS_TEST_CA_PATH"):
        base["ca_path"] = os.environ["WLS_TEST_CA_PATH"]
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-m", "gxtax.ops.weblogic_app",
           "-a", json.dumps(dict(base, **args)), "-e", "ansible_python_interpreter=%s" % sys.executable]
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if password:
        assert password not in proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout.split("=>", 1)[1])


def test_deploy_rerun_redeploy_undeploy_on_a_real_domain(tmp_path):
    target = os.environ["WLS_TEST_DEPLOY_TARGET"]
    war = _war(tmp_path / (APP + ".war"), "1")
    try:
        rc, result = _module(src=str(war), targets=[target], version="1.0.0.01")
        assert rc == 0, result.get("msg")
        assert result["changed"] and set(result["states"].values()) == {"STATE_ACTIVE"}
        rc, again = _module(src=str(war), targets=[target], version="1.0.0.01")
        assert rc == 0 and again["changed"] is False, again
        _war(war, "2")
        rc, redeployed = _module(src=str(war), targets=[target], version="1.0.0.02")
        assert rc == 0 and redeployed["action"] == "redeploy", redeployed.get("msg")
    finally:
        rc, gone = _module(state="absent")
        assert rc == 0, gone.get("msg")
