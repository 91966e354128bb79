"""INSP-01 host metrics: /proc parsers, grading into records, threshold checks, and the live module."""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import host_metrics as hm

ROOT = pathlib.Path(__file__).parents[2]
PROC = pathlib.Path(__file__).parent / "fixtures" / "proc"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))


def proc(name):
    return (PROC / name).read_text(encoding="utf-8")


def st(blocks, bfree, bavail, files, ffree):
    """A statvfs result with 4 KiB blocks."""
    return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": blocks, "f_bfree": bfree, "f_bavail": bavail,
            "f_files": files, "f_ffree": ffree}


# statvfs results the module would have gathered for fixtures/proc/mounts
STATVFS = {
    "/": st(1000, 150, 100, 1000, 100),           # space 89.5% warning, inodes 90% critical
    "/boot": st(1000, 900, 900, 100, 50),         # 10% / 50%
    "/boot/efi": st(100, 50, 50, 0, 0),           # vfat: no inode figures
    "/var": st(1000, 100, 50, 1000, 900),         # 94.7% critical
    "/u01": st(1000, 200, 200, 1000, 1000),       # exactly 80% -> warning
    "/arch": "statvfs /arch timed out",            # hung NFS
    "/data files": st(0, 0, 0, 0, 0),             # reports no size
    # /mnt/share deliberately missing: not collected
}

ZOMBIE_STATS = [
    "1 (systemd) S 0 1 1 0 -1 4194560",
    "2345 (evil) Z 1) S 1 2345 2345 0",           # comm holding ") Z": really state S
    "3456 (ora_pmon_orcl) Z 777 3456 3456 0",
    "3457 (sh) Z 777 3457 3457 0",
    "4567 (java) Z 888 4567 4567 0",
]


def raw_inputs(**overrides):
    raw = {
        "stat_before": proc("stat_before"), "stat_after": proc("stat_after"),
        "loadavg": proc("loadavg"), "meminfo": proc("meminfo"),
        "diskstats_before": proc("diskstats_before"), "diskstats_after": proc("diskstats_after"),
        "interval": 2.0, "dm_names": {"dm-0": "rootvg-root"},
        "mounts": proc("mounts"), "statvfs": dict(STATVFS),
        "uptime": proc("uptime"), "pid_stats": ZOMBIE_STATS,
        "tcp": proc("net_tcp"), "tcp6": proc("net_tcp6"),
        "clock_attempts": [attempt("chronyc", 0, proc("chronyc_tracking_synced"))],
    }
    raw.update(overrides)
    return raw


def attempt(tool, rc, stdout="", stderr=""):
    return {"tool": tool, "rc": rc, "stdout": stdout, "stderr": stderr}


def by_item(records):
    return {r["item"]: r for r in records}


def assert_valid(records):
    assert records
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["requirement_id"] == "INSP-01"


# ---------------------------------------------------------------- parsers


def test_cpu_usage_between_two_samples_excludes_guest_time():
    # deltas: user 600, system 150, idle 200, iowait 50 (+100 guest, already inside user)
    assert hm.cpu_usage(proc("stat_before"), proc("stat_after")) == {
        "busy_pct": 75.0, "iowait_pct": 5.0, "count": 2}


def test_cpu_usage_refuses_samples_that_did_not_advance():
    with pytest.raises(ValueError, match="did not advance"):
        hm.cpu_usage(proc("stat_before"), proc("stat_before"))


def test_proc_stat_without_cpu_line_is_an_error():
    with pytest.raises(ValueError, match="no aggregate"):
        hm.parse_proc_stat("intr 1 2 3\nctxt 5\n")


def test_load_average_per_cpu_uses_five_minute_load():
    load = hm.load_average(proc("loadavg"), proc("stat_after"))
    assert load == {"load1": 3.4, "load5": 2.8, "load15": 1.2, "running": 3, "threads": 512,
                    "cpu_count": 2, "per_cpu": 1.4}


def test_memory_usage_is_based_on_memavailable():
    assert hm.memory_usage(proc("meminfo")) == {
        "total_kb": 16000000, "available_kb": 4000000, "used_pct": 75.0,
        "swap_total_kb": 4000000, "swap_free_kb": 3000000, "swap_used_pct": 25.0}


def test_memory_usage_estimates_available_on_old_kernels_and_no_swap():
    mem = hm.memory_usage(proc("meminfo_rhel6"))
    assert mem["available_kb"] == 3500000  # MemFree + Buffers + Cached + SReclaimable
    assert mem["used_pct"] == 65.0
    assert mem["swap_used_pct"] is None


def test_disk_io_keeps_whole_disks_and_device_mapper_only():
    devices = hm.disk_io(proc("diskstats_before"), proc("diskstats_after"), 2.0)["devices"]
    # loop0/sr0 skipped by name, sda1/sda2/sdp1/nvme0n1p1 as partitions, sda3 has no full counters;
    # dm-10 and md10 are not partitions of dm-1 and md1.
    assert sorted(devices) == ["dm-0", "dm-1", "dm-10", "md1", "md10", "nvme0n1", "sda", "sdp"]


