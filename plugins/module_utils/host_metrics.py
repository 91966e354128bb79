# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host metrics for INSP-01: parse /proc text into numbers, grade numbers into records.

Everything here takes text and plain data, so it is unit-tested without a live
host; plugins/modules/host_metrics.py does the reading and the sleeping.
Runs on managed hosts: must stay valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket
import sys
from fnmatch import fnmatch

from ansible_collections.gxtax.ops.plugins.module_utils.records import grade, make_record
from ansible_collections.gxtax.ops.plugins.module_utils.thresholds import validate as validate_threshold_pairs

REQUIREMENT_ID = "INSP-01"

# warning/critical pairs; None in either disables that level.
DEFAULT_THRESHOLDS = {
    "cpu_warning": 90, "cpu_critical": 95,            # spec: CPU 90% is abnormal
    "memory_warning": 90, "memory_critical": 95,      # spec: memory 90% is abnormal
    "swap_warning": 50, "swap_critical": 80,
    "filesystem_warning": 80, "filesystem_critical": 90,
    "inode_warning": 80, "inode_critical": 90,
    "io_util_warning": 80, "io_util_critical": 90,
    "io_await_warning": 20, "io_await_critical": 50,  # ms; Oracle expects single-block reads < 20 ms
    "load_per_cpu_warning": 1.5, "load_per_cpu_critical": 3.0,  # 5-minute load / online CPUs
    "zombie_warning": 5, "zombie_critical": 50,
    # ms, absolute. A healthy NTP client on a LAN holds a few ms, so 100 ms means the sync is
    # degraded; from 1 s on, log and audit timestamps (second resolution) of one request are out
    # of order across database and application hosts, and time-window extraction jobs miss rows.
    "clock_offset_warning_ms": 100, "clock_offset_critical_ms": 1000,
}
PERCENT_THRESHOLDS = ("cpu", "memory", "swap", "filesystem", "inode", "io_util")

# Filesystems reported by default. An allow-list, because pseudo filesystems
# keep appearing (cgroup2, bpf, tracefs...) and none of them can fill up in a
# way operators act on. tmpfs (/dev/shm is full by design under Oracle AMM),
# squashfs and iso9660 (always 100%) are left out; add them with include_fstypes.
DEFAULT_FSTYPES = (
    "ext2", "ext3", "ext4", "xfs", "btrfs", "jfs", "reiserfs", "vfat", "zfs", "vxfs",
    "ocfs2", "acfs", "gfs2", "nfs", "nfs4", "cifs", "smb3",
)
# overlay counts only as the root filesystem (live images, chroot-based hosts);
# elsewhere it is a container layer whose backing filesystem is reported anyway.
ROOT_ONLY_FSTYPES = ("overlay",)

# Block devices that are never storage an inspection cares about.
SKIP_DEVICE_PREFIXES = ("loop", "ram", "zram", "fd", "sr")
# Fewer I/Os than this in the sample give no meaningful average latency.
AWAIT_MIN_IOS = 10

CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")

# Named in port details so a report reader knows what is missing.
PORT_NAMES = {
    22: "SSH", 1521: "Oracle数据库监听", 1158: "Oracle EM", 5500: "Oracle EM Express",
    7001: "WebLogic管理服务", 7002: "WebLogic管理服务(SSL)", 5556: "WebLogic节点管理器",
    10050: "Zabbix Agent",
}


class Unreadable(object):
    """Stands in for the text of a file that could not be read."""

    def __init__(self, reason):
        self.reason = reason


# ---------------------------------------------------------------- parsers


def parse_proc_stat(text):
    """Aggregate CPU jiffies and the count of online CPUs (cpuN lines) from /proc/stat."""
    total = None
    count = 0
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "cpu":
            # guest/guest_nice are already inside user/nice: take only the first eight.
            values = [int(v) for v in fields[1:9]] + [0] * 8  # old kernels print fewer
            total = dict((name, values[i]) for i, name in enumerate(CPU_FIELDS))
        elif re.match(r"cpu\d+$", fields[0]):
            count += 1
    if total is None:
        raise ValueError("no aggregate 'cpu' line in /proc/stat")
    total["count"] = count
    return total


def cpu_usage(before_text, after_text):
    """Busy and iowait percentages between two /proc/stat samples (steal counts as busy)."""
    before, after = parse_proc_stat(before_text), parse_proc_stat(after_text)
    # iowait may step backwards on tickless kernels; a negative delta means zero.
    delta = dict((k, max(0, after[k] - before[k])) for k in CPU_FIELDS)
    total = sum(delta.values())
    if total <= 0:
        raise ValueError("/proc/stat did not advance between the two samples")
    idle = delta["idle"] + delta["iowait"]
    return {
        "busy_pct": round(100.0 * (total - idle) / total, 1),
        "iowait_pct": round(100.0 * delta["iowait"] / total, 1),
        "count": after["count"],
    }


def parse_loadavg(text):
    fields = text.split()
    running, threads = fields[3].split("/")
    return {"load1": float(fields[0]), "load5": float(fields[1]), "load15": float(fields[2]),
            "running": int(running), "threads": int(threads)}


def load_average(loadavg_text, stat_text):
    """Load averages plus the 5-minute load per online CPU, the graded figure.

    The 5-minute average smooths out short bursts, including the inspection's own run.
    """
    load = parse_loadavg(loadavg_text)
    count = parse_proc_stat(stat_text)["count"]
    if count <= 0:
        raise ValueError("no cpuN lines in /proc/stat")
    load["cpu_count"] = count
    load["per_cpu"] = round(load["load5"] / count, 2)
    return load


def parse_meminfo(text):
    """/proc/meminfo as {field: kB}."""
    values = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and parts:
            values[key.strip()] = int(parts[0])
    return values


