"""gxtax.ops.oracle_health as a module: arguments, secrets, check mode, validation, and the whole
path (fake driver -> oracle_conn -> oracle_checks -> records) over recorded result rows.

main() runs in-process with patched module arguments and a fake `oracledb` (tests/unit/fake_oracle.py);
the rows come from the checks' recorded fixtures (tests/unit/fixtures/oracle). No Oracle server.
"""

import json
import pathlib
import threading

import jsonschema
import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_checks
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_sql import statement_name
from ansible_collections.gxtax.ops.plugins.modules import oracle_health
from tests.unit.fake_oracle import ERRORS, FakeConnection, FakeDriver, recorded_responder, within

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
ROWS = ROOT / "tests" / "unit" / "fixtures" / "oracle"
SENTINEL = "Sentinel-Pw-4417"


def run_module(monkeypatch, capsys, driver, **args):
    """main() with these arguments; (result dict, raw stdout)."""
    args.setdefault("dsn", "192.0.2.11:1521/GSGS")
    args.setdefault("host", "pub-db01")
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(oracle_health, "oracledb", driver)
    with pytest.raises(SystemExit):
        within(60, oracle_health.main)  # the module must answer; a hang fails the test
    out = capsys.readouterr().out
    return json.loads(out), out


def valid(records):
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records


def test_unreachable_database_returns_records_not_a_failure(monkeypatch, capsys):
    result, out = run_module(monkeypatch, capsys, FakeDriver(thin=ERRORS["refused"]()),
                             user="gxtax_monitor", password=SENTINEL)
    assert result["changed"] is False and not result.get("failed")
    records = valid(result["records"])
    assert records[0]["status"] == "critical" and "不可达" in records[0]["detail"]
    assert len(records) == 1 + len(oracle_checks.CHECKS)
    assert [r["item"] for r in records[1:]] == [oracle_checks.CHECK_ITEMS[c] for c in oracle_checks.CHECKS]
    assert result["status"] == "critical" and result["connection"]["dsn"] == "192.0.2.11:1521/GSGS"
    assert SENTINEL not in out
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_a_password_inside_the_dsn_is_used_and_never_shown(monkeypatch, capsys):
    driver = FakeDriver(thin=ERRORS["ora01017"]())
    dsn = "gxtax_monitor/%s@192.0.2.11:1521/GSGS" % SENTINEL
    result, out = run_module(monkeypatch, capsys, driver, dsn=dsn)
    kwargs = driver.calls[0][2]
    assert (kwargs["user"], kwargs["password"]) == ("gxtax_monitor", SENTINEL)
    assert kwargs["dsn"] == "192.0.2.11:1521/GSGS"
    assert SENTINEL not in out
    assert result["records"][0]["status"] == "error" and "ORA-01017" in result["records"][0]["detail"]
    assert "gxtax_monitor/********@" in result["invocation"]["module_args"]["dsn"]


def test_wallet_password_is_no_log_too(monkeypatch, capsys):
    driver = FakeDriver(thin=ERRORS["ora12514"]())
    result, out = run_module(monkeypatch, capsys, driver, user="u", password="Test-Pw-0002",
                             wallet_location="/etc/wallet", wallet_password=SENTINEL)
    assert driver.calls[0][2]["wallet_password"] == SENTINEL
    assert SENTINEL not in out and result["records"][0]["status"] == "critical"


def test_check_mode_runs_the_read_only_checks(monkeypatch, capsys):
    conn = FakeConnection(recorded_responder(ROWS / "19c-noncdb.json", statement_name))
    result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), user="u", password="Test-Pw-0001",
                              checks=["instance"], _ansible_check_mode=True)
    assert result["changed"] is False
    assert [r["status"] for r in result["records"]] == ["ok"]
    assert conn.statements and conn.closed


