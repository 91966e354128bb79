# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build an inspection report from records (INSP-11).

Pure functions: records and run metadata in, a report dict, self-contained
Chinese HTML and a short text summary out. Reads only the one record format.
"""

from __future__ import annotations

import html

from ansible_collections.gxtax.ops.plugins.module_utils.records import SEVERITY, worst

STATUS_ZH = {"ok": "正常", "warning": "警告", "critical": "严重", "error": "检查失败",
             "skipped": "未检查"}
HOST_STATE_ZH = {"ok": "已巡检", "unreachable": "无法连接", "failed": "执行失败"}

# Conclusion sentences per requirement, in the order and wording of the
# contract's sample 巡检结论: (normal wording, abnormal subject).
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
)


def sort_records(records):
    """Abnormal first (critical, error, warning), then by host and item."""
    return sorted(records, key=lambda r: (SEVERITY[r["status"]], r["host"], r["item"]))


def status_counts(records):
    counts = {status: 0 for status in STATUS_ZH}
    for record in records:
        counts[record["status"]] += 1
    return counts


def conclusion(records, hosts):
    """The 巡检结论 paragraph, in the style of the contract's sample."""
    sentences = []
    by_req = {}
    for record in records:
        by_req.setdefault(record["requirement_id"], []).append(record)
    for req, normal, subject in CONCLUSION_PHRASES:
        group = by_req.get(req)
        if not group:
            continue
        bad = [r for r in group if r["status"] in ("warning", "critical", "error")]
        if bad:
            sentences.append("%s存在%d项异常（%s）" % (subject, len(bad), "、".join(
                sorted({"%s %s" % (r["host"], r["item"]) for r in bad})[:3])
                + ("等" if len(bad) > 3 else "")))
        else:
            sentences.append(normal)
    missing = sorted(name for name, state in hosts.items() if state["state"] != "ok")
    if missing:
        sentences.append("%d台主机未完成巡检（%s），需人工核查" % (len(missing), "、".join(missing)))
    if not sentences:
        return "本次巡检未产生检查结果，需人工核查。"
    overall = worst(records)
    if overall in ("critical", "error") or missing:
        lead = "本次巡检发现异常，需及时处理："
    elif overall == "warning":
        lead = "本次巡检系统总体运行正常，存在需关注的风险："
    else:
        lead = "通过本次巡检，"
    return lead + "；".join(sentences) + "。"


def build_report(records, hosts, meta):
    """Return the report dict written as report.json.

    hosts maps inventory hostname to {"state": ok|unreachable|failed,
    "platforms": [...], "message": str}; meta is run metadata.
    """
    records = sort_records(records)
    platforms = {}
    for name, info in sorted(hosts.items()):
        for platform in info.get("platforms") or ["未分组"]:
            platforms.setdefault(platform, []).append(name)
    return {
        "schema": "gxtax.ops/inspection-report/1",
        "title": meta.get("title", "系统巡检报告"),
        "meta": meta,
        "overall_status": worst(records) if records else "error",
        "counts": status_counts(records),
        "conclusion": conclusion(records, hosts),
        "platforms": platforms,
        "hosts": hosts,
        "records": records,
    }


def render_summary(report):
    counts = report["counts"]
    lines = [
        "%s %s" % (report["title"], report["meta"].get("run_id", "")),
        "时间: %s — %s" % (report["meta"].get("started", ""), report["meta"].get("ended", "")),
        "总体状态: %s" % STATUS_ZH.get(report["overall_status"], report["overall_status"]),
        "检查项: " + ", ".join("%s %d" % (STATUS_ZH[s], counts[s]) for s in STATUS_ZH),
        "主机: %d（未完成 %d）" % (len(report["hosts"]), sum(
            1 for h in report["hosts"].values() if h["state"] != "ok")),
        "结论: " + report["conclusion"],
    ]
    return "\n".join(lines) + "\n"


CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:2px solid #345;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;
padding:.3em .5em;text-align:left;vertical-align:top;font-size:.92em}th{background:#e8edf3}
.critical{background:#f8d0d0}.error{background:#f3d9f3}.warning{background:#fdf0c8}
.ok{background:#fff}.skipped{background:#eee}.conclusion{background:#eef5ee;padding:1em;
border-left:4px solid #4a7}dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:bold}
@media print{body{margin:0}}
"""


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join("%s: %s" % (k, v) for k, v in value.items())
    return str(value)


def _row(cells, cls=None):
    attr = ' class="%s"' % cls if cls else ""
    return "<tr%s>%s</tr>" % (attr, "".join("<td>%s</td>" % html.escape(_cell(c)) for c in cells))


def render_html(report):
    """Self-contained HTML: inline CSS, no scripts, fonts or external links."""
    e = html.escape
    meta = report["meta"]
    out = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
           "<title>%s</title><style>%s</style></head><body>" % (e(report["title"]), CSS),
           "<h1>%s</h1>" % e(report["title"]), '<dl class="meta">']
    for key, label in (("run_id", "运行编号"), ("inventory", "清单"), ("limit", "范围"),
                       ("operator", "操作人"), ("started", "开始时间"), ("ended", "结束时间"),
                       ("ansible_version", "Ansible 版本"), ("gxtax_ops_version", "gxtax-ops 版本"),
                       ("awx_job_id", "AWX 作业")):
        if meta.get(key):
            out.append("<dt>%s</dt><dd>%s</dd>" % (label, e(str(meta[key]))))
    out.append("</dl><h2>巡检结论</h2><p class=\"conclusion\">%s</p>" % e(report["conclusion"]))
    counts = report["counts"]
    out.append("<p>%s</p>" % e("，".join("%s %d 项" % (STATUS_ZH[s], counts[s]) for s in STATUS_ZH)))
    abnormal = [r for r in report["records"] if r["status"] in ("critical", "error", "warning")]
    out.append("<h2>异常项（%d）</h2>" % len(abnormal))
    if abnormal:
        out.append("<table><tr><th>状态</th><th>主机</th><th>检查项</th><th>测量值</th>"
                   "<th>阈值</th><th>说明</th><th>排查方向</th><th>导致问题</th></tr>")
        for r in abnormal:
            value = "%s%s" % (_cell(r["value"]), r["unit"] or "")
            out.append(_row([STATUS_ZH[r["status"]], r["host"], r["item"], value, r["threshold"],
                             r["detail"], r["direction"], r["consequence"]], r["status"]))
        out.append("</table>")
    else:
        out.append("<p>无。</p>")
    out.append("<h2>主机状态</h2><table><tr><th>平台</th><th>主机</th><th>状态</th><th>说明</th></tr>")
    for platform, names in sorted(report["platforms"].items()):
        for name in names:
            host = report["hosts"][name]
            cls = "ok" if host["state"] == "ok" else "critical"
            out.append(_row([platform, name, HOST_STATE_ZH.get(host["state"], host["state"]),
                             host.get("message", "")], cls))
    out.append("</table><h2>全部检查项</h2>")
    for name in sorted(report["hosts"]):
        mine = [r for r in report["records"] if r["host"] == name]
        out.append("<h3>%s</h3>" % e(name))
        if not mine:
            out.append("<p>无检查结果（%s）。</p>" % e(HOST_STATE_ZH.get(
                report["hosts"][name]["state"], "")))
            continue
        out.append("<table><tr><th>要求</th><th>检查项</th><th>状态</th><th>测量值</th>"
                   "<th>阈值</th><th>说明</th></tr>")
        for r in mine:
            value = "%s%s" % (_cell(r["value"]), r["unit"] or "")
            out.append(_row([r["requirement_id"], r["item"], STATUS_ZH[r["status"]], value,
                             r["threshold"], r["detail"]], r["status"]))
        out.append("</table>")
    out.append("</body></html>\n")
    return "".join(out)