def memory_usage(meminfo_text):
    """Used % from MemAvailable (what can be had without swapping), and swap used %."""
    info = parse_meminfo(meminfo_text)
    total = info["MemTotal"]
    if total <= 0:
        raise ValueError("MemTotal is not positive")
    available = info.get("MemAvailable")
    if available is None:  # kernels before 3.14 without the backport: estimate it
        available = (info.get("MemFree", 0) + info.get("Buffers", 0) + info.get("Cached", 0)
                     + info.get("SReclaimable", 0))
    available = min(available, total)
    swap_total = info.get("SwapTotal", 0)
    swap_free = info.get("SwapFree", 0)
    return {
        "total_kb": total,
        "available_kb": available,
        "used_pct": round(100.0 * (total - available) / total, 1),
        "swap_total_kb": swap_total,
        "swap_free_kb": swap_free,
        "swap_used_pct": round(100.0 * (swap_total - swap_free) / swap_total, 1) if swap_total > 0 else None,
    }


def parse_diskstats(text):
    """{device: counters} from /proc/diskstats; lines without the 11 classic counters are skipped."""
    devices = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 14:  # pre-2.6.25 partitions carry 4 counters: nothing to measure
            continue
        devices[f[2]] = {"reads": int(f[3]), "read_ms": int(f[6]), "writes": int(f[7]),
                         "write_ms": int(f[10]), "io_ms": int(f[12])}
    return devices


def is_partition(name, names):
    """True if name is a partition of a whole disk in names.

    The kernel's naming rule: a disk whose name ends in a digit gets 'p' before
    the partition number (nvme0n1p1, md1p1), others do not (sda1, sdp1). So
    dm-10 is not a partition of dm-1, nor md10 of md1.
    """
    match = re.match(r"^(.*\D)(\d+)$", name)
    if not match:
        return False
    prefix = match.group(1)
    if prefix in names and not prefix[-1].isdigit():
        return True
    disk = prefix[:-1]
    return prefix.endswith("p") and disk in names and disk[-1:].isdigit()


def disk_io(before_text, after_text, interval, aliases=None):
    """Per-device %util, await (ms) and IOPS between two /proc/diskstats samples.

    Loop/ram/zram/floppy/cd-rom devices, partitions of listed disks and devices
    with no I/O since boot are left out; device-mapper and md devices are kept.
    aliases maps dm-N to its device-mapper name (from /sys/block/dm-N/dm/name).
    """
    if not interval or interval <= 0:
        raise ValueError("sample interval must be positive, got %r" % (interval,))
    before, after = parse_diskstats(before_text), parse_diskstats(after_text)
    aliases = aliases or {}
    devices = {}
    for name in sorted(after):
        now, then = after[name], before.get(name)
        if (then is None or name.startswith(SKIP_DEVICE_PREFIXES) or is_partition(name, after)
                or now["reads"] + now["writes"] == 0):
            continue
        delta = dict((k, now[k] - then[k]) for k in now)
        if min(delta.values()) < 0:  # counters reset or wrapped (32-bit on old kernels)
            continue
        ios = delta["reads"] + delta["writes"]
        devices[name] = {
            "alias": aliases.get(name),
            "util_pct": round(min(100.0, delta["io_ms"] / (interval * 10.0)), 1),
            "await_ms": round((delta["read_ms"] + delta["write_ms"]) / ios, 2) if ios else 0.0,
            "ios": ios,
            "reads_per_s": round(delta["reads"] / interval, 1),
            "writes_per_s": round(delta["writes"] / interval, 1),
        }
    return {"interval": round(interval, 3), "devices": devices}


def _unescape_mount_field(field):
    # /proc/mounts writes space, tab, newline and backslash as octal escapes.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text):
    mounts = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 4:
            mounts.append({"device": _unescape_mount_field(f[0]), "mountpoint": _unescape_mount_field(f[1]),
                           "fstype": f[2], "options": f[3]})
    return mounts


def is_network_fs(fstype):
    return fstype in ("nfs", "nfs4", "cifs", "smb3", "smbfs") or fstype.startswith("fuse.")


def select_filesystems(mounts, include_fstypes=(), exclude_mountpoints=()):
    """The mounts to report, sorted by mount point.

    A later mount on the same mount point hides the earlier one, so only the
    visible one counts. Bind mounts and btrfs subvolumes of one block device
    are reported once, under the shortest mount point. exclude_mountpoints
    takes shell patterns (/mnt/*).
    """
    fstypes = set(DEFAULT_FSTYPES) | set(include_fstypes or ())
    visible = {}
    for mount in mounts:
        visible.pop(mount["mountpoint"], None)  # re-insert: dicts keep order on 3.7
        visible[mount["mountpoint"]] = mount
    chosen = {}
    for mount in visible.values():
        point, fstype = mount["mountpoint"], mount["fstype"]
        wanted = fstype in fstypes or (fstype in ROOT_ONLY_FSTYPES and point == "/")
        if not wanted or any(fnmatch(point, pattern) for pattern in exclude_mountpoints or ()):
            continue
        key = mount["device"] if mount["device"].startswith("/dev/") else "mountpoint:" + point
        kept = chosen.get(key)
        if kept is None or len(point) < len(kept["mountpoint"]):
            chosen[key] = mount
    return sorted(chosen.values(), key=lambda m: m["mountpoint"])


def filesystem_usage(mount, st):
    """Space and inode figures for one mount from a statvfs dict (f_frsize, f_blocks...).

    Used % follows df: used / (used + available to non-root), so the root
    reserve counts as full. None where the filesystem reports no size/inodes.
    """
    frsize = st.get("f_frsize") or st["f_bsize"]
    used_blocks = st["f_blocks"] - st["f_bfree"]
    usable = used_blocks + st["f_bavail"]
    inodes_used = st["f_files"] - st["f_ffree"]
    entry = dict((k, mount[k]) for k in ("mountpoint", "device", "fstype"))
    entry.update({
        "size_kb": st["f_blocks"] * frsize // 1024,
        "used_kb": used_blocks * frsize // 1024,
        "avail_kb": st["f_bavail"] * frsize // 1024,
        "used_pct": round(100.0 * used_blocks / usable, 1) if usable > 0 else None,
        "inodes_total": st["f_files"],
        "inodes_used": inodes_used,
        "inode_used_pct": round(100.0 * inodes_used / st["f_files"], 1) if st["f_files"] > 0 else None,
    })
    return entry


