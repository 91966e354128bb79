"""INSP-02 under network faults: gxtax.ops.oracle_health run by the real `ansible` command against
loopback doubles, with the real python-oracledb driver in thin mode. No Oracle server is involved.

- SilentListener: a TCP server on 127.0.0.1 that accepts connections and never sends a byte, as a
  hung listener (or a firewall that lets SYN through and drops data) looks to a client. It is not
  an Oracle listener; the driver's connect blocks reading the listener's reply, which is what the
  module's watchdog must survive.
- A closed loopback port: nothing listens, the kernel refuses the connection.

Each subprocess has a generous timeout of its own; the assertions are about what the module
answered (its error record) and that it ended, never about how long it took (bench/ has figures).
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import threading

import jsonschema
import pytest

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
SENTINEL = "Sentinel-Pw-9902-oracle"
CHECKS = "instance,tablespaces,sessions"


class SilentListener:
    """Accepts TCP connections on loopback and keeps them open without ever answering."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_listener():
    listener = SilentListener()
    yield listener
    listener.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound then released: nothing listens there
    return port


def run_module(args, verbosity=None):
    """`ansible localhost -m gxtax.ops.oracle_health -a <json>`; (result, stdout + stderr)."""
    command = [str(BIN / "ansible"), "localhost", "-c", "local", "-o",
               "-e", "ansible_python_interpreter=%s" % sys.executable,
               "-m", "gxtax.ops.oracle_health", "-a", json.dumps(args)]
    if verbosity:
        command.insert(2, verbosity)
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(text for text in proc.stdout.splitlines() if text.startswith("localhost | SUCCESS =>"))
    return json.loads(line.split("=>", 1)[1]), proc.stdout + proc.stderr


def test_silent_listener_gives_an_error_record_by_the_module_deadline(silent_listener):
    result, output = run_module({"dsn": "127.0.0.1:%d/GSGS" % silent_listener.port, "user": "gxtax_monitor",
                                 "password": SENTINEL, "timeout": 3, "host": "pub-db01", "checks": CHECKS})
    assert silent_listener.accepted, "the driver never reached the double"
    records = result["records"]
    for record in records:
        jsonschema.validate(record, SCHEMA)
    first = records[0]
    assert (first["requirement_id"], first["status"]) == ("INSP-02", "error")
    assert "3 秒内未完成连接" in first["detail"] and "never replied" in first["detail"]
    assert [r["status"] for r in records[1:]] == ["skipped"] * 3
    assert all("数据库无法连接，未检查" in r["detail"] for r in records[1:])
    assert result["connection"]["error"]["cause"] == "watchdog"
    assert result["timings"]["finished"] is False
    assert SENTINEL not in output


def test_closed_port_gives_the_unreachable_message(closed_port):
    result, output = run_module({"dsn": "127.0.0.1:%d/GSGS" % closed_port, "user": "gxtax_monitor",
                                 "password": SENTINEL, "timeout": 10, "host": "pub-db01", "checks": CHECKS})
    first = result["records"][0]
    jsonschema.validate(first, SCHEMA)
    assert first["status"] == "critical"
    assert "不可达" in first["detail"] and "connection refused" in first["detail"]
    assert "lsnrctl status" in first["direction"]
    assert result["connection"]["error"]["cause"] == "listener_refused"
    assert "Connection refused" in result["connection"]["error"]["message"]
    assert result["timings"]["finished"] is True
    assert SENTINEL not in output


def test_credentials_in_the_dsn_stay_out_of_verbose_output(silent_listener):
    dsn = "gxtax_monitor/%s@127.0.0.1:%d/GSGS" % (SENTINEL, silent_listener.port)
    result, output = run_module({"dsn": dsn, "timeout": 2, "host": "pub-db01", "checks": "instance"},
                                verbosity="-vvv")
    assert result["records"][0]["status"] == "error"
    assert result["connection"]["dsn"] == "127.0.0.1:%d/GSGS" % silent_listener.port
    assert SENTINEL not in output


# ------------------------------------------------------------------ the role through ansible-playbook


