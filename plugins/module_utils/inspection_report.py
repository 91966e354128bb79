# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build an inspection report from records (INSP-11).

Pure functions: records and run metadata in, a report dict and a short text
summary out (HTML rendering: inspection_html.py). Reads only the one record
format. Runs on the control node.
"""

from __future__ import annotations

from ansible_collections.gxtax.ops.plugins.module_utils.records import SEVERITY, worst

REPORT_SCHEMA = "gxtax.ops/inspection-report/1"
ABNORMAL = ("critical", "error", "warning")
STATUS_ZH = {"ok": "正常", "warning": "警告", "critical": "严重", "error": "检查失败",
             "skipped": "未检查"}
HOST_STATE_ZH = {"ok": "已巡检", "unreachable": "无法连接", "failed": "执行失败"}
# INSP-14 records are the basic-information sheet, not checks: shown as a
# table per host and left out of counts and the conclusion.
INFO_REQUIREMENTS = ("INSP-14",)

# Conclusion sentences per requirement, in the order and wording of the
# contract's sample 巡检结论: (requirement, normal wording, abnormal subject).
CONCLUSION_PHRASES = (
    ("INSP-01", "服务器CPU利用率、内存使用率、磁盘空间利用率、I/O使用率均正常", "服务器资源"),
    ("INSP-02", "数据库监听正常", "数据库监听"),
    ("INSP-03", "数据库业务表空间利用率处于正常范围", "表空间"),
    ("INSP-04", "会话数正常", "会话数"),
    ("INSP-05", "连接数正常", "连接数"),
    ("INSP-06", "锁表数据量较少", "锁"),
    ("INSP-07", "执行SQL均在合理的时间范围", "长时间执行SQL"),
    ("INSP-08", "定时任务均运行正常", "定时任务"),
    ("INSP-09", "ASM磁盘组使用率正常", "ASM磁盘组"),
    ("INSP-10", "WebLogic服务及应用运行正常", "WebLogic"),
    ("INSP-12", "数据库备份正常", "数据库备份"),
    ("INSP-17", "各应用Web正常运行", "应用可用性"),
    ("INSP-18", "数据抽取及加工任务正常", "数据抽取/加工任务"),
    ("INSP-16", "存储与网络检查均正常", "存储与网络"),
    ("SEC-01", "操作系统补丁各项检查正常", "操作系统补丁"),
    ("DJBH-8.1.4.1-", "身份鉴别各项符合基线", "身份鉴别"),
    ("DJBH-8.1.4.2-", "访问控制各项符合基线", "访问控制"),
    ("DJBH-8.1.4.3-", "安全审计各项符合基线", "安全审计"),
    ("DJBH-8.1.4.4-", "入侵防范各项符合基线", "入侵防范"),
)
# Report kinds that are inspections (巡检); other kinds (patch, hardening) are 检查.
INSPECTION_KINDS = ("inspection", "holiday")

# Report sections by requirement (an ID ending in "-" is a prefix, as for the 等保 clauses). In an
# inspection a section with no records says 未配置 (e.g. no Oracle in inventories/local) instead of
# looking like an error; other kinds show only the sections they have records for.
SECTIONS = (
    ("主机与操作系统", ("INSP-01",)),
    ("数据库（Oracle）", ("INSP-02", "INSP-03", "INSP-04", "INSP-05", "INSP-06", "INSP-07",
                        "INSP-08", "INSP-09", "INSP-12", "INSP-18")),
    ("中间件（WebLogic）", ("INSP-10",)),
    ("应用可用性与存储", ("INSP-17",)),
)
EXTRA_SECTIONS = (
    ("节假日存储与网络", ("INSP-16",)),
    ("操作系统补丁", ("SEC-01",)),
    ("身份鉴别（8.1.4.1）", ("DJBH-8.1.4.1-",)),
    ("访问控制（8.1.4.2）", ("DJBH-8.1.4.2-",)),
    ("安全审计（8.1.4.3）", ("DJBH-8.1.4.3-",)),
    ("入侵防范（8.1.4.4）", ("DJBH-8.1.4.4-",)),
)


def matches(requirement_id, wanted):
    """Whether a record's requirement ID is one of `wanted` (IDs, or prefixes ending in "-")."""
    return any(requirement_id.startswith(w) if w.endswith("-") else requirement_id == w for w in wanted)


def sort_records(records):
    """Abnormal first (critical, error, warning), then by host; within a host the
    order the checks produced (a stable sort), which follows the record's meaning
    (CPU, load, memory…; host name, IP, OS… for the basic-information sheet)."""
    return sorted(records, key=lambda r: (SEVERITY[r["status"]], r["host"]))