def filesystem_metrics(mounts_text, statvfs, include_fstypes=(), exclude_mountpoints=()):
    """Usage of every selected filesystem; statvfs maps mount point -> statvfs dict or error text."""
    entries = []
    for mount in select_filesystems(parse_mounts(mounts_text), include_fstypes, exclude_mountpoints):
        st = statvfs.get(mount["mountpoint"], "statvfs 未执行 / not collected")
        if isinstance(st, dict):
            try:
                entries.append(filesystem_usage(mount, st))
                continue
            except (KeyError, TypeError, ValueError) as exc:
                st = "statvfs 结果不完整 / incomplete statvfs result: %s" % exc
        entry = dict((k, mount[k]) for k in ("mountpoint", "device", "fstype"))
        entry["error"] = st
        entries.append(entry)
    return {"mounts": entries}


def parse_uptime(text):
    seconds = float(text.split()[0])
    return {"seconds": seconds, "days": round(seconds / 86400.0, 2)}


def zombie_processes(stat_texts):
    """Count of processes in state Z and their parent PIDs, from /proc/<pid>/stat texts."""
    count = 0
    parents = set()
    for text in stat_texts:
        # comm sits in parentheses and may itself hold spaces or ')': split after the last one.
        fields = text.rpartition(")")[2].split()
        if fields and fields[0] == "Z":
            count += 1
            if len(fields) > 1:
                parents.add(int(fields[1]))
    return {"count": count, "parents": sorted(parents)}


def _decode_address(hexaddr, byteorder):
    raw = bytearray.fromhex(hexaddr)
    if byteorder == "little":  # the kernel prints each 32-bit word in host byte order
        raw = b"".join(bytes(raw[i:i + 4][::-1]) for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, bytes(raw))


def listening_ports(tcp_text, tcp6_text="", byteorder=sys.byteorder):
    """TCP sockets in LISTEN (state 0A) from /proc/net/tcp and /proc/net/tcp6."""
    sockets = set()
    for text in (tcp_text, tcp6_text or ""):
        for line in text.splitlines():
            f = line.split()
            if len(f) < 4 or not f[0].endswith(":") or f[3] != "0A":
                continue
            address, port = f[1].split(":")
            sockets.add((int(port, 16), _decode_address(address, byteorder)))
    return {"listening": sorted(set(port for port, _ in sockets)),
            "sockets": [{"port": p, "address": a} for p, a in sorted(sockets)]}


# ---------------------------------------------------------------- clock synchronisation

# Tried in this order, stopping at the first that answers: the daemons' own tools know the
# offset; timedatectl and ntpstat only know "synchronised or not" (the kernel's flag).
CLOCK_COMMANDS = (
    ("chronyc", ["chronyc", "-n", "tracking"]),
    ("ntpq", ["ntpq", "-pn"]),
    ("timedatectl", ["timedatectl", "show", "-p", "NTP", "-p", "NTPSynchronized"]),
    ("timedatectl-status", ["timedatectl", "status"]),  # systemd < 239 has no `show`
    ("ntpstat", ["ntpstat"]),
)