def test_disk_io_figures():
    disks = hm.disk_io(proc("diskstats_before"), proc("diskstats_after"), 2.0, {"dm-0": "rootvg-root"})
    assert disks["interval"] == 2.0
    assert disks["devices"]["sda"] == {"alias": None, "util_pct": 85.0, "await_ms": 5.0, "ios": 200,
                                       "reads_per_s": 50.0, "writes_per_s": 50.0}
    dm0 = disks["devices"]["dm-0"]
    assert (dm0["alias"], dm0["util_pct"], dm0["await_ms"], dm0["ios"]) == ("rootvg-root", 95.0, 60.0, 10)
    assert disks["devices"]["dm-1"]["await_ms"] == 0.0  # no IO in the sample: no division by zero


def test_disk_io_caps_util_at_100_and_skips_reset_counters():
    before = "8 0 sda 10 0 0 10 10 0 0 10 0 1000 0\n8 16 sdb 50 0 0 10 10 0 0 10 0 100 0\n"
    after = "8 0 sda 20 0 0 20 20 0 0 20 0 4000 0\n8 16 sdb 5 0 0 10 10 0 0 10 0 100 0\n"
    devices = hm.disk_io(before, after, 1.0)["devices"]
    assert devices["sda"]["util_pct"] == 100.0
    assert "sdb" not in devices


@pytest.mark.parametrize("interval", [0, -1, None])
def test_disk_io_needs_a_positive_interval(interval):
    with pytest.raises(ValueError, match="interval"):
        hm.disk_io(proc("diskstats_before"), proc("diskstats_after"), interval)


@pytest.mark.parametrize("name,names,expected", [
    ("sda1", {"sda"}, True),
    ("sda10", {"sda"}, True),
    ("sdp1", {"sdp"}, True),
    ("nvme0n1p1", {"nvme0n1"}, True),
    ("mmcblk0p2", {"mmcblk0"}, True),
    ("dm-10", {"dm-1"}, False),
    ("md10", {"md1"}, False),
    ("nvme0n1", {"nvme0"}, False),
    ("sdb1", {"sda"}, False),
    ("sda", {"sda"}, False),
])
def test_is_partition_follows_kernel_naming(name, names, expected):
    assert hm.is_partition(name, names | {name}) is expected


def test_parse_mounts_unescapes_octal():
    mounts = hm.parse_mounts(proc("mounts"))
    assert {"device": "/dev/sdb1", "mountpoint": "/data files", "fstype": "ext4",
            "options": "rw,relatime"} in mounts


def test_select_filesystems_defaults():
    chosen = hm.select_filesystems(hm.parse_mounts(proc("mounts")))
    # no pseudo fs, tmpfs, iso9660 or docker overlay; the bind mount of /u01 once; /mnt/old is
    # hidden by a tmpfs mounted over it.
    assert [m["mountpoint"] for m in chosen] == [
        "/", "/arch", "/boot", "/boot/efi", "/data files", "/mnt/share", "/u01", "/var"]


def test_select_filesystems_include_and_exclude():
    chosen = hm.select_filesystems(hm.parse_mounts(proc("mounts")), include_fstypes=["tmpfs"],
                                   exclude_mountpoints=["/mnt/*", "/boot*"])
    assert [m["mountpoint"] for m in chosen] == [
        "/", "/arch", "/data files", "/dev/shm", "/run", "/u01", "/var"]


def test_overlay_counts_only_as_root_filesystem():
    mounts = hm.parse_mounts("overlay / overlay rw 0 0\n"
                             "overlay /var/lib/containers/x/merged overlay rw 0 0\n")
    assert [m["mountpoint"] for m in hm.select_filesystems(mounts)] == ["/"]


def test_filesystem_usage_counts_root_reserve_as_used_like_df():
    mount = {"mountpoint": "/", "device": "/dev/sda1", "fstype": "ext4"}
    fs = hm.filesystem_usage(mount, st(1000, 150, 100, 1000, 100))
    assert fs == {"mountpoint": "/", "device": "/dev/sda1", "fstype": "ext4", "size_kb": 4000,
                  "used_kb": 3400, "avail_kb": 400, "used_pct": 89.5, "inodes_total": 1000,
                  "inodes_used": 900, "inode_used_pct": 90.0}


def test_filesystem_metrics_keeps_per_mount_errors():
    mounts = {m["mountpoint"]: m for m in hm.filesystem_metrics(proc("mounts"), STATVFS)["mounts"]}
    assert mounts["/arch"]["error"] == "statvfs /arch timed out"
    assert "not collected" in mounts["/mnt/share"]["error"]
    assert mounts["/var"]["used_pct"] == 94.7
    assert mounts["/boot/efi"]["inode_used_pct"] is None


def test_parse_uptime():
    assert hm.parse_uptime(proc("uptime")) == {"seconds": 1036800.55, "days": 12.0}


def test_zombie_processes_reads_state_after_the_last_parenthesis():
    assert hm.zombie_processes(ZOMBIE_STATS) == {"count": 3, "parents": [777, 888]}


def test_listening_ports_from_tcp_and_tcp6():
    ports = hm.listening_ports(proc("net_tcp"), proc("net_tcp6"), byteorder="little")
    assert ports["listening"] == [1521, 5555, 7001, 8080]  # 22 is an established connection
    assert {"port": 1521, "address": "0.0.0.0"} in ports["sockets"]
    assert {"port": 1521, "address": "::"} in ports["sockets"]
    assert {"port": 8080, "address": "127.0.0.1"} in ports["sockets"]
    assert {"port": 5555, "address": "::1"} in ports["sockets"]


