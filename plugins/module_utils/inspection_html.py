# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render an inspection report dict as one self-contained Chinese HTML page.

Inline CSS only: no scripts, fonts, images or links, so the page reads the
same offline on the bureau's isolated network and prints cleanly. Every value
is escaped. Rows of normal items are kept short (HTML5 lets </td></tr> be
omitted) so a 1,000-host estate stays a few megabytes.
"""

from __future__ import annotations

import html

from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import (
    ABNORMAL,
    HOST_STATE_ZH,
    INFO_REQUIREMENTS,
    STATUS_ZH,
)

CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:2px solid #345;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.1em;margin-top:1.2em}h4{font-size:1em;margin:.8em 0 .3em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}
th,td{border:1px solid #bbb;padding:.25em .45em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#e8edf3}.critical{background:#f8d0d0}.error{background:#f3d9f3}
.warning{background:#fdf0c8}.skipped{color:#666}.conclusion{background:#eef5ee;padding:1em;
border-left:4px solid #4a7}dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:bold}dd{margin:0}.note{color:#555;font-size:.85em}
@media print{body{margin:0}h2{page-break-after:avoid}}
"""
META_LABELS = (("run_id", "运行编号"), ("holiday", "节假日"), ("inventory", "清单"), ("limit", "范围"),
               ("operator", "操作人"),
               ("started", "开始时间"), ("ended", "结束时间"), ("ansible_version", "Ansible 版本"),
               ("gxtax_ops_version", "gxtax-ops 版本"), ("awx_job_id", "AWX 作业"))


def _e(value):
    return html.escape("" if value is None else str(value), quote=False)


def threshold_text(threshold):
    """{"warning": 80, "critical": 90} -> 警告≥80 / 严重≥90; anything else as given."""
    if isinstance(threshold, dict):
        if set(threshold) <= {"warning", "critical"}:
            parts = [("警告≥%s" % threshold["warning"]) if threshold.get("warning") is not None else "",
                     ("严重≥%s" % threshold["critical"]) if threshold.get("critical") is not None else ""]
            return " / ".join(p for p in parts if p)
        return ", ".join("%s: %s" % item for item in threshold.items())
    return "" if threshold is None else str(threshold)


def value_text(record):
    value = record["value"]
    if value is None:
        return ""
    if isinstance(value, bool):  # e.g. a port listening or not: 是/否, not True/False
        return "是" if value else "否"
    return "%s%s" % (value, record["unit"] or "")


def _row(cells, cls=None):
    attr = ' class="%s"' % cls if cls else ""
    return "<tr%s><td>%s" % (attr, "<td>".join(_e(c) for c in cells))


def _meta(meta):
    out = ['<dl class="meta">']
    for key, label in META_LABELS:
        if meta.get(key):
            out.append("<dt>%s</dt><dd>%s</dd>" % (label, _e(meta[key])))
    out.append("</dl>")
    return out


def _overview(report):
    counts = report["counts"]
    totals = "，".join("%s %d 项" % (STATUS_ZH[s], counts[s]) for s in STATUS_ZH)
    out = ["<h2>总览</h2><p>%s</p>" % _e(totals),
           "<table><tr><th>检查类别</th><th>状态</th><th>检查项统计</th></tr>"]
    for section in report["sections"]:
        if section["configured"]:
            text = "，".join("%s %d" % (STATUS_ZH[s], n) for s, n in section["counts"].items() if n)
            out.append(_row([section["title"], STATUS_ZH[section["status"]], text], section["status"]))
        else:
            out.append(_row([section["title"], "未配置", "本清单未配置该类检查对象"], "skipped"))
    out.append("</table>")
    return out


def _abnormal(report):
    abnormal = [r for r in report["records"] if r["status"] in ABNORMAL]
    out = ["<h2>异常项（%d）</h2>" % len(abnormal)]
    if not abnormal:
        return out + ["<p>无。</p>"]
    out.append("<table><tr><th>状态</th><th>主机</th><th>检查项</th><th>测量值</th><th>阈值</th>"
               "<th>说明</th><th>排查方向</th><th>导致问题</th></tr>")
    for r in abnormal:
        out.append(_row([STATUS_ZH[r["status"]], r["host"], r["item"], value_text(r),
                         threshold_text(r["threshold"]), r["detail"], r["direction"], r["consequence"]],
                        r["status"]))
    out.append("</table>")
    return out