def _first_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def parse_chronyc_tracking(text):
    """chronyc -n tracking -> synchronized, offset_ms (local minus reference), reference, stratum."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    if "Leap status" not in fields or "System time" not in fields:
        raise ValueError("no 'Leap status' / 'System time' in chronyc tracking output")
    match = re.match(r"([-+]?[0-9.]+)\s+seconds\s+(fast|slow)", fields["System time"])
    if not match:
        raise ValueError("cannot read System time %r" % fields["System time"])
    offset = float(match.group(1)) * 1000.0 * (1 if match.group(2) == "fast" else -1)
    reference = fields.get("Reference ID", "")
    ref = re.search(r"\((.*)\)", reference)
    return {
        "synchronized": fields["Leap status"] != "Not synchronised",
        "offset_ms": round(offset, 3),
        "reference": (ref.group(1) if ref else reference) or None,
        "stratum": int(fields["Stratum"]) if fields.get("Stratum", "").isdigit() else None,
    }


def parse_ntpq_peers(text):
    """ntpq -pn -> synchronized (a peer marked * or o), offset_ms of that peer, reference.

    ntpq prints the peer's offset relative to this host (positive: the server is ahead),
    so local minus reference is its negation.
    """
    lines = text.splitlines()
    if not any(line.split()[:1] == ["remote"] for line in lines):
        raise ValueError("no peer table in ntpq output")
    for index, line in enumerate(lines):
        if line[:1] in ("*", "o"):
            fields = line[1:].split()
            if len(fields) == 1 and index + 1 < len(lines):  # a long IPv6 address wraps the row
                fields += lines[index + 1].split()
            offset = float(fields[8]) if len(fields) > 8 else None
            return {"synchronized": True, "offset_ms": -offset if offset is not None else None,
                    "reference": fields[0], "stratum": int(fields[2]) if fields[2].isdigit() else None}
    return {"synchronized": False, "offset_ms": None, "reference": None, "stratum": None}


def parse_timedatectl(text):
    """timedatectl show (NTP=, NTPSynchronized=) or timedatectl status, in any systemd version.

    ntp_service: whether systemd's own NTP client is enabled (None if not said).
    """
    values = {}
    for line in text.splitlines():
        for sep in ("=", ":"):
            key, found, value = line.partition(sep)
            if found:
                values[key.strip()] = value.strip()
                break
    synced = (values.get("NTPSynchronized") or values.get("System clock synchronized")
              or values.get("NTP synchronized"))
    if synced not in ("yes", "no"):
        raise ValueError("timedatectl did not say whether the clock is synchronised")
    service = values.get("NTP") or values.get("NTP service") or values.get("NTP enabled")
    return {"synchronized": synced == "yes",
            "ntp_service": {"yes": True, "active": True, "no": False, "inactive": False}.get(service)}


def _state(service, synchronized):
    return {"service": service, "synchronized": synchronized, "offset_ms": None, "reference": None,
            "stratum": None}


def _chronyc(rc, stdout, stderr):
    if rc != 0:  # 506 Cannot talk to daemon: chronyd not running
        return None
    answer = parse_chronyc_tracking(stdout)
    answer["service"] = "chronyd"
    return answer


def _ntpq(rc, stdout, stderr):
    if "No association ID" in stdout + stderr:  # ntpd runs without any server configured
        return _state("ntpd", False)
    if rc != 0 or "remote" not in stdout:  # ntpq says "Socket error" with exit 0
        return None
    answer = parse_ntpq_peers(stdout)
    answer["service"] = "ntpd"
    return answer


def _timedatectl(rc, stdout, stderr, service="systemd-timesyncd"):
    if rc != 0:
        return None
    state = parse_timedatectl(stdout)
    if state["ntp_service"]:
        return _state(service, state["synchronized"])
    if state["synchronized"]:  # the kernel's flag: some other client keeps the clock
        return _state("内核时钟(timedatectl)", True)
    return None  # nothing disciplines the clock: a later tool (or nobody) answers


def _timedatectl_status(rc, stdout, stderr):
    # systemd < 239 (RHEL 7): "NTP enabled" is whichever client timedated manages, often chronyd
    return _timedatectl(rc, stdout, stderr, "NTP服务(timedatectl)")


def _ntpstat(rc, stdout, stderr):
    return _state("ntpstat", rc == 0) if rc in (0, 1) else None  # 2: cannot tell


CLOCK_PARSERS = {"chronyc": _chronyc, "ntpq": _ntpq, "timedatectl": _timedatectl,
                 "timedatectl-status": _timedatectl_status, "ntpstat": _ntpstat}


def clock_answer(tool, rc, stdout, stderr=""):
    """(answer, note): answer is a clock dict when this tool settles the question, else None
    with a note saying why it did not (daemon not running, no service configured...).
    Raises ValueError on output it cannot read."""
    if tool not in CLOCK_PARSERS:
        raise ValueError("unknown clock tool %r" % tool)
    answer = CLOCK_PARSERS[tool](rc, stdout, stderr)
    if answer is not None:
        return answer, None
    if tool.startswith("timedatectl") and rc == 0:
        return None, "timedatectl: NTP 服务未启用且时钟未同步"
    said = _first_line(stderr) or _first_line(stdout) or "exit %s" % rc
    return None, "%s: %s" % (tool.split("-")[0], said)


def wants_clock_tool(tool, attempts, systemd):
    """Whether to run this tool next: timedatectl needs systemd as PID 1, and its `status`
    form is only the fallback for a systemd too old for `show`."""
    if tool.startswith("timedatectl") and not systemd:
        return False
    if tool == "timedatectl-status":
        return not any(a["tool"] == "timedatectl" and a["rc"] == 0 for a in attempts)
    return True


def clock_sync(attempts):
    """The clock state from the commands tried, in CLOCK_COMMANDS order.

    attempts: [{tool, rc, stdout, stderr}]. Returns the first answer plus the notes of the
    tools before it; service None when no tool answered (no time service at all).
    """
    notes = []
    for attempt in attempts:
        try:
            answer, note = clock_answer(attempt["tool"], attempt["rc"], attempt.get("stdout") or "",
                                        attempt.get("stderr") or "")
        except ValueError as exc:
            answer, note = None, "%s: %s" % (attempt["tool"], exc)
        if answer is not None:
            answer["tried"] = notes
            return answer
        notes.append(note)
    return {"service": None, "synchronized": None, "offset_ms": None, "reference": None,
            "stratum": None, "tried": notes}


# ---------------------------------------------------------------- configured services

# Properties asked of systemd; `ActiveState` is what `systemctl is-active` prints, and
# LoadState tells a unit that does not exist (not-found) from one that is stopped.
SYSTEMCTL_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "MainPID")
TASK_COMM_LEN = 15  # the kernel truncates /proc/<pid>/comm to 15 characters


def validate_service_names(names):
    """Error messages for service names that could not be a unit or a process name."""
    errors = []
    for name in names or ():
        if not name or re.search(r"[\s/]", name) or name.startswith("-"):
            errors.append("服务名无效 / invalid service name %r: no spaces, slashes or leading '-'" % (name,))
    return errors


def systemctl_show_command(names):
    argv = ["systemctl", "show"]
    for prop in SYSTEMCTL_PROPERTIES:
        argv += ["-p", prop]
    return argv + ["--"] + list(names)


def parse_systemctl_show(text):
    """Blocks of `systemctl show` (one per unit, in argument order, blank-line separated)."""
    blocks, current = [], {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    if current:
        blocks.append(current)
    return blocks


def process_name_matches(name, comm, argv0):
    """True if a process with this comm and argv[0] is the service `name`.

    comm is what ps shows (truncated to 15 characters); argv[0] may be a path or a title
    the daemon set itself ("sshd: /usr/sbin/sshd -D [listener] ...").
    """
    if name.endswith(".service"):
        name = name[:-len(".service")]
    if comm == name or (len(name) > TASK_COMM_LEN and comm == name[:TASK_COMM_LEN]):
        return True
    words = (argv0 or "").split()
    first = words[0] if words else ""
    return first.rstrip(":").rsplit("/", 1)[-1] == name


def service_states(names, systemd, systemctl, processes):
    """Whether each configured service runs.

    systemd: systemd is PID 1. systemctl: {rc, stdout, stderr} of systemctl_show_command(names)
    or None. processes: [{pid, comm, argv0}] from /proc, or Unreadable. A name systemd does
    not know as a unit (Oracle, WebLogic started by scripts) is looked up as a process.
    """
    units = {}
    unit_error = None
    if systemd:
        if systemctl is None:
            unit_error = "systemctl 不可用 / systemctl not found"
        else:
            blocks = parse_systemctl_show(systemctl.get("stdout") or "")
            if len(blocks) != len(names):
                unit_error = "systemctl show: %s" % (_first_line(systemctl.get("stderr"))
                                                     or "exit %s" % systemctl.get("rc"))
            else:
                units = dict((names[i], blocks[i]) for i in range(len(names)))  # zip(strict=) is 3.10+
    states = []
    for name in names:
        unit = units.get(name)
        if unit and unit.get("LoadState") not in ("not-found", None):
            states.append({"name": name, "via": "systemd", "unit": unit.get("Id") or name,
                           "load": unit.get("LoadState"), "active": unit.get("ActiveState"),
                           "sub": unit.get("SubState"), "pid": int(unit.get("MainPID") or 0)})
            continue
        if isinstance(processes, Unreadable):
            states.append({"name": name, "via": "process", "error": processes.reason})
            continue
        pids = sorted(p["pid"] for p in processes or () if process_name_matches(name, p["comm"], p["argv0"]))
        state = {"name": name, "via": "process", "pids": pids}
        if systemd:
            state["unit_note"] = unit_error or "systemd 中没有该单元 / no such systemd unit"
        states.append(state)
    return {"systemd": bool(systemd), "services": states}


def _failure(what, exc):
    return "%s: %s: %s" % (what, type(exc).__name__, exc)


def measure(func, *inputs):
    """func(*inputs), or {'error': reason} if an input is Unreadable/None or func fails.

    One unreadable or malformed file must cost only its own metric.
    """
    for item in inputs:
        if isinstance(item, Unreadable):
            return {"error": item.reason}
        if item is None:
            return {"error": "未采集 / not collected"}
    try:
        return func(*inputs)
    except Exception as exc:  # any parse failure becomes that metric's error record
        return {"error": _failure("解析失败 / cannot parse", exc)}


def build_metrics(raw):
    """All sections from the texts the module read (keys as below; missing = not collected)."""
    get = raw.get
    return {
        "cpu": measure(cpu_usage, get("stat_before"), get("stat_after")),
        "load": measure(load_average, get("loadavg"), get("stat_after")),
        "memory": measure(memory_usage, get("meminfo")),
        "filesystems": measure(filesystem_metrics, get("mounts"), get("statvfs", {}),
                               get("include_fstypes", ()), get("exclude_mountpoints", ())),
        "disks": measure(disk_io, get("diskstats_before"), get("diskstats_after"), get("interval"),
                         get("dm_names", {})),
        "zombies": measure(zombie_processes, get("pid_stats")),
        "uptime": measure(parse_uptime, get("uptime")),
        "ports": measure(listening_ports, get("tcp"), get("tcp6", "")),
        "clock": measure(clock_sync, get("clock_attempts")),
        "services": _services_section(raw),
    }


def _services_section(raw):
    # Not through measure(): an unreadable process table is an error only for the services
    # systemd does not know, and a host without systemd has no systemctl output at all.
    try:
        return service_states(raw.get("expected_services") or [], bool(raw.get("systemd")),
                              raw.get("systemctl"), raw.get("processes") or [])
    except Exception as exc:  # same rule as measure()
        return {"error": _failure("解析失败 / cannot parse", exc)}


# ---------------------------------------------------------------- thresholds


def merge_thresholds(overrides):
    """Defaults with overrides on top; numeric strings (from k=v args or templating) become numbers."""
    merged = dict(DEFAULT_THRESHOLDS)
    for key, value in (overrides or {}).items():
        merged[key] = value
        if isinstance(value, str):
            try:
                merged[key] = float(value)
            except ValueError:
                pass  # left for validate_thresholds to report
    return merged


def threshold_keys(kind):
    """(warning key, critical key) of one check: cpu -> cpu_warning/cpu_critical,
    clock_offset -> clock_offset_warning_ms/clock_offset_critical_ms (the unit is in the name)."""
    for warning in DEFAULT_THRESHOLDS:
        if warning.startswith(kind + "_warning"):
            return warning, warning.replace("_warning", "_critical", 1)
    raise KeyError(kind)





def validate_thresholds(thresholds):
    """Error messages (Chinese / English) for impossible thresholds; [] if all is well."""
    return validate_threshold_pairs(thresholds, DEFAULT_THRESHOLDS, PERCENT_THRESHOLDS)


# ---------------------------------------------------------------- evaluation

CLOCK_CONSEQUENCE = "时间不同步导致日志、审计时间错乱，数据抽取时间窗错误"

# (排查方向, 导致问题) per check, for warning and critical records.
ADVICE = {
    "cpu": ("使用 top、pidstat 找出占用CPU最高的进程，结合数据库TOP SQL和"
            "WebLogic线程堆栈排查异常负载，必要时扩容CPU",
            "CPU资源耗尽导致数据库和应用响应变慢、请求超时，业务办理卡顿"),
    "memory": ("使用 top、ps 按内存排序找出占用最高的进程，核对数据库SGA/PGA和"
               "WebLogic JVM堆配置是否超出规划，排查内存泄漏",
               "内存不足引发频繁换页或触发OOM终止进程，可能导致数据库实例或应用服务异常退出"),
    "swap": ("使用 vmstat 观察si/so换页情况，按进程查看swap占用"
             "（/proc/<pid>/status 的 VmSwap），核对内存和大页(HugePages)配置",
             "频繁换页使数据库和应用性能急剧下降，交换空间耗尽时将触发OOM"),
    "filesystem": ("使用 du 定位大文件和目录，清理过期日志/归档文件"
                   "（数据库归档日志、trace、WebLogic日志等），或扩容文件系统",
                   "文件系统写满导致数据库归档、应用日志写入失败，业务中断"),
    "inode": ("使用 find 统计小文件最多的目录（审计文件、会话临时文件等），清理过期小文件",
              "inode耗尽后即使仍有空间也无法创建新文件，数据库审计、应用日志和临时文件写入失败"),
    "io_util": ("使用 iostat -x、iotop 确认繁忙设备和产生IO的进程，排查数据库大量物理读写的SQL、"
                "备份和批处理作业，检查存储链路与多路径状态"
                "（SSD和存储阵列%util满不一定饱和，需结合await判断）",
                "磁盘IO饱和导致数据库读写等待增加，SQL和应用响应变慢"),
    "io_await": ("使用 iostat -x 查看读写延迟，检查存储阵列、HBA卡、多路径链路和队列深度，"
                 "排查产生大量IO的SQL",
                 "IO响应慢使数据库等待事件（如 db file sequential read、log file sync）增加，"
                 "业务提交变慢"),
    "load_per_cpu": ("使用 top、vmstat 查看运行队列和D状态进程；CPU不高而负载高时，"
                     "重点排查IO等待和无响应的NFS挂载",
                     "运行队列过长导致进程调度延迟，系统和业务响应整体变慢"),
    "zombie": ("使用 ps -eo pid,ppid,stat,cmd 找出僵尸进程及其父进程，"
               "检查父进程是否正常回收子进程，必要时重启父进程",
               "僵尸进程持续累积会占用进程号，进程号耗尽后无法创建新进程"),
    "port": ("检查对应服务（数据库监听、WebLogic服务等）进程是否存活及其日志，核对监听配置中的地址和端口",
             "服务端口未监听，客户端无法连接，相关业务中断"),
    "clock_offset": ("使用 chronyc sources -v（或 ntpq -p）查看各时间源的偏差和可达性，确认NTP服务器"
                     "本身时间准确、网络延迟稳定，必要时用 chronyc makestep 校正",
                     CLOCK_CONSEQUENCE),
    "clock_unsynced": ("检查时间同步服务（chronyd/ntpd/systemd-timesyncd）的状态和日志，确认配置的NTP"
                       "服务器地址正确、UDP 123 端口可达，必要时手工校时后重启服务",
                       CLOCK_CONSEQUENCE),
    "clock_none": ("安装并启用 chronyd（或 ntpd），指向局内统一的NTP服务器并确认 UDP 123 端口可达；"
                   "虚拟机或容器的时钟若由宿主机同步，请在宿主机上复核",
                   CLOCK_CONSEQUENCE),
    "service": ("使用 systemctl status、journalctl -u（无 systemd 时用 ps -ef 和服务自身日志）检查服务"
                "为何未运行，确认已安装且未被停用，启动后设置开机自启",
                "服务未运行，依赖它的数据库、应用、监控或时间同步等功能不可用"),
}
ERROR_DIRECTION = "检查 %s 是否存在且可读（权限、chroot或容器中是否挂载 /proc），在主机上手工复核该项指标"
ERROR_CONSEQUENCE = "该项指标无法采集，对应的异常无法被巡检发现"
FS_ERROR_DIRECTION = ("检查挂载点 %s 的状态：NFS/CIFS 服务器是否可达、挂载是否挂起（df 是否卡住），"
                      "必要时联系存储管理员或重新挂载")


def _fmt(number):
    """90.0 -> '90', 1.25 -> '1.25' for Chinese sentences."""
    return ("%.2f" % number).rstrip("0").rstrip(".")


def _gib(kb):
    return "%s GiB" % _fmt(kb / 1048576.0)


def _error(host, item, source, reason, direction=None):
    return make_record(REQUIREMENT_ID, item, host, "error", detail="%s无法采集：%s。" % (item, reason),
                       direction=direction or ERROR_DIRECTION % source, consequence=ERROR_CONSEQUENCE)


def _graded(host, item, value, unit, what, *, thresholds, kind):
    """Record for a higher-is-worse value; what is the sentence start describing the value."""
    low, high = threshold_keys(kind)
    warning, critical = thresholds.get(low), thresholds.get(high)
    status = grade(value, warning, critical)
    suffix = unit if unit == "%" else (" " + unit if unit else "")
    if status == "critical":
        verdict = "已达到严重阈值 %s%s" % (_fmt(critical), suffix)
    elif status == "warning":
        verdict = "已达到告警阈值 %s%s" % (_fmt(warning), suffix)
    elif warning is not None or critical is not None:
        verdict = "低于告警阈值 %s%s，正常" % (_fmt(warning if warning is not None else critical), suffix)
    else:
        verdict = "未设置阈值，不评估"
    direction, consequence = ADVICE[kind] if status in ("warning", "critical") else (None, None)
    return make_record(REQUIREMENT_ID, item, host, status, value, unit,
                       {"warning": warning, "critical": critical}, "%s，%s。" % (what, verdict),
                       direction, consequence)


def _check_cpu(section, t, host):
    item = "CPU使用率"
    if "error" in section:
        return [_error(host, item, "/proc/stat", section["error"])]
    what = "CPU使用率 %s%%（其中IO等待 %s%%，%d 个CPU）" % (
        _fmt(section["busy_pct"]), _fmt(section["iowait_pct"]), section["count"])
    return [_graded(host, item, section["busy_pct"], "%", what, thresholds=t, kind="cpu")]


def _check_load(section, t, host):
    item = "系统负载(每CPU)"
    if "error" in section:
        return [_error(host, item, "/proc/loadavg 和 /proc/stat", section["error"])]
    what = "5分钟平均负载 %s，%d 个CPU，每CPU负载 %s（1/15分钟：%s/%s）" % (
        _fmt(section["load5"]), section["cpu_count"], _fmt(section["per_cpu"]),
        _fmt(section["load1"]), _fmt(section["load15"]))
    return [_graded(host, item, section["per_cpu"], None, what, thresholds=t, kind="load_per_cpu")]


def _check_memory(section, t, host):
    if "error" in section:
        return [_error(host, "内存使用率", "/proc/meminfo", section["error"]),
                _error(host, "交换空间使用率", "/proc/meminfo", section["error"])]
    what = "内存使用率 %s%%（可用 %s / 共 %s）" % (
        _fmt(section["used_pct"]), _gib(section["available_kb"]), _gib(section["total_kb"]))
    records = [_graded(host, "内存使用率", section["used_pct"], "%", what, thresholds=t, kind="memory")]
    if section["swap_used_pct"] is None:
        records.append(make_record(REQUIREMENT_ID, "交换空间使用率", host, "skipped", None, "%",
                                   detail="主机未配置交换空间，不评估。"))
    else:
        what = "交换空间使用率 %s%%（共 %s）" % (_fmt(section["swap_used_pct"]),
                                              _gib(section["swap_total_kb"]))
        records.append(_graded(host, "交换空间使用率", section["swap_used_pct"], "%", what,
                               thresholds=t, kind="swap"))
    return records


def _check_filesystems(section, t, host):
    if "error" in section:
        return [_error(host, "文件系统空间使用率", "/proc/mounts", section["error"])]
    records = []
    for fs in section["mounts"]:
        point = fs["mountpoint"]
        space, inode = "文件系统 %s 空间使用率" % point, "文件系统 %s inode使用率" % point
        where = "文件系统 %s（%s，%s）" % (point, fs["device"], fs["fstype"])
        if "error" in fs:
            direction = FS_ERROR_DIRECTION % point
            records.extend([_error(host, space, point, fs["error"], direction),
                            _error(host, inode, point, fs["error"], direction)])
            continue
        if fs["used_pct"] is None:
            records.append(make_record(REQUIREMENT_ID, space, host, "skipped", None, "%",
                                       detail="%s未报告容量，不评估。" % where))
        else:
            what = "%s空间已用 %s%%，可用 %s" % (where, _fmt(fs["used_pct"]), _gib(fs["avail_kb"]))
            records.append(_graded(host, space, fs["used_pct"], "%", what, thresholds=t, kind="filesystem"))
        if fs["inode_used_pct"] is None:
            records.append(make_record(REQUIREMENT_ID, inode, host, "skipped", None, "%",
                                       detail="%s不提供inode统计（如 btrfs、vfat），不评估。" % where))
        else:
            what = "%sinode已用 %s%%（%d / %d）" % (where, _fmt(fs["inode_used_pct"]),
                                                   fs["inodes_used"], fs["inodes_total"])
            records.append(_graded(host, inode, fs["inode_used_pct"], "%", what, thresholds=t, kind="inode"))
    return records


def _check_disks(section, t, host):
    if "error" in section:
        return [_error(host, "磁盘IO繁忙度(%util)", "/proc/diskstats", section["error"])]
    records = []
    for name in sorted(section["devices"]):
        dev = section["devices"][name]
        label = dev.get("alias") or name  # dm-N numbers change across reboots, LVM names do not
        shown = "%s（%s）" % (label, name) if label != name else name
        what = "磁盘 %s 采样 %s 秒内IO繁忙度 %s%%（读 %s 次/秒，写 %s 次/秒）" % (
            shown, _fmt(section["interval"]), _fmt(dev["util_pct"]), _fmt(dev["reads_per_s"]),
            _fmt(dev["writes_per_s"]))
        records.append(_graded(host, "磁盘 %s IO繁忙度(%%util)" % label, dev["util_pct"], "%", what,
                               thresholds=t, kind="io_util"))
        item = "磁盘 %s 平均IO响应时间(await)" % label
        if dev["ios"] == 0:
            records.append(make_record(REQUIREMENT_ID, item, host, "ok", 0.0, "ms", None,
                                       "磁盘 %s 采样期间无IO，响应时间不适用。" % shown))
        elif dev["ios"] < AWAIT_MIN_IOS:
            detail = "磁盘 %s 采样期间仅 %d 次IO，样本太少，不评估响应时间。" % (shown, dev["ios"])
            records.append(make_record(REQUIREMENT_ID, item, host, "skipped", dev["await_ms"], "ms", None,
                                       detail))
        else:
            what = "磁盘 %s 平均IO响应时间 %s ms（%d 次IO）" % (shown, _fmt(dev["await_ms"]), dev["ios"])
            records.append(_graded(host, item, dev["await_ms"], "ms", what, thresholds=t, kind="io_await"))
    return records


def _check_zombies(section, t, host):
    item = "僵尸进程"
    if "error" in section:
        return [_error(host, item, "/proc/<pid>/stat", section["error"])]
    what = "僵尸进程 %d 个" % section["count"]
    if section["parents"]:
        what += "（父进程PID：%s）" % ", ".join(str(p) for p in section["parents"][:10])
    return [_graded(host, item, section["count"], "个", what, thresholds=t, kind="zombie")]


def _check_uptime(section, t, host):
    item = "系统运行时间"
    if "error" in section:
        return [_error(host, item, "/proc/uptime", section["error"])]
    seconds = section["seconds"]
    if seconds < 86400:  # a fresh reboot is worth noticing in hours, not "0 天"
        since = "%s 小时" % _fmt(seconds / 3600.0)
    else:
        since = "%s 天" % _fmt(seconds / 86400.0)
    return [make_record(REQUIREMENT_ID, item, host, "ok", section["days"], "天", None,
                        "系统自上次启动已运行 %s。" % since)]


def _check_ports(section, expected_ports, host):
    records = []
    for port in sorted(set(expected_ports or ())):
        item = "监听端口 %d" % port
        name = PORT_NAMES.get(port)
        label = "端口 %d%s" % (port, "（%s）" % name if name else "")
        if "error" in section:
            records.append(_error(host, item, "/proc/net/tcp", section["error"]))
            continue
        addresses = [s["address"] for s in section["sockets"] if s["port"] == port]
        if addresses:
            records.append(make_record(REQUIREMENT_ID, item, host, "ok", True, None, "LISTEN",
                                       "%s正在监听（%s）。" % (label, "、".join(addresses))))
        else:
            direction, consequence = ADVICE["port"]
            records.append(make_record(REQUIREMENT_ID, item, host, "critical", False, None, "LISTEN",
                                       "%s未处于监听状态。" % label, direction, consequence))
    return records


def _check_clock(section, t, host):
    """时钟同步 (is the clock disciplined) and 时钟偏差 (how far off, when the tool says).

    No time service at all is a warning, not critical: the clock may still be right (a
    container shares its host's clock, hypervisor tools may set a VM's), but nothing on the
    host keeps it right and the inspection cannot measure it; an operator has to confirm.
    """
    sync_item, offset_item = "时钟同步", "时钟偏差"
    if "error" in section:
        direction = "在主机上手工执行 chronyc tracking、ntpq -p 或 timedatectl 复核时钟同步状态"
        return [_error(host, sync_item, "chronyc/ntpq/timedatectl", section["error"], direction)]
    service, synced = section.get("service"), section.get("synchronized")
    tried = "；".join(section.get("tried") or [])
    if service is None:
        direction, consequence = ADVICE["clock_none"]
        checked = "chronyd、ntpd、systemd-timesyncd" + ("；%s" % tried if tried else "")
        detail = "未发现运行中的时间同步服务（已检查 %s），无法确认时钟是否准确。" % checked
        sync = make_record(REQUIREMENT_ID, sync_item, host, "warning", None, None, "已同步", detail,
                           direction, consequence)
    elif synced:
        source = []
        if section.get("reference"):
            source.append("参考源 %s" % section["reference"])
        if section.get("stratum") is not None:
            source.append("层级 %d" % section["stratum"])
        detail = "时钟已由 %s 同步%s。" % (service, "（%s）" % "，".join(source) if source else "")
        sync = make_record(REQUIREMENT_ID, sync_item, host, "ok", True, None, "已同步", detail)
    else:
        direction, consequence = ADVICE["clock_unsynced"]
        sync = make_record(REQUIREMENT_ID, sync_item, host, "warning", False, None, "已同步",
                           "时间同步服务 %s 在运行，但时钟未同步到任何时间源。" % service,
                           direction, consequence)
    offset = section.get("offset_ms")
    if synced and offset is not None:
        what = "本机时钟比参考源%s %s ms（%s）" % ("快" if offset >= 0 else "慢", _fmt(abs(offset)), service)
        return [sync, _graded(host, offset_item, round(abs(offset), 3), "ms", what, thresholds=t,
                              kind="clock_offset")]
    if synced:
        why = "%s 只能确认时钟已同步，不提供偏差，不评估。" % service
    elif service is None:
        why = "没有时间同步服务，偏差无法测量。"
    else:
        why = "时钟未同步，没有参考源可比，偏差无法测量。"
    return [sync, make_record(REQUIREMENT_ID, offset_item, host, "skipped", None, "ms", None, why)]


def _service_record(svc, host):
    name = svc["name"]
    item = "服务 %s" % name
    if "error" in svc:
        return _error(host, item, "/proc/<pid>/comm", svc["error"])
    direction, consequence = ADVICE["service"]
    if svc["via"] == "systemd":
        unit = "systemd 单元 %s，状态 %s/%s" % (svc["unit"], svc["active"], svc["sub"])
        if svc["load"] == "masked":
            status, verdict = "critical", "已被屏蔽(masked)，无法启动"
        elif svc["active"] == "active":
            status, verdict = "ok", "运行中"
        elif svc["active"] in ("activating", "reloading"):
            status, verdict = "warning", "正在启动或重载，尚未就绪"
        else:
            status, verdict = "critical", "未运行"
        if status == "ok" and svc["pid"]:
            unit += "，主进程 PID %d" % svc["pid"]
        detail = "服务 %s %s（%s）。" % (name, verdict, unit)
    else:
        how = ("systemd 中没有该单元，按进程名查找" if "unit_note" in svc
               else "主机未以 systemd 启动，按进程名查找")
        pids = svc["pids"]
        status = "ok" if pids else "critical"
        if pids:
            shown = ", ".join(str(p) for p in pids[:10]) + ("…" if len(pids) > 10 else "")
            detail = "服务 %s 运行中（%s：PID %s）。" % (name, how, shown)
        else:
            detail = "服务 %s 未运行（%s：没有名为 %s 的进程）。" % (name, how, name)
    if status == "ok":
        direction = consequence = None
    return make_record(REQUIREMENT_ID, item, host, status, status == "ok", None, "运行中", detail,
                       direction, consequence)


def _check_services(section, expected, host):
    if "error" in section:
        return [_error(host, "服务 %s" % name, "systemctl 和 /proc", section["error"]) for name in expected]
    return [_service_record(svc, host) for svc in section["services"]]


# (section, item used if the check itself breaks, check)
CHECKS = (
    ("cpu", "CPU使用率", _check_cpu),
    ("memory", "内存使用率", _check_memory),
    ("load", "系统负载(每CPU)", _check_load),
    ("filesystems", "文件系统空间使用率", _check_filesystems),
    ("disks", "磁盘IO繁忙度(%util)", _check_disks),
    ("zombies", "僵尸进程", _check_zombies),
    ("uptime", "系统运行时间", _check_uptime),
    ("clock", "时钟同步", _check_clock),
)


def evaluate(metrics, thresholds=None, host="localhost", expected_ports=None, expected_services=None):
    """INSP-01 records for metrics from build_metrics. Never raises: a broken section is an error record."""
    merged = dict(DEFAULT_THRESHOLDS)
    merged.update(thresholds or {})
    host = host or "localhost"
    records = []
    for key, item, check in CHECKS:
        try:
            records.extend(check(metrics.get(key) or {"error": "未采集 / not collected"}, merged, host))
        except Exception as exc:  # malformed metrics cost only this check
            records.append(_error(host, item, key, _failure("评估失败 / evaluation failed", exc)))
    if expected_ports:
        try:
            records.extend(_check_ports(metrics.get("ports") or {"error": "未采集 / not collected"},
                                        expected_ports, host))
        except Exception as exc:  # same rule as above
            reason = _failure("评估失败 / evaluation failed", exc)
            records.append(_error(host, "监听端口", "/proc/net/tcp", reason))
    if expected_services:
        try:
            records.extend(_check_services(metrics.get("services") or {"error": "未采集 / not collected"},
                                           expected_services, host))
        except Exception as exc:  # same rule as above
            reason = _failure("评估失败 / evaluation failed", exc)
            records.append(_error(host, "服务", "systemctl 和 /proc", reason))
    return records