def test_listening_ports_on_big_endian_hosts():
    text = "  sl  local_address\n   0: 7F000001:0050 00000000:0000 0A 0\n"
    assert hm.listening_ports(text, byteorder="big")["sockets"] == [{"port": 80, "address": "127.0.0.1"}]


def test_measure_turns_unreadable_and_malformed_input_into_errors():
    assert hm.measure(hm.memory_usage, hm.Unreadable("/proc/meminfo: Permission denied")) == {
        "error": "/proc/meminfo: Permission denied"}
    assert "not collected" in hm.measure(hm.parse_uptime, None)["error"]
    assert "cannot parse" in hm.measure(hm.memory_usage, "garbage")["error"]


def test_build_metrics_isolates_one_broken_input():
    metrics = hm.build_metrics(raw_inputs(meminfo=hm.Unreadable("/proc/meminfo: Permission denied")))
    assert metrics["memory"] == {"error": "/proc/meminfo: Permission denied"}
    assert [k for k, v in metrics.items() if "error" in v] == ["memory"]
    assert metrics["cpu"]["busy_pct"] == 75.0


# ---------------------------------------------------------------- evaluation


def test_evaluate_fixture_statuses():
    records = hm.evaluate(hm.build_metrics(raw_inputs()), hm.DEFAULT_THRESHOLDS, "db01")
    assert_valid(records)
    status = {item: r["status"] for item, r in by_item(records).items()}
    assert status == {
        "CPU使用率": "ok",
        "内存使用率": "ok",
        "交换空间使用率": "ok",
        "系统负载(每CPU)": "ok",
        "文件系统 / 空间使用率": "warning",
        "文件系统 / inode使用率": "critical",
        "文件系统 /arch 空间使用率": "error",
        "文件系统 /arch inode使用率": "error",
        "文件系统 /boot 空间使用率": "ok",
        "文件系统 /boot inode使用率": "ok",
        "文件系统 /boot/efi 空间使用率": "ok",
        "文件系统 /boot/efi inode使用率": "skipped",
        "文件系统 /data files 空间使用率": "skipped",
        "文件系统 /data files inode使用率": "skipped",
        "文件系统 /mnt/share 空间使用率": "error",
        "文件系统 /mnt/share inode使用率": "error",
        "文件系统 /u01 空间使用率": "warning",
        "文件系统 /u01 inode使用率": "ok",
        "文件系统 /var 空间使用率": "critical",
        "文件系统 /var inode使用率": "ok",
        "磁盘 rootvg-root IO繁忙度(%util)": "critical",
        "磁盘 rootvg-root 平均IO响应时间(await)": "critical",
        "磁盘 dm-1 IO繁忙度(%util)": "ok",
        "磁盘 dm-1 平均IO响应时间(await)": "ok",
        "磁盘 dm-10 IO繁忙度(%util)": "ok",
        "磁盘 dm-10 平均IO响应时间(await)": "skipped",  # 3 IOs: too few to judge latency
        "磁盘 md1 IO繁忙度(%util)": "ok",
        "磁盘 md1 平均IO响应时间(await)": "ok",
        "磁盘 md10 IO繁忙度(%util)": "ok",
        "磁盘 md10 平均IO响应时间(await)": "ok",
        "磁盘 nvme0n1 IO繁忙度(%util)": "ok",
        "磁盘 nvme0n1 平均IO响应时间(await)": "ok",
        "磁盘 sda IO繁忙度(%util)": "warning",
        "磁盘 sda 平均IO响应时间(await)": "ok",
        "磁盘 sdp IO繁忙度(%util)": "ok",
        "磁盘 sdp 平均IO响应时间(await)": "ok",
        "僵尸进程": "ok",
        "系统运行时间": "ok",
        "时钟同步": "ok",
        "时钟偏差": "ok",
    }


def test_abnormal_records_say_what_to_check_and_what_happens():
    records = by_item(hm.evaluate(hm.build_metrics(raw_inputs()), None, "db01"))
    var = records["文件系统 /var 空间使用率"]
    assert var["value"] == 94.7 and var["unit"] == "%"
    assert var["threshold"] == {"warning": 80, "critical": 90}
    assert "清理过期日志" in var["direction"] and "写满" in var["consequence"]
    assert "/var" in var["detail"] and "严重阈值 90%" in var["detail"]
    assert records["磁盘 rootvg-root 平均IO响应时间(await)"]["unit"] == "ms"
    assert "dm-0" in records["磁盘 rootvg-root IO繁忙度(%util)"]["detail"]
    assert records["CPU使用率"]["direction"] is None  # ok records carry no advice
    arch = records["文件系统 /arch 空间使用率"]
    assert "timed out" in arch["detail"] and "NFS" in arch["direction"]


@pytest.mark.parametrize("check", [
    ("cpu", "busy_pct", "cpu", "CPU使用率"),
    ("memory", "used_pct", "memory", "内存使用率"),
    ("memory", "swap_used_pct", "swap", "交换空间使用率"),
    ("load", "per_cpu", "load_per_cpu", "系统负载(每CPU)"),
    ("zombies", "count", "zombie", "僵尸进程"),
], ids=lambda c: c[2])
@pytest.mark.parametrize("offset,expected", [(-0.1, "ok"), (0, "warning"), ("crit-0.1", "warning"),
                                             ("crit", "critical")])