def test_role_reports_each_database_fault_and_nothing_for_other_hosts(tmp_path, silent_listener, closed_port):
    """oracle_inspection over loopback doubles: refused, silent, unconfigured, plus expdp on the host."""
    expdp = tmp_path / "expdp"
    expdp.mkdir()
    with open(expdp / "expdp_full_20261127_01.dmp", "wb") as handle:
        handle.truncate(3 << 20)
    (expdp / "expdp_full_20261127.log").write_bytes(
        (ROOT / "tests" / "unit" / "fixtures" / "expdp" / "schema_19c_errors.log").read_bytes())
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "oracle_db": {
                "vars": {"gxtax_oracle_user": "gxtax_monitor", "gxtax_oracle_password": "{{ vault_pw }}",
                         "vault_pw": SENTINEL, "gxtax_oracle_service_name": "GSGS",
                         "gxtax_inspection_oracle_timeout": 3},
                "hosts": {
                    "db-refused": {"ansible_host": "127.0.0.1", "gxtax_oracle_listener_port": closed_port,
                                   "gxtax_oracle_expdp_directory": str(expdp),
                                   "gxtax_oracle_expdp_dump_pattern": "expdp_full_*.dmp"},
                    "db-silent": {"ansible_host": "127.0.0.1",
                                  "gxtax_oracle_listener_port": silent_listener.port},
                    "db-unset": {"ansible_host": "127.0.0.1", "gxtax_oracle_service_name": ""},
                    "db-badconf": {"ansible_host": "127.0.0.1", "gxtax_oracle_listener_port": closed_port,
                                   "gxtax_inspection_oracle_thresholds": {"tablespace_warning": 95,
                                                                          "tablespace_critical": 90}}}},
            "other": {"hosts": {"plain1": {}}}}}}
    (tmp_path / "hosts.yml").write_text(json.dumps(inventory), encoding="utf-8")
    (tmp_path / "play.yml").write_text(json.dumps([{
        "name": "INSP-02 | oracle_inspection test play", "hosts": "all", "gather_facts": False,
        "vars": {"gxtax_report_kind": "inspection"},
        "roles": [{"role": "gxtax.ops.oracle_inspection"}]}]), encoding="utf-8")
    reports = tmp_path / "reports"
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                           str(tmp_path / "play.yml")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, GXTAX_REPORT_ROOT=str(reports),
                                   PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert SENTINEL not in proc.stdout + proc.stderr
    (report_path,) = reports.glob("inspection/*/*/*/*/report.json")
    assert SENTINEL not in "".join(p.read_text(encoding="utf-8", errors="replace")
                                   for p in reports.rglob("*") if p.is_file())
    report = json.loads(report_path.read_text(encoding="utf-8"))
    login = {r["host"]: r for r in report["records"] if r["item"] == "数据库连接与登录"}
    assert login["db-refused"]["status"] == "critical" and "不可达" in login["db-refused"]["detail"]
    assert login["db-silent"]["status"] == "error" and "未完成连接" in login["db-silent"]["detail"]
    assert login["db-unset"]["status"] == "error" and "配置不完整" in login["db-unset"]["detail"]
    # impossible thresholds fail the module before it connects; the role records why
    assert login["db-badconf"]["status"] == "error" and "tablespace_warning" in login["db-badconf"]["detail"]
    by_host = {}
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)
        by_host.setdefault(record["host"], []).append(record)
    assert "plain1" not in by_host
    assert len(by_host["db-unset"]) == 1  # no connection attempt, no check records
    assert len(by_host["db-badconf"]) == 1
    skipped = [r for r in by_host["db-silent"] if r["status"] == "skipped"]
    assert skipped and all("数据库无法连接" in r["detail"] for r in skipped)
    expdp_records = {r["item"]: r["status"] for r in by_host["db-refused"] if "expdp" in r["item"]}
    assert expdp_records == {"逻辑备份（expdp）最新转储文件": "ok", "逻辑备份（expdp）转储文件大小": "ok",
                             "逻辑备份（expdp）导出日志": "warning"}
