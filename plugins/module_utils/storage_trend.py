# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Media storage capacity and growth trend of avrecord (INSP-17).

Each run records the used capacity of every media path (item
"媒体存储 <path> 已用容量", value GiB). The next run reads that figure back
from the previous inspection report in the archive (same host and item) and
estimates the days until the filesystem is full at the growth rate between
the two ("媒体存储 <path> 预计可用天数").

Pure functions take plain data (host_metrics' filesystems section, a report
dict); find_previous() is the only one that reads the archive. Runs on the
control node, kept valid on Python 3.7 like probes.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import os
import posixpath

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

REQUIREMENT_ID = "INSP-17"
GIB = float(1 << 30)
# A mount that is new, or was broken for weeks, has no figure in recent
# reports: stop looking after this many inspection reports (about two months
# at three runs a working day) rather than parse the whole archive each run.
MAX_REPORTS_SCANNED = 200

DAYS_ADVICE = ("清理或迁移超过保存期限的执法音像文件至归档存储，核查近期是否有异常的大量上传，"
               "并按增长趋势提前申请存储扩容",
               "存储写满后执法记录仪音像文件无法上传保存，造成执法音像记录缺失，影响执法过程追溯")
PATH_ADVICE = ("检查 %s 是否已挂载（df -h、mount），NAS/NFS 服务器是否可达；文件系统类型不在默认采集范围时，"
               "将其加入 gxtax_inspection_media_fstypes；未挂载时音像文件会写入上级文件系统，需尽快恢复挂载",
               "无法掌握媒体存储容量，存储写满前无法预警")
ARCHIVE_ADVICE = ("检查报告归档目录（gxtax_inspection_archive_root / GXTAX_REPORT_ROOT）的路径和读取权限，"
                  "以及 index.jsonl 是否完好（gxtax-reports verify）",
                  "无法估算媒体存储可用天数，存储写满前无法预警")
CONFIG_ADVICE = ("核对巡检配置中的 warn_days / crit_days：两者不能为负，且 warn_days 不能小于 crit_days",
                 "无法按阈值评估媒体存储可用天数，存储写满前无法预警")


class TrendError(Exception):
    """The archive could not be read."""


def used_item(path):
    return "媒体存储 %s 已用容量" % path


def days_item(path):
    return "媒体存储 %s 预计可用天数" % path


def _fmt(number):
    return ("%.2f" % number).rstrip("0").rstrip(".")


def _gib(number_of_bytes):
    return number_of_bytes / GIB


# ------------------------------------------------------------------ current figures


def resolve_paths(paths, filesystems):
    """Figures for each media path from host_metrics' metrics.filesystems section.

    A path must be a reported mount point itself. Falling back to the
    filesystem holding it would hide the failure that matters most: a NAS
    that is not mounted, whose path then lies on the root filesystem.
    Returns a list of (mount, problem): mount has path, mountpoint, device,
    fstype, total_bytes, used_bytes, avail_bytes; problem is a Chinese reason
    or None.
    """
    section = filesystems if isinstance(filesystems, dict) else {"error": "未采集"}
    reported = dict((fs.get("mountpoint"), fs) for fs in section.get("mounts") or [] if isinstance(fs, dict))
    resolved = []
    for raw_path in paths or []:
        path = posixpath.normpath(str(raw_path)) if raw_path else ""
        mount = {"path": path or str(raw_path)}
        fs = reported.get(path)
        if not path.startswith("/"):
            problem = "路径必须是绝对路径"
        elif "error" in section:
            problem = "主机文件系统信息无法采集：%s" % section["error"]
        elif fs is None:
            problem = ("主机上 %s 不是已挂载的文件系统（未挂载，或文件系统类型未被采集；"
                       "应填写本报告“文件系统 … 空间使用率”中列出的挂载点）" % path)
        elif "error" in fs:
            problem = "文件系统无法统计：%s" % fs["error"]
        elif not fs.get("size_kb"):
            problem = "文件系统未报告容量"
        else:
            problem = None
        if fs is not None:
            mount.update({"mountpoint": fs["mountpoint"], "device": fs.get("device"),
                          "fstype": fs.get("fstype")})
        if problem is None:
            mount.update({"total_bytes": fs["size_kb"] * 1024, "used_bytes": fs["used_kb"] * 1024,
                          "avail_bytes": fs["avail_kb"] * 1024})
        resolved.append((mount, problem))
    return resolved


def normalize_mount(entry):
    """(mount, problem) for a directly given {path, total_bytes, used_bytes[, avail_bytes]}."""
    if not isinstance(entry, dict) or not entry.get("path"):
        return {"path": "（未填写路径）"}, "条目必须是包含 path、total_bytes、used_bytes 的字典"
    mount = {"path": posixpath.normpath(str(entry["path"]))}
    for key in ("total_bytes", "used_bytes", "avail_bytes"):
        value = entry.get(key)
        if key == "avail_bytes" and value is None:
            continue
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not math.isfinite(number) or number < 0:
            return mount, "%s 必须是非负数字" % key
        mount[key] = number
    if mount["total_bytes"] <= 0 or mount["used_bytes"] > mount["total_bytes"]:
        return mount, "total_bytes 必须大于 0 且不小于 used_bytes"
    mount.setdefault("avail_bytes", mount["total_bytes"] - mount["used_bytes"])
    return mount, None


