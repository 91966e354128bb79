"""The host_inspection role for real on harness hosts: impossible thresholds stop the run before
any host is contacted; configured services, clock synchronisation and the INSP-14 basic-information
sheet reach the report in the record format."""

import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
# On the harness bridge, never given to a host: nothing answers there.
GHOST_ADDRESS = "10.231.0.250"
SECRET = "S3cret-not-for-reports"


def run_inspection(tmp_path, *inventories, extra=None):
    """ansible-playbook playbooks/inspection.yml; returns (process, report, run directory)."""
    reports = tmp_path / "reports"
    command = [str(BIN / "ansible-playbook"), "playbooks/inspection.yml",
               "-e", "gxtax_inspection_sample_seconds=0.2"]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    if extra:
        command += ["-e", json.dumps(extra)]
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), GXTAX_REPORT_ROOT=str(reports))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    archive = ReportArchive(str(reports))
    entries = archive.entries()
    assert len(entries) == 1, proc.stdout + proc.stderr
    run_dir = pathlib.Path(archive.root) / entries[0]["path"]
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)
    return proc, report, run_dir


def records_of(report, host):
    return {r["item"]: r for r in report["records"] if r["host"] == host}


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def console_log(harness, host):
    # sshd -e logs every connection, even one that never logs in, to the host's console
    return (harness.dir / "hosts" / host.name / "console.log").read_text(encoding="utf-8", errors="replace")


def test_impossible_thresholds_fail_before_any_host_is_touched(harness_factory, tmp_path):
    harness = harness_factory(count=1)
    host = harness.hosts[0]
    inventory = harness.write_inventory(tmp_path / "hosts.yml")
    # A second host at an address where nothing listens: had the run tried to connect, it would
    # be reported unreachable (exit 4), not failed by the assert (exit 2).
    ghost = write_yaml(tmp_path / "ghost.yml", {"all": {"hosts": {"gxt-ghost": {
        "ansible_host": GHOST_ADDRESS, "ansible_user": "root",
        "ansible_ssh_common_args": "-o ConnectTimeout=3"}}}})
    log_before = console_log(harness, host)
    assert not (host.root / "root" / ".ansible").exists()

    proc, report, _run_dir = run_inspection(
        tmp_path, inventory, ghost,
        extra={"gxtax_inspection_thresholds": {"cpu_warning": 120, "memory_warning": 96,
                                               "memory_critical": 95}})

    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output  # 2: tasks failed; 4 would mean a host was unreachable
    assert "阈值配置不可用" in output and "impossible thresholds" in output
    assert "cpu_warning" in output and "120" in output
    assert "memory_warning (96) is above critical threshold memory_critical (95)" in output
    for name in (host.name, "gxt-ghost"):
        state = report["hosts"][name]
        assert state["state"] == "failed", state
        assert "cpu_warning" in state["message"]
        assert records_of(report, name) == {}
    # The harness host saw no connection at all and has no trace of Ansible.
    assert console_log(harness, host) == log_before
    assert not (host.root / "root" / ".ansible").exists()


def test_unknown_threshold_key_is_refused_before_the_host_too(harness_factory, tmp_path):
    harness = harness_factory(count=1)
    host = harness.hosts[0]
    inventory = harness.write_inventory(tmp_path / "hosts.yml")
    log_before = console_log(harness, host)
    proc, report, _ = run_inspection(tmp_path, inventory,
                                     extra={"gxtax_inspection_thresholds": {"filesytem_warning": 70}})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "filesytem_warning" in proc.stdout  # the argument spec names the unknown key
    assert report["hosts"][host.name]["state"] == "failed"
    assert console_log(harness, host) == log_before


def inspection_vars(tmp_path, hosts, services):
    """Inventory with INSP-14 data, per-host expected services, and a credential that must not leak."""
    return write_yaml(tmp_path / "inspection-vars.yml", {"all": {
        "vars": {
            "gxtax_oracle_password": SECRET,
            "gxtax_inspection_software": {"Oracle Database": "19.21.0.0", "oracle_password": SECRET},
            "gxtax_inspection_backup_info": {"方式": "RMAN 每日 01:00 全备", "保留": "7 天"},
            "gxtax_inspection_contacts": [{"name": "张三", "role": "数据库管理员", "phone": "0771-5550000"}],
        },
        "hosts": {host.name: {"gxtax_inspection_expected_services": names}
                  for host, names in zip(hosts, services, strict=True)},
    }})


