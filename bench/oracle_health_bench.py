"""Benchmark: gxtax.ops.oracle_health's own overhead per database, with a fake driver.

Prints figures only; asserts nothing. Goal from issue 4: < 1 s per database of the module's own
work (everything but the database's time to answer). No Oracle server: the driver is the test
double of tests/unit/fake_oracle.py, answering from the checks' recorded rows
(tests/unit/fixtures/oracle, 11.2 / 19c non-CDB / CDB root / PDB) in no time, so the figures are
our Python: connect plumbing, the watchdog thread, call_timeout per statement, the checks'
grading, and for `module` also AnsibleModule's argument handling and JSON output.

- plumbing: oracle_conn.Inspection with checks that run one trivial statement each (orchestration only)
- checks:   oracle_conn.Inspection with the real oracle_checks over recorded rows
- module:   oracle_health.main() in-process with patched arguments (what one task costs minus Ansible)
- watchdog: how long after its `timeout` the module answers a silent loopback listener (real driver)
"""

import contextlib
import io
import json
import os
import pathlib
import socket
import statistics
import sys
import threading
import time
import types

import oracledb

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "collections"), str(ROOT)]

from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.common.text.converters import to_bytes  # noqa: E402

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_checks, oracle_conn  # noqa: E402
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_sql import statement_name  # noqa: E402
from ansible_collections.gxtax.ops.plugins.modules import oracle_health  # noqa: E402
from tests.unit.fake_oracle import FakeConnection, FakeDriver, recorded_responder  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "50"))
FIXTURES = ["11.2", "19c-noncdb", "19c-cdb-root", "19c-pdb"]
ROWS = ROOT / "tests" / "unit" / "fixtures" / "oracle"


PASSWORD = "bench-pw-0000"  # noqa: S105 - a fake driver's password


def settings():
    return dict(dsn="192.0.2.11:1521/GSGS", user="gxtax_monitor", password=PASSWORD, mode="normal",
                client_lib_dir=None, config_dir=None, wallet_location=None, wallet_password=None,
                connect_timeout=10.0, query_timeout_ms=10000, timeout=30.0, checks=list(oracle_checks.CHECKS),
                thresholds=dict(oracle_checks.DEFAULT_THRESHOLDS), options={"sysdba": False},
                host="pub-db01", target="192.0.2.11:1521/GSGS")


def trivial_api():
    def run_checks(execute, database, checks, thresholds, host, options):
        execute("select 1 from dual")
        return [oracle_checks.error_record(checks[0], host, oracle_checks.QueryError("ORA-00000", "x"))]
    return types.SimpleNamespace(QueryError=oracle_checks.QueryError, run_checks=run_checks,
                                 describe_database=lambda execute: {"version": "19.0.0.0.0"})


def inspect_once(driver, api):
    inspection = oracle_conn.Inspection(driver, api, settings(), oracle_conn.Scrubber([PASSWORD]))
    start = time.perf_counter()
    finished = oracle_conn.run_with_deadline(inspection.run, inspection.seconds_left())
    result = inspection.result(finished)
    return time.perf_counter() - start, result


def module_once(fixture):
    conn = FakeConnection(recorded_responder(ROWS / (fixture + ".json"), statement_name))
    args = {"dsn": "192.0.2.11:1521/GSGS", "user": "gxtax_monitor", "password": PASSWORD,
            "host": "pub-db01"}
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    oracle_health.oracledb = FakeDriver(thin=conn)
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        oracle_health.main()
    elapsed = time.perf_counter() - start
    return elapsed, json.loads(out.getvalue()), len(conn.statements)


def figures(samples):
    ms = sorted(s * 1000.0 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return "median=%.1fms p95=%.1fms max=%.1fms" % (statistics.median(ms), p95, ms[-1])


def watchdog(timeout):
    """The real driver in thin mode against a listener that accepts and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    threading.Thread(target=lambda: held.extend(server.accept() for _ in range(1)), daemon=True).start()
    values = dict(settings(), dsn="127.0.0.1:%d/GSGS" % server.getsockname()[1], timeout=timeout,
                  connect_timeout=min(10.0, timeout / 3.0))
    inspection = oracle_conn.Inspection(oracledb, oracle_checks, values, oracle_conn.Scrubber([]))
    start = time.perf_counter()
    wait = inspection.seconds_left() - oracle_conn.ANSWER_MARGIN_S
    finished = oracle_conn.run_with_deadline(inspection.run, wait)
    result = inspection.result(finished)
    elapsed = time.perf_counter() - start
    server.close()
    return elapsed, result["connection"]["error"]["cause"]


def main():
    plumbing = [inspect_once(FakeDriver(), trivial_api())[0] for _ in range(REPEAT)]
    print("plumbing checks=%d repeat=%d %s" % (len(oracle_checks.CHECKS), REPEAT, figures(plumbing)))
    for fixture in FIXTURES:
        samples, records = [], 0
        for _ in range(REPEAT):
            conn = FakeConnection(recorded_responder(ROWS / (fixture + ".json"), statement_name))
            elapsed, result = inspect_once(FakeDriver(thin=conn), oracle_checks)
            samples.append(elapsed)
            records = len(result["records"])
        print("checks db=%s statements=%d records=%d %s"
              % (fixture, len(conn.statements), records, figures(samples)))
    for fixture in FIXTURES:
        samples = []
        for _ in range(REPEAT):
            elapsed, result, statements = module_once(fixture)
            samples.append(elapsed)
        print("module db=%s statements=%d records=%d status=%s %s"
              % (fixture, statements, len(result["records"]), result["status"], figures(samples)))
    for timeout in (2.0, 5.0):
        elapsed, cause = watchdog(timeout)
        print("watchdog timeout=%.0fs answered_after=%.2fs overshoot=%+.0fms cause=%s"
              % (timeout, elapsed, (elapsed - timeout) * 1000.0, cause))


if __name__ == "__main__":
    main()
