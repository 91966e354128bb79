# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-01 / SEC-03 records and report tables of a patch run, from the plans and version maps of
package_updates. Plain data in, plain data out. Runs on managed hosts too: Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQ = "SEC-01"
MODES = {"list": "仅列出", "security": "仅安全更新", "all": "全部更新"}
REBOOT_POLICIES = {"auto": "需要时重启", "never": "不重启", "always": "总是重启"}


def _names(items, limit=15):
    items = list(items)
    text = "、".join(items[:limit])
    return text + ("等 %d 个" % len(items) if len(items) > limit else "")


def plan_records(host, plan, mode):
    """What the host has available and what this mode will do with it."""
    if plan.get("error") and not plan["updates"]:
        return [make_record(REQ, "可用更新", host, "error", detail=plan["error"] + "。",
                            direction="在主机上以 root 手工执行同一命令，检查软件源配置和软件包数据库",
                            consequence="无法得知该主机缺少哪些补丁，本次不做补丁")]
    updates = plan["updates"]
    security = [u for u in updates if u["security"]]
    excluded = [u for u in updates if u["excluded_by"]]
    records = []
    if mode == "list" and security:
        records.append(make_record(
            REQ, "可用更新", host, "warning", value=len(updates), unit="个",
            detail="有 %d 个可用更新，其中安全更新 %d 个（%s）；本次仅列出，未安装。"
                   % (len(updates), len(security), _names(u["name"] for u in security)),
            direction="在补丁窗口内以 security 或 all 模式执行补丁剧本",
            consequence="已公开的安全漏洞未修补，主机存在被攻击的风险（SEC-03）"))
    else:
        doing = "本次仅列出，未安装" if mode == "list" else \
            "本次%s将安装 %d 个" % (MODES[mode], len(plan["selected"]))
        records.append(make_record(
            REQ, "可用更新", host, "ok", value=len(updates), unit="个",
            detail="有 %d 个可用更新，其中安全更新 %d 个；%s。" % (len(updates), len(security), doing)))
    if plan.get("error"):
        records.append(make_record(REQ, "安全更新分类", host, "warning", detail=plan["error"] + "。",
                                   direction="修复软件源的 updateinfo 元数据（源需提供 updateinfo.xml）",
                                   consequence="无法区分安全更新，security 模式本次不安装任何更新"))
    excluded_security = [u for u in excluded if u["security"]]
    if excluded:
        status = "warning" if excluded_security else "ok"
        detail = "按排除列表不安装 %d 个更新：%s。" % (
            len(excluded), _names("%s（%s）" % (u["name"], u["excluded_by"]) for u in excluded))
        extra = {}
        if excluded_security:
            detail += "其中 %d 个是安全更新。" % len(excluded_security)
            extra = {"direction": "与数据库/中间件负责人确认后，在维护窗口内单独升级这些软件包",
                     "consequence": "这些软件包中的安全漏洞仍未修补"}
        records.append(make_record(REQ, "排除的更新", host, status, value=len(excluded), unit="个",
                                   detail=detail, **extra))
    if plan.get("pulled"):
        records.append(make_record(
            REQ, "依赖带入的软件包", host, "ok", value=len(plan["pulled"]), unit="个",
            detail="所选更新还需要安装或升级：%s。" % _names(
                "%s %s" % (p["name"], p["available"]) for p in plan["pulled"])))
    if plan.get("held"):
        records.append(make_record(
            REQ, "因排除项保留的更新", host, "warning", value=len(plan["held"]), unit="个",
            detail="以下更新需要同时升级被排除的软件包，本次未安装：%s。"
                   % _names("%s（%s）" % (h["name"], h["reason"]) for h in plan["held"]),
            direction="评估被排除软件包的升级，或把这些软件包也加入排除列表",
            consequence="这些软件包停留在旧版本，其修复未生效"))
    if plan.get("removals"):
        records.append(make_record(
            REQ, "升级将删除的软件包", host, "warning", value=len(plan["removals"]), unit="个",
            detail="完整升级（dist-upgrade）会删除 %s；补丁只升级已安装的软件包，不删除任何软件包。"
                   % _names(plan["removals"]),
            direction="人工评估这些删除是否必要，必要时在维护窗口内手工处理",
            consequence="依赖这些删除才能升级的软件包保持旧版本"))
    return records


