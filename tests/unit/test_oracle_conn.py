"""INSP-02 connecting to Oracle: causes of failure, thin/thick and the fallback, secrets,
statements under call_timeout, and the watchdog over the whole run.

A fake driver (tests/unit/fake_oracle.py) stands in for python-oracledb's connect; the errors it
raises are oracledb 26.1's own exception objects with real DPY-/ORA-/DPI- codes. No Oracle server.
"""

import json
import pathlib
import threading
import types

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_conn
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_conn import (
    CAUSES, ConnectFailure, Inspection, Scrubber, classify, connect, error_codes, failure_record,
    make_execute, run_with_deadline, split_dsn)
from tests.unit.fake_oracle import ERRORS, FakeConnection, FakeDriver, ora, within

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
SENTINEL = "Sentinel-Pw-7731"
CHECKS = ["instance", "tablespaces", "sessions"]


def valid(records):
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records


def settings(**overrides):
    values = dict(dsn="192.0.2.11:1521/GSGS", user="gxtax_monitor", password=SENTINEL, mode="normal",
                  client_lib_dir=None, config_dir=None, wallet_location=None, wallet_password=None,
                  connect_timeout=3.0, query_timeout_ms=5000, timeout=20.0, checks=list(CHECKS),
                  thresholds={}, options={}, host="pub-db01", target="192.0.2.11:1521/GSGS")
    values.update(overrides)
    return values


SCRUB = Scrubber([SENTINEL])
DESCRIPTOR = "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=h)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=s)))"


# ------------------------------------------------------------------ causes


@pytest.mark.parametrize("error, mode, cause", [
    ("refused", "normal", "listener_refused"),
    ("ora12541", "normal", "listener_refused"),
    ("tcp_timeout", "normal", "unreachable"),
    ("no_route", "normal", "unreachable"),
    ("ora12170", "normal", "unreachable"),
    ("dns", "normal", "dns"),
    ("ora12545", "normal", "dns"),
    ("thin_12514", "normal", "service_unknown"),
    ("ora12514", "normal", "service_unknown"),
    ("ora01034", "normal", "instance_unavailable"),
    ("ora12528", "normal", "instance_unavailable"),
    ("ora12519", "normal", "no_handler"),
    ("ora01017", "normal", "credentials"),
    ("ora28000", "normal", "locked"),
    ("ora28001", "normal", "expired"),
    ("ora01045", "normal", "no_session_privilege"),
    ("ora01031", "sysdba", "sysdba_denied"),
    ("ora01031", "normal", "other"),
    ("dpy3010", "normal", "thin_unsupported"),
    ("dpy3015", "normal", "verifier"),
    ("nne", "normal", "nne"),
    ("dpi1047", "normal", "client_missing"),
    ("dpy4011", "normal", "closed"),
    ("dpy4000", "normal", "tns_alias"),
    ("ora12154", "normal", "tns_alias"),
    ("dpy4001", "normal", "no_credentials"),
    ("ora12345", "normal", "other"),
])
def test_each_driver_error_has_its_cause_and_a_valid_record(error, mode, cause):
    exc = ERRORS[error]()
    message = str(exc)
    codes = error_codes(exc, message)
    assert classify(codes, message, mode) == cause
    record = valid([failure_record(cause, "pub-db01", "192.0.2.11:1521/GSGS", 30, codes, "gxtax_monitor")])[0]
    assert record["requirement_id"] == "INSP-02" and record["status"] == CAUSES[cause]["status"]
    assert CAUSES[cause]["en"] in record["detail"] and CAUSES[cause]["zh"] in record["detail"]
    assert record["detail"].startswith("数据库 192.0.2.11:1521/GSGS ")


def test_unreachable_databases_are_critical_and_inspection_problems_are_errors():
    critical = {c for c, info in CAUSES.items() if info["status"] == "critical"}
    assert critical == {"listener_refused", "unreachable", "service_unknown", "instance_unavailable",
                        "no_handler"}
    assert CAUSES["watchdog"]["status"] == "error"


