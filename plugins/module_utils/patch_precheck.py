# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-01 pre-checks on the host before any package changes: free space, package-manager
locks, reachable repositories. Each check yields records; none aborts the others.
Runs on managed hosts: Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import struct

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQ = "SEC-01"

# fcntl (POSIX record) locks, which dpkg, apt and rpm take: asked with F_GETLK, which names the
# holder without taking the lock, so a check never blocks or disturbs a running apt.
LOCK_FILES = {
    "apt": ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock",
            "/var/cache/apt/archives/lock"),
    "dnf": ("/var/lib/rpm/.rpm.lock",),
    "yum": ("/var/lib/rpm/.rpm.lock",),
}
# PID files: yum and dnf 4 keep their lock as a file holding the owner's PID.
PID_FILES = {
    "apt": (),
    "dnf": ("/var/cache/dnf/rpmdb_lock.pid", "/var/cache/dnf/metadata_lock.pid",
            "/var/cache/dnf/download_lock.pid", "/var/run/dnf.pid"),
    "yum": ("/var/run/yum.pid",),
}
REFRESH = {
    # --error-on=any: apt-get update otherwise exits 0 when a repository cannot be fetched.
    "apt": ["apt-get", "update", "-q", "--error-on=any"],
    "dnf": ["dnf", "-q", "makecache"],
    "yum": ["yum", "-q", "makecache", "fast"],
}
# struct flock on Linux (x86_64, aarch64, loongarch64): short type, short whence, off_t start,
# off_t len, pid_t pid, padded to 32 bytes.
_FLOCK = "hhqqii"

SPACE_DIRECTION = ("清理该文件系统（旧日志、软件包缓存 apt-get clean / dnf clean all、旧内核）"
                   "或扩容后重新执行补丁")
SPACE_CONSEQUENCE = "补丁下载或安装中途因空间不足失败，软件包可能处于半安装状态，数据库和中间件日志也无法写入"


def free_space_records(host, minimums, statvfs=os.statvfs, exists=os.path.isdir):
    """One record per path: free MB against its minimum. A path that does not exist (a host
    without a separate /boot has a /boot directory; one without any is fine) is skipped."""
    records, failed = [], False
    for path in sorted(minimums):
        minimum = minimums[path]
        item = "剩余空间 %s" % path
        if not exists(path):
            records.append(make_record(REQ, item, host, "skipped", threshold=minimum, unit="MB",
                                       detail="%s 不存在，无需检查。" % path))
            continue
        try:
            st = statvfs(path)
        except OSError as exc:
            failed = True
            records.append(make_record(
                REQ, item, host, "error", threshold=minimum, unit="MB",
                detail="无法读取 %s 的空间：%s。" % (path, exc.strerror or exc),
                direction="检查该挂载点是否挂起（NFS）或权限",
                consequence="无法确认补丁所需空间，本主机不做补丁"))
            continue
        free_mb = st.f_bavail * (st.f_frsize or st.f_bsize) // (1024 * 1024)
        if free_mb < minimum:
            failed = True
            records.append(make_record(
                REQ, item, host, "critical", value=free_mb, unit="MB", threshold=minimum,
                detail="%s 剩余 %d MB，低于补丁要求的 %d MB。" % (path, free_mb, minimum),
                direction=SPACE_DIRECTION, consequence=SPACE_CONSEQUENCE))
        else:
            records.append(make_record(REQ, item, host, "ok", value=free_mb, unit="MB", threshold=minimum,
                                       detail="%s 剩余 %d MB，不低于 %d MB。" % (path, free_mb, minimum)))
    return records, failed


def fcntl_lock_holder(path):
    """PID holding a conflicting fcntl lock on path, 0 when free, None when the file is absent."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        kind, _whence, _start, _len, pid, _pad = struct.unpack(_FLOCK, answer)
        return 0 if kind == fcntl.F_UNLCK else pid
    finally:
        os.close(fd)


def pid_file_holder(path, alive=None):
    """PID named in a PID-file lock when that process still runs, 0 when stale, None when absent."""
    alive = alive or (lambda pid: os.path.exists("/proc/%d" % pid))
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError):
        return None
    try:
        pid = int(text.split()[0])
    except (ValueError, IndexError):
        return 0
    return pid if pid > 0 and pid != os.getpid() and alive(pid) else 0


def process_name(pid):
    try:
        with open("/proc/%d/comm" % pid) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return "?"


def lock_record(host, manager, fcntl_holder=fcntl_lock_holder, pid_holder=pid_file_holder,
                name_of=process_name):
    """(record, held): whether another process holds the package manager's lock right now."""
    holders = []
    try:
        for path in LOCK_FILES.get(manager, ()):
            pid = fcntl_holder(path)
            if pid:
                holders.append((path, pid))
        for path in PID_FILES.get(manager, ()):
            pid = pid_holder(path)
            if pid:
                holders.append((path, pid))
    except OSError as exc:
        return make_record(REQ, "软件包管理器锁", host, "error",
                           detail="无法检查 %s 的锁：%s。" % (manager, exc),
                           direction="以 root 执行补丁剧本（become），检查锁文件权限",
                           consequence="无法确认没有其他安装进程在运行，本主机不做补丁"), True
    if holders:
        text = "；".join("%s 由进程 %d（%s）持有" % (path, pid, name_of(pid)) for path, pid in holders)
        return make_record(REQ, "软件包管理器锁", host, "critical", value=len(holders),
                           detail="软件包管理器正被占用：%s。" % text,
                           direction="等待该进程（自动更新、其他运维操作）结束，或确认后停止它，再重新执行补丁",
                           consequence="同时运行两个安装过程会损坏软件包数据库"), True
    return make_record(REQ, "软件包管理器锁", host, "ok", value=0,
                       detail="没有其他进程持有 %s 的锁。" % manager), False


def refresh_record(host, manager, result, skipped_because=None):
    """Record of the repository refresh: result is (rc, stdout, stderr) or None when not run."""
    item = "软件源可达"
    if skipped_because:
        return make_record(REQ, item, host, "skipped", detail="未刷新软件源：%s。" % skipped_because)
    rc, out, err = result
    command = " ".join(REFRESH[manager])
    if rc == 0:
        return make_record(REQ, item, host, "ok", detail="%s 成功，软件源可达。" % command)
    lines = [line.strip() for line in (err or out or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("E:", "W:", "Err", "Error", "错误"))] or lines
    last = (errors[-1] if errors else "无输出")[:300]
    return make_record(REQ, item, host, "critical", value=rc,
                       detail="%s 失败（退出码 %s）：%s。" % (command, rc, last),
                       direction="检查软件源地址、内网镜像服务器、代理和 DNS 是否可达，以及源的签名密钥",
                       consequence="无法获得补丁，或只能装上过期的软件包列表中的版本")
