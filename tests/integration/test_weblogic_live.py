"""INSP-10 against a real WebLogic Admin Server, when one is given in the environment:

    WLS_TEST_URL            e.g. https://wls-admin:7002 (WebLogic 12.2.1+ or 14.1)
    WLS_TEST_USER           a user in the Monitor role (default: monitor)
    WLS_TEST_PASSWORD       its password
    WLS_TEST_CA_PATH        optional PEM file of the CA that signs the Admin Server's certificate
    WLS_TEST_VALIDATE_CERTS optional, "false" to skip certificate checks on a test domain

Without WLS_TEST_URL these tests skip, and they skip even when CI is set (unlike the other
integration tests, which fail there when a prerequisite is missing): no WebLogic can run on the
test machines, so its absence is the normal case in CI, and the protocol double covers the same
code paths in test_weblogic_info.py. Nothing here changes the domain: reads only.
"""

import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_health import evaluate
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    WeblogicClient,
    inspection_snapshot,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("WLS_TEST_URL"),
                       reason="WLS_TEST_URL is not set: no real WebLogic to test against (skipped even in "
                              "CI; the protocol double covers these paths in test_weblogic_info.py)"),
]

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
# Failures that mean the test set-up is wrong (URL, account, role), not the domain unhealthy.
SETUP_KINDS = ("config", "unauthorized", "forbidden", "not_found", "tls", "unreachable")


def _settings():
    return {"url": os.environ["WLS_TEST_URL"], "user": os.environ.get("WLS_TEST_USER", "monitor"),
            "password": os.environ.get("WLS_TEST_PASSWORD", ""),
            "validate_certs": os.environ.get("WLS_TEST_VALIDATE_CERTS", "true").lower()
            not in ("false", "no", "0"),
            "ca_path": os.environ.get("WLS_TEST_CA_PATH") or None}


def test_the_real_domain_reads_and_grades():
    settings = _settings()
    client = WeblogicClient(settings["url"], settings["user"], settings["password"], timeout=30,
                            validate_certs=settings["validate_certs"], ca_path=settings["ca_path"])
    snapshot = inspection_snapshot(client)
    lifecycle = snapshot["lifecycle"]
    assert isinstance(lifecycle, list), lifecycle["error"]["message"]
    assert lifecycle and all(isinstance(i.get("state"), str) for i in lifecycle)
    runtimes = snapshot["runtimes"]
    assert isinstance(runtimes, list), runtimes["error"]["message"]
    admin = [r for r in runtimes if r.get("adminServer")]
    assert len(admin) == 1, "exactly one running Admin Server expected"
    jvm = snapshot["per_server"][admin[0]["name"]]["jvm"]
    assert jvm.get("heapSizeMax", 0) > 0, jvm
    result = evaluate(snapshot, "live-wls-admin")
    for record in result["records"]:
        jsonschema.validate(record, SCHEMA)
        if settings["password"]:
            assert settings["password"] not in json.dumps(record, ensure_ascii=False)
    items = {r["item"]: r for r in result["records"]}
    assert items["WebLogic 服务器 %s 状态" % admin[0]["name"]]["status"] == "ok"


def test_the_module_against_the_real_domain():
    settings = _settings()
    args = {key: value for key, value in settings.items() if value is not None}
    args["host"] = "live-wls-admin"
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-m", "gxtax.ops.weblogic_info",
           "-a", json.dumps(args), "-e", "ansible_python_interpreter=%s" % sys.executable]
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if settings["password"]:
        assert settings["password"] not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    connection = [r for r in result["records"] if r["item"] == "WebLogic 管理服务器 REST 接口"]
    assert not connection, connection[0]["detail"]
    assert result["servers"] and result["jvm"]