def available_section(host, plan):
    """One host's rows of the report table of available updates (merged over hosts by id)."""
    rows = [[host, u["name"], u["current"] or "（未安装）", u["available"], "是" if u["security"] else "否",
             u["excluded_by"] or ""] for u in plan["updates"]]
    return {"id": "patch-available", "title": "可用更新",
            "columns": ["主机", "软件包", "当前版本", "可用版本", "安全更新", "排除规则"], "rows": rows}


def changes_section(host, changes):
    """One host's rows of the table of packages before and after the upgrade."""
    rows = [[host, c["name"], c["before"] or "（新安装）", c["after"] or "（已删除）"] for c in changes]
    return {"id": "patch-packages", "title": "软件包升级前后版本",
            "columns": ["主机", "软件包", "升级前版本", "升级后版本"], "rows": rows}


def summary_section(host, mode, installed, reboot_required, rebooted, seconds):
    """One host's row of the summary table: mode, packages changed, reboot needed/done, duration."""
    return {"id": "patch-summary", "title": "补丁概况",
            "columns": ["主机", "模式", "已变更软件包", "需要重启", "已重启", "耗时（秒）"],
            "rows": [[host, MODES[mode], int(installed), "是" if reboot_required else "否",
                      "是" if rebooted else "否", int(round(seconds))]]}


def changes_record(host, changes, expected=()):
    """已安装更新: what changed; a planned package that did not change, or any removal, is a warning."""
    changed = set(c["name"] for c in changes)
    upgraded = [c for c in changes if c["before"] and c["after"]]
    added = [c for c in changes if not c["before"]]
    removed = [c for c in changes if not c["after"]]
    missed = [name for name in expected or () if name not in changed]
    detail = "升级 %d 个、新安装 %d 个（依赖）、删除 %d 个软件包" % (len(upgraded), len(added), len(removed))
    if removed:
        return make_record(REQ, "已安装更新", host, "warning", value=len(changes), unit="个",
                           detail=detail + "；被删除：%s。" % _names(c["name"] for c in removed),
                           direction="确认被删除的软件包是否为数据库、中间件或应用所需，必要时重新安装",
                           consequence="依赖被删除软件包的程序无法运行")
    if missed:
        return make_record(REQ, "已安装更新", host, "warning", value=len(changes), unit="个",
                           detail=detail + "；计划升级但版本未变：%s。" % _names(missed),
                           direction="查看补丁任务的输出和软件包管理器日志（/var/log/apt/history.log、/var/log/dnf.log）",
                           consequence="主机仍缺少这些补丁")
    return make_record(REQ, "已安装更新", host, "ok", value=len(changes), unit="个", detail=detail + "。")


def reboot_record(host, required, reasons, policy, rebooted):
    """需要重启 / 已重启: whether the host needs a reboot and what the run did about it."""
    why = "；".join(reasons) if reasons else ""
    if rebooted:
        cause = ("需要重启（%s）" % why) if required else "按策略%s" % REBOOT_POLICIES[policy]
        return make_record(REQ, "重启", host, "ok", value="已重启",
                           detail="%s，已重启并恢复连接。" % cause)
    if required:
        return make_record(REQ, "重启", host, "warning", value="需要重启",
                           detail="需要重启（%s），重启策略为“%s”（%s），本次未重启。"
                                  % (why, REBOOT_POLICIES[policy], policy),
                           direction="在维护窗口内停止应用并重启主机"
                                     "（或以 gxtax_patching_reboot=auto 重新执行）",
                           consequence="新内核或核心库在重启前不生效，漏洞仍可被利用")
    return make_record(REQ, "重启", host, "ok", value="无需重启", detail="无需重启。")


def duration_record(host, seconds, mode):
    return make_record(REQ, "补丁耗时", host, "ok", value=int(round(seconds)), unit="秒",
                       detail="%s模式补丁流程用时 %d 秒。" % (MODES[mode], int(round(seconds))))