@pytest.mark.parametrize("args, words", [
    ({"thresholds": {"tablespace_warning": 95, "tablespace_critical": 90}}, "tablespace_warning"),
    ({"thresholds": {"tablespaces": 90}}, "unknown threshold"),
    ({"options": {"lock_ignore_types": "AE"}}, "lock_ignore_types"),
    ({"timeout": 0}, "timeout"),
])
def test_impossible_settings_fail_before_any_connection(monkeypatch, capsys, args, words):
    driver = FakeDriver()
    result, _out = run_module(monkeypatch, capsys, driver, user="u", password="Test-Pw-0001", **args)
    assert result["failed"] and words in result["msg"]
    assert driver.calls == []


def test_unknown_check_names_are_refused_by_the_argument_spec(monkeypatch, capsys):
    result, _out = run_module(monkeypatch, capsys, FakeDriver(), checks=["tablespace"])
    assert result["failed"] and "tablespace" in result["msg"]


def test_missing_driver_fails_with_the_library_name(monkeypatch, capsys):
    result, _out = run_module(monkeypatch, capsys, None, user="u", password="Test-Pw-0001")
    assert result["failed"] and "oracledb" in result["msg"]


def test_thin_to_thick_fallback_is_reported(monkeypatch, capsys):
    conn = FakeConnection(recorded_responder(ROWS / "11.2.json", statement_name))
    driver = FakeDriver(thin=ERRORS["dpy3010"](), thick=conn)
    result, _out = run_module(monkeypatch, capsys, driver, user="u", password="Test-Pw-0001",
                              checks=["instance"])
    assert result["connection"]["mode"] == "thick" and result["connection"]["fallback_from"] == "DPY-3010"
    assert result["database"]["version"].startswith("11.2")
    assert [r["status"] for r in valid(result["records"])] == ["ok"]


def test_mode_sysdba_reaches_driver_and_checks(monkeypatch, capsys):
    seen = {}

    def run_checks(execute, database, checks, thresholds, host, options):
        seen.update(options)
        return []
    monkeypatch.setattr(oracle_checks, "run_checks", run_checks)
    conn = FakeConnection(recorded_responder(ROWS / "19c-noncdb.json", statement_name))
    driver = FakeDriver(thin=conn)
    run_module(monkeypatch, capsys, driver, user="sys", password="Test-Pw-0001", mode="sysdba",
               checks=["instance"])
    assert driver.calls[0][2]["mode"] == FakeDriver.AUTH_MODE_SYSDBA and seen["sysdba"] is True


def test_the_module_answers_by_its_deadline_when_the_driver_hangs(monkeypatch, capsys):
    release = threading.Event()
    try:
        result, _out = run_module(monkeypatch, capsys, FakeDriver(thin=release), user="u",
                                  password="Test-Pw-0001", timeout=1, checks=["instance", "locks"])
    finally:
        release.set()
    assert result["timings"]["finished"] is False
    assert [r["status"] for r in valid(result["records"])] == ["error", "skipped", "skipped"]
    assert result["connection"]["error"]["cause"] == "watchdog"


@pytest.mark.parametrize("fixture, version", [("11.2.json", "11.2"), ("19c-noncdb.json", "19."),
                                              ("19c-cdb-root.json", "19."), ("19c-pdb.json", "19.")])
def test_recorded_databases_give_schema_valid_records_for_every_check(monkeypatch, capsys, fixture, version):
    conn = FakeConnection(recorded_responder(ROWS / fixture, statement_name))
    result, out = run_module(monkeypatch, capsys, FakeDriver(thin=conn), user="u", password=SENTINEL)
    records = valid(result["records"])
    assert result["database"]["version"].startswith(version)
    assert result["timings"]["finished"] is True
    assert set(result["timings"]["checks_ms"]) == set(oracle_checks.CHECKS)
    requirements = {r["requirement_id"] for r in records}
    assert {oracle_checks.REQUIREMENT_IDS[c] for c in oracle_checks.CHECKS} <= requirements
    assert not [r for r in records if "检查程序异常" in r["detail"]]  # no check crashed in our plumbing
    assert all(s["call_timeout"] == 10000 for s in conn.statements)  # query_timeout 10 s, in ms
    assert conn.closed and SENTINEL not in out
