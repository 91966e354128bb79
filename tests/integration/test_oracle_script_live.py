"""REL-07 gxtax.ops.oracle_script against a REAL Oracle database, when one is provided.

These tests run only when ORACLE_TEST_DSN, ORACLE_TEST_USER and ORACLE_TEST_PASSWORD are set (the
variables of tests/integration/test_oracle_live.py). Without them they SKIP, even when CI is set: no
Oracle server can be built on this machine or in CI, so a missing database is the normal case.
Everything else about the script runner is proven over a fake driver
(tests/unit/test_oracle_script_module.py).

The scripts create objects, so they need a user with CREATE TABLE and CREATE PROCEDURE and a quota on
its default tablespace; the monitoring user of files/oracle/create_monitor_user.sql has neither. Give
one with ORACLE_TEST_SCRIPT_USER / ORACLE_TEST_SCRIPT_PASSWORD (else ORACLE_TEST_USER is used, and the
tests skip with the reason when it lacks the privileges). Every object is named GXTAX_ST_<random> in
that user's schema and dropped at the end, whatever happened.

    ORACLE_TEST_DSN=192.0.2.11:1521/GSGS ORACLE_TEST_USER=gxtax_monitor ORACLE_TEST_PASSWORD=... \\
    ORACLE_TEST_SCRIPT_USER=gxtax_test ORACLE_TEST_SCRIPT_PASSWORD=... \\
        .venv/bin/pytest -q tests/integration/test_oracle_script_live.py

Optional as for test_oracle_live.py: ORACLE_TEST_MODE, ORACLE_TEST_CLIENT_LIB_DIR, ORACLE_TEST_CONFIG_DIR.
"""

import json
import os
import pathlib
import secrets
import subprocess
import sys

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_conn

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
ENV = {key: os.environ.get("ORACLE_TEST_" + key.upper()) for key in
       ("dsn", "user", "password", "mode", "client_lib_dir", "config_dir", "script_user", "script_password")}
MISSING = [name for name in ("dsn", "user", "password") if not ENV[name]]

if MISSING:
    # Skipped also under CI on purpose: see the module docstring.
    pytest.skip("no live Oracle database: set %s to run these tests"
                % ", ".join("ORACLE_TEST_" + n.upper() for n in MISSING), allow_module_level=True)

oracledb = pytest.importorskip("oracledb")

USER = ENV["script_user"] or ENV["user"]
PASSWORD = ENV["script_password"] if ENV["script_user"] else ENV["password"]
MODE = ENV["mode"] or "normal"


def connection_args():
    args = {"dsn": ENV["dsn"], "user": USER, "password": PASSWORD, "mode": MODE}
    for key in ("client_lib_dir", "config_dir"):
        if ENV[key]:
            args[key] = ENV[key]
    return args


@pytest.fixture(scope="module")
def db():
    """A direct connection to check what the scripts did, and the names of the throwaway objects."""
    settings = dict(connection_args(), wallet_location=None, wallet_password=None, connect_timeout=10.0,
                    client_lib_dir=ENV["client_lib_dir"], config_dir=ENV["config_dir"])
    opened = oracle_conn.connect(oracledb, settings, oracle_conn.Scrubber([PASSWORD]))
    conn = opened["connection"]
    with conn.cursor() as cursor:
        cursor.execute("SELECT privilege FROM session_privs")
        privileges = {row[0] for row in cursor.fetchall()}
    wanted = {"CREATE TABLE", "CREATE PROCEDURE"}
    if not wanted <= privileges:
        conn.close()
        pytest.skip("%s lacks %s: set ORACLE_TEST_SCRIPT_USER/_PASSWORD to a user that may create tables"
                    % (USER, ", ".join(sorted(wanted - privileges))))
    name = "GXTAX_ST_%s" % secrets.token_hex(4).upper()
    yield conn, name
    for kind, obj in (("PROCEDURE", name + "_P"), ("PROCEDURE", name + "_BAD"), ("TABLE", name)):
        with conn.cursor() as cursor:
            try:
                cursor.execute("DROP %s %s%s" % (kind, obj, " PURGE" if kind == "TABLE" else ""))
            except oracledb.DatabaseError:  # never created, or already gone
                pass
    conn.close()


def run(tmp_path, scripts, **extra):
    """The module through the ansible command: (return code, result, raw output)."""
    paths = []
    for number, (text, encoding) in enumerate(scripts, start=1):
        path = tmp_path / ("%02d.sql" % number)
        path.write_bytes(text.encode(encoding))
        paths.append(str(path))
    args = dict(connection_args(), scripts=paths, timeout=120, **extra)
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-e",
         "ansible_python_interpreter=%s" % sys.executable, "-m", "gxtax.ops.oracle_script",
         "-a", json.dumps(args)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    output = proc.stdout + proc.stderr
    assert PASSWORD not in output
    return proc.returncode, json.loads(proc.stdout.split("=>", 1)[1]), output


