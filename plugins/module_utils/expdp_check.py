# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logical backups (expdp, INSP-12) on the database host: the newest dump, its age and size,
and the export log's completion line.

Three steps, so that the grading is tested on plain data: scan() lists the directory (the only
file system access, plus reading the newest log line by line), parse_log() reads a Data Pump
log, evaluate() turns both into records of the shared format.

Runs on the managed database host: must stay valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import fnmatch
import os
import re
import time

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQUIREMENT = "INSP-12"
ITEM_DUMP = "逻辑备份（expdp）最新转储文件"
ITEM_SIZE = "逻辑备份（expdp）转储文件大小"
ITEM_LOG = "逻辑备份（expdp）导出日志"
MIB = 1024.0 * 1024.0

# A nightly export must have produced a dump within a day plus two hours of slack for a slow night.
DEFAULTS = {"dump_pattern": "*.dmp", "log_pattern": None, "max_age_hours": 26.0,
            "min_size_bytes": 1024 * 1024}

# Data Pump's last line, as 11.2 ("... completed at 01:23:45") and 12c+ ("... completed at
# Thu Nov 27 01:23:45 2026 elapsed 0 00:23:41") write it. With a Chinese NLS_LANG on the host
# (common at the bureau) the same lines come out in Chinese (作业 ... 已于 ... 成功完成), and the
# file is in the client character set (ZHS16GBK or AL32UTF8).
_JOB_END = re.compile(r'^(?:Job|作业)\s*"(?P<owner>[^"]+)"\."(?P<job>[^"]+)"\s*(?P<rest>.+?)\s*$')
_SUCCESS = re.compile(r"^successfully completed(?:\s+at\s+(?P<at>.+?))?(?:\s+elapsed\s+(?P<elapsed>.+))?$")
_ERRORS = re.compile(r"^completed with (?P<count>\d+) error\(s\)(?:\s+at\s+(?P<at>.+?))?"
                     r"(?:\s+elapsed\s+(?P<elapsed>.+))?$")
_STOPPED = re.compile(r"^(?:stopped|has been killed)\b(?P<why>.*?)(?:\s+at\s+(?P<at>.+?))?"
                      r"(?:\s+elapsed\s+(?P<elapsed>.+))?$")
_ZH_SUCCESS = re.compile(r"^已于\s*(?P<at>.+?)\s*成功完成$")
_ZH_ERRORS = re.compile(r"^已经完成[,，]?\s*但是有\s*(?P<count>\d+)\s*个错误"
                        r"\s*(?:[(（]于\s*(?P<at>.+?)\s*完成[)）])?$")
_ZH_STOPPED = re.compile(r"^(?:因致命错误)?于\s*(?P<at>.+?)\s*停止$")
_ELAPSED = re.compile(r"^(?P<at>.+?)\s+elapsed\s+(?P<elapsed>.+)$")
_START = re.compile(r'^(?:Starting|启动)\s*"(?P<owner>[^"]+)"\."(?P<job>[^"]+)":')
_DUMP_SET = re.compile(r"^(?:Dump file set for \S+ is:|\S+\s*的转储文件集为[:：])\s*$")
_ERROR_CODE = re.compile(r"\b(ORA|UDE)-(\d{5})\b")

DIRECTION_MISSING = ("检查 crontab 或 DBMS_SCHEDULER 中的 expdp 备份任务是否按时执行，查看导出日志、"
                     "目录所在文件系统的剩余空间和目录对象（dba_directories）的路径")
CONSEQUENCE_MISSING = "误删或逻辑错误发生时无法从最近的逻辑备份恢复数据，可能丢失一天以上的数据"


def derive_log_pattern(dump_pattern):
    """expdp_full_*.dmp -> expdp_full_*.log: exports name their log after the dump by convention."""
    if dump_pattern.lower().endswith(".dmp"):
        return dump_pattern[:-4] + ".log"
    return "*.log"


