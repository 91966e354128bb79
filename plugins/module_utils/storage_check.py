# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage full check for the last day of a statutory holiday (INSP-16).

For every mount the host should have (from /etc/fstab and a configured list, e.g. the NAS
holding avrecord's media): is it mounted as expected, can a small file be written, synced,
read back and removed, how long did that take, and how full is it. Days until full come from
gxtax.ops.storage_trend (app_inspection runs it in the same play); this module does not
repeat it.

Parsing and grading take text and plain data; probe_write() is the only part that touches a
filesystem and takes a directory, so unit tests run it on a temporary directory.
Runs on managed hosts: must stay valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import errno
import os
import posixpath
import time

from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import (
    _unescape_mount_field, filesystem_usage, is_network_fs, parse_mounts,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import grade, make_record

REQUIREMENT_ID = "INSP-16"
PROBE_DIR_NAME = ".gxtax-ops-probe"

# fstab entries that are not storage: kernel and memory filesystems, swap, automounter maps.
PSEUDO_FSTYPES = frozenset((
    "proc", "sysfs", "devpts", "devtmpfs", "tmpfs", "ramfs", "swap", "none", "cgroup", "cgroup2",
    "securityfs", "debugfs", "tracefs", "mqueue", "hugetlbfs", "pstore", "bpf", "configfs",
    "fusectl", "rpc_pipefs", "binfmt_misc", "efivarfs", "selinuxfs", "nfsd", "autofs",
))
# Names an fstab may use for the same driver the kernel then reports under another name.
FSTYPE_ALIASES = {"nfs": ("nfs", "nfs4"), "nfs4": ("nfs", "nfs4"), "cifs": ("cifs", "smb3"),
                  "smb3": ("cifs", "smb3")}
# The write probe fails with these because the storage itself is broken or full: critical.
# Anything else (EACCES from NFS root_squash, say) means this check could not run: error.
STORAGE_ERRNOS = frozenset(getattr(errno, name) for name in (
    "EROFS", "EIO", "ENOSPC", "EDQUOT", "ESTALE", "ENOTCONN", "EHOSTDOWN", "EHOSTUNREACH",
    "ETIMEDOUT", "EREMOTEIO", "ENXIO", "ENODEV") if hasattr(errno, name))

ADVICE = {
    "unmounted": ("检查 /etc/fstab 与 mount 输出，手工执行 mount %s 并查看 dmesg；"
                  "网络存储（NFS/NAS）还需检查存储服务器是否在线、网络是否连通、导出权限是否变更",
                  "应用写入的文件落到上级文件系统（通常是根分区），执法音像等数据不在共享存储上，"
                  "根分区可能被写满，存储恢复挂载后这些文件被遮盖"),
    "readonly": ("执行 mount | grep %s 确认挂载选项，查看 dmesg 是否有文件系统错误或存储断连导致的自动只读；"
                 "NAS 上检查导出是否被设为只读、卷是否写满或快照保护",
                 "应用无法写入文件，执法音像上传、附件保存失败，业务中断"),
    "fstype": ("核对 /etc/fstab 中 %s 的文件系统类型与实际挂载的设备，确认没有挂错设备",
               "数据可能写入了错误的设备，实际的共享存储未被使用"),
    "write": ("在主机上手工向 %s 写入测试文件复核；"
              "检查存储服务器状态、网络、磁盘健康（dmesg、smartctl）和配额",
              "应用写入文件失败，业务数据（执法音像、附件）无法保存"),
    "timeout": ("在主机上执行 df、ls %s 看是否挂起（ps 中处于 D 状态的进程）；检查 NFS/NAS 服务器和网络，"
                "必要时在业务低峰期重新挂载",
                "访问该存储的应用线程全部挂起，WebLogic 线程池耗尽，平台无响应"),
    "cannot": ("给巡检用户在该存储上可写的目录（模块参数 mounts[].probe_dir），"
               "或以有权限的用户（become）运行；NFS 的 root_squash 会使 root 在导出根目录无写权限",
               "无法确认该存储可写，存储故障可能在节后业务恢复时才暴露"),
    "slow": ("检查存储服务器负载、网络延迟和丢包（ping、sar -n DEV），以及主机 IO 等待（iostat -x）",
             "应用读写文件变慢，页面和上传超时，严重时线程积压导致平台无响应"),
    "usage": ("清理或迁移 %s 上过期的文件与日志，按增长趋势申请扩容",
              "存储写满后应用无法写入，业务中断，数据库或日志写满还会导致服务停止"),
    "leftover": ("手工删除 %s 并检查该目录的权限", "探测文件残留占用少量空间，不影响业务"),
}

DEFAULTS = {"latency_warning_ms": 200.0, "latency_critical_ms": 1000.0,
            "usage_warning_pct": 80.0, "usage_critical_pct": 90.0}


def _fmt(number, digits=1):
    return ("%.*f" % (digits, number)).rstrip("0").rstrip(".")


# ------------------------------------------------------------------ what should be mounted


def parse_fstab(text):
    """[{device, mountpoint, fstype, options: [..]}] of the entries that are storage.

    Swap, pseudo filesystems and `noauto` entries (mounted by hand or on demand, so their
    absence is not a fault) are left out.
    """
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 3:
            continue
        device, point, fstype = (_unescape_mount_field(f) for f in fields[:3])
        options = fields[3].split(",") if len(fields) > 3 else ["defaults"]
        bind = "bind" in options or "rbind" in options  # fstype "none": a directory mounted elsewhere
        if (fstype in PSEUDO_FSTYPES and not bind) or not point.startswith("/") or "noauto" in options:
            continue
        entries.append({"device": device, "mountpoint": posixpath.normpath(point), "fstype": fstype,
                        "options": options})
    return entries


def expected_mounts(fstab_entries, configured, exclude=()):
    """The mounts to check, each {path, source, fstype, write, probe_dir, device}, in order:
    configured first (they are why the check exists), then fstab. A configured entry is a
    path or a dict {path, fstype, write, probe_dir}; returns (mounts, problems)."""
    wanted, problems, seen = [], [], set()
    excluded = set(posixpath.normpath(p) for p in exclude or ())
    for raw in configured or []:
        entry = raw if isinstance(raw, dict) else {"path": raw}
        path = entry.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            problems.append("mounts 条目 %r 缺少绝对路径 path / entry needs an absolute path" % (raw,))
            continue
        path = posixpath.normpath(path)
        probe_dir = entry.get("probe_dir")
        if probe_dir is not None and not (isinstance(probe_dir, str) and probe_dir.startswith("/")):
            problems.append("mounts 条目 %s 的 probe_dir 必须是绝对路径 / probe_dir must be absolute" % path)
            continue
        if path in seen or path in excluded:
            continue
        seen.add(path)
        wanted.append({"path": path, "source": "配置", "fstype": entry.get("fstype"),
                       "write": entry.get("write", True) is not False, "probe_dir": probe_dir,
                       "device": None})
    for fs in fstab_entries:
        path = fs["mountpoint"]
        if path in seen or path in excluded:
            continue
        seen.add(path)
        wanted.append({"path": path, "source": "/etc/fstab", "fstype": fs["fstype"],
                       "write": "ro" not in fs["options"], "probe_dir": None, "device": fs["device"],
                       "automount": "x-systemd.automount" in fs["options"],
                       "bind": "bind" in fs["options"] or "rbind" in fs["options"]})
    return wanted, problems


def visible_mounts(mounts_text):
    """{mountpoint: mount} of what is mounted, the topmost mount of each point winning."""
    visible = {}
    for parsed in parse_mounts(mounts_text):
        mount = dict(parsed, options=parsed["options"].split(","))
        visible[posixpath.normpath(mount["mountpoint"])] = mount
    return visible


def fstype_matches(expected, actual):
    if not expected or expected in ("auto", actual):
        return True
    return actual in FSTYPE_ALIASES.get(expected, ())


def mount_state(want, visible):
    """{mounted, fstype, device, readonly, problem} of one expected mount against the table."""
    mount = visible.get(want["path"])
    if mount is None:
        return {"mounted": False, "problem": "unmounted"}
    state = {"mounted": True, "fstype": mount["fstype"], "device": mount["device"],
             "readonly": "ro" in mount["options"], "problem": None}
    if mount["fstype"] == "autofs" and want.get("automount"):
        state["problem"] = None  # mounted on first access; the write probe triggers it
    elif want["write"] and state["readonly"]:
        state["problem"] = "readonly"
    elif not (want.get("automount") or want.get("bind")) \
            and not fstype_matches(want.get("fstype"), mount["fstype"]):
        state["problem"] = "fstype"
    return state


# ------------------------------------------------------------------ probing


def classify_oserror(exc):
    """'critical' when the storage failed the write, 'error' when the check itself could not run."""
    return "critical" if getattr(exc, "errno", None) in STORAGE_ERRNOS else "error"


def _oserror_text(exc, step):
    reason = exc.strerror or str(exc)
    name = errno.errorcode.get(exc.errno, "") if exc.errno else ""
    return "%s失败：%s%s" % (step, reason, "（%s）" % name if name else "")


def _write_synced(name, payload):
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_uncached(name):
    fd = os.open(name, os.O_RDONLY)
    try:
        if hasattr(os, "posix_fadvise"):
            # Drop the clean cached pages so the read goes to the disk or NAS, not memory.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        chunks = []
        chunk = os.read(fd, 65536)
        while chunk:
            chunks.append(chunk)
            chunk = os.read(fd, 65536)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _clean(name, directory, created_dir):
    """Paths that could not be removed."""
    leftover = []
    if name is not None and os.path.lexists(name):
        try:
            os.unlink(name)
        except OSError:
            leftover.append(name)
    if created_dir:
        try:
            os.rmdir(directory)
        except OSError:
            leftover.append(directory)
    return leftover


def probe_write(directory, size=4096, tag="probe", clock=time.monotonic):
    """Write `size` random bytes to a new file in `directory`, fsync, drop the cached pages,
    read them back and compare, then remove the file (and `directory`, when this call made it).

    Returns {write_ms, read_ms, leftover, size}, or {failed_step, error (OSError or text),
    status, leftover, size}.
    """
    created_dir = False
    name = None
    payload = os.urandom(size)
    step = "创建探测目录"
    try:
        if not os.path.isdir(directory):
            os.mkdir(directory, 0o700)
            created_dir = True
        name = os.path.join(directory, "%s-%d-%s" % (tag, os.getpid(),
                                                     binascii.hexlify(os.urandom(4)).decode("ascii")))
        step = "写入并同步（fsync）探测文件"
        started = clock()
        _write_synced(name, payload)
        written = clock()
        step = "读回探测文件"
        same = _read_uncached(name) == payload
        result = {"write_ms": round((written - started) * 1000.0, 2),
                  "read_ms": round((clock() - written) * 1000.0, 2)}
        if not same:
            result = {"failed_step": "读回校验", "error": "读回的内容与写入的不一致", "status": "critical"}
    except OSError as exc:
        result = {"failed_step": step, "error": exc, "status": classify_oserror(exc)}
    result["leftover"] = _clean(name, directory, created_dir)
    result["size"] = size
    return result


def probe_directory(want, dir_name=PROBE_DIR_NAME):
    """Where the write probe goes: the configured probe_dir, else a dedicated directory at the
    mount's root (only made, and removed again, by the probe)."""
    if want.get("probe_dir"):
        return want["probe_dir"]
    return posixpath.join(want["path"], dir_name)


# ------------------------------------------------------------------ records


def _where(want, state):
    parts = []
    if state.get("fstype"):
        parts.append(state["fstype"])
    if state.get("device"):
        parts.append(state["device"])
    return "，".join(parts)


def mount_record(host, want, state):
    item = "存储 %s 挂载状态" % want["path"]
    expected = "按%s挂载%s" % (want["source"], "（读写）" if want["write"] else "")
    problem = state.get("problem")
    if problem == "unmounted":
        source = " ".join(v for v in (want.get("fstype"), want.get("device")) if v)
        detail = "%s 应按%s挂载%s，但当前未挂载。" % (want["path"], want["source"],
                                                  "（%s）" % source if source else "")
        direction, consequence = ADVICE["unmounted"]
        return make_record(REQUIREMENT_ID, item, host, "critical", "未挂载", None, expected, detail,
                           direction % want["path"], consequence)
    network = "网络存储" if is_network_fs(state["fstype"]) else "本地文件系统"
    if problem == "readonly":
        direction, consequence = ADVICE["readonly"]
        return make_record(REQUIREMENT_ID, item, host, "critical", "只读", None, expected,
                           "%s 已挂载（%s，%s）但为只读，应用无法写入。"
                           % (want["path"], network, _where(want, state)),
                           direction % want["path"], consequence)
    if problem == "fstype":
        direction, consequence = ADVICE["fstype"]
        return make_record(REQUIREMENT_ID, item, host, "warning", state["fstype"], None,
                           "文件系统类型 %s" % want["fstype"],
                           "%s 挂载的文件系统类型为 %s，与%s中的 %s 不符（%s）。" % (
                               want["path"], state["fstype"], want["source"], want["fstype"],
                               _where(want, state)),
                           direction % want["path"], consequence)
    mode = "只读" if state["readonly"] else "读写"
    return make_record(REQUIREMENT_ID, item, host, "ok", "已挂载", None, expected,
                       "%s 已挂载（%s，%s，%s）。" % (want["path"], network, _where(want, state), mode))


def _write_not_checked(want, state, probe):
    """Why the write probe did not run (a Chinese sentence), or None when it did."""
    if not state.get("mounted"):
        return "%s 未挂载，不做写入检查（见挂载状态）。" % want["path"]
    if not want["write"]:
        return "%s 按配置只读挂载，不做写入检查。" % want["path"]
    if state.get("readonly"):
        return "%s 当前为只读挂载，不做写入检查（见挂载状态）。" % want["path"]
    if probe is None:
        return "检查模式（check mode）下不写入探测文件。"
    return None


def _write_failed(host, item, threshold, want, probe, directory):
    if probe.get("timeout"):
        direction, consequence = ADVICE["timeout"]
        return make_record(REQUIREMENT_ID, item, host, "critical", None, "ms", threshold,
                           "在 %s 写入并读回 %d 字节的探测文件超过 %s 秒仍未完成，存储无响应。" % (
                               directory, probe["size"], _fmt(probe["timeout"])),
                           direction % want["path"], consequence)
    error = probe["error"]
    text = _oserror_text(error, probe["failed_step"]) if isinstance(error, OSError) else \
        "%s失败：%s" % (probe["failed_step"], error)
    status = probe["status"]
    direction, consequence = ADVICE["write" if status == "critical" else "cannot"]
    if status == "critical":
        direction = direction % directory
    return make_record(REQUIREMENT_ID, item, host, status, None, "ms", threshold,
                       "在 %s 的写入检查%s。" % (directory, text), direction, consequence)


def write_record(host, want, state, probe, thresholds, directory):
    item = "存储 %s 读写检查" % want["path"]
    warn, crit = thresholds["latency_warning_ms"], thresholds["latency_critical_ms"]
    threshold = "警告≥%sms / 严重≥%sms" % (_fmt(warn), _fmt(crit))
    reason = _write_not_checked(want, state, probe)
    if reason:
        return make_record(REQUIREMENT_ID, item, host, "skipped", None, "ms", threshold, reason)
    if probe.get("timeout") or "failed_step" in probe:
        return _write_failed(host, item, threshold, want, probe, directory)
    total = round(probe["write_ms"] + probe["read_ms"], 2)
    status = grade(total, warn, crit)
    detail = "在 %s 写入并同步 %d 字节用时 %s ms，清除缓存后读回用时 %s ms，内容一致" % (
        directory, probe["size"], _fmt(probe["write_ms"], 2), _fmt(probe["read_ms"], 2))
    advice = (None, None)
    if status != "ok":
        detail += "，已达到%s阈值" % ("严重" if status == "critical" else "告警")
        advice = ADVICE["slow"]
    if probe["leftover"]:
        detail += "，但探测文件未能删除：%s" % "、".join(probe["leftover"])
        if status == "ok":
            status = "warning"
            advice = (ADVICE["leftover"][0] % "、".join(probe["leftover"]), ADVICE["leftover"][1])
    else:
        detail += "，探测文件已删除"
    return make_record(REQUIREMENT_ID, item, host, status, total, "ms", threshold, detail + "。", *advice)


def usage_record(host, want, state, usage, thresholds):
    item = "存储 %s 空间使用率" % want["path"]
    warn, crit = thresholds["usage_warning_pct"], thresholds["usage_critical_pct"]
    threshold = "警告≥%s%% / 严重≥%s%%" % (_fmt(warn), _fmt(crit))
    if not state.get("mounted"):
        return make_record(REQUIREMENT_ID, item, host, "skipped", None, "%", threshold,
                           "%s 未挂载，不统计容量（见挂载状态）。" % want["path"])
    if not usage or "timeout" in usage:
        direction, consequence = ADVICE["timeout"]
        return make_record(REQUIREMENT_ID, item, host, "critical", None, "%", threshold,
                           "%s 的容量统计（statvfs）超过 %s 秒仍未返回，存储无响应。" % (
                               want["path"], _fmt((usage or {}).get("timeout", 0))),
                           direction % want["path"], consequence)
    if "error" in usage:
        return make_record(REQUIREMENT_ID, item, host, "error", None, "%", threshold,
                           "%s 的容量无法统计：%s。" % (want["path"], usage["error"]),
                           "在主机上执行 df -h %s 复核" % want["path"],
                           "无法掌握该存储的剩余容量，写满前无法预警")
    pct = usage.get("used_pct")
    if pct is None:
        return make_record(REQUIREMENT_ID, item, host, "skipped", None, "%", threshold,
                           "%s 的文件系统未报告容量。" % want["path"])
    status = grade(pct, warn, crit)
    detail = "%s 已用 %s%%（%s GiB / %s GiB，可用 %s GiB）。" % (
        want["path"], _fmt(pct), _fmt(usage["used_kb"] / 1048576.0), _fmt(usage["size_kb"] / 1048576.0),
        _fmt(usage["avail_kb"] / 1048576.0))
    if status == "ok":
        return make_record(REQUIREMENT_ID, item, host, "ok", pct, "%", threshold, detail)
    direction, consequence = ADVICE["usage"]
    return make_record(REQUIREMENT_ID, item, host, status, pct, "%", threshold, detail,
                       direction % want["path"], consequence)


def usage_from_statvfs(want, state, st):
    """host_metrics' filesystem entry (size_kb, used_kb, avail_kb, used_pct...); st is a statvfs
    dict, or {"timeout": seconds} / {"error": text}, which are passed through."""
    if "timeout" in st or "error" in st:
        return st
    mount = {"mountpoint": want["path"], "device": state.get("device"), "fstype": state.get("fstype")}
    return filesystem_usage(mount, st)


def merge_thresholds(given):
    """(thresholds, problems): DEFAULTS under the given ones; impossible ones fall back to DEFAULTS."""
    merged = dict(DEFAULTS)
    merged.update(dict((k, float(v)) for k, v in (given or {}).items() if v is not None))
    problems = []
    for kind in ("latency", "usage"):
        warn, crit = merged["%s_warning%s" % (kind, "_ms" if kind == "latency" else "_pct")], \
            merged["%s_critical%s" % (kind, "_ms" if kind == "latency" else "_pct")]
        if warn < 0 or crit < 0 or warn > crit:
            problems.append("%s 阈值不合理：警告 %s，严重 %s（须非负且警告不高于严重），已按默认阈值评估"
                            " / impossible thresholds, defaults used" % (kind, _fmt(warn), _fmt(crit)))
    return (dict(DEFAULTS) if problems else merged), problems


def evaluate(host, wanted, visible, probes, usages, thresholds, dir_name=PROBE_DIR_NAME):
    """Three records per expected mount: mount state, write probe, space used.

    probes / usages map a path to probe_write()'s result (None in check mode) and to
    usage_from_statvfs()'s result; a path missing from them was not probed.
    """
    records, figures = [], []
    if not wanted:
        records.append(make_record(REQUIREMENT_ID, "存储 挂载点", host, "skipped", None, None, None,
                                   "没有需要检查的存储：/etc/fstab 中没有存储条目，也未配置挂载点"
                                   "（gxtax_inspection_storage_mounts、gxtax_inspection_media_mounts）。"))
    for want in wanted:
        state = mount_state(want, visible)
        directory = probe_directory(want, dir_name)
        probe = probes.get(want["path"])
        usage = usages.get(want["path"])
        records.append(mount_record(host, want, state))
        records.append(write_record(host, want, state, probe, thresholds, directory))
        records.append(usage_record(host, want, state, usage, thresholds))
        figure = {"path": want["path"], "source": want["source"], "mounted": state["mounted"],
                  "fstype": state.get("fstype"), "device": state.get("device"),
                  "readonly": state.get("readonly"), "problem": state.get("problem")}
        if isinstance(probe, dict):
            figure.update(dict((k, probe[k]) for k in ("write_ms", "read_ms", "timeout") if k in probe))
        if isinstance(usage, dict) and "size_kb" in usage:
            figure.update(dict((k, usage[k]) for k in ("size_kb", "used_kb", "avail_kb", "used_pct")))
        figures.append(figure)
    return records, figures


def config_error_record(host, problems):
    return make_record(REQUIREMENT_ID, "存储检查配置", host, "error", None, None, None,
                       "存储检查的配置有误：%s。" % "；".join(problems),
                       "按 ansible-doc gxtax.ops.storage_check 修正 mounts 与阈值参数",
                       "配置有误的存储未被检查，故障无法及时发现")
