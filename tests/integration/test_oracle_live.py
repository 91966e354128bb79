"""INSP-02…09, 12, 18 against a REAL Oracle database, when one is provided.

These tests run only when ORACLE_TEST_DSN, ORACLE_TEST_USER and ORACLE_TEST_PASSWORD are set
(ideally the monitoring user created by files/oracle/create_monitor_user.sql). Without them they
SKIP, even when CI is set: unlike the harness prerequisites, no Oracle server can be built on
this machine or in CI, so a missing database is the normal case, not a broken environment.
Everything else about Oracle is proven over fakes, recorded rows and loopback doubles.

Optional: ORACLE_TEST_MODE (normal | sysdba), ORACLE_TEST_CLIENT_LIB_DIR (thick mode, needed for
11.2), ORACLE_TEST_CONFIG_DIR (tnsnames.ora), ORACLE_TEST_WRONG_LOGIN=1 (also try one login with a
wrong password and expect ORA-01017; off by default because failed logins count towards the
account's FAILED_LOGIN_ATTEMPTS).

    ORACLE_TEST_DSN=192.0.2.11:1521/GSGS ORACLE_TEST_USER=gxtax_monitor ORACLE_TEST_PASSWORD=... \\
        .venv/bin/pytest -q tests/integration/test_oracle_live.py
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_checks, oracle_conn

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
ENV = {key: os.environ.get("ORACLE_TEST_" + key.upper()) for key in
       ("dsn", "user", "password", "mode", "client_lib_dir", "config_dir", "wrong_login")}
MISSING = [name for name in ("dsn", "user", "password") if not ENV[name]]

if MISSING:
    # Skipped also under CI on purpose: see the module docstring.
    pytest.skip("no live Oracle database: set %s to run these tests"
                % ", ".join("ORACLE_TEST_" + n.upper() for n in MISSING), allow_module_level=True)

oracledb = pytest.importorskip("oracledb")


def settings(**overrides):
    values = dict(dsn=ENV["dsn"], user=ENV["user"], password=ENV["password"], mode=ENV["mode"] or "normal",
                  client_lib_dir=ENV["client_lib_dir"], config_dir=ENV["config_dir"], wallet_location=None,
                  wallet_password=None, connect_timeout=10.0, query_timeout_ms=30000, timeout=120.0,
                  checks=list(oracle_checks.CHECKS), thresholds=dict(oracle_checks.DEFAULT_THRESHOLDS),
                  options={"sysdba": (ENV["mode"] or "normal") == "sysdba"}, host="live-db",
                  target=oracle_conn.Scrubber([ENV["password"]])(ENV["dsn"]))
    values.update(overrides)
    return values


def test_describe_and_every_check_give_schema_valid_records():
    scrub = oracle_conn.Scrubber([ENV["password"]])
    inspection = oracle_conn.Inspection(oracledb, oracle_checks, settings(), scrub)
    finished = oracle_conn.run_with_deadline(inspection.run, inspection.seconds_left())
    result = inspection.result(finished)
    assert finished, result["records"][:2]
    assert result["connection"]["error"] is None, result["connection"]
    database = result["database"]
    for key in ("version", "version_tuple", "role", "open_mode", "cdb", "con_name", "instance_status",
                "db_name", "uses_asm"):
        assert key in database, key
    assert database["version_tuple"][0] >= 11
    for record in result["records"]:
        jsonschema.validate(record, SCHEMA)
        assert record["host"] == "live-db"
        assert "检查程序异常" not in record["detail"], record
        assert ENV["password"] not in json.dumps(record, ensure_ascii=False)
    assert set(result["timings"]["checks_ms"]) == set(oracle_checks.CHECKS)


def test_the_module_through_ansible():
    args = {"dsn": ENV["dsn"], "user": ENV["user"], "password": ENV["password"],
            "mode": ENV["mode"] or "normal", "timeout": 120, "host": "live-db"}
    for key in ("client_lib_dir", "config_dir"):
        if ENV[key]:
            args[key] = ENV[key]
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-e",
         "ansible_python_interpreter=%s" % sys.executable, "-m", "gxtax.ops.oracle_health",
         "-a", json.dumps(args)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert ENV["password"] not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["connection"]["mode"] in ("thin", "thick") and result["connection"]["error"] is None
    for record in result["records"]:
        jsonschema.validate(record, SCHEMA)


@pytest.mark.skipif(ENV["wrong_login"] != "1",
                    reason="set ORACLE_TEST_WRONG_LOGIN=1 to try one wrong password")
def test_a_wrong_password_is_reported_as_wrong_credentials():
    wrong = "wrong-%d" % int(time.time())
    scrub = oracle_conn.Scrubber([wrong])
    with pytest.raises(oracle_conn.ConnectFailure) as caught:
        opened = oracle_conn.connect(oracledb, settings(password=wrong), scrub)
        opened["connection"].close()
    assert caught.value.cause == "credentials" and "ORA-01017" in caught.value.codes
