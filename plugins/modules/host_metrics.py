#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_metrics
short_description: Measure host CPU, memory, filesystems, disk IO, load, ports, clock and services (INSP-01)
version_added: 0.1.0
description:
  - Reads C(/proc) on a Linux host and returns its raw figures together with one inspection record per
    checked item (requirement C(INSP-01)), in the record format every gxtax.ops check yields
    (C(schemas/inspection-record.schema.json)).
  - CPU busy and iowait percentages and per-disk IO figures come from two samples taken
    O(sample_seconds) apart.
  - Checks CPU usage, memory used (based on C(MemAvailable)), swap used, the 5-minute load average
    per online CPU, space and inodes per filesystem, per-disk C(%util) and average IO response time
    (await), zombie processes, uptime, clock synchronisation, and optionally that given TCP ports
    are listening and given services are running.
  - "Clock: asks, in this order and stopping at the first that answers, C(chronyc -n tracking),
    C(ntpq -pn), C(timedatectl) (only when systemd is PID 1) and C(ntpstat). Gives C(时钟同步)
    (synchronised or not) and C(时钟偏差) (the absolute offset from the reference in ms, graded
    against C(clock_offset_warning_ms)/C(clock_offset_critical_ms); C(skipped) when the tool
    cannot tell, as C(timedatectl) and C(ntpstat) cannot)."
  - "No time service at all (none of those tools answers, as on a minimal container) gives
    C(warning), not C(critical): the clock may still be right (containers share their host's
    clock, hypervisor tools may set a VM's), but nothing keeps it right and it cannot be
    measured, so an operator has to confirm. A service that runs but is not synchronised is also
    C(warning); a measured offset beyond the critical threshold is C(critical)."
  - A figure that cannot be read gives a record with status C(error) saying why; the other checks still run.
  - Read-only; never changes the host.
options:
  sample_seconds:
    description:
      - Seconds between the two samples of C(/proc/stat) and C(/proc/diskstats).
      - Longer samples smooth out bursts; must be greater than 0 and at most 60.
    type: float
    default: 1.0
  thresholds:
    description:
      - Threshold overrides, merged over the defaults below. Each check has a C(_warning) and a
        C(_critical) key; a value at or above it gives that status. V(null) disables that level.
      - Percentages (C(cpu), C(memory), C(swap), C(filesystem), C(inode), C(io_util)) must lie in 0-100;
        the others must not be negative; a warning above its critical is refused.
      - "Defaults: C(cpu_warning=90), C(cpu_critical=95), C(memory_warning=90), C(memory_critical=95),
        C(swap_warning=50), C(swap_critical=80), C(filesystem_warning=80), C(filesystem_critical=90),
        C(inode_warning=80), C(inode_critical=90), C(io_util_warning=80), C(io_util_critical=90),
        C(io_await_warning=20), C(io_await_critical=50) (milliseconds),
        C(load_per_cpu_warning=1.5), C(load_per_cpu_critical=3.0), C(zombie_warning=5),
        C(zombie_critical=50), C(clock_offset_warning_ms=100), C(clock_offset_critical_ms=1000)
        (absolute clock offset in milliseconds)."
      - "Clock offset defaults: a healthy NTP client on a LAN holds a few ms, so 100 ms means the
        synchronisation is degraded; from 1 s on, log and audit timestamps of one request are out of
        order across database and application hosts, and time-window data extraction misses rows."
      - Unknown keys and impossible values make the module fail with the list of problems.
    type: dict
    default: {}
  expected_ports:
    description:
      - TCP ports that must be listening (IPv4 or IPv6, any address). Each gives a record; a port
        not listening is C(critical).
    type: list
    elements: int
    default: []
  expected_services:
    description:
      - Services that must be running, by name (V(sshd), V(chronyd), V(zabbix-agent)). Each gives a
        record C(服务 <name>); one not running is C(critical).
      - "When systemd is PID 1 the unit's state is read with C(systemctl show) (its C(ActiveState) is
        what C(systemctl is-active) prints; C(LoadState) tells a missing unit from a stopped one):
        C(active) is C(ok), C(activating)/C(reloading) C(warning), anything else or C(masked) C(critical)."
      - A name systemd has no unit for (Oracle or WebLogic started by scripts), and every name on a host
        without systemd, is looked up as a process whose C(/proc/<pid>/comm) or the base name of
        C(argv[0]) equals it (C(.service) stripped). Java-based services all show as C(java), so check them
        by unit or by O(expected_ports) instead.
    type: list
    elements: str
    default: []
  include_fstypes:
    description:
      - Filesystem types to report in addition to the default ones
        (C(ext2), C(ext3), C(ext4), C(xfs), C(btrfs), C(jfs), C(reiserfs), C(vfat), C(zfs), C(vxfs), C(ocfs2),
        C(acfs), C(gfs2), C(nfs), C(nfs4), C(cifs), C(smb3), and C(overlay) when it is the root filesystem).
      - Pseudo filesystems (C(proc), C(sysfs), C(devtmpfs), C(cgroup2) and the like) are never useful.
        C(tmpfs) is left out by default because C(/dev/shm) is full by design under Oracle AMM;
        add V(tmpfs) here to watch it.
    type: list
    elements: str
    default: []
  exclude_mountpoints:
    description:
      - Mount points not to report; shell patterns such as V(/mnt/*) are allowed.
    type: list
    elements: str
    default: []
  fs_timeout:
    description:
      - Seconds to wait for each filesystem's C(statvfs). A hung NFS or CIFS mount then yields an C(error)
        record instead of stalling the whole inspection.
    type: float
    default: 5.0
  host:
    description:
      - Host name put into the records; pass C({{ inventory_hostname }}) so reports match the inventory.
      - Defaults to the managed machine's own host name.
    type: str
notes:
  - Needs Linux C(/proc); runs on Python 3.7 and later.
  - Bind mounts and btrfs subvolumes of one block device are reported once, under the shortest
    mount point.
  - Loop, RAM, zram, floppy and CD-ROM devices, partitions of reported disks and devices without any
    IO since boot are not reported; device-mapper devices are reported under their device-mapper
    (LVM) names.
  - Average IO response time is not graded (status C(skipped)) when fewer than 10 IOs happened
    during the sample.
  - Runs C(chronyc), C(ntpq), C(timedatectl), C(ntpstat) and C(systemctl show) read-only, under the C
    locale so their output parses the same everywhere; tools that are not installed are skipped.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - name: Linux /proc file system
    description: Meaning of the files this module reads.
    link: https://docs.kernel.org/filesystems/proc.html
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: Inspect the host with the default thresholds
  gxtax.ops.host_metrics:
    host: "{{ inventory_hostname }}"
  register: host_inspection

- name: Inspect a database host, requiring the Oracle listener and watching /dev/shm
  gxtax.ops.host_metrics:
    host: "{{ inventory_hostname }}"
    sample_seconds: 3
    expected_ports: [22, 1521]
    include_fstypes: [tmpfs]
    exclude_mountpoints: ["/media/*"]
    thresholds:
      filesystem_warning: 85
      filesystem_critical: 95
      load_per_cpu_critical: null

- name: Inspect an application host; sshd and chronyd must run, 50 ms clock offset is a warning
  gxtax.ops.host_metrics:
    host: "{{ inventory_hostname }}"
    expected_services: [sshd, chronyd]
    thresholds:
      clock_offset_warning_ms: 50

- name: Fail the play when anything is critical
  ansible.builtin.assert:
    that: host_inspection.status != 'critical'
"""

RETURN = r"""
records:
  description: One inspection record per checked item (requirement C(INSP-01)), in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-01
      item: 文件系统 /var 空间使用率
      host: db01
      status: warning
      value: 85.0
      unit: "%"
      threshold: {warning: 80, critical: 90}
      detail: 文件系统 /var（/dev/mapper/rootvg-var，xfs）空间已用 85%，可用 1.2 GiB，已达到告警阈值 80%。
      direction: "使用 du 定位大文件和目录，清理过期日志/归档文件（数据库归档日志、trace、WebLogic日志等），\
        或扩容文件系统"
      consequence: 文件系统写满导致数据库归档、应用日志写入失败，业务中断
status:
  description: The worst status among O(records) (V(critical), V(error), V(warning), V(skipped) or V(ok)).
  returned: always
  type: str
  sample: warning
thresholds:
  description: The thresholds used, defaults merged with O(thresholds).
  returned: always
  type: dict
  sample: {cpu_warning: 90, cpu_critical: 95, filesystem_warning: 80, filesystem_critical: 90}
metrics:
  description:
    - Raw figures, one key per section. A section that could not be read holds only C(error) with the reason.
  returned: always
  type: dict
  contains:
    cpu:
      description: C(busy_pct) and C(iowait_pct) over the sample, and C(count) of online CPUs.
      type: dict
      returned: always
      sample: {busy_pct: 12.5, iowait_pct: 0.4, count: 8}
    load:
      description:
        C(load1), C(load5), C(load15), C(running), C(threads), C(cpu_count) and C(per_cpu) (load5 / CPUs).
      type: dict
      returned: always
      sample: {load1: 1.2, load5: 0.9, load15: 0.7, running: 2, threads: 812, cpu_count: 8, per_cpu: 0.11}
    memory:
      description:
        C(total_kb), C(available_kb), C(used_pct), C(swap_total_kb), C(swap_free_kb), C(swap_used_pct).
      type: dict
      returned: always
      sample: {total_kb: 32780000, available_kb: 9800000, used_pct: 70.1, swap_total_kb: 16000000,
               swap_free_kb: 16000000, swap_used_pct: 0.0}
    filesystems:
      description:
        - C(mounts), a list with C(mountpoint), C(device), C(fstype), C(size_kb), C(used_kb), C(avail_kb),
          C(used_pct), C(inodes_total), C(inodes_used), C(inode_used_pct) per filesystem, or C(error)
          for one that failed.
      type: dict
      returned: always
    disks:
      description:
        - C(interval) in seconds and C(devices), a dict per device with C(alias), C(util_pct), C(await_ms),
          C(ios), C(reads_per_s), C(writes_per_s).
      type: dict
      returned: always
    zombies:
      description: C(count) of zombie processes and the PIDs of their C(parents).
      type: dict
      returned: always
      sample: {count: 0, parents: []}
    uptime:
      description: C(seconds) and C(days) since boot.
      type: dict
      returned: always
      sample: {seconds: 864000.5, days: 10.0}
    ports:
      description:
        C(listening), the sorted listening TCP ports, and C(sockets), each C(port) with its C(address).
      type: dict
      returned: always
      sample: {listening: [22, 1521], sockets: [{port: 22, address: "0.0.0.0"}, {port: 1521, address: "::"}]}
    clock:
      description:
        - C(service) that answered (V(chronyd), V(ntpd), V(systemd-timesyncd), V(ntpstat), or null when no
          time service answered), C(synchronized), C(offset_ms) (local minus reference; null when unknown),
          C(reference), C(stratum), and C(tried), why the tools before it did not answer.
      type: dict
      returned: always
      sample: {service: chronyd, synchronized: true, offset_ms: 0.012, reference: 10.0.0.1, stratum: 3,
               tried: []}
    services:
      description:
        - C(systemd) (whether systemd is PID 1) and C(services), per expected service its C(name) and C(via)
          (V(systemd) with C(unit), C(load), C(active), C(sub), C(pid); or V(process) with the matching
          C(pids)).
      type: dict
      returned: always
      sample: {systemd: false, services: [{name: sshd, via: process, pids: [1, 29]}]}
"""

import errno
import os
import socket
import threading
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import (
    CLOCK_COMMANDS, Unreadable, build_metrics, clock_answer, evaluate, merge_thresholds,
    parse_mounts, select_filesystems, systemctl_show_command, validate_service_names,
    validate_thresholds, wants_clock_tool,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst

STATVFS_FIELDS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")


def read_text(path, missing_ok=False):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if missing_ok and exc.errno == errno.ENOENT:
            return ""  # e.g. /proc/net/tcp6 on a kernel booted with ipv6.disable=1
        return Unreadable("%s: %s" % (path, exc.strerror or exc))


def read_pid_stats():
    try:
        names = os.listdir("/proc")
    except OSError as exc:
        return Unreadable("/proc: %s" % exc.strerror)
    texts = []
    for name in names:
        if name.isdigit():
            text = read_text("/proc/%s/stat" % name)
            if not isinstance(text, Unreadable):  # the process exited meanwhile
                texts.append(text)
    return texts


def read_dm_names():
    names = {}
    try:
        devices = os.listdir("/sys/block")
    except OSError:
        return names  # aliases are a nicety; dm-N names still work
    for dev in devices:
        if dev.startswith("dm-"):
            text = read_text("/sys/block/%s/dm/name" % dev)
            if not isinstance(text, Unreadable) and text.strip():
                names[dev] = text.strip()
    return names


def statvfs_all(mountpoints, timeout):
    """{mountpoint: statvfs dict or error text}, each call in its own thread.

    A dead NFS server blocks statvfs; the daemon thread is abandoned (NFS waits
    are killable, so it dies with the process) and the mount reports an error.
    """
    def worker(point, slot):
        try:
            st = os.statvfs(point)
            slot.append(dict((k, getattr(st, k)) for k in STATVFS_FIELDS))
        except OSError as exc:
            slot.append("statvfs %s: %s" % (point, exc.strerror or exc))

    # One slot per mount: an abandoned thread that finishes late writes only to its own slot.
    pending = []
    for point in mountpoints:
        slot = []
        thread = threading.Thread(target=worker, args=(point, slot))
        thread.daemon = True
        thread.start()
        pending.append((point, thread, slot))
    deadline = time.monotonic() + timeout
    results = {}
    for point, thread, slot in pending:
        thread.join(max(0.0, deadline - time.monotonic()))
        if slot:
            results[point] = slot[0]
        else:
            results[point] = ("statvfs %s 超过 %s 秒无响应（网络文件系统可能挂起） / timed out"
                              % (point, timeout))
    return results


# Tools' output is parsed: make it the same on every host whatever the locale.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


def systemd_booted():
    # sd_booted(3): systemd as PID 1 creates this directory; a chroot or a container
    # started without systemd (the harness's plain hosts) has none.
    return os.path.isdir("/run/systemd/system")


def run_clock_tools(module, systemd):
    """Run the clock tools in order until one answers (see clock_answer)."""
    attempts = []
    for tool, argv in CLOCK_COMMANDS:
        path = module.get_bin_path(argv[0])
        if not path or not wants_clock_tool(tool, attempts, systemd):
            continue
        rc, out, err = module.run_command([path] + argv[1:], environ_update=C_LOCALE)
        attempts.append({"tool": tool, "rc": rc, "stdout": out, "stderr": err})
        try:
            if clock_answer(tool, rc, out, err)[0] is not None:
                break
        except ValueError:
            continue  # unreadable output: clock_sync notes it, the next tool may answer
    return attempts


def read_processes():
    """[{pid, comm, argv0}] of every process, for services not run by systemd."""
    try:
        names = os.listdir("/proc")
    except OSError as exc:
        return Unreadable("/proc: %s" % exc.strerror)
    processes = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            # Bytes, decoded leniently: process titles need not be valid in the host's locale.
            with open("/proc/%s/comm" % name, "rb") as handle:
                comm = handle.read().decode("utf-8", "replace").strip()
            with open("/proc/%s/cmdline" % name, "rb") as handle:
                argv0 = handle.read().split(b"\0", 1)[0].decode("utf-8", "replace")
        except (IOError, OSError):
            continue  # the process exited meanwhile
        processes.append({"pid": int(name), "comm": comm, "argv0": argv0})
    return processes


def check_services(module, names, systemd):
    raw = {"expected_services": names, "systemd": systemd, "systemctl": None, "processes": []}
    if not names:
        return raw
    path = module.get_bin_path("systemctl") if systemd else None
    if path:
        argv = systemctl_show_command(names)
        rc, out, err = module.run_command([path] + argv[1:], environ_update=C_LOCALE)
        raw["systemctl"] = {"rc": rc, "stdout": out, "stderr": err}
    raw["processes"] = read_processes()
    return raw


def collect(module):
    """Read everything build_metrics needs; the only place that sleeps."""
    params = module.params
    raw = {"stat_before": read_text("/proc/stat"), "diskstats_before": read_text("/proc/diskstats")}
    started = time.monotonic()
    time.sleep(params["sample_seconds"])
    raw["stat_after"] = read_text("/proc/stat")
    raw["diskstats_after"] = read_text("/proc/diskstats")
    raw["interval"] = time.monotonic() - started
    raw.update({
        "loadavg": read_text("/proc/loadavg"),
        "meminfo": read_text("/proc/meminfo"),
        "uptime": read_text("/proc/uptime"),
        "tcp": read_text("/proc/net/tcp"),
        "tcp6": read_text("/proc/net/tcp6", missing_ok=True),
        "pid_stats": read_pid_stats(),
        "dm_names": read_dm_names(),
        "mounts": read_text("/proc/mounts"),
        "include_fstypes": params["include_fstypes"],
        "exclude_mountpoints": params["exclude_mountpoints"],
        "statvfs": {},
    })
    if not isinstance(raw["mounts"], Unreadable):
        try:
            selected = select_filesystems(parse_mounts(raw["mounts"]), params["include_fstypes"],
                                          params["exclude_mountpoints"])
        except (ValueError, IndexError):
            selected = []  # build_metrics reports the parse failure itself
        raw["statvfs"] = statvfs_all([m["mountpoint"] for m in selected], params["fs_timeout"])
    systemd = systemd_booted()
    raw["clock_attempts"] = run_clock_tools(module, systemd)
    raw.update(check_services(module, params["expected_services"], systemd))
    return raw


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sample_seconds=dict(type="float", default=1.0),
            thresholds=dict(type="dict", default={}),
            expected_ports=dict(type="list", elements="int", default=[]),
            expected_services=dict(type="list", elements="str", default=[]),
            include_fstypes=dict(type="list", elements="str", default=[]),
            exclude_mountpoints=dict(type="list", elements="str", default=[]),
            fs_timeout=dict(type="float", default=5.0),
            host=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    thresholds = merge_thresholds(params["thresholds"])
    errors = validate_thresholds(thresholds)
    if not 0 < params["sample_seconds"] <= 60:
        errors.append("sample_seconds 必须大于 0 且不超过 60 / sample_seconds must be in (0, 60], got %s"
                      % params["sample_seconds"])
    if params["fs_timeout"] <= 0:
        errors.append("fs_timeout 必须大于 0 / fs_timeout must be positive, got %s" % params["fs_timeout"])
    bad_ports = [p for p in params["expected_ports"] if not 0 < p < 65536]
    if bad_ports:
        errors.append("端口超出范围 / ports out of range 1-65535: %s" % bad_ports)
    errors.extend(validate_service_names(params["expected_services"]))
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)

    metrics = build_metrics(collect(module))
    records = evaluate(metrics, thresholds, params["host"] or socket.gethostname(), params["expected_ports"],
                       params["expected_services"])
    module.exit_json(changed=False, metrics=metrics, records=records, status=worst(records),
                     thresholds=thresholds)


if __name__ == "__main__":
    main()