def test_boundaries(check, offset, expected):
    section, key, kind, item = check
    metrics = hm.build_metrics(raw_inputs())
    warning = hm.DEFAULT_THRESHOLDS[kind + "_warning"]
    critical = hm.DEFAULT_THRESHOLDS[kind + "_critical"]
    value = {"crit": critical, "crit-0.1": round(critical - 0.1, 2)}.get(offset, None)
    metrics[section][key] = value if value is not None else round(warning + offset, 2)
    record = by_item(hm.evaluate(metrics, None, "h1"))[item]
    assert record["status"] == expected
    jsonschema.validate(record, SCHEMA)


def test_threshold_null_disables_a_level():
    metrics = hm.build_metrics(raw_inputs())
    metrics["cpu"]["busy_pct"] = 99.0
    thresholds = hm.merge_thresholds({"cpu_critical": None})
    assert by_item(hm.evaluate(metrics, thresholds, "h1"))["CPU使用率"]["status"] == "warning"


def test_custom_thresholds_change_the_verdict():
    metrics = hm.build_metrics(raw_inputs())
    records = by_item(hm.evaluate(metrics, {"filesystem_warning": 95, "filesystem_critical": 99}, "h1"))
    assert records["文件系统 /var 空间使用率"]["status"] == "ok"
    assert records["文件系统 /var 空间使用率"]["threshold"] == {"warning": 95, "critical": 99}


def test_unreadable_input_gives_error_records_and_the_rest_still_runs():
    metrics = hm.build_metrics(raw_inputs(meminfo=hm.Unreadable("/proc/meminfo: Permission denied"),
                                          diskstats_after=hm.Unreadable("/proc/diskstats: No such file")))
    records = hm.evaluate(metrics, None, "h1")
    assert_valid(records)
    items = by_item(records)
    for item in ("内存使用率", "交换空间使用率", "磁盘IO繁忙度(%util)"):
        assert items[item]["status"] == "error"
        assert items[item]["direction"] and items[item]["consequence"]
    assert "Permission denied" in items["内存使用率"]["detail"]
    assert items["CPU使用率"]["status"] == "ok"
    assert items["文件系统 /var 空间使用率"]["status"] == "critical"


@pytest.mark.parametrize("metrics", [
    {},
    {"cpu": {"busy_pct": "high", "iowait_pct": 0, "count": 1}},
    {"filesystems": {"mounts": [{"mountpoint": "/x"}]}},
    {"disks": {"devices": {"sda": None}}},
    {"ports": "nonsense"},
])
def test_evaluate_never_raises_on_broken_metrics(metrics):
    records = hm.evaluate(metrics, None, "h1", expected_ports=[1521])
    assert_valid(records)
    assert any(r["status"] == "error" for r in records)


def test_expected_ports():
    metrics = hm.build_metrics(raw_inputs())
    records = by_item(hm.evaluate(metrics, None, "db01", expected_ports=[1521, 22, 7001, 1521]))
    assert_valid(list(records.values()))
    assert records["监听端口 1521"]["status"] == "ok"
    assert records["监听端口 1521"]["value"] is True
    assert "0.0.0.0" in records["监听端口 1521"]["detail"]
    assert records["监听端口 7001"]["status"] == "ok"
    ssh = records["监听端口 22"]
    assert ssh["status"] == "critical" and ssh["value"] is False
    assert ssh["direction"] and ssh["consequence"]
    assert len([r for r in records if r.startswith("监听端口")]) == 3


def test_expected_ports_when_tcp_table_is_unreadable():
    metrics = hm.build_metrics(raw_inputs(tcp=hm.Unreadable("/proc/net/tcp: Permission denied")))
    record = by_item(hm.evaluate(metrics, None, "h1", expected_ports=[1521]))["监听端口 1521"]
    assert record["status"] == "error"


def test_no_port_records_without_expected_ports():
    records = hm.evaluate(hm.build_metrics(raw_inputs()), None, "h1")
    assert not [r for r in records if r["item"].startswith("监听端口")]


# ---------------------------------------------------------------- clock synchronisation
# Recorded on harness hosts: chronyc_* (chronyd -x synchronised to another harness host, then
# pointed at a dead server, then stopped), ntpq_*.stderr and ntpstat_nodaemon (ntpsec, which
# cannot run there: CAP_SYS_TIME is dropped), timedatectl_show_nontp and
# timedatectl_status_debian12 (systemd host). ntpq_pn_* and timedatectl_show_synced /
# timedatectl_status_rhel7 follow those tools' documented output, as no harness host can
# produce them.


def test_chronyc_tracking_synchronised():
    clock = hm.parse_chronyc_tracking(proc("chronyc_tracking_synced"))
    # 0.000003384 seconds slow: local minus reference is negative
    assert clock == {"synchronized": True, "offset_ms": -0.003, "reference": "10.231.0.11", "stratum": 9}


def test_chronyc_tracking_not_synchronised():
    clock = hm.parse_chronyc_tracking(proc("chronyc_tracking_unsynced"))
    assert clock["synchronized"] is False
    assert clock["reference"] is None and clock["stratum"] == 0