# ------------------------------------------------------------------ previous report


def parse_time(text):
    """Naive local datetime from the archive's ISO timestamps (2026-11-27T08:30:00); None if unreadable."""
    try:
        return datetime.datetime.strptime(str(text)[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def previous_used(report, host, path):
    """Used GiB of path on host recorded in a report dict, or None.

    Only an ok record with a number counts: an error record of a broken
    mount says nothing about the capacity.
    """
    item = used_item(path)
    for record in (report or {}).get("records") or []:
        if not isinstance(record, dict):
            continue
        if record.get("host") == host and record.get("item") == item and record.get("status") == "ok":
            value = record.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return None


def previous_figures(report, when, run_id, host, paths):
    """{path: {used_gib, time, run_id}} for the paths this report holds a figure for."""
    found = {}
    for path in paths:
        value = previous_used(report, host, path)
        if value is not None:
            found[path] = {"used_gib": value, "time": when, "run_id": run_id}
    return found


def _load(path):
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    except (OSError, IOError, ValueError):
        return None  # a missing or damaged report is skipped; verify reports it


def find_previous(archive_root, host, paths, now, min_age_hours=0, kind="inspection",
                  max_reports=MAX_REPORTS_SCANNED):
    """The newest earlier figure per path: {path: {used_gib, time, run_id}}.

    Looks through the archive's reports of `kind`, newest first, that are at
    least min_age_hours older than now. Raises TrendError when the index
    cannot be read; an archive that does not exist yet has no figures.
    """
    if not os.path.isdir(archive_root):
        return {}
    archive = ReportArchive(archive_root)
    try:
        entries = archive.entries()
    except (OSError, IOError, ValueError) as exc:
        raise TrendError("%s: %s" % (type(exc).__name__, exc)) from None
    cutoff = now - datetime.timedelta(hours=min_age_hours or 0)
    wanted = list(paths)
    found = {}
    scanned = 0
    for entry in reversed(entries):
        if not wanted:
            break
        if entry.get("kind") != kind:
            continue
        when = parse_time(entry.get("created"))
        if when is None or when > cutoff:
            continue
        scanned += 1
        if scanned > max_reports:
            break
        report = _load(os.path.join(archive.root, entry.get("path", ""), "report.json"))
        if not isinstance(report, dict):
            continue
        found.update(previous_figures(report, when, entry.get("run_id"), host, wanted))
        wanted = [p for p in wanted if p not in found]
    return found


# ------------------------------------------------------------------ evaluation


def threshold_problem(warn_days, crit_days):
    for value in (warn_days, crit_days):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value < 0):
            return "阈值必须是非负数字"
    if warn_days is not None and crit_days is not None and warn_days < crit_days:
        return "warn_days（%s）小于 crit_days（%s）" % (_fmt(warn_days), _fmt(crit_days))
    return None


def grade_days(days, warn_days, crit_days):
    """Status of a lower-is-worse figure (days left)."""
    if crit_days is not None and days <= crit_days:
        return "critical"
    if warn_days is not None and days <= warn_days:
        return "warning"
    return "ok"


def _threshold_text(warn_days, crit_days):
    if threshold_problem(warn_days, crit_days):
        return None  # the days record says what is wrong with them
    parts = []
    if warn_days is not None:
        parts.append("警告≤%s天" % _fmt(warn_days))
    if crit_days is not None:
        parts.append("严重≤%s天" % _fmt(crit_days))
    return " / ".join(parts) or None


def _where(mount):
    if mount.get("device"):
        return "媒体存储 %s（%s，%s）" % (mount["path"], mount["device"], mount.get("fstype"))
    return "媒体存储 %s " % mount["path"]  # space before the Chinese text that follows


def _span(days):
    """0.15 -> '3.6 小时', 2.5 -> '2.5 天'."""
    return "%s 小时" % _fmt(days * 24.0) if days < 1 else "%s 天" % _fmt(days)


def _days_record(host, path, status, value, threshold, detail, advice=None):
    direction, consequence = advice if status in ("warning", "critical", "error") else (None, None)
    return make_record(REQUIREMENT_ID, days_item(path), host, status, value, "天", threshold, detail,
                       direction, consequence)


def mount_records(host, mount, problem, previous, now, warn_days, crit_days, min_age_hours=0,
                  archive_problem=None):
    """(records, trend) for one media path: its used capacity, and days until full."""
    path = mount["path"]
    threshold = _threshold_text(warn_days, crit_days)
    trend = {"path": path}
    if problem:
        direction, consequence = PATH_ADVICE
        records = [
            make_record(REQUIREMENT_ID, used_item(path), host, "error", None, "GiB", None,
                        "%s的容量无法统计：%s。" % (_where(mount), problem), direction % path, consequence),
            _days_record(host, path, "skipped", None, threshold,
                         "本次未取得媒体存储 %s 的已用容量，不估算可用天数。" % path),
        ]
        trend["error"] = problem
        return records, trend
    used = round(_gib(mount["used_bytes"]), 3)
    avail = _gib(mount["avail_bytes"])
    total = _gib(mount["total_bytes"])
    usable = used + avail
    trend.update({"mountpoint": mount.get("mountpoint"), "used_gib": used, "total_gib": round(total, 3),
                  "avail_gib": round(avail, 3)})
    pct = "（已用 %s%%）" % _fmt(100.0 * used / usable) if usable > 0 else ""
    used_record = make_record(REQUIREMENT_ID, used_item(path), host, "ok", used, "GiB", None,
                              "%s已用 %s GiB，共 %s GiB，可用 %s GiB%s。" % (
                                  _where(mount), _fmt(used), _fmt(total), _fmt(avail), pct))
    return [used_record, _days(host, path, used, avail, previous, now, warn_days, crit_days,
                               min_age_hours, archive_problem, trend)], trend


def _cannot_estimate(host, path, avail, previous, warn_days, crit_days, min_age_hours, archive_problem,
                     trend):
    """The days record when no growth rate can be used, else None."""
    threshold = _threshold_text(warn_days, crit_days)
    bad_threshold = threshold_problem(warn_days, crit_days)
    if bad_threshold:
        return _days_record(host, path, "error", None, None,
                            "媒体存储 %s 可用天数的阈值配置有误：%s。" % (path, bad_threshold), CONFIG_ADVICE)
    if avail <= 0:  # full already, whatever the growth was
        trend["days_to_full"] = 0.0
        return _days_record(host, path, "critical", 0.0, threshold,
                            "媒体存储 %s 已无可用空间（已写满）。" % path, DAYS_ADVICE)
    if archive_problem:
        return _days_record(host, path, "error", None, threshold,
                            "无法读取报告归档，不能估算媒体存储 %s 的增长：%s。" % (path, archive_problem),
                            ARCHIVE_ADVICE)
    if not previous:
        older = "至少 %s 小时前的" % _fmt(min_age_hours) if min_age_hours else ""
        return _days_record(host, path, "skipped", None, threshold,
                            "归档中没有%s巡检报告记录过媒体存储 %s 的已用容量（首次巡检），"
                            "下次巡检起按增长速度估算可用天数。" % (older, path))
    return None


def _days(host, path, used, avail, previous, now, warn_days, crit_days, min_age_hours, archive_problem,
          trend):
    blocked = _cannot_estimate(host, path, avail, previous, warn_days, crit_days, min_age_hours,
                               archive_problem, trend)
    if blocked:
        return blocked
    threshold = _threshold_text(warn_days, crit_days)
    interval = (now - previous["time"]).total_seconds() / 86400.0
    growth = round(used - previous["used_gib"], 3)
    since = "自上次巡检（%s，间隔 %s）" % (previous["time"].strftime("%Y-%m-%d %H:%M"), _span(interval))
    trend.update({"previous_used_gib": previous["used_gib"], "previous_run_id": previous.get("run_id"),
                  "previous_time": previous["time"].isoformat(), "interval_days": round(interval, 4),
                  "growth_gib": growth})
    if interval <= 0:
        return _days_record(host, path, "skipped", None, threshold,
                            "上次巡检报告的时间不早于本次巡检，无法计算媒体存储 %s 的增长速度。" % path)
    if growth <= 0:
        change = "减少 %s GiB" % _fmt(-growth) if growth < 0 else "无变化"
        return _days_record(host, path, "skipped", None, threshold,
                            "媒体存储 %s %s已用容量未增长（%s），不估算可用天数。" % (path, since, change))
    rate = growth / interval
    days = round(avail / rate, 1)
    trend.update({"growth_gib_per_day": round(rate, 3), "days_to_full": days})
    status = grade_days(days, warn_days, crit_days)
    if status == "critical":
        verdict = "已达到严重阈值 %s 天" % _fmt(crit_days)
    elif status == "warning":
        verdict = "已达到告警阈值 %s 天" % _fmt(warn_days)
    elif threshold is None:
        verdict = "未设置阈值，不评估"
    else:
        verdict = "多于告警阈值 %s 天，正常" % _fmt(warn_days if warn_days is not None else crit_days)
    detail = "媒体存储 %s %s增长 %s GiB，日均 %s GiB，按此速度约 %s 天后写满，%s。" % (
        path, since, _fmt(growth), _fmt(rate), _fmt(days), verdict)
    return _days_record(host, path, status, days, threshold, detail, DAYS_ADVICE)


def evaluate(host, mounts, previous, now, warn_days=90, crit_days=30, min_age_hours=0,
             archive_problem=None):
    """(records, trend) for [(mount, problem), ...] and {path: previous figure}."""
    records, trends = [], []
    for mount, problem in mounts:
        recs, trend = mount_records(host, mount, problem, (previous or {}).get(mount["path"]), now,
                                    warn_days, crit_days, min_age_hours, archive_problem)
        records.extend(recs)
        trends.append(trend)
    return records, trends