def _host_states(report):
    out = ["<h2>主机状态</h2><table><tr><th>平台</th><th>主机</th><th>状态</th><th>说明</th></tr>"]
    for platform, names in sorted(report["platforms"].items()):
        for name in names:
            host = report["hosts"][name]
            cls = None if host["state"] == "ok" else "critical"
            out.append(_row([platform, name, HOST_STATE_ZH.get(host["state"], host["state"]),
                             host.get("message", "")], cls))
    out.append("</table>")
    return out


def _host_detail(name, host, records):
    out = ["<h4>%s（%s）</h4>" % (_e(name), _e(HOST_STATE_ZH.get(host["state"], host["state"])))]
    info = [r for r in records if r["requirement_id"] in INFO_REQUIREMENTS]
    checks = [r for r in records if r["requirement_id"] not in INFO_REQUIREMENTS]
    if info:
        out.append("<table><tr><th>基本信息</th><th>内容</th></tr>")
        # A field that was not collected shows why (e.g. 清单变量 … 未登记), not a bare 未检查.
        out.extend(_row([r["item"].replace("基本信息 ", "", 1), value_text(r) if r["status"] == "ok"
                         else r["detail"] or STATUS_ZH[r["status"]]], None if r["status"] == "ok"
                        else r["status"]) for r in info)
        out.append("</table>")
    if not checks:
        why = "" if host["state"] == "ok" else "：" + _e(host.get("message"))
        out.append("<p>无检查结果%s。</p>" % why)
        return out
    out.append("<table><tr><th>要求</th><th>检查项</th><th>状态</th><th>测量值</th><th>阈值</th>"
               "<th>说明</th></tr>")
    for r in checks:
        detail = "" if r["status"] == "ok" else r["detail"]  # normal rows stay short
        out.append(_row([r["requirement_id"], r["item"], STATUS_ZH[r["status"]], value_text(r),
                         threshold_text(r["threshold"]), detail],
                        r["status"] if r["status"] != "ok" else None))
    out.append("</table>")
    return out


def _tables(report):
    out = []
    for table in report.get("tables") or []:
        out.append("<h2>%s</h2><table><tr><th>%s</th></tr>" % (
            _e(table["title"]), "</th><th>".join(_e(c) for c in table["columns"])))
        out.extend(_row(["" if c is None else ("是" if c is True else "否" if c is False else c)
                         for c in row]) for row in table["rows"])
        out.append("</table>")
    return out


def _details(report):
    by_host = {}
    for record in report["records"]:
        by_host.setdefault(record["host"], []).append(record)
    out = ["<h2>各平台巡检明细</h2>"]
    for platform, names in sorted(report["platforms"].items()):
        out.append("<h3>平台：%s</h3>" % _e(platform))
        for name in names:
            out.extend(_host_detail(name, report["hosts"][name], by_host.get(name, [])))
    return out


def render_html(report):
    """The report page as a str (UTF-8 when written)."""
    out = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
           "<title>%s</title><style>%s</style></head><body>" % (_e(report["title"]), CSS),
           "<h1>%s</h1>" % _e(report["title"])]
    out.extend(_meta(report["meta"]))
    out.append('<h2>巡检结论</h2><p class="conclusion">%s</p>' % _e(report["conclusion"]))
    out.extend(_overview(report))
    out.extend(_abnormal(report))
    out.extend(_host_states(report))
    out.extend(_tables(report))
    out.extend(_details(report))
    out.append('<p class="note">本报告由 gxtax-ops 自动生成（%s），文件哈希登记于报告归档索引 '
               "index.jsonl，可用 bin/gxtax-reports verify 校验。</p></body></html>\n"
               % _e(report.get("schema", "")))
    return "\n".join(out)
