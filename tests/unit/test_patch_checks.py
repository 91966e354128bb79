"""SEC-01 pre-checks (free space, package-manager locks, repositories) and the snapshot comparison
of the post-checks, over recorded /proc text and fake statvfs answers."""

import json
import os
import pathlib
import subprocess
import sys
from types import SimpleNamespace

import jsonschema

from ansible_collections.gxtax.ops.plugins.module_utils import patch_precheck as pc
from ansible_collections.gxtax.ops.plugins.module_utils import system_snapshot as ss

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "patching"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
MB = 1024 * 1024


def valid(records):
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records


def fake_statvfs(free_mb):
    def statvfs(path):
        if free_mb[path] is None:
            raise OSError(5, "Input/output error")
        return SimpleNamespace(f_bavail=free_mb[path] * MB // 4096, f_frsize=4096, f_bsize=4096)
    return statvfs


# ---------------------------------------------------------------- free space

def test_free_space_below_the_minimum_is_critical_and_fails_the_precheck():
    records, failed = pc.free_space_records(
        "wls1", {"/": 1024, "/var": 1024, "/boot": 100},
        statvfs=fake_statvfs({"/": 5000, "/var": 300, "/boot": 150}), exists=lambda p: True)
    by_item = {r["item"]: r for r in valid(records)}
    assert failed
    assert by_item["剩余空间 /var"]["status"] == "critical"
    assert by_item["剩余空间 /var"]["value"] == 300 and by_item["剩余空间 /var"]["threshold"] == 1024
    assert "低于补丁要求的 1024 MB" in by_item["剩余空间 /var"]["detail"]
    assert by_item["剩余空间 /"]["status"] == by_item["剩余空间 /boot"]["status"] == "ok"


def test_free_space_missing_path_is_skipped_and_unreadable_is_an_error():
    records, failed = pc.free_space_records(
        "wls1", {"/": 1024, "/boot": 100, "/data": 10},
        statvfs=fake_statvfs({"/": 5000, "/data": None}), exists=lambda p: p != "/boot")
    by_item = {r["item"]: r for r in valid(records)}
    assert by_item["剩余空间 /boot"]["status"] == "skipped"
    unreadable = by_item["剩余空间 /data"]
    assert unreadable["status"] == "error" and "Input/output error" in unreadable["detail"]
    assert failed
    _records, failed = pc.free_space_records("wls1", {"/": 1024, "/boot": 100},
                                             statvfs=fake_statvfs({"/": 5000}), exists=lambda p: p == "/")
    assert not failed


def test_free_space_reads_a_real_filesystem(tmp_path):
    records, failed = pc.free_space_records("localhost", {str(tmp_path): 0})
    assert not failed and records[0]["status"] == "ok" and records[0]["value"] >= 0


# ---------------------------------------------------------------- locks

def hold_lock(path):
    """A separate process holding an fcntl write lock on path, as dpkg does (POSIX locks are
    per process: a lock of this very process would not show in F_GETLK)."""
    code = ("import fcntl, sys, time\nf = open(sys.argv[1], 'w')\nfcntl.lockf(f, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_fcntl_lock_holder_names_the_process_without_taking_the_lock(tmp_path):
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    assert pc.fcntl_lock_holder(str(lock)) == 0
    assert pc.fcntl_lock_holder(str(tmp_path / "absent")) is None
    proc = hold_lock(lock)
    try:
        assert pc.fcntl_lock_holder(str(lock)) == proc.pid
        assert pc.process_name(proc.pid).startswith("python")
    finally:
        proc.kill()
        proc.wait()
    assert pc.fcntl_lock_holder(str(lock)) == 0


def test_pid_file_holder(tmp_path):
    pid_file = tmp_path / "yum.pid"
    assert pc.pid_file_holder(str(pid_file)) is None
    pid_file.write_text("4242\n")
    assert pc.pid_file_holder(str(pid_file), alive=lambda pid: pid == 4242) == 4242
    assert pc.pid_file_holder(str(pid_file), alive=lambda pid: False) == 0  # stale
    pid_file.write_text("garbage")
    assert pc.pid_file_holder(str(pid_file)) == 0
    pid_file.write_text(str(os.getpid()))
    assert pc.pid_file_holder(str(pid_file)) == 0  # our own PID is never a foreign holder


def test_lock_record():
    record, held = pc.lock_record("db1", "apt", fcntl_holder=lambda p: 0, pid_holder=lambda p: 0)
    assert not held and valid([record])[0]["status"] == "ok"
    record, held = pc.lock_record(
        "db1", "apt", fcntl_holder=lambda p: 777 if p.endswith("lock-frontend") else 0,
        pid_holder=lambda p: 0, name_of=lambda pid: "unattended-upgr")
    assert held and record["status"] == "critical"
    assert "/var/lib/dpkg/lock-frontend 由进程 777（unattended-upgr）持有" in valid([record])[0]["detail"]
    record, held = pc.lock_record("db1", "yum", fcntl_holder=lambda p: 0,
                                  pid_holder=lambda p: 99 if p == "/var/run/yum.pid" else None,
                                  name_of=lambda pid: "yum")
    assert held and "/var/run/yum.pid" in record["detail"]

    def denied(path):
        raise PermissionError(13, "Permission denied")
    record, held = pc.lock_record("db1", "dnf", fcntl_holder=denied, pid_holder=lambda p: 0)
    assert held and valid([record])[0]["status"] == "error" and "become" in record["direction"]


# ---------------------------------------------------------------- repositories

def test_refresh_record():
    ok = pc.refresh_record("h", "apt", (0, "Hit:1 http://10.0.0.1 ./ InRelease\n", ""))
    assert ok["status"] == "ok" and "--error-on=any" in ok["detail"]
    stderr = ("E: Failed to fetch http://10.0.0.1/./InRelease  Connection refused\n"
              "E: Some index files failed to download.\n")
    bad = pc.refresh_record("h", "apt", (100, "Ign:1 http://10.0.0.1 ./ InRelease\n", stderr))
    assert valid([bad])[0]["status"] == "critical" and "Some index files failed" in bad["detail"]
    slow = pc.refresh_record("h", "dnf", (124, "", "超过 300 秒未完成 / timed out after 300 s"))
    assert slow["status"] == "critical" and "dnf -q makecache" in slow["detail"] and "300" in slow["detail"]
    skipped = pc.refresh_record("h", "yum", None, "检查模式下不刷新软件包列表")
    assert skipped["status"] == "skipped" and "检查模式" in skipped["detail"]
    assert pc.REFRESH["apt"][-1] == "--error-on=any"  # apt-get update exits 0 on a dead repo without it


# ---------------------------------------------------------------- snapshot

def test_running_services():
    text = (FIXTURES / "systemctl-running.txt").read_text()
    assert ss.parse_running_services(text) == [
        "chronyd.service", "dbus-broker.service", "oracle-ohasd.service", "sshd.service",
        "weblogic-nodemanager.service"]


def test_mountpoints_keep_real_filesystems_and_dev_shm():
    points = ss.mountpoints((FIXTURES / "mounts.txt").read_text())
    assert points == ["/", "/boot", "/data/media", "/dev/shm", "/my data", "/u01"]


def test_snapshot_leaves_out_ephemeral_ports():
    tcp = (FIXTURES / "proc-net-tcp.txt").read_text()
    snap = ss.snapshot("5.14.0-427.el9.x86_64", None, tcp, "", "", "32768\t60999\n")
    assert snap["ports"] == [22, 1521, 7001]
    assert ss.snapshot("k", None, tcp, "", "", "")["ports"] == [22, 1521, 7001]  # unreadable: 32768
    assert ss.snapshot("k", None, tcp, "", "", "50000 60999")["ports"] == [22, 1521, 7001, 41921]


def before_snapshot():
    return {"kernel": "5.14.0-362.el9.x86_64", "ports": [22, 1521, 7001],
            "services": ["chronyd.service", "oracle-ohasd.service", "sshd.service"],
            "mounts": ["/", "/dev/shm", "/u01"]}


def test_compare_finds_what_is_gone():
    after = {"kernel": "5.14.0-427.el9.x86_64", "ports": [22, 8080],
             "services": ["sshd.service", "chronyd.service"], "mounts": ["/", "/dev/shm"]}
    records = {r["item"]: r for r in valid(ss.compare(before_snapshot(), after, "db1"))}
    assert records["补丁后服务状态"]["status"] == "critical"
    assert "oracle-ohasd.service" in records["补丁后服务状态"]["detail"]
    ports, mounts, kernel = records["补丁后监听端口"], records["补丁后挂载点"], records["运行内核"]
    assert ports["status"] == "critical" and "1521、7001" in ports["detail"]
    assert mounts["status"] == "critical" and "/u01" in mounts["detail"]
    assert kernel["status"] == "ok"
    assert "由 5.14.0-362.el9.x86_64 变为 5.14.0-427.el9.x86_64" in kernel["detail"]


def test_compare_accepts_what_is_ignored_or_unchanged():
    after = dict(before_snapshot(), services=["chronyd.service", "sshd.service"], ports=[22, 1521])
    records = ss.compare(before_snapshot(), after, "db1", ignore_services=["oracle-*"], ignore_ports=[7001])
    assert {r["item"]: r["status"] for r in valid(records)} == {
        "补丁后服务状态": "ok", "补丁后监听端口": "ok", "补丁后挂载点": "ok", "运行内核": "ok"}
    assert "未变" in records[-1]["detail"]
    without_systemd = ss.compare(dict(before_snapshot(), services=None), dict(after, services=None), "h")
    assert without_systemd[0]["status"] == "skipped"