def parse_log(lines):
    """What an expdp log says: job, outcome, error count, ORA- codes, dump files, completion.

    lines: any iterable of str (a file is read line by line, so a large log is not held whole).
    outcome: success | errors | stopped | incomplete (no completion line: killed, still running).
    """
    info = {"job": None, "started": False, "outcome": "incomplete", "error_count": None,
            "completed_at": None, "elapsed": None, "completion_line": None, "ora_lines": 0,
            "error_codes": {}, "dump_files": []}
    in_dump_set = False
    for raw in lines:
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if in_dump_set:
            # One path per line, indented; a blank line or the Job line ends the set.
            if stripped and " " not in stripped:
                info["dump_files"].append(os.path.basename(stripped))
                continue
            in_dump_set = False
        codes = _ERROR_CODE.findall(line)
        if codes:
            info["ora_lines"] += 1
            for prefix, number in codes:
                code = "%s-%s" % (prefix, number)
                info["error_codes"][code] = info["error_codes"].get(code, 0) + 1
        start = _START.match(stripped)
        if start:
            info["started"], info["job"] = True, "%s.%s" % (start.group("owner"), start.group("job"))
            continue
        if _DUMP_SET.match(stripped):
            in_dump_set, info["dump_files"] = True, []
            continue
        end = _JOB_END.match(stripped)
        if end:
            _completion(info, end)
    return info


def _completion(info, end):
    rest = end.group("rest")
    info["job"] = "%s.%s" % (end.group("owner"), end.group("job"))
    info["completion_line"] = end.group(0)
    for outcome, pattern in (("success", _SUCCESS), ("errors", _ERRORS), ("stopped", _STOPPED),
                             ("success", _ZH_SUCCESS), ("errors", _ZH_ERRORS), ("stopped", _ZH_STOPPED)):
        match = pattern.match(rest)
        if match:
            groups = match.groupdict()
            at, elapsed = groups.get("at"), groups.get("elapsed")
            split = _ELAPSED.match(at or "")
            if split and not elapsed:  # the Chinese lines keep "elapsed" inside the time
                at, elapsed = split.group("at"), split.group("elapsed")
            info.update(outcome=outcome, completed_at=at, elapsed=elapsed)
            info["error_count"] = int(groups["count"]) if outcome == "errors" else (
                0 if outcome == "success" else None)
            return
    info["outcome"] = "stopped"  # a Job line in another wording still ended the job, not cleanly


def _decode(raw):
    """A log line: UTF-8 (AL32UTF8 clients), else GB18030, a superset of ZHS16GBK."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", "replace")


def _entries(directory, names, pattern):
    found = []
    for name in names:
        if fnmatch.fnmatchcase(name, pattern):
            path = os.path.join(directory, name)
            try:
                st = os.stat(path)
            except OSError:  # removed between listing and stat (retention clean-up)
                continue
            if os.path.isfile(path):
                found.append({"name": name, "mtime": st.st_mtime, "size": st.st_size})
    return sorted(found, key=lambda e: (e["mtime"], e["name"]))


def read_log(path):
    """parse_log() of a file, read line by line in the client's character set (NLS_LANG)."""
    with open(path, "rb") as handle:
        return parse_log(_decode(raw) for raw in handle)


def scan(directory, dump_pattern, log_pattern):
    """The plain data evaluate() grades: the matching dumps and logs, and the newest log parsed."""
    result = {"directory": directory, "error": None, "dumps": [], "logs": [], "log": None,
              "log_error": None}
    try:
        names = os.listdir(directory)
    except OSError as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc.strerror or exc)
        return result
    result["dumps"] = _entries(directory, names, dump_pattern)
    result["logs"] = _entries(directory, names, log_pattern)
    if result["logs"]:
        newest = result["logs"][-1]["name"]
        try:
            result["log"] = read_log(os.path.join(directory, newest))
        except OSError as exc:
            result["log_error"] = "%s: %s" % (type(exc).__name__, exc.strerror or exc)
    return result


def _when(timestamp):
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _mb(size):
    return round(size / MIB, 1)