def test_chronyc_fast_clock_is_a_positive_offset():
    text = proc("chronyc_tracking_synced").replace("0.000003384 seconds slow", "0.250000000 seconds fast")
    assert hm.parse_chronyc_tracking(text)["offset_ms"] == 250.0


def test_chronyc_without_its_fields_is_refused():
    with pytest.raises(ValueError, match="Leap status"):
        hm.parse_chronyc_tracking("Reference ID    : 0AE7000B (10.231.0.11)\n")


def test_ntpq_system_peer_gives_the_offset():
    # ntpq prints the server relative to this host: +X means this host is X ms slow.
    assert hm.parse_ntpq_peers(proc("ntpq_pn_synced")) == {
        "synchronized": True, "offset_ms": 152.431, "reference": "10.20.0.12", "stratum": 1}


def test_ntpq_wrapped_ipv6_row():
    clock = hm.parse_ntpq_peers(proc("ntpq_pn_ipv6_wrapped"))
    assert (clock["reference"], clock["offset_ms"], clock["stratum"]) == ("2001:db8:20::12", -2.25, 1)


def test_ntpq_without_system_peer_is_not_synchronised():
    assert hm.parse_ntpq_peers(proc("ntpq_pn_unsynced"))["synchronized"] is False


@pytest.mark.parametrize("name,expected", [
    ("timedatectl_show_synced", {"synchronized": True, "ntp_service": True}),
    ("timedatectl_show_nontp", {"synchronized": False, "ntp_service": False}),
    ("timedatectl_status_debian12", {"synchronized": False, "ntp_service": None}),
    ("timedatectl_status_rhel7", {"synchronized": True, "ntp_service": True}),
])
def test_timedatectl_show_and_status_forms(name, expected):
    assert hm.parse_timedatectl(proc(name)) == expected


@pytest.mark.parametrize("tool,rc,stdout,stderr,note", [
    ("chronyc", 1, proc("chronyc_tracking_nodaemon"), "", "506 Cannot talk to daemon"),
    ("ntpq", 0, "", proc("ntpq_refused.stderr"), "ntpd is not running"),
    ("ntpq", 0, "", proc("ntpq_timeout.stderr"), "Request timed out"),
    ("ntpstat", 2, proc("ntpstat_nodaemon"), "", "Unable to talk to NTP daemon"),
    ("timedatectl", 0, proc("timedatectl_show_nontp"), "", "NTP 服务未启用"),
    ("timedatectl", 1, "", "System has not been booted with systemd as init system (PID 1). Can't operate.\n",
     "not been booted with systemd"),
])
def test_tools_that_do_not_answer_leave_a_note(tool, rc, stdout, stderr, note):
    answer, why = hm.clock_answer(tool, rc, stdout, stderr)
    assert answer is None
    assert note in why and why.startswith(tool)


@pytest.mark.parametrize("tool,rc,stdout,service,synced", [
    ("chronyc", 0, proc("chronyc_tracking_unsynced"), "chronyd", False),
    ("ntpq", 0, proc("ntpq_pn_synced"), "ntpd", True),
    ("ntpq", 1, "No association ID's returned\n", "ntpd", False),
    ("timedatectl", 0, proc("timedatectl_show_synced"), "systemd-timesyncd", True),
    ("timedatectl", 0, "NTP=no\nNTPSynchronized=yes\n", "内核时钟(timedatectl)", True),
    ("timedatectl", 0, "NTP=yes\nNTPSynchronized=no\n", "systemd-timesyncd", False),
    ("timedatectl-status", 0, proc("timedatectl_status_rhel7"), "NTP服务(timedatectl)", True),
    ("ntpstat", 0, "synchronised to NTP server (10.20.0.12) at stratum 2\n", "ntpstat", True),
    ("ntpstat", 1, "unsynchronised\n   polling server every 8 s\n", "ntpstat", False),
])
def test_tools_that_answer(tool, rc, stdout, service, synced):
    answer, why = hm.clock_answer(tool, rc, stdout)
    assert why is None
    assert (answer["service"], answer["synchronized"]) == (service, synced)


def test_clock_sync_takes_the_first_answer_and_keeps_the_notes():
    clock = hm.clock_sync([attempt("chronyc", 1, proc("chronyc_tracking_nodaemon")),
                           attempt("ntpq", 0, "", proc("ntpq_refused.stderr")),
                           attempt("ntpstat", 0, "synchronised to NTP server (10.20.0.12) at stratum 2\n")])
    assert clock["service"] == "ntpstat" and clock["synchronized"] is True
    assert len(clock["tried"]) == 2 and "506" in clock["tried"][0]


def test_clock_sync_survives_unreadable_output():
    clock = hm.clock_sync([attempt("chronyc", 0, "garbage\n"), attempt("ntpq", 0, proc("ntpq_pn_synced"))])
    assert clock["service"] == "ntpd"
    assert "chronyc" in clock["tried"][0]


def test_clock_sync_with_no_time_service():
    assert hm.clock_sync([])["service"] is None
    clock = hm.clock_sync([attempt("timedatectl", 0, proc("timedatectl_show_nontp"))])
    assert clock["service"] is None and clock["synchronized"] is None