def assert_basic_info(report, host, platform=None):
    mine = records_of(report, host.name)
    sheet = {item: r for item, r in mine.items() if r["requirement_id"] == "INSP-14"}
    assert sheet["基本信息 主机名"]["value"] == host.name
    assert host.address + "/24" in sheet["基本信息 IP地址"]["value"]
    assert sheet["基本信息 操作系统"]["value"].startswith("Debian 12")
    assert sheet["基本信息 软件版本 Oracle Database"]["value"] == "19.21.0.0"
    assert sheet["基本信息 软件版本 OpenSSH"]["status"] == "ok"
    assert sheet["基本信息 相关接口人"]["value"] == "张三（数据库管理员，0771-5550000）"
    assert "RMAN" in sheet["基本信息 备份信息"]["value"]
    if platform:
        assert platform in sheet["基本信息 所属平台"]["value"]
    assert {r["status"] for r in sheet.values()} <= {"ok", "skipped"}
    return mine


def test_services_clock_and_basic_info_on_plain_hosts(plain_hosts, tmp_path):
    h1, h2 = plain_hosts.hosts[:2]
    inventory = plain_hosts.write_inventory(tmp_path / "hosts.yml", groups={"publicity": [h1.name]})
    extra_vars = inspection_vars(tmp_path, [h1, h2], [["sshd"], ["nosuchd"]])
    proc, report, run_dir = run_inspection(tmp_path, inventory, extra_vars)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    first = assert_basic_info(report, h1, platform="行政执法信息公示平台")
    second = assert_basic_info(report, h2)
    assert first["服务 sshd"]["status"] == "ok"
    assert "PID 1" in first["服务 sshd"]["detail"]  # sshd is PID 1 of a plain host
    missing = second["服务 nosuchd"]
    assert missing["status"] == "critical" and missing["direction"] and missing["consequence"]
    for mine in (first, second):
        # plain hosts run no time service: a warning with advice, never an error
        assert mine["时钟同步"]["status"] == "warning"
        assert "时间不同步导致日志、审计时间错乱" in mine["时钟同步"]["consequence"]
        assert mine["时钟偏差"]["status"] == "skipped"
    for host in plain_hosts.hosts:
        assert report["hosts"][host.name]["state"] == "ok"
    for name in ("report.json", "report.html", "summary.txt"):
        assert SECRET not in (run_dir / name).read_text(encoding="utf-8")


def test_services_by_systemd_on_a_systemd_host(systemd_host, tmp_path):
    host = systemd_host.hosts[0]
    inventory = systemd_host.write_inventory(tmp_path / "hosts.yml")
    extra_vars = inspection_vars(tmp_path, [host], [["sshd", "nosuchd"]])
    proc, report, _ = run_inspection(tmp_path, inventory, extra_vars)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mine = assert_basic_info(report, host)
    assert mine["服务 sshd"]["status"] == "ok"
    assert "ssh.service" in mine["服务 sshd"]["detail"]  # Debian's unit, found by its alias
    assert mine["服务 nosuchd"]["status"] == "critical"
    assert "systemd 中没有该单元" in mine["服务 nosuchd"]["detail"]
    assert mine["时钟同步"]["status"] != "error"
    assert mine["基本信息 设备类型"]["value"].startswith("容器")


def test_chrony_synchronised_host_reports_its_offset(harness_factory, tmp_path):
    """A real chronyd (not allowed to set the clock: -x) synchronised to another harness host."""
    harness = harness_factory(count=2)
    server, client = harness.hosts
    repo = harness.apt_repo(["chrony"])
    for host in (server, client):
        repo.configure(host)
        harness.ssh(host, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q chrony", check=True)
    harness.ssh(server, "printf 'local stratum 8\\nallow 10.231.0.0/24\\n' > /etc/chrony/gxt.conf"
                        " && chronyd -x -f /etc/chrony/gxt.conf", check=True)
    harness.ssh(client, "printf 'server %s iburst minpoll 0 maxpoll 2\\n' > /etc/chrony/gxt.conf"
                        " && chronyd -x -f /etc/chrony/gxt.conf"
                        " && chronyc waitsync 30 0 0 1" % server.address, check=True)
    inventory = harness.write_inventory(tmp_path / "hosts.yml")
    proc, report, _ = run_inspection(tmp_path, inventory,
                                     extra={"gxtax_inspection_expected_services": ["chronyd"]})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mine = records_of(report, client.name)
    assert mine["时钟同步"]["status"] == "ok"
    assert "chronyd" in mine["时钟同步"]["detail"] and server.address in mine["时钟同步"]["detail"]
    offset = mine["时钟偏差"]
    assert offset["status"] == "ok" and offset["unit"] == "ms"  # same kernel clock: microseconds apart
    assert offset["threshold"] == {"warning": 100, "critical": 1000}
    assert mine["服务 chronyd"]["status"] == "ok"
    # the server has no reference of its own ("local" only): chronyd reports it as synchronised
    # to itself or not; either way it is not an error
    assert records_of(report, server.name)["时钟同步"]["status"] in ("ok", "warning")