def evaluate(found, settings, host, now):
    """Records (dump age, dump size, export log) and a summary dict from scan()'s data."""
    directory = found["directory"]
    if found["error"]:
        record = make_record(
            REQUIREMENT, ITEM_DUMP, host, "error",
            detail="无法读取备份目录 %s（%s）。" % (directory, found["error"]),
            direction=("确认目录存在且巡检用户可读（必要时以 oracle 用户执行："
                       "gxtax_oracle_expdp_become_user），核对 gxtax_oracle_expdp_directory 与 "
                       "dba_directories 中的路径"),
            consequence="逻辑备份未被检查，备份缺失或失败无法被及时发现")
        why = "备份目录无法读取，未检查。"
        return ([record, make_record(REQUIREMENT, ITEM_SIZE, host, "skipped", detail=why),
                 make_record(REQUIREMENT, ITEM_LOG, host, "skipped", detail=why)],
                {"dump": None, "log": None})
    dump_record, size_record, dump = _dump_records(found, settings, host, now)
    log_record, log = _log_record(found, settings, host, dump)
    return [dump_record, size_record, log_record], {"dump": dump, "log": log}


def _dump_records(found, settings, host, now):
    pattern, max_age = settings["dump_pattern"], settings["max_age_hours"]
    threshold = "%g 小时内" % max_age
    if not found["dumps"]:
        record = make_record(
            REQUIREMENT, ITEM_DUMP, host, "critical", unit="小时", threshold=threshold,
            detail="目录 %s 中没有匹配 %s 的转储文件，逻辑备份未生成。" % (found["directory"], pattern),
            direction=DIRECTION_MISSING, consequence=CONSEQUENCE_MISSING)
        size = make_record(REQUIREMENT, ITEM_SIZE, host, "skipped", detail="没有转储文件，未检查大小。")
        return record, size, None
    newest = found["dumps"][-1]
    age = round(max(0.0, now - newest["mtime"]) / 3600.0, 1)
    listed = (found["log"] or {}).get("dump_files") or []
    by_name = dict((e["name"], e) for e in found["dumps"])
    files = [by_name[n] for n in listed if n in by_name] if newest["name"] in listed else [newest]
    dump = {"name": newest["name"], "mtime": _when(newest["mtime"]), "age_hours": age,
            "size_bytes": sum(e["size"] for e in files), "files": [e["name"] for e in files]}
    if age > max_age:
        record = make_record(
            REQUIREMENT, ITEM_DUMP, host, "critical", value=age, unit="小时", threshold=threshold,
            detail="最新转储文件 %s 生成于 %s，已 %g 小时，超过 %g 小时，最近一次逻辑备份未按时完成。"
                   % (newest["name"], dump["mtime"], age, max_age),
            direction=DIRECTION_MISSING, consequence=CONSEQUENCE_MISSING)
    else:
        record = make_record(
            REQUIREMENT, ITEM_DUMP, host, "ok", value=age, unit="小时", threshold=threshold,
            detail="最新转储文件 %s 生成于 %s（%g 小时前）。" % (newest["name"], dump["mtime"], age))
    return record, _size_record(dump, settings, host), dump


def _size_record(dump, settings, host):
    minimum = settings["min_size_bytes"]
    size = dump["size_bytes"]
    what = dump["name"] if len(dump["files"]) <= 1 else "%s 等 %d 个文件" % (dump["name"], len(dump["files"]))
    threshold = "不小于 %g MB" % _mb(minimum) if minimum >= MIB / 10 else "不小于 %d 字节" % minimum
    if size < minimum:
        return make_record(
            REQUIREMENT, ITEM_SIZE, host, "critical", value=_mb(size), unit="MB", threshold=threshold,
            detail="转储文件 %s 共 %d 字节，小于下限，备份可能为空或被截断。" % (what, size),
            direction="查看导出日志中导出的对象和行数，确认导出范围（FULL/SCHEMAS）和导出用户的权限，检查磁盘是否写满",
            consequence="该备份可能无法用于恢复，数据丢失时无可用的逻辑备份")
    return make_record(REQUIREMENT, ITEM_SIZE, host, "ok", value=_mb(size), unit="MB", threshold=threshold,
                       detail="转储文件 %s 共 %g MB。" % (what, _mb(size)))


def _codes_text(codes):
    top = sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return "、".join("%s×%d" % kv for kv in top)