def test_which_clock_tools_run():
    assert not hm.wants_clock_tool("timedatectl", [], systemd=False)
    assert hm.wants_clock_tool("timedatectl", [], systemd=True)
    assert hm.wants_clock_tool("chronyc", [], systemd=False)
    # `status` only as the fallback of a systemd too old for `show`
    old = [attempt("timedatectl", 1, "", "Unknown operation show.")]
    assert hm.wants_clock_tool("timedatectl-status", old, systemd=True)
    new = [attempt("timedatectl", 0, proc("timedatectl_show_nontp"))]
    assert not hm.wants_clock_tool("timedatectl-status", new, systemd=True)


def clock_records(attempts, thresholds=None):
    metrics = hm.build_metrics(raw_inputs(clock_attempts=attempts))
    records = by_item(hm.evaluate(metrics, thresholds, "h1"))
    jsonschema.validate(records["时钟同步"], SCHEMA)
    jsonschema.validate(records["时钟偏差"], SCHEMA)
    return records["时钟同步"], records["时钟偏差"]


def chrony_with_offset(ms):
    sign = "fast" if ms >= 0 else "slow"
    text = proc("chronyc_tracking_synced").replace("0.000003384 seconds slow",
                                                   "%.9f seconds %s" % (abs(ms) / 1000.0, sign))
    return [attempt("chronyc", 0, text)]


@pytest.mark.parametrize("offset_ms,expected", [
    (99.9, "ok"), (100, "warning"), (-100, "warning"), (999, "warning"), (1000, "critical"),
    (-2500, "critical"),
])
def test_clock_offset_boundaries(offset_ms, expected):
    sync, offset = clock_records(chrony_with_offset(offset_ms))
    assert sync["status"] == "ok" and sync["value"] is True
    assert offset["status"] == expected
    assert offset["value"] == abs(offset_ms) and offset["unit"] == "ms"
    assert offset["threshold"] == {"warning": 100, "critical": 1000}
    assert ("慢" if offset_ms < 0 else "快") in offset["detail"]
    if expected != "ok":
        assert "时间不同步导致日志、审计时间错乱" in offset["consequence"]


def test_clock_offset_thresholds_are_configurable():
    _sync, offset = clock_records(chrony_with_offset(60), {"clock_offset_warning_ms": 50})
    assert offset["status"] == "warning"
    assert offset["threshold"] == {"warning": 50, "critical": 1000}


def test_no_time_service_is_a_warning_with_advice():
    sync, offset = clock_records([attempt("chronyc", 1, proc("chronyc_tracking_nodaemon"))])
    assert sync["status"] == "warning" and sync["value"] is None
    assert "时间不同步导致日志、审计时间错乱" in sync["consequence"]
    assert "数据抽取时间窗" in sync["consequence"]
    assert "chronyd" in sync["direction"]
    assert "506 Cannot talk to daemon" in sync["detail"]
    assert offset["status"] == "skipped"


def test_running_but_unsynchronised_service_is_a_warning():
    sync, offset = clock_records([attempt("chronyc", 0, proc("chronyc_tracking_unsynced"))])
    assert sync["status"] == "warning" and sync["value"] is False
    assert "chronyd" in sync["detail"] and "UDP 123" in sync["direction"]
    assert offset["status"] == "skipped"  # its 0.000 s "offset" compares with nothing


def test_synchronised_without_offset_is_ok_and_offset_skipped():
    sync, offset = clock_records([attempt("timedatectl", 0, proc("timedatectl_show_synced"))])
    assert sync["status"] == "ok"
    assert offset["status"] == "skipped" and "不提供偏差" in offset["detail"]


def test_clock_not_collected_is_an_error_record():
    metrics = hm.build_metrics(raw_inputs(clock_attempts=None))
    record = by_item(hm.evaluate(metrics, None, "h1"))["时钟同步"]
    assert record["status"] == "error" and "chronyc tracking" in record["direction"]
    jsonschema.validate(record, SCHEMA)


# ---------------------------------------------------------------- configured services

# /proc/<pid>/comm and argv[0] as read on a plain harness host (sshd is PID 1) plus an
# Oracle background process and a kernel thread.
PLAIN_HOST_PROCESSES = [
    {"pid": 1, "comm": "sshd", "argv0": "sshd: /usr/sbin/sshd -D -e [listener] 0 of 100-200 startups"},
    {"pid": 29, "comm": "sshd", "argv0": "sshd: root@notty"},
    {"pid": 35, "comm": "bash", "argv0": "bash"},
    {"pid": 77, "comm": "ora_pmon_orclcd", "argv0": "ora_pmon_orclcdb"},
    {"pid": 88, "comm": "chronyd", "argv0": "/usr/sbin/chronyd"},
    {"pid": 99, "comm": "kworker/0:1", "argv0": ""},
]


@pytest.mark.parametrize("name,comm,argv0,expected", [
    ("sshd", "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", True),
    ("chronyd", "chronyd", "/usr/sbin/chronyd", True),
    ("chronyd.service", "chronyd", "/usr/sbin/chronyd", True),
    ("ora_pmon_orclcdb", "ora_pmon_orclcd", "ora_pmon_orclcdb", True),  # comm cut to 15 characters
    ("tnslsnr", "tnslsnr", "/u01/app/oracle/product/19c/bin/tnslsnr", True),
    ("ssh", "sshd", "sshd: root@notty", False),
    ("kworker", "kworker/0:1", "", False),
    ("java", "bash", "/usr/bin/java-wrapper", False),
])
def test_process_name_matches(name, comm, argv0, expected):
    assert hm.process_name_matches(name, comm, argv0) is expected


