"""gxtax.ops.oracle_script as a module, over a FAKE driver (tests/unit/fake_oracle.py): order, commit and
rollback calls, the first error stopping the run, later scripts not run, compilation errors, check mode
connecting nothing, and secrets or taxpayer data never in the output.

No Oracle server is involved: the connection is a double that records what it was asked and answers
from a responder; the errors and warnings are python-oracledb's own objects. The last tests run the
module through the `ansible` command (AnsiballZ packaging), still without a database.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import oracledb
import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from oracledb import errors as driver_errors

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_script_run
from ansible_collections.gxtax.ops.plugins.modules import oracle_health, oracle_script
from tests.unit.fake_oracle import ERRORS, FakeConnection, FakeCursor, FakeDriver, ora, within

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SENTINEL = "Sentinel-Pw-5521"
DML = ("INSERT", "UPDATE", "DELETE", "MERGE")


class ScriptCursor(FakeCursor):
    """FakeCursor plus what the runner reads after execute: rowcount and warning."""

    rowcount = 0
    warning = None

    def execute(self, sql, binds=None):
        self.rowcount, self.warning = 0, None
        self.conn.events.append(("execute", sql))  # the attempt, also when it fails
        super().execute(sql, binds)
        self.rowcount = self.conn.rowcount(sql)
        if self.conn.compile_error_marker and self.conn.compile_error_marker in sql:
            self.warning = driver_errors._create_warning(driver_errors.WRN_COMPILATION_ERROR)


class ScriptConnection(FakeConnection):
    """FakeConnection with commit/rollback (recorded in order with the statements)."""

    def __init__(self, responder=None, rows=None, commit_error=None, rollback_error=None,
                 compile_error_marker=None):
        super().__init__(responder)
        self.events = []
        self.rows = rows or {}
        self.commit_error, self.rollback_error = commit_error, rollback_error
        self.compile_error_marker = compile_error_marker
        self.module = self.action = None

    def cursor(self):
        return ScriptCursor(self)

    def rowcount(self, sql):
        for needle, count in self.rows.items():
            if needle in sql:
                return count
        return 1 if sql.lstrip().upper().startswith(DML) else 0

    def commit(self):
        self.events.append(("commit",))
        if self.commit_error is not None:
            raise self.commit_error

    def rollback(self):
        self.events.append(("rollback",))
        if self.rollback_error is not None:
            raise self.rollback_error


def failing(needle, error):
    """responder: `error` for the statement containing needle, an empty answer otherwise."""
    def respond(sql, binds):
        return error if needle in sql else ([], [])
    return respond


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run_module(monkeypatch, capsys, driver, **args):
    """main() with these arguments; (result dict, raw stdout)."""
    args.setdefault("dsn", "192.0.2.11:1521/GSGS")
    args.setdefault("user", "gsgs")
    args.setdefault("password", SENTINEL)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(oracle_script, "oracledb", driver)
    with pytest.raises(SystemExit):
        within(60, oracle_script.main)
    out = capsys.readouterr().out
    return json.loads(out), out


def executed(conn):
    return [e[1] for e in conn.events if e[0] == "execute"]


DDL = "CREATE TABLE gs_t (id NUMBER(10), title VARCHAR2(100));\nCOMMENT ON TABLE gs_t IS '公示; 表';\n"
DATA = ("SET DEFINE OFF\nINSERT INTO gs_t VALUES (1, 'R&D; 一');\n"
        "INSERT INTO gs_t VALUES (2, '二');\nUPDATE gs_t SET title = title || '/' WHERE id > 0;\n")
PLSQL = ("CREATE OR REPLACE PROCEDURE gs_p IS\nBEGIN\n  UPDATE gs_t SET title = 'x;' WHERE id = 1;\nEND;\n/\n"
         "BEGIN\n  gs_p;\nEND;\n/\n")


def test_scripts_run_in_order_and_each_is_committed(monkeypatch, capsys, tmp_path):
    paths = [write(tmp_path, "01_ddl.sql", DDL), write(tmp_path, "02_data.sql", DATA),
             write(tmp_path, "03_plsql.sql", PLSQL)]
    conn = ScriptConnection(rows={"UPDATE gs_t SET title = title": 2})
    driver = FakeDriver(thin=conn)
    result, out = run_module(monkeypatch, capsys, driver, scripts=paths, timeout=90)
    assert not result.get("failed") and result["changed"] is True
    assert executed(conn) == [
        "CREATE TABLE gs_t (id NUMBER(10), title VARCHAR2(100))", "COMMENT ON TABLE gs_t IS '公示; 表'",
        "INSERT INTO gs_t VALUES (1, 'R&D; 一')", "INSERT INTO gs_t VALUES (2, '二')",
        "UPDATE gs_t SET title = title || '/' WHERE id > 0",
        "CREATE OR REPLACE PROCEDURE gs_p IS\nBEGIN\n  UPDATE gs_t SET title = 'x;' WHERE id = 1;\nEND;",
        "BEGIN\n  gs_p;\nEND;"]
    # one commit after each script, after its last statement
    assert [e[0] for e in conn.events] == ["execute"] * 2 + ["commit"] + ["execute"] * 3 + ["commit"] + \
        ["execute"] * 2 + ["commit"]
    assert all(s["call_timeout"] == 90000 for s in conn.statements)
    assert [s["outcome"] for s in result["scripts"]] == ["ok", "ok", "ok"]
    assert [s["rows"] for s in result["scripts"]] == [0, 4, 0]
    assert [s["transaction"] for s in result["scripts"]] == ["committed"] * 3
    data = result["scripts"][1]
    assert [(s["number"], s["line"], s["verb"], s["outcome"], s["rows"]) for s in data["statements"]] == [
        (1, 2, "INSERT", "ok", 1), (2, 3, "INSERT", "ok", 1), (3, 4, "UPDATE", "ok", 2)]
    assert data["notes"][0]["command"] == "SET DEFINE OFF"
    assert data["sha256"] and all(isinstance(s["seconds"], float) for s in data["statements"])
    assert result["release_event"] == [
        {"type": "db_script", "script": p, "outcome": "succeeded", "rows": r, "seconds": s["seconds"],
         "error": None} for p, r, s in zip(paths, [0, 4, 0], result["scripts"], strict=True)]
    assert result["connection"] == {"dsn": "192.0.2.11:1521/GSGS", "mode": "thin", "fallback_from": None,
                                    "error": None}
    assert conn.closed and conn.module == "gxtax.ops.oracle_script" and conn.action == "03_plsql.sql"
    assert "一" not in json.dumps(result["scripts"], ensure_ascii=False)  # literals only as :s
    assert SENTINEL not in out


def test_the_first_error_stops_the_run_and_names_script_statement_line(monkeypatch, capsys, tmp_path):
    paths = [write(tmp_path, "01_ddl.sql", DDL), write(tmp_path, "02_data.sql", DATA),
             write(tmp_path, "03_plsql.sql", PLSQL)]
    conn = ScriptConnection(failing("VALUES (2,", ora(942, "table or view does not exist")))
    result, out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), scripts=paths)
    assert result["failed"] is True
    # script 2 stopped at its 2nd statement, rolled back, never committed; script 3 never touched
    assert executed(conn)[2:] == ["INSERT INTO gs_t VALUES (1, 'R&D; 一')",
                                  "INSERT INTO gs_t VALUES (2, '二')"]
    assert [e[0] for e in conn.events][-3:] == ["execute", "execute", "rollback"]
    assert conn.events.count(("commit",)) == 1 and not any("gs_p" in sql for sql in executed(conn))
    assert [s["outcome"] for s in result["scripts"]] == ["ok", "failed", "not_run"]
    assert [s["outcome"] for s in result["scripts"][1]["statements"]] == ["ok", "failed", "not_run"]
    assert [s["outcome"] for s in result["scripts"][2]["statements"]] == ["not_run", "not_run"]
    assert result["scripts"][1]["transaction"] == "rolled_back"
    failure = result["failure"]
    assert (failure["script"], failure["statement"], failure["line"]) == (paths[1], 2, 3)
    assert failure["code"] == "ORA-00942"
    assert failure["committed_through"] is None and failure["meaning"].startswith("表或视图不存在")
    for words in (paths[1], "第 2 条语句（第 3 行，INSERT）", "ORA-00942: table or view does not exist",
                  "已回滚未提交的事务", paths[2]):
        assert words in result["msg"]
    assert [e["outcome"] for e in result["release_event"]] == ["succeeded", "failed", "skipped"]
    assert result["release_event"][1]["error"] == result["scripts"][1]["error"]
    assert "ORA-00942" in result["release_event"][1]["error"]
    assert result["scripts"][2]["why_not_run"].startswith("前面的脚本")
    assert SENTINEL not in out


def test_ddl_already_committed_is_said_out_loud(monkeypatch, capsys, tmp_path):
    script = ("INSERT INTO gs_log VALUES (1);\nCREATE TABLE gs_t (a NUMBER);\nINSERT INTO gs_t VALUES (1);\n"
              "INSERT INTO gs_t VALUES ('x');\n")
    conn = ScriptConnection(failing("'x'", ora(1722, "invalid number")))
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn),
                              scripts=[write(tmp_path, "a.sql", script)])
    failure = result["failure"]
    assert failure["statement"] == 4 and failure["committed_through"] == 2
    assert "第 1–2 条的结果已提交（Oracle 的 DDL 自动提交），无法回滚" in failure["sentence"]
    assert "TO_DATE" in failure["direction"] and conn.events[-1] == ("rollback",)


def test_stop_on_error_false_runs_the_later_scripts_but_still_fails(monkeypatch, capsys, tmp_path):
    paths = [write(tmp_path, "01.sql", "INSERT INTO a VALUES (1);\nINSERT INTO missing VALUES (1);\n"),
             write(tmp_path, "02.sql", "INSERT INTO b VALUES (1);\n")]
    conn = ScriptConnection(failing("missing", ora(942, "table or view does not exist")))
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), scripts=paths, stop_on_error=False)
    assert result["failed"] is True and [s["outcome"] for s in result["scripts"]] == ["failed", "ok"]
    assert conn.events[-3:] == [("rollback",), ("execute", "INSERT INTO b VALUES (1)"), ("commit",)]
    assert result["failure"]["script"] == paths[0]


def test_a_lost_connection_stops_even_when_errors_are_tolerated(monkeypatch, capsys, tmp_path):
    paths = [write(tmp_path, "01.sql", "UPDATE a SET b = 1;\n"),
             write(tmp_path, "02.sql", "UPDATE c SET d = 1;\n")]
    conn = ScriptConnection(failing("UPDATE a", ora(3113, "end-of-file on communication channel")),
                            rollback_error=ERRORS["dpy4011"]())
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), scripts=paths, stop_on_error=False)
    assert [s["outcome"] for s in result["scripts"]] == ["failed", "not_run"]
    assert result["scripts"][0]["transaction"] == "rollback_failed"
    assert "回滚未能执行" in result["failure"]["sentence"]
    assert "连接已中断" in result["scripts"][1]["why_not_run"]
    assert executed(conn) == ["UPDATE a SET b = 1"]


def test_a_failed_commit_fails_the_script(monkeypatch, capsys, tmp_path):
    error = ora(2091, "transaction rolled back\n"
                      "ORA-02291: integrity constraint (GSGS.FK_T) violated - parent key not found")
    conn = ScriptConnection(commit_error=error)
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn),
                              scripts=[write(tmp_path, "a.sql", "INSERT INTO t VALUES (1);\n")])
    assert result["failed"] is True and result["scripts"][0]["outcome"] == "failed"
    failure = result["failure"]
    assert failure["statement"] is None and failure["code"] == "ORA-02091"
    assert "提交时失败" in failure["sentence"]
    assert result["scripts"][0]["transaction"] == "rolled_back"


def test_compilation_errors_fail_the_script_with_their_file_lines(monkeypatch, capsys, tmp_path):
    script = ("SET DEFINE OFF\n\nCREATE OR REPLACE PACKAGE BODY gsgs.gs_pkg AS\n  PROCEDURE p IS\n  BEGIN\n"
              "    undefined_call;\n  END;\nEND gs_pkg;\n/\nINSERT INTO t VALUES (1);\n")

    def respond(sql, binds):
        if "all_errors" in sql:
            return ["LINE", "POSITION", "TEXT"], [
                (4, 5, "PLS-00201: identifier 'UNDEFINED_CALL' must be declared"),
                (4, 5, "PL/SQL: Statement ignored")]
        return [], []
    conn = ScriptConnection(respond, compile_error_marker="PACKAGE BODY")
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn),
                              scripts=[write(tmp_path, "p.sql", script)])
    assert result["failed"] is True
    failure = result["failure"]
    assert (failure["code"], failure["statement"], failure["line"]) == ("DPY-7000", 1, 3)
    assert failure["error_line"] == 6
    assert [c["line"] for c in failure["compile_errors"]] == [6, 6]
    assert "PLS-00201" in failure["compile_errors"][0]["text"] and "INVALID" in failure["meaning"]
    lookup = [s for s in conn.statements if "all_errors" in s["sql"]][0]
    assert lookup["binds"] == {"owner": "GSGS", "name": "GS_PKG", "type": "PACKAGE BODY"}
    assert not any("INSERT" in sql for sql in executed(conn)) and conn.events[-1] == ("rollback",)
    assert "DPY-7000" in result["msg"] and "第 6 行第 5 列" in result["msg"]


def test_a_parse_error_offset_names_the_line_it_falls_on(monkeypatch, capsys, tmp_path):
    script = "SELECT id,\n       nsrmc\n       bad column\nFROM t;\n"
    error = oracledb.DatabaseError(driver_errors._Error("ORA-00923: FROM keyword not found where expected",
                                                        code=923, offset=script.index("column")))
    conn = ScriptConnection(failing("SELECT", error))
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn),
                              scripts=[write(tmp_path, "q.sql", script)])
    failure = result["failure"]
    assert (failure["line"], failure["error_line"], failure["code"]) == (1, 3, "ORA-00923")
    assert "SQL 语法错误" in failure["meaning"]


def test_taxpayer_data_and_passwords_never_reach_the_output(monkeypatch, capsys, tmp_path):
    script = ("ALTER USER gsgs_app IDENTIFIED BY \"Db-Secret-77\";\n"
              "INSERT INTO nsr (nsrsbh, nsrmc) VALUES ('91450100MA5K3L8Q2X', '广西某某商贸有限公司');\n"
              "BEGIN\n  gs_check('91450100MA5K3L8Q2X');\nEND;\n/\n")
    error = ora(20001, "纳税人 广西某某商贸有限公司 (91450100MA5K3L8Q2X) 已存在")
    conn = ScriptConnection(failing("gs_check", error))
    dsn = "gsgs/%s@192.0.2.11:1521/GSGS" % SENTINEL
    result, out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), dsn=dsn, password=None,
                             scripts=[write(tmp_path, "s.sql", script)])
    assert result["failed"] is True and result["failure"]["code"] == "ORA-20001"
    for secret in (SENTINEL, "Db-Secret-77", "91450100MA5K3L8Q2X", "广西某某商贸有限公司"):
        assert secret not in out
    assert result["failure"]["meaning"].startswith("应用程序主动抛出的错误")
    assert result["invocation"]["module_args"]["dsn"] == "gsgs/********@192.0.2.11:1521/GSGS"
    assert result["scripts"][0]["statements"][0]["summary"] == "ALTER USER gsgs_app IDENTIFIED BY ********"


def test_check_mode_reads_the_scripts_and_connects_nothing(monkeypatch, capsys, tmp_path):
    driver = FakeDriver()
    paths = [write(tmp_path, "01.sql", DDL), write(tmp_path, "02.sql", DATA)]
    result, out = run_module(monkeypatch, capsys, driver, scripts=paths, _ansible_check_mode=True)
    assert driver.calls == [] and driver.thin.statements == []
    assert result["check_mode"] is True and result["changed"] is True and not result.get("failed")
    assert [s["statement_count"] for s in result["scripts"]] == [2, 3]
    assert {st["outcome"] for s in result["scripts"] for st in s["statements"]} == {"not_run"}
    assert [e["outcome"] for e in result["release_event"]] == ["skipped", "skipped"]
    assert result["connection"]["mode"] is None and SENTINEL not in out


def test_check_mode_needs_no_driver(monkeypatch, capsys, tmp_path):
    result, _out = run_module(monkeypatch, capsys, None, scripts=[write(tmp_path, "01.sql", DDL)],
                              _ansible_check_mode=True)
    assert not result.get("failed") and result["scripts"][0]["statement_count"] == 2


def test_a_script_that_cannot_be_run_fails_before_anything_connects(monkeypatch, capsys, tmp_path):
    driver = FakeDriver()
    paths = [write(tmp_path, "01.sql", DDL), write(tmp_path, "02.sql", "SELECT 1 FROM dual;\n@other.sql\n")]
    result, _out = run_module(monkeypatch, capsys, driver, scripts=paths)
    assert driver.calls == [] and result["failed"] is True
    assert paths[1] in result["msg"] and "第 2 行" in result["msg"] and "list that script" in result["msg"]
    assert [e["outcome"] for e in result["release_event"]] == ["skipped", "failed"]
    assert (result["failure"]["script"], result["failure"]["line"]) == (paths[1], 2)


def test_a_missing_script_and_a_wrong_encoding_fail_before_anything_connects(monkeypatch, capsys, tmp_path):
    driver = FakeDriver()
    result, _out = run_module(monkeypatch, capsys, driver, scripts=[str(tmp_path / "nope.sql")])
    assert driver.calls == [] and result["failed"] is True and "nope.sql" in result["msg"]
    gbk = write(tmp_path, "gbk.sql", "INSERT INTO t VALUES ('税务');\n", encoding="gbk")
    result, _out = run_module(monkeypatch, capsys, driver, scripts=[gbk])
    assert driver.calls == [] and "encoding: gbk" in result["msg"]


def test_a_gbk_script_runs_with_encoding_gbk(monkeypatch, capsys, tmp_path):
    conn = ScriptConnection()
    gbk = write(tmp_path, "gbk.sql", "INSERT INTO t VALUES ('税务; 公示');\r\n", encoding="gbk")
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), scripts=[gbk], encoding="gbk")
    assert executed(conn) == ["INSERT INTO t VALUES ('税务; 公示')"]
    assert result["scripts"][0]["outcome"] == "ok"


def test_an_unreachable_database_runs_nothing_and_says_why(monkeypatch, capsys, tmp_path):
    driver = FakeDriver(thin=ERRORS["refused"]())
    result, out = run_module(monkeypatch, capsys, driver, scripts=[write(tmp_path, "01.sql", DDL)])
    assert result["failed"] is True and result["connection"]["error"]["cause"] == "listener_refused"
    assert "未执行任何脚本" in result["msg"] and result["scripts"][0]["outcome"] == "not_run"
    assert result["release_event"][0]["outcome"] == "skipped" and SENTINEL not in out


def test_missing_driver_fails_with_the_library_name(monkeypatch, capsys, tmp_path):
    result, _out = run_module(monkeypatch, capsys, None, scripts=[write(tmp_path, "01.sql", DDL)])
    assert result["failed"] and "oracledb" in result["msg"]


def test_a_very_long_script_lists_a_bounded_number_of_statements(monkeypatch, capsys, tmp_path):
    rows = "".join("INSERT INTO t VALUES (%d);\n" % n for n in range(1, 1201))
    rows += "INSERT INTO bad VALUES (0);\n"
    conn = ScriptConnection(failing("bad", ora(942, "table or view does not exist")))
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn),
                              scripts=[write(tmp_path, "big.sql", rows)])
    script = result["scripts"][0]
    assert script["statement_count"] == 1201 and len(script["statements"]) == oracle_script_run.MAX_LOGGED + 1
    assert script["statements"][-1]["outcome"] == "failed" and script["statements_not_listed"] == 200
    assert script["rows"] == 1200 and result["failure"]["statement"] == 1201


def test_connection_options_are_the_same_as_oracle_health():
    # One spec in oracle_conn serves both; this keeps oracle_health from growing its own again.
    health = oracle_health.argument_spec()
    for name, spec in oracle_script_run.connection_argument_spec().items():
        assert health[name] == spec, name
    assert oracle_script.argument_spec()["password"]["no_log"] is True


def test_release_events_are_accepted_by_the_release_report():
    release_report = pytest.importorskip("ansible_collections.gxtax.ops.plugins.module_utils.release_report")
    results = [{"script": "a.sql", "outcome": "ok", "rows": 3, "seconds": 0.2, "failure": None},
               {"script": "b.sql", "outcome": "failed", "rows": 0, "seconds": 0.1,
                "failure": {"sentence": "第 1 条语句失败：ORA-00942"}},
               {"script": "c.sql", "outcome": "not_run", "rows": None, "seconds": None, "failure": None,
                "why_not_run": "前面的脚本 b.sql 执行失败"}]
    problems = []
    events = release_report.normalise_events(
        [(e, {"host": "localhost", "task": "REL-07 | db", "time": None})
         for e in oracle_script_run.release_events(results)], problems)
    assert problems == []
    assert [e["outcome"] for e in events["db_script"]] == ["succeeded", "failed", "skipped"]


# ------------------------------------------------------------------ through the ansible command


def ansible(args, check=False):
    command = [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-e",
               "ansible_python_interpreter=%s" % sys.executable, "-m", "gxtax.ops.oracle_script",
               "-a", json.dumps(args)] + (["--check"] if check else [])
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    return proc, json.loads(proc.stdout.split("=>", 1)[1])


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_through_ansible_check_mode_and_a_refused_connection(tmp_path):
    path = write(tmp_path, "01.sql", DDL + DATA)
    args = {"dsn": "gsgs/%s@127.0.0.1:%d/GSGS" % (SENTINEL, closed_port()), "scripts": [path],
            "connect_timeout": 3}
    proc, result = ansible(args, check=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert result["check_mode"] is True and result["scripts"][0]["statement_count"] == 5
    proc, result = ansible(args)
    assert proc.returncode != 0 and result["connection"]["error"]["cause"] == "listener_refused"
    assert SENTINEL not in proc.stdout + proc.stderr


def test_driver_codes_survive_redaction_and_are_explained():
    text = oracle_script_run.redacted(
        "DPY-4010: a bind variable replacement value for placeholder \":NSRSBH\" was not provided / "
        "DPI-1080 ORA-01008 '91450100MA5K3L8Q2X' 42")
    assert text.startswith("DPY-4010:") and "DPI-1080" in text and "ORA-01008" in text
    assert "91450100MA5K3L8Q2X" not in text and " 42" not in text
    assert oracle_script_run.explain(["DPY-4010"])[0].startswith("语句中有 :名称 形式的绑定变量")
    assert oracle_script_run.explain(["ORA-20999"]) == oracle_script_run._APPLICATION
    assert oracle_script_run.explain(["ORA-99999"]) == oracle_script_run._UNKNOWN