def test_nested_codes_are_all_found_outermost_first():
    assert error_codes(ERRORS["thin_12514"]()) == ["DPY-6005", "DPY-6000", "ORA-12514"]
    assert error_codes(ERRORS["nne"]())[:2] == ["DPY-6005", "DPY-3001"]
    assert error_codes(ERRORS["ora01017"]()) == ["ORA-01017"]
    legacy = types.SimpleNamespace(args=("ORA-1017: invalid username/password",))
    assert error_codes(legacy, "ORA-1017: invalid username/password") == ["ORA-01017"]


def test_grant_script_and_user_are_named_where_a_grant_is_missing():
    record = failure_record("no_session_privilege", "pub-db01", "x", 30, ["ORA-01045"], "gxtax_monitor")
    assert "files/oracle/create_monitor_user.sql" in record["direction"]
    assert "GRANT CREATE SESSION TO gxtax_monitor" in record["direction"]


def test_thin_unsupported_says_how_to_enable_thick_mode():
    record = failure_record("thin_unsupported", "av-db01", "x", 30, ["DPY-3010"])
    assert "client_lib_dir" in record["direction"] and "Instant Client" in record["direction"]
    assert "11.2" in record["detail"]


# ------------------------------------------------------------------ secrets


@pytest.mark.parametrize("dsn, expected", [
    ("mon/%s@192.0.2.11:1521/GSGS" % SENTINEL, ("mon", SENTINEL, "192.0.2.11:1521/GSGS")),
    ('mon/"%s"@GSGS' % SENTINEL, ("mon", SENTINEL, "GSGS")),
    ("192.0.2.11:1521/GSGS", (None, None, "192.0.2.11:1521/GSGS")),
    ("GSGS", (None, None, "GSGS")),
    (DESCRIPTOR, (None, None, DESCRIPTOR)),
])
def test_split_dsn(dsn, expected):
    assert split_dsn(dsn) == expected


def test_scrubber_masks_known_secrets_and_credentials_in_any_text():
    scrub = Scrubber([SENTINEL, "", None])
    text = "failed for mon/%s@db: %s; wallet_password=abc123&x=1 password=\"p w\"" % (SENTINEL, SENTINEL)
    out = scrub(text)
    assert SENTINEL not in out and "abc123" not in out and "p w" not in out
    assert "mon/********@db" in out
    other = Scrubber([])("connect as scott/tiger@orcl")
    assert "tiger" not in other and "scott/********@orcl" in other


# ------------------------------------------------------------------ connect


def test_thin_by_default_with_bounded_tcp_connect_and_no_retry():
    driver = FakeDriver()
    opened = connect(driver, settings(config_dir="/etc/tns", wallet_location="/w"), SCRUB)
    assert opened["mode"] == "thin" and opened["fallback_from"] is None
    (call, mode, kwargs), = driver.calls
    assert (call, mode) == ("connect", "thin")
    assert kwargs["tcp_connect_timeout"] == 3.0 and kwargs["retry_count"] == 0
    assert kwargs["config_dir"] == "/etc/tns" and kwargs["wallet_location"] == "/w"
    assert kwargs["mode"] == FakeDriver.AUTH_MODE_DEFAULT


def test_sysdba_mode_is_passed_to_the_driver():
    driver = FakeDriver()
    connect(driver, settings(mode="sysdba"), SCRUB)
    assert driver.calls[0][2]["mode"] == FakeDriver.AUTH_MODE_SYSDBA


def test_client_lib_dir_selects_thick_mode_without_trying_thin():
    driver = FakeDriver(thin=ERRORS["ora01017"]())
    opened = connect(driver, settings(client_lib_dir="/opt/ic19", config_dir="/etc/tns"), SCRUB)
    assert opened["mode"] == "thick" and opened["fallback_from"] is None
    assert driver.calls[0] == ("init_oracle_client", {"lib_dir": "/opt/ic19", "config_dir": "/etc/tns"})
    assert [c[1] for c in driver.calls[1:]] == ["thick"]
    assert "tcp_connect_timeout" not in driver.calls[1][2]