def checks_only(records):
    return [r for r in records if r["requirement_id"] not in INFO_REQUIREMENTS]


def status_counts(records):
    counts = {status: 0 for status in STATUS_ZH}
    for record in records:
        counts[record["status"]] += 1
    return counts


def _abnormal_sentence(subject, bad):
    names = sorted({"%s %s" % (r["host"], r["item"]) for r in bad})
    more = "等" if len(names) > 3 else ""
    return "%s存在%d项异常（%s%s）" % (subject, len(bad), "、".join(names[:3]), more)


def conclusion(records, hosts, kind="inspection"):
    """The 巡检结论 paragraph, in the style of the contract's sample."""
    records = checks_only(records)
    sentences = []
    for req, normal, subject in CONCLUSION_PHRASES:
        group = [r for r in records if matches(r["requirement_id"], (req,))]
        if group:
            bad = [r for r in group if r["status"] in ABNORMAL]
            sentences.append(_abnormal_sentence(subject, bad) if bad else normal)
    missing = sorted(name for name, state in hosts.items() if state["state"] != "ok")
    word = "巡检" if kind in INSPECTION_KINDS else "检查"
    if missing:
        sentences.append("%d台主机未完成%s（%s），需人工核查" % (len(missing), word, "、".join(missing)))
    if not sentences:
        return "本次%s未产生检查结果，需人工核查。" % word
    overall = worst(records)
    if overall in ("critical", "error") or missing:
        lead = "本次%s发现异常，需及时处理：" % word
    elif overall == "warning":
        lead = "本次%s系统总体运行正常，存在需关注的风险：" % word
    else:
        lead = "通过本次%s，" % word
    return lead + "；".join(sentences) + "。"


def sections(records, kind="inspection"):
    """Per section: its records' counts, or configured=False when it has none (inspections only)."""
    out = []
    for title, requirements in SECTIONS + EXTRA_SECTIONS:
        mine = [r for r in records if matches(r["requirement_id"], requirements)]
        if not mine and (kind not in INSPECTION_KINDS or (title, requirements) in EXTRA_SECTIONS):
            continue
        out.append({"title": title, "requirements": list(requirements), "configured": bool(mine),
                    "counts": status_counts(mine), "status": worst(mine) if mine else "skipped"})
    return out


def platform_index(hosts):
    """Platform name -> sorted host names; hosts in no platform group go to 未分组."""
    platforms = {}
    for name, info in sorted(hosts.items()):
        for platform in info.get("platforms") or ["未分组"]:
            platforms.setdefault(platform, []).append(name)
    return platforms


def overall_status(records, hosts):
    """Worst check status; a host that was not inspected makes the run at least an error."""
    checks = checks_only(records)
    status = worst(checks) if checks else "error"
    if any(h["state"] != "ok" for h in hosts.values()) and SEVERITY[status] > SEVERITY["error"]:
        status = "error"
    return status


def build_report(records, hosts, meta, tables=()):
    """Return the report dict written as report.json.

    hosts maps inventory hostname to {"state": ok|unreachable|failed,
    "platforms": [...], "message": str}; meta is run metadata; tables are the
    extra tables tasks added (report_tables.py), already merged.
    """
    records = sort_records(records)
    checks = checks_only(records)
    return {
        "schema": REPORT_SCHEMA,
        "title": meta.get("title", "系统巡检报告"),
        "meta": meta,
        "overall_status": overall_status(records, hosts),
        "counts": status_counts(checks),
        "conclusion": conclusion(records, hosts, meta.get("kind", "inspection")),
        "sections": sections(checks, meta.get("kind", "inspection")),
        "platforms": platform_index(hosts),
        "hosts": hosts,
        "records": records,
        "tables": list(tables),
    }


def render_summary(report):
    """A few lines of plain text: for the archive listing, mail bodies and logs."""
    counts = report["counts"]
    hosts = report["hosts"]
    lines = [
        "%s %s" % (report["title"], report["meta"].get("run_id", "")),
        "时间: %s — %s" % (report["meta"].get("started", ""), report["meta"].get("ended", "")),
        "总体状态: %s" % STATUS_ZH.get(report["overall_status"], report["overall_status"]),
        "检查项: " + ", ".join("%s %d" % (STATUS_ZH[s], counts[s]) for s in STATUS_ZH),
        "主机: %d（未完成 %d）" % (len(hosts), sum(1 for h in hosts.values() if h["state"] != "ok")),
        "结论: " + report["conclusion"],
    ]
    return "\n".join(lines) + "\n"
