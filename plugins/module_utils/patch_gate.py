# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-01 / SEC-03: the "backup done" gate of a patch run, read from the report archive on the
control node. Patching waits until today's latest inspection report shows the backups (INSP-12)
without a critical finding: a patch that breaks a database is then recoverable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQ = "SEC-01"
ITEM = "备份检查（补丁前置条件）"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def latest_report(entries, kind, day):
    """The index entry of the latest report of this kind created on day (a date), or None."""
    prefix = day.isoformat()
    found = [e for e in entries if e.get("kind") == kind and str(e.get("created", "")).startswith(prefix)]
    return max(found, key=lambda e: (str(e.get("created")), e.get("seq") or 0)) if found else None


def evaluate(root, entries, kind="inspection", requirement_ids=("INSP-12",),
             block_statuses=("critical", "error"), require_records=True, day=None):
    """{passed, reason, report, findings}: may patching go ahead on the strength of the archive?"""
    day = day or datetime.date.today()
    entry = latest_report(entries, kind, day)
    result = {"passed": False, "report": None, "findings": []}
    if entry is None:
        result["reason"] = "报告库中没有 %s 的 %s 报告" % (day.isoformat(), kind)
        return result
    path = os.path.join(root, entry.get("path", ""), "report.json")
    result["report"] = {"run_id": entry.get("run_id"), "created": entry.get("created"), "path": path}
    expected = (entry.get("files") or {}).get("report.json")
    try:
        actual = _sha256(path)
        if expected and actual != expected:
            result["reason"] = ("报告 %s 的 report.json 与索引中的 SHA-256 不符（被改动过）"
                                % entry.get("run_id"))
            return result
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        result["reason"] = "无法读取报告 %s：%s" % (path, exc)
        return result
    backups = [r for r in report.get("records") or [] if r.get("requirement_id") in requirement_ids]
    bad = [r for r in backups if r.get("status") in block_statuses]
    result["findings"] = [{"host": r.get("host"), "item": r.get("item"), "status": r.get("status"),
                           "detail": r.get("detail")} for r in bad]
    label = "、".join(requirement_ids)
    if bad:
        result["reason"] = "%s 的巡检报告 %s 中有 %d 条 %s 备份问题：%s" % (
            day.isoformat(), entry.get("run_id"), len(bad), label,
            "；".join("%s %s（%s）" % (r.get("host"), r.get("item"), r.get("status")) for r in bad[:5]))
    elif not backups and require_records:
        result["reason"] = "%s 的巡检报告 %s 中没有备份检查记录（%s），无法证明备份已完成" % (
            day.isoformat(), entry.get("run_id"), label)
    else:
        result["passed"] = True
        result["reason"] = "%s 的巡检报告 %s 中 %d 条备份检查记录（%s）均无严重问题" % (
            day.isoformat(), entry.get("run_id"), len(backups), label)
    return result


def gate_records(hosts, result):
    """One record per host of the run: every host's report says why it was (not) patched."""
    records = []
    for host in hosts:
        if result["passed"]:
            records.append(make_record(REQ, ITEM, host, "ok", value="通过", detail=result["reason"] + "。"))
        else:
            records.append(make_record(
                REQ, ITEM, host, "critical", value="未通过",
                detail=result["reason"] + "；本次补丁未执行，所有主机均未变更。",
                direction="先处理备份问题并重新巡检（make inspect 或 scripts/gxtax-inspect），"
                          "确认备份正常后再打补丁",
                consequence="没有可用备份时打补丁，一旦数据库或应用损坏将无法恢复（SEC-03）"))
    return records