@pytest.mark.parametrize("error, reason", [("dpy3010", "DPY-3010"), ("dpy3015", "DPY-3015"),
                                           ("nne", "DPY-3001")])
def test_thin_falls_back_to_thick_with_the_default_client_search(error, reason):
    driver = FakeDriver(thin=ERRORS[error]())
    opened = connect(driver, settings(), SCRUB)
    assert opened["mode"] == "thick" and opened["fallback_from"] == reason
    assert [c[0] for c in driver.calls] == ["connect", "init_oracle_client", "connect"]
    assert driver.calls[1][1] == {}  # no lib_dir: LD_LIBRARY_PATH / ldconfig


@pytest.mark.parametrize("error", ["ora01017", "refused", "ora12514", "dpy4011"])
def test_other_thin_failures_do_not_fall_back(error):
    driver = FakeDriver(thin=ERRORS[error]())
    with pytest.raises(ConnectFailure):
        connect(driver, settings(), SCRUB)
    assert [c[0] for c in driver.calls] == ["connect"]


def test_fallback_without_a_client_library_keeps_the_thin_cause_and_says_how_to_enable_thick():
    driver = FakeDriver(thin=ERRORS["dpy3010"](), init=ERRORS["dpi1047"]())
    with pytest.raises(ConnectFailure) as caught:
        connect(driver, settings(), SCRUB)
    failure = caught.value
    assert failure.cause == "thin_unsupported"
    assert failure.fallback["cause"] == "client_missing" and failure.fallback["codes"] == ["DPI-1047"]
    note = oracle_conn.fallback_note(failure.fallback)
    record = valid([failure_record(failure.cause, "av-db01", "x", 30, failure.codes, note=note)])[0]
    assert "自动切换 thick 模式失败" in record["detail"] and "client_lib_dir" in record["direction"]


def test_a_thick_failure_after_fallback_is_reported_with_its_own_cause():
    driver = FakeDriver(thin=ERRORS["dpy3010"](), thick=ERRORS["ora28000"]())
    with pytest.raises(ConnectFailure) as caught:
        connect(driver, settings(), SCRUB)
    assert caught.value.cause == "locked"
    assert "DPY-3010" in oracle_conn.fallback_note(caught.value.fallback)


def test_a_password_in_a_driver_message_is_scrubbed():
    driver = FakeDriver(thin=ora(1017, "invalid username/password %s" % SENTINEL))
    with pytest.raises(ConnectFailure) as caught:
        connect(driver, settings(), SCRUB)
    assert SENTINEL not in caught.value.message and SENTINEL not in str(caught.value)


# ------------------------------------------------------------------ execute