def service_records(names, systemd, systemctl, processes):
    raw = raw_inputs(expected_services=names, systemd=systemd, systemctl=systemctl, processes=processes)
    records = [r for r in hm.evaluate(hm.build_metrics(raw), None, "h1", expected_services=names)
               if r["item"].startswith("服务")]
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return by_item(records)


def test_services_by_process_without_systemd():
    records = service_records(["sshd", "nosuchd"], False, None, PLAIN_HOST_PROCESSES)
    sshd, missing = records["服务 sshd"], records["服务 nosuchd"]
    assert sshd["status"] == "ok" and sshd["value"] is True
    assert "PID 1, 29" in sshd["detail"] and "未以 systemd 启动" in sshd["detail"]
    assert missing["status"] == "critical" and missing["value"] is False
    assert missing["direction"] and missing["consequence"]


def test_services_by_systemd_unit_and_fallback_to_process():
    systemctl = {"rc": 0, "stdout": proc("systemctl_show_sshd_nosuchd"), "stderr": ""}
    records = service_records(["sshd", "nosuchd"], True, systemctl, PLAIN_HOST_PROCESSES[2:])
    assert records["服务 sshd"]["status"] == "ok"
    assert "ssh.service" in records["服务 sshd"]["detail"] and "PID 37" in records["服务 sshd"]["detail"]
    missing = records["服务 nosuchd"]
    assert missing["status"] == "critical" and "systemd 中没有该单元" in missing["detail"]


def test_systemd_unknown_unit_found_as_a_process():
    systemctl = {"rc": 0, "stdout": "Id=chronyd.service\nLoadState=not-found\nActiveState=inactive\n"
                                    "SubState=dead\nMainPID=0\n", "stderr": ""}
    records = service_records(["chronyd"], True, systemctl, PLAIN_HOST_PROCESSES)
    assert records["服务 chronyd"]["status"] == "ok"
    assert "PID 88" in records["服务 chronyd"]["detail"]


@pytest.mark.parametrize("load,active,sub,expected", [
    ("loaded", "active", "running", "ok"),
    ("loaded", "active", "exited", "ok"),
    ("loaded", "activating", "start-pre", "warning"),
    ("loaded", "reloading", "reload", "warning"),
    ("loaded", "failed", "failed", "critical"),
    ("loaded", "inactive", "dead", "critical"),
    ("masked", "inactive", "dead", "critical"),
])
def test_systemd_states(load, active, sub, expected):
    systemctl = {"rc": 0, "stdout": "MainPID=0\nId=oracle-ohasd.service\nLoadState=%s\nActiveState=%s\n"
                                    "SubState=%s\n" % (load, active, sub), "stderr": ""}
    record = service_records(["oracle-ohasd"], True, systemctl, [])["服务 oracle-ohasd"]
    assert record["status"] == expected
    assert "%s/%s" % (active, sub) in record["detail"]


def test_systemctl_failure_falls_back_to_processes_and_says_why():
    systemctl = {"rc": 1, "stdout": "", "stderr": "Failed to connect to bus: No such file or directory\n"}
    metrics = hm.build_metrics(raw_inputs(expected_services=["sshd"], systemd=True, systemctl=systemctl,
                                          processes=PLAIN_HOST_PROCESSES))
    service = metrics["services"]["services"][0]
    assert service["via"] == "process" and service["pids"] == [1, 29]
    assert "Failed to connect to bus" in service["unit_note"]


def test_unreadable_process_table_is_an_error_per_service():
    records = service_records(["sshd"], False, None, hm.Unreadable("/proc: Permission denied"))
    assert records["服务 sshd"]["status"] == "error"
    assert "Permission denied" in records["服务 sshd"]["detail"]


def test_no_service_records_without_expected_services():
    records = hm.evaluate(hm.build_metrics(raw_inputs()), None, "h1")
    assert not [r for r in records if r["item"].startswith("服务")]


def test_broken_services_section_gives_error_records():
    records = by_item(hm.evaluate({"services": {"error": "boom"}}, None, "h1", expected_services=["a", "b"]))
    assert records["服务 a"]["status"] == records["服务 b"]["status"] == "error"


def test_systemctl_show_command_and_parse():
    argv = hm.systemctl_show_command(["sshd", "nosuchd"])
    assert argv[:2] == ["systemctl", "show"] and argv[-3:] == ["--", "sshd", "nosuchd"]
    blocks = hm.parse_systemctl_show(proc("systemctl_show_sshd_nosuchd"))
    assert [b["Id"] for b in blocks] == ["ssh.service", "nosuchd.service"]
    assert blocks[1]["LoadState"] == "not-found"


@pytest.mark.parametrize("names,bad", [
    (["sshd", "oracle-ohasd.service", "ora_pmon_orcl"], 0),
    (["", "has space", "a/b", "--all"], 4),
])
def test_validate_service_names(names, bad):
    assert len(hm.validate_service_names(names)) == bad


# ---------------------------------------------------------------- thresholds


