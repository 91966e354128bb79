# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a release report dict (release_report.py) as one self-contained Chinese HTML page.

Same look as the inspection report (its CSS and run-metadata labels are imported),
inline CSS only, no scripts, fonts, images or links; every value is escaped. A
rollback is shouted: a red banner above everything else. Runs on the control node only.
"""

from __future__ import annotations

import html

from ansible_collections.gxtax.ops.plugins.module_utils.inspection_html import (
    CSS as INSPECTION_CSS,
)
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_html import (
    META_LABELS,
    threshold_text,
    value_text,
)
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import STATUS_ZH
from ansible_collections.gxtax.ops.plugins.module_utils.release_report import (
    KIND_ZH,
    RESULT_ZH,
    STEP_STATUS_ZH,
    env_zh,
    result_zh,
)

CSS = INSPECTION_CSS + """
.banner{padding:.8em 1em;margin:1em 0;font-size:1.15em;font-weight:bold;border-radius:3px}
.banner-succeeded{background:#dff0df;border-left:6px solid #3a7}
.banner-refused{background:#fdf0c8;border-left:6px solid #c90}
.banner-failed{background:#f8d0d0;border-left:6px solid #c00}
#rollback-banner{background:#c00;color:#fff;font-size:1.4em;border:3px solid #800}
.conclusion.c-failed,.conclusion.c-rolled_back{background:#fbe9e9;border-left-color:#c00}
.conclusion.c-refused{background:#fdf6e0;border-left-color:#c90}
pre.notice{white-space:pre-wrap;background:#f6f6f6;border:1px solid #ccc;padding:.8em;font-family:inherit}
td.num{text-align:right}
"""
STEP_CLASS = {"failed": "critical", "unreachable": "critical", "ignored": "warning",
              "rescued": "warning", "skipped": "skipped"}
HASH_ORDER = ("md5", "sha1", "sha256")


def _e(value):
    return html.escape("" if value is None else str(value), quote=True)


def _row(cells, cls=None):
    attr = ' class="%s"' % cls if cls else ""
    return "<tr%s><td>%s</td></tr>" % (attr, "</td><td>".join(_e(c) for c in cells))


def _table(headers, rows):
    return ["<table><tr><th>%s</th></tr>" % "</th><th>".join(_e(h) for h in headers)] + rows + ["</table>"]


def _e_num(value):
    return "" if value is None else value


def _yes_no(value):
    return "" if value is None else ("是" if value else "否")


def _clock(iso):
    """2026-11-27T19:02:03.123 -> 19:02:03 (the date is in the run metadata)."""
    return "" if not iso else str(iso)[11:19] or str(iso)


def _banner(report):
    out = []
    for rollback in report["rollbacks"]:
        out.append('<div class="banner" id="rollback-banner">'
                   "已回退：从 %s 回退到 %s。原因：%s。回退结果：%s。</div>"
                   % (_e(rollback["from"] or "（未登记）"), _e(rollback["to"] or "（未登记）"),
                      _e(rollback["reason"]), _e(result_zh(rollback["outcome"]))))
    if not report["rollbacks"]:
        out.append('<div class="banner banner-%s">发布结论：%s</div>'
                   % (_e(report["outcome"]), _e(report["outcome_zh"])))
    return out


def _definitions(pairs):
    out = ['<dl class="meta">']
    out.extend("<dt>%s</dt><dd>%s</dd>" % (_e(label), _e(value)) for label, value in pairs
               if value not in (None, ""))
    out.append("</dl>")
    return out


def _window_text(window):
    if not window:
        return None
    parts = [{True: "在发布窗口内", False: "不在发布窗口内", None: ""}[window["allowed"]], window["reason"]]
    if window["next_allowed"]:
        parts.append("下次允许发布：%s" % window["next_allowed"])
    return "；".join(p for p in parts if p)


def _release(report):
    release, meta = report["release"], report["meta"]
    run = [(label, meta.get(key)) for key, label in META_LABELS]
    if meta.get("check_mode"):
        run.append(("运行方式", "检查模式（演练，未实际变更）"))
    envs = "、".join(env_zh(e) for e in release["environments"])
    pairs = [("版本号", release["version"]), ("发布包", release["package"]),
             ("包名称", release["package_name"]), ("发布环境", envs),
             ("发布类型", KIND_ZH.get(release["kind"], release["kind"])),
             ("挂包申请日期", release["application_date"]), ("审批", release["approval"]),
             ("紧急发布审批", release["emergency_approval"]),
             ("发布窗口检查", _window_text(release["window_check"]))]
    pairs.extend(sorted(release["other"].items()))
    return ["<h2>运行信息</h2>"] + _definitions(run) + ["<h2>发布信息</h2>"] + _definitions(pairs)


def _checksums(report):
    checksums = report["release"]["checksums"]
    if not checksums:
        return ["<h2>发布包校验值</h2><p>未登记校验值。</p>"]
    rows = []
    for name, digests in sorted(checksums.items()):
        for algo in sorted(digests, key=lambda a: (HASH_ORDER.index(a) if a in HASH_ORDER else 9, a)):
            rows.append(_row([name, algo.upper() if algo in HASH_ORDER else algo, digests[algo]]))
    return ["<h2>发布包校验值</h2>"] + _table(["文件", "算法", "校验值"], rows)


def _notice(report):
    notice = report["release"]["notice"]
    if not notice:
        return ["<h2>升级通知</h2><p>未登记通知文本。</p>"]
    return ['<h2>升级通知</h2><pre class="notice">%s</pre>' % _e(notice)]


def _steps(report):
    steps = report["steps"]
    if not steps:
        return ["<h2>发布步骤</h2><p>未执行任何发布步骤。</p>"]
    rows = []
    for s in steps:
        name = s["task"] + ("（%d 项）" % s["items"] if s["items"] else "")
        rows.append(_row([s["seq"], s["host"], name, _clock(s["started"]), _clock(s["ended"]),
                          "" if s["seconds"] is None else s["seconds"], STEP_STATUS_ZH[s["status"]],
                          "是" if s["changed"] else "否", s["msg"]], STEP_CLASS.get(s["status"])))
    return ["<h2>发布步骤（%d）</h2>" % len(steps)] + _table(
        ["序号", "主机", "步骤", "开始", "结束", "耗时（秒）", "结果", "变更", "说明"], rows)


def _db_scripts(report):
    scripts = report["db_scripts"]
    if not scripts:
        return ["<h2>数据库脚本</h2><p>本次未执行数据库脚本。</p>"]
    rows = [_row([s["script"], s["host"], RESULT_ZH[s["outcome"]], _e_num(s["rows"]),
                  _e_num(s["seconds"]), s["error"] or ""], "critical" if s["outcome"] == "failed" else None)
            for s in scripts]
    return ["<h2>数据库脚本（%d）</h2>" % len(scripts)] + _table(
        ["脚本", "主机", "结果", "影响行数", "耗时（秒）", "错误"], rows)


def _verifications(report):
    out = ["<h2>发布后验证</h2>"]
    if not report["verifications"] and not report["records"]:
        return out + ["<p>本次未登记发布后验证结果。</p>"]
    for check in report["verifications"]:
        env = env_zh(check["environment"])
        out.append("<h3>%s验证：%s</h3>" % (_e(env), "通过" if check["passed"] else "未通过"))
        if check["checks"]:
            out.extend(_table(["检查项", "通过", "说明"], [
                _row([c["item"], _yes_no(c["passed"]), c["detail"]],
                     "critical" if c["passed"] is False else None) for c in check["checks"]]))
    if report["records"]:
        counts = "，".join("%s %d" % (STATUS_ZH[s], n) for s, n in report["counts"].items() if n)
        out.append("<h3>验证记录（%s）</h3>" % _e(counts))
        headers = ["要求", "主机", "检查项", "状态", "测量值", "阈值", "说明", "排查方向", "导致问题"]
        out.extend(_table(headers, [
            _row([r["requirement_id"], r["host"], r["item"], STATUS_ZH[r["status"]], value_text(r),
                  threshold_text(r["threshold"]), r["detail"], r["direction"] or "", r["consequence"] or ""],
                 r["status"] if r["status"] != "ok" else None) for r in report["records"]]))
    return out


def _rollbacks_and_refusals(report):
    out = []
    if report["rollbacks"]:
        out.append("<h2>回退</h2>")
        out.extend(_table(["主机", "任务", "从", "回退到", "原因", "结果"], [
            _row([r["host"], r["task"], r["from"], r["to"], r["reason"], result_zh(r["outcome"])], "critical")
            for r in report["rollbacks"]]))
    if report["refusals"]:
        out.append("<h2>拒绝发布</h2>")
        out.extend(_table(["主机", "任务", "原因", "下次允许发布时间"], [
            _row([r["host"], r["task"], r["reason"], r["next_allowed"] or ""], "warning")
            for r in report["refusals"]]))
    return out


def _hosts_and_problems(report):
    state_zh = {"ok": "正常", "failed": "执行失败", "unreachable": "无法连接"}
    out = ["<h2>主机</h2>"] + _table(["主机", "状态", "说明"], [
        _row([name, state_zh.get(h["state"], h["state"]), h.get("message", "")],
             None if h["state"] == "ok" else "critical") for name, h in sorted(report["hosts"].items())])
    if report["problems"]:
        out.append("<h2>报告数据问题</h2><ul>%s</ul>"
                   % "".join("<li>%s</li>" % _e(p) for p in report["problems"]))
    return out


def render_html(report):
    """The report page as a str (UTF-8 when written)."""
    out = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
           "<title>%s</title><style>%s</style></head><body>" % (_e(report["title"]), CSS)]
    out.extend(_banner(report))
    out.append("<h1>%s</h1>" % _e(report["title"]))
    out.append('<h2>发布结论</h2><p class="conclusion c-%s">%s</p>' % (_e(report["outcome"]),
                                                                    _e(report["conclusion"])))
    out.extend(_release(report))
    out.extend(_checksums(report))
    out.extend(_notice(report))
    out.extend(_steps(report))
    out.extend(_db_scripts(report))
    out.extend(_verifications(report))
    out.extend(_rollbacks_and_refusals(report))
    out.extend(_hosts_and_problems(report))
    out.append('<p class="note">本报告由 gxtax-ops 自动生成（%s），文件哈希登记于报告归档索引 '
               "index.jsonl，可用 bin/gxtax-reports verify 校验。</p></body></html>\n"
               % _e(report.get("schema", "")))
    return "\n".join(out)