class QueryError(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code, self.message = code, message


def test_execute_bounds_each_statement_by_query_timeout_and_the_deadline():
    conn = FakeConnection(lambda sql, binds: (["A", "B"], [(1, None)]))
    now = [100.0]
    execute = make_execute(conn, FakeDriver.Error, QueryError, 5000, deadline=110.0, scrub=SCRUB,
                           clock=lambda: now[0])
    assert execute("select 1 a, null b from dual", {"x": 1}) == (["A", "B"], [(1, None)])
    assert conn.statements[-1]["call_timeout"] == 5000 and conn.statements[-1]["binds"] == {"x": 1}
    now[0] = 107.0  # 3 s left, minus the answer margin
    execute("select 2 from dual")
    assert conn.statements[-1]["call_timeout"] == 2700
    assert conn.cursors_closed == 2


def test_execute_refuses_a_statement_when_the_module_time_is_up():
    conn = FakeConnection()
    execute = make_execute(conn, FakeDriver.Error, QueryError, 5000, deadline=10.0, scrub=SCRUB,
                           clock=lambda: 9.6)
    with pytest.raises(QueryError) as caught:
        execute("select 1 from dual")
    assert caught.value.code == "DPY-4024" and conn.statements == []


def test_execute_turns_driver_errors_into_query_errors_with_the_ora_code():
    def responder(sql, binds):
        if "v$session" in sql:
            return ora(942, "table or view does not exist")
        return ora(1013, "user requested cancel of current operation " + SENTINEL)
    conn = FakeConnection(responder)
    execute = make_execute(conn, FakeDriver.Error, QueryError, 5000, deadline=1e12, scrub=SCRUB)
    with pytest.raises(QueryError) as caught:
        execute("select count(*) from v$session")
    assert caught.value.code == "ORA-00942" and "Help:" not in caught.value.message
    with pytest.raises(QueryError) as caught:
        execute("select 1 from dual")
    assert caught.value.code == "ORA-01013" and SENTINEL not in caught.value.message
    assert conn.cursors_closed == 2


# ------------------------------------------------------------------ the run


class StatementError(QueryError):
    pass


def fake_api(describe=None, run=None):
    """The part of oracle_checks the run uses, scripted."""
    calls = []

    def describe_database(execute):
        execute("select version from v$instance")
        if isinstance(describe, Exception):
            raise describe
        return describe or {"version": "19.21.0.0.0", "cdb": False}

    def run_checks(execute, database, checks, thresholds, host, options):
        calls.append(list(checks))
        (check,) = checks
        if run and check in run:
            return run[check](execute)
        execute("select /* %s */ 1 from dual" % check)
        return [{"requirement_id": "INSP-03", "item": "检查 " + check, "host": host, "status": "ok",
                 "value": None, "unit": None, "threshold": None, "detail": check, "direction": None,
                 "consequence": None}]

    return types.SimpleNamespace(QueryError=QueryError, describe_database=describe_database,
                                 run_checks=run_checks, calls=calls,
                                 explain=lambda e: ("缺少 SELECT ON SYS.V_$INSTANCE 权限（%s）" % e.code,
                                                    "以DBA身份执行 files/oracle/create_monitor_user.sql"))


def run_inspection(driver, api, seconds=None, **overrides):
    inspection = Inspection(driver, api, settings(**overrides), SCRUB)
    wait = inspection.seconds_left() if seconds is None else seconds
    finished = within(wait + 30, run_with_deadline, inspection.run, wait)
    return finished, inspection.result(finished)


def test_a_healthy_run_checks_one_by_one_on_one_connection_and_closes_it():
    conn = FakeConnection()
    driver = FakeDriver(thin=conn)
    api = fake_api()
    finished, result = run_inspection(driver, api)
    assert finished and result["timings"]["finished"]
    assert api.calls == [["instance"], ["tablespaces"], ["sessions"]]
    assert [r["detail"] for r in result["records"]] == CHECKS
    assert [c[0] for c in driver.calls] == ["connect"] and conn.closed
    assert result["connection"] == {"mode": "thin", "fallback_from": None, "error": None}
    assert set(result["timings"]["checks_ms"]) == set(CHECKS)
    assert result["database"]["version"] == "19.21.0.0.0" and result["status"] == "ok"


def test_an_unreachable_database_gives_one_reason_and_every_check_skipped():
    finished, result = run_inspection(FakeDriver(thin=ERRORS["refused"]()), fake_api())
    records = valid(result["records"])
    assert finished
    first, *rest = records
    assert (first["requirement_id"], first["item"]) == ("INSP-02", "数据库连接与登录")
    assert first["status"] == "critical"
    assert "不可达" in first["detail"] and "unreachable" in first["detail"]
    assert [r["status"] for r in rest] == ["skipped"] * len(CHECKS)
    assert all("数据库无法连接，未检查" in r["detail"] for r in rest)
    assert [r["item"] for r in rest] == ["数据库实例状态", "表空间使用率", "会话数使用率"]
    assert result["connection"]["error"]["cause"] == "listener_refused"
    assert "Connection refused" in result["connection"]["error"]["message"]


def test_a_missing_grant_on_describe_names_the_grant_and_skips_the_checks():
    api = fake_api(describe=StatementError("ORA-00942", "ORA-00942: table or view does not exist"))
    conn = FakeConnection()
    _finished, result = run_inspection(FakeDriver(thin=conn), api)
    first, *rest = valid(result["records"])
    assert first["status"] == "error" and "SYS.V_$INSTANCE" in first["detail"]
    assert "create_monitor_user.sql" in first["direction"]
    assert all(r["status"] == "skipped" and "基本信息未取得" in r["detail"] for r in rest)
    assert conn.closed and api.calls == []


def test_a_crashing_check_is_its_own_error_and_the_others_still_run():
    def broken(execute):
        raise KeyError("used_bytes " + SENTINEL)
    api = fake_api(run={"tablespaces": broken})
    _finished, result = run_inspection(FakeDriver(), api)
    records = valid(result["records"])
    assert [r["status"] for r in records] == ["ok", "error", "ok"]
    assert "KeyError" in records[1]["detail"] and SENTINEL not in records[1]["detail"]


def test_watchdog_answers_when_connect_hangs_on_a_silent_listener():
    release = threading.Event()
    try:
        finished, result = run_inspection(FakeDriver(thin=release), fake_api(), seconds=0.3, timeout=7)
        assert not finished and not result["timings"]["finished"]
        first, *rest = valid(result["records"])
        assert first["status"] == "error" and "7 秒内未完成连接" in first["detail"]
        assert [r["status"] for r in rest] == ["skipped"] * len(CHECKS)
        assert result["connection"]["error"]["cause"] == "watchdog"
    finally:
        release.set()


def test_watchdog_keeps_finished_checks_and_marks_the_hung_one():
    release = threading.Event()

    def hang(execute):
        release.wait()
        return []
    api = fake_api(run={"tablespaces": hang})
    try:
        started = threading.Event()
        inspection = Inspection(FakeDriver(), api, settings(), SCRUB)
        original = api.run_checks

        def watched(*args):
            if args[2] == ["tablespaces"]:
                started.set()
            return original(*args)
        api.run_checks = watched
        worker = threading.Thread(target=inspection.run, daemon=True)
        worker.start()
        assert started.wait(5)
        result = inspection.result(finished=False)
        records = valid(result["records"])
        assert [r["status"] for r in records] == ["ok", "error", "skipped"]
        assert records[0]["detail"] == "instance"
        assert records[1]["item"] == "表空间使用率" and "模块时限 20 秒内未完成" in records[1]["detail"]
        assert records[2]["item"] == "会话数使用率" and "模块时限已到" in records[2]["detail"]
    finally:
        release.set()
    worker.join(5)
    assert len(inspection.result(finished=True)["records"]) == 3  # late work never reaches the answer


def test_watchdog_during_describe_is_its_own_reason():
    release = threading.Event()

    class Api:
        QueryError = QueryError
        run_checks = None

        @staticmethod
        def describe_database(execute):
            release.wait()
            return {}
    try:
        finished, result = run_inspection(FakeDriver(), Api, seconds=0.3)
        first, *rest = valid(result["records"])
        assert not finished and "读取基本信息" in first["detail"]
        assert all("基本信息未取得" in r["detail"] for r in rest)
    finally:
        release.set()


def test_checks_left_when_the_time_budget_runs_out_are_skipped_not_started():
    now = [0.0]
    api = fake_api()
    original = api.run_checks

    def slow(execute, database, checks, *rest):
        records = original(execute, database, checks, *rest)
        now[0] += 9.8  # each check "takes" most of the 20 s
        return records
    api.run_checks = slow
    inspection = Inspection(FakeDriver(), api, settings(), SCRUB, clock=lambda: now[0])
    inspection.run()
    result = inspection.result(finished=True)
    assert [r["status"] for r in result["records"]] == ["ok", "ok", "skipped"]
    assert "模块时限已到" in result["records"][2]["detail"]