def _log_record(found, settings, host, dump):
    pattern = settings["log_pattern"]
    if not found["logs"]:
        record = make_record(
            REQUIREMENT, ITEM_LOG, host, "critical", threshold="successfully completed",
            detail="目录 %s 中没有匹配 %s 的导出日志，无法确认备份是否完成。" % (found["directory"], pattern),
            direction="确认 expdp 命令的 LOGFILE 参数与 log_pattern 一致，未使用 NOLOGFILE=YES",
            consequence="无法确认逻辑备份是否完整可用，恢复时才发现备份无效")
        return record, None
    newest = found["logs"][-1]
    if found["log_error"]:
        record = make_record(
            REQUIREMENT, ITEM_LOG, host, "error", threshold="successfully completed",
            detail="导出日志 %s 无法读取（%s）。" % (newest["name"], found["log_error"]),
            direction="确认巡检用户可读该日志（必要时以 oracle 用户执行：gxtax_oracle_expdp_become_user）",
            consequence="无法确认逻辑备份是否完整可用")
        return record, None
    info = found["log"]
    log = {"name": newest["name"], "mtime": _when(newest["mtime"]), "job": info["job"],
           "outcome": info["outcome"], "error_count": info["error_count"],
           "completed_at": info["completed_at"], "ora_lines": info["ora_lines"],
           "error_codes": info["error_codes"], "dump_files": info["dump_files"]}
    codes = "；ORA- 错误行 %d 行（%s）" % (info["ora_lines"], _codes_text(info["error_codes"])) \
        if info["ora_lines"] else ""
    mismatch = ""
    if dump and info["dump_files"] and dump["name"] not in info["dump_files"]:
        mismatch = "；该日志记录的转储文件（%s）不是最新转储文件 %s" % (
            "、".join(info["dump_files"][:3]), dump["name"])
    common = dict(value=info["ora_lines"], unit="行ORA-错误", threshold="successfully completed")
    name = newest["name"]
    if info["outcome"] == "success" and not mismatch:
        detail = "导出日志 %s：作业 %s 于 %s 成功完成%s。" % (
            name, info["job"], info["completed_at"] or log["mtime"], codes)
        return make_record(REQUIREMENT, ITEM_LOG, host, "ok", detail=detail, **common), log
    if info["outcome"] in ("success", "errors"):
        what = ("作业 %s 于 %s 完成，但有 %d 个错误" % (info["job"], info["completed_at"] or log["mtime"],
                                                  info["error_count"])
                if info["outcome"] == "errors" else "作业 %s 成功完成" % info["job"])
        return make_record(
            REQUIREMENT, ITEM_LOG, host, "warning",
            detail="导出日志 %s：%s%s%s。" % (name, what, codes, mismatch),
            direction=("查看日志中 ORA- 错误涉及的对象（常见：ORA-31693/ORA-02354 表数据导出失败、"
                       "ORA-01555 快照过旧、ORA-39181 权限不足），处理后重跑导出；"
                       "确认日志与转储文件属于同一次导出"),
            consequence="出错对象的数据不在备份中，恢复时这些数据将丢失", **common), log
    if info["outcome"] == "stopped":
        what = "作业 %s 异常终止（%s）" % (info["job"], info["completion_line"])
    elif info["started"]:
        what = "作业 %s 没有完成记录，可能仍在运行或已被中断" % info["job"]
    else:
        what = "日志中没有作业启动和完成记录，导出未能开始"
    return make_record(
        REQUIREMENT, ITEM_LOG, host, "critical",
        detail="导出日志 %s：%s%s%s。" % (name, what, codes, mismatch),
        direction=("按日志中的 ORA- 错误排查（常见：ORA-39002/ORA-39070 目录或日志文件不可写、"
                   "ORA-31626 作业不存在、ORA-39095 转储文件空间用尽），用 dba_datapump_jobs "
                   "检查是否有残留作业，修复后重跑导出"),
        consequence=CONSEQUENCE_MISSING, **common), log


def check(directory, dump_pattern=None, log_pattern=None, max_age_hours=None, min_size_bytes=None,
          host="localhost", now=None):
    """scan() + evaluate(): (records, summary) for one backup directory."""
    settings = dict(DEFAULTS)
    settings.update((k, v) for k, v in (("dump_pattern", dump_pattern), ("log_pattern", log_pattern),
                                        ("max_age_hours", max_age_hours),
                                        ("min_size_bytes", min_size_bytes)) if v is not None)
    if not settings["log_pattern"]:
        settings["log_pattern"] = derive_log_pattern(settings["dump_pattern"])
    found = scan(directory, settings["dump_pattern"], settings["log_pattern"])
    return evaluate(found, settings, host, time.time() if now is None else now)
