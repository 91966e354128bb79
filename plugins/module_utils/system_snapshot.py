# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-01: what runs on a host before patching (services, listening ports, mounts, kernel),
and what is missing afterwards. Runs on managed hosts: Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from fnmatch import fnmatchcase

from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import listening_ports, parse_mounts
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQ = "SEC-01"

# Kernel and runtime filesystems: they come and go with the boot and say nothing about the estate.
PSEUDO_FSTYPES = frozenset((
    "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs",
    "pstore", "bpf", "configfs", "fusectl", "binfmt_misc", "rpc_pipefs", "nsfs", "autofs",
    "hugetlbfs", "efivarfs", "selinuxfs", "ramfs", "devtmpfs",
))
# Per-boot runtime state (FHS: /run is emptied at boot) and kernel trees, whatever their type;
# /dev/shm (Oracle AMM) and every other mount are kept.
VOLATILE_MOUNTS = ("/run", "/run/*", "/sys/*", "/proc/*", "/dev/pts")

SYSTEMCTL_RUNNING = ["systemctl", "list-units", "--type=service", "--state=running", "--no-legend",
                     "--plain", "--no-pager"]


def parse_running_services(text):
    """Unit names from `systemctl list-units --type=service --state=running --no-legend --plain`."""
    units = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0].endswith(".service"):
            units.append(fields[0])
    return sorted(set(units))


def mountpoints(mounts_text):
    points = set()
    for mount in parse_mounts(mounts_text):
        point = mount["mountpoint"]
        if mount["fstype"] in PSEUDO_FSTYPES:
            continue
        if any(fnmatchcase(point, p) for p in VOLATILE_MOUNTS):
            continue
        points.add(point)
    return sorted(points)


def ephemeral_start(text):
    """First port of net.ipv4.ip_local_port_range (32768 when unreadable)."""
    try:
        return int(text.split()[0])
    except (ValueError, IndexError, AttributeError):
        return 32768


def snapshot(kernel, services, tcp_text, tcp6_text, mounts_text, port_range_text=""):
    """The snapshot: services None when the host has no systemd (nothing to compare then).

    Ports from the ephemeral range are left out: a JMX or RMI listener that picks a new free
    port after a restart is not a service gone missing.
    """
    first_ephemeral = ephemeral_start(port_range_text)
    ports = [p for p in listening_ports(tcp_text, tcp6_text)["listening"] if p < first_ephemeral]
    return {"kernel": kernel, "services": services, "ports": ports,
            "mounts": mountpoints(mounts_text)}


def _join(items, limit=20):
    items = [str(i) for i in items]
    text = "、".join(items[:limit])
    return text + ("等 %d 项" % len(items) if len(items) > limit else "")


def compare(before, after, host, ignore_services=(), ignore_ports=()):
    """Records of what was there before patching and is missing now (SEC-01 post-checks)."""
    records = []
    if before.get("services") is None or after.get("services") is None:
        records.append(make_record(REQ, "补丁后服务状态", host, "skipped",
                                   detail="主机没有 systemd，无法比较运行中的服务。"))
    else:
        gone = [s for s in before["services"] if s not in after["services"]
                and not any(fnmatchcase(s, p) for p in ignore_services)]
        if gone:
            records.append(make_record(
                REQ, "补丁后服务状态", host, "critical", value=len(gone), unit="个",
                detail="补丁前运行、补丁后未运行的服务：%s。" % _join(gone),
                direction="用 systemctl status、journalctl -u 查看未启动的原因，手工启动并确认开机自启",
                consequence="依赖这些服务的数据库、中间件或应用不可用"))
        else:
            records.append(make_record(REQ, "补丁后服务状态", host, "ok", value=len(after["services"]),
                                       unit="个", detail="补丁前运行的 %d 个服务均在运行。"
                                       % len(before["services"])))
    gone_ports = [p for p in before.get("ports", []) if p not in after.get("ports", [])
                  and p not in ignore_ports]
    if gone_ports:
        records.append(make_record(
            REQ, "补丁后监听端口", host, "critical", value=len(gone_ports), unit="个",
            detail="补丁前监听、补丁后未监听的端口：%s。" % _join(gone_ports),
            direction="ss -ltnp 确认对应进程（数据库监听 1521、WebLogic 7001 等）是否启动，查看其日志",
            consequence="客户端或上下游系统连接这些端口失败，业务中断"))
    else:
        records.append(make_record(REQ, "补丁后监听端口", host, "ok", value=len(after.get("ports", [])),
                                   unit="个", detail="补丁前监听的 %d 个端口均在监听。"
                                   % len(before.get("ports", []))))
    gone_mounts = [m for m in before.get("mounts", []) if m not in after.get("mounts", [])]
    if gone_mounts:
        records.append(make_record(
            REQ, "补丁后挂载点", host, "critical", value=len(gone_mounts), unit="个",
            detail="补丁前挂载、补丁后缺失的挂载点：%s。" % _join(gone_mounts),
            direction="核对 /etc/fstab 与存储（多路径、NFS、ASM 磁盘）是否就绪，mount -a 后确认",
            consequence="数据文件、归档日志或音视频存储不可访问，数据库或应用无法正常工作"))
    else:
        records.append(make_record(REQ, "补丁后挂载点", host, "ok", value=len(after.get("mounts", [])),
                                   unit="个",
                                   detail="补丁前的 %d 个挂载点均在。" % len(before.get("mounts", []))))
    old, new = before.get("kernel"), after.get("kernel")
    detail = "运行内核由 %s 变为 %s。" % (old, new) if old != new else "运行内核未变（%s）。" % new
    records.append(make_record(REQ, "运行内核", host, "ok", value=new, detail=detail))
    return records