def test_default_thresholds_are_valid():
    assert hm.validate_thresholds(dict(hm.DEFAULT_THRESHOLDS)) == []
    assert hm.validate_thresholds(hm.merge_thresholds({"cpu_critical": None})) == []


@pytest.mark.parametrize("overrides,fragment", [
    ({"cpu_warning": 120}, "cpu_warning must be between 0 and 100"),
    ({"filesystem_critical": -5}, "filesystem_critical must be between 0 and 100"),
    ({"load_per_cpu_warning": -1}, "load_per_cpu_warning must not be negative"),
    ({"inode_warning": 95}, "inode_warning (95) is above critical threshold inode_critical (90)"),
    ({"zombie_warning": "many"}, "zombie_warning must be a number"),
    ({"memory_warning": True}, "memory_warning must be a number"),
    ({"io_await_warning": float("nan")}, "io_await_warning must be a number"),
    ({"filesytem_warning": 70}, "unknown threshold filesytem_warning"),
    ({"clock_offset_warning_ms": -1}, "clock_offset_warning_ms must not be negative"),
    ({"clock_offset_warning_ms": 2000},
     "clock_offset_warning_ms (2000) is above critical threshold clock_offset_critical_ms (1000)"),
    ({"clock_offset_ms_warning": 5}, "unknown threshold clock_offset_ms_warning"),
])
def test_impossible_thresholds_are_reported(overrides, fragment):
    errors = hm.validate_thresholds(hm.merge_thresholds(overrides))
    assert len(errors) == 1
    assert fragment in errors[0]
    assert "阈值" in errors[0]  # Chinese first, English after


def test_merge_thresholds_accepts_numeric_strings():
    merged = hm.merge_thresholds({"cpu_warning": "85", "cpu_critical": 92})
    assert merged["cpu_warning"] == 85.0 and merged["cpu_critical"] == 92
    assert merged["filesystem_warning"] == 80


def test_validate_thresholds_needs_a_dict():
    assert hm.validate_thresholds(["cpu_warning"]) == ["阈值必须是字典 / thresholds must be a dictionary"]


# ---------------------------------------------------------------- the module, for real


def run_module(tmp_path, args):
    """Run gxtax.ops.host_metrics against this machine with ansible ad hoc; return (rc, result)."""
    ansible = pathlib.Path(sys.executable).parent / "ansible"
    if not ansible.exists():
        pytest.skip("ansible is not installed next to this Python")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.pop("ANSIBLE_CONFIG", None)  # isolated from the project's ansible.cfg and its callbacks
    command = [str(ansible), "localhost", "-c", "local", "-m", "gxtax.ops.host_metrics",
               "-a", json.dumps(args)]
    done = subprocess.run(command, check=False, cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=120)
    _, sep, body = done.stdout.partition(" => ")
    assert sep, "no result in ansible output:\n%s\n%s" % (done.stdout, done.stderr)
    return done.returncode, json.loads(body)


def test_module_on_this_machine(tmp_path):
    # A process of a known name stands in for a configured service (systemd has no unit
    # called gxtaxsleep, so the process fallback is what finds it on any machine).
    sleeper_bin = tmp_path / "gxtaxsleep"
    sleeper_bin.symlink_to(shutil.which("sleep"))
    with socket.socket() as listening, socket.socket() as bound, \
            subprocess.Popen([str(sleeper_bin), "60"]) as sleeper:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        bound.bind(("127.0.0.1", 0))  # bound but not listening: must count as missing
        open_port, closed_port = listening.getsockname()[1], bound.getsockname()[1]
        try:
            rc, result = run_module(tmp_path, {"sample_seconds": 0.2, "host": "unit-test-host",
                                               "expected_ports": [open_port, closed_port],
                                               "expected_services": ["gxtaxsleep", "gxtax-nosuchd"]})
        finally:
            sleeper.kill()
    assert rc == 0, result
    assert result["changed"] is False
    records = result["records"]
    assert_valid(records)
    assert {r["host"] for r in records} == {"unit-test-host"}
    items = by_item(records)
    assert items["监听端口 %d" % open_port]["status"] == "ok"
    assert items["监听端口 %d" % closed_port]["status"] == "critical"
    for item in ("CPU使用率", "内存使用率", "系统负载(每CPU)", "僵尸进程", "系统运行时间", "时钟同步"):
        assert items[item]["status"] != "error", items[item]
    assert items["服务 gxtaxsleep"]["status"] == "ok", items["服务 gxtaxsleep"]
    assert items["服务 gxtax-nosuchd"]["status"] == "critical"
    assert set(result["metrics"]) == {"cpu", "load", "memory", "filesystems", "disks", "zombies",
                                      "uptime", "ports", "clock", "services"}
    assert 0 <= result["metrics"]["cpu"]["busy_pct"] <= 100
    assert open_port in result["metrics"]["ports"]["listening"]
    assert result["thresholds"] == hm.DEFAULT_THRESHOLDS


def test_module_refuses_impossible_thresholds(tmp_path):
    rc, result = run_module(tmp_path, {"sample_seconds": 0.1,
                                       "thresholds": {"memory_warning": 150, "disk_warning": 1}})
    assert rc != 0
    assert "memory_warning" in result["msg"]
    assert any("memory_warning" in e for e in result["errors"])
    assert any("unknown threshold disk_warning" in e for e in result["errors"])
    assert "records" not in result