def rows(conn, sql, binds=None):
    with conn.cursor() as cursor:
        cursor.execute(sql, binds or {})
        return cursor.fetchall()


def _subdir(tmp_path, name):
    path = tmp_path / name
    path.mkdir(exist_ok=True)
    return path


def test_a_release_runs_in_order_and_is_committed(db, tmp_path):
    conn, name = db
    ddl = ("-- 建表\nCREATE TABLE %s (\n  id NUMBER(10) PRIMARY KEY,\n  title VARCHAR2(200 CHAR)\n);\n"
           "COMMENT ON TABLE %s IS 'gxtax-ops 测试表; 可删除 / throwaway';\n" % (name, name))
    data = ("SET DEFINE OFF\r\nPROMPT 数据\r\nINSERT INTO %s VALUES (1, '办税; R&D / 公示');\r\n"
            "INSERT INTO %s VALUES (2, q'[O'Brien; 的说明]');\r\nUPDATE %s SET title = title || '!' "
            "WHERE id IN (1, 2);\r\n" % (name, name, name))
    plsql = ("CREATE OR REPLACE PROCEDURE %s_P IS\nBEGIN\n"
             "  INSERT INTO %s VALUES (3, '过程; 插入');\nEND;\n/\n"
             "BEGIN\n  %s_P;\nEND;\n/\nEXEC NULL\nEXIT\n" % (name, name, name))
    # Each script needs the one before it: a wrong order fails.
    code, result, output = run(tmp_path, [(ddl, "utf-8"), (data, "utf-8"), (plsql, "utf-8")])
    assert code == 0, output[-3000:]
    assert [s["outcome"] for s in result["scripts"]] == ["ok", "ok", "ok"]
    assert [s["rows"] for s in result["scripts"]] == [0, 4, 0]
    assert [s["verb"] for s in result["scripts"][2]["statements"]] == ["CREATE PROCEDURE", "BEGIN", "EXECUTE"]
    assert [e["outcome"] for e in result["release_event"]] == ["succeeded"] * 3
    # A GBK-encoded script (one encoding per task), its Chinese stored intact.
    gbk = "INSERT INTO %s VALUES (4, '国家税务总局广西壮族自治区税务局; 公示');\r\n" % name
    code, result, output = run(_subdir(tmp_path, "gbk"), [(gbk, "gbk")], encoding="gbk")
    assert code == 0, output[-3000:]
    assert rows(conn, "SELECT id, title FROM %s ORDER BY id" % name) == [
        (1, "办税; R&D / 公示!"), (2, "O'Brien; 的说明!"), (3, "过程; 插入"),
        (4, "国家税务总局广西壮族自治区税务局; 公示")]
    status = rows(conn, "SELECT status FROM user_objects WHERE object_name = :n", {"n": name + "_P"})
    assert status == [("VALID",)]


def test_an_error_rolls_back_the_script_and_stops_the_run(db, tmp_path):
    conn, name = db
    # The table exists after the first test; create it when this test runs alone.
    if not rows(conn, "SELECT 1 FROM user_tables WHERE table_name = :n", {"n": name}):
        code, _result, output = run(_subdir(tmp_path, "ddl"), [(
            "CREATE TABLE %s (id NUMBER(10) PRIMARY KEY, title VARCHAR2(200 CHAR));\n" % name, "utf-8")])
        assert code == 0, output[-3000:]
    failing = ("INSERT INTO %s VALUES (100, 'rolled back');\nINSERT INTO %s_NO_SUCH_TABLE VALUES (1);\n"
               % (name, name))
    later = "INSERT INTO %s VALUES (101, 'never run');\n" % name
    code, result, output = run(tmp_path, [(failing, "utf-8"), (later, "utf-8")])
    assert code != 0
    failure = result["failure"]
    assert (failure["statement"], failure["line"], failure["code"]) == (2, 2, "ORA-00942"), output[-3000:]
    assert [s["outcome"] for s in result["scripts"]] == ["failed", "not_run"]
    assert rows(conn, "SELECT COUNT(*) FROM %s WHERE id IN (100, 101)" % name) == [(0,)]


def test_a_procedure_with_compilation_errors_fails_with_its_line(db, tmp_path):
    conn, name = db
    script = ("\n\nCREATE OR REPLACE PROCEDURE %s_BAD IS\nBEGIN\n"
              "  gxtax_no_such_procedure_xyz;\nEND;\n/\n" % name)
    code, result, output = run(tmp_path, [(script, "utf-8")])
    assert code != 0
    failure = result["failure"]
    assert failure["code"] == "DPY-7000", output[-3000:]
    assert failure["compile_errors"] and failure["compile_errors"][0]["line"] == 5
    assert rows(conn, "SELECT status FROM user_objects WHERE object_name = :n", {"n": name + "_BAD"}) == [
        ("INVALID",)]
