# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-01: the order in which playbooks/patching.yml patches the estate, and the records of a
rollout that stopped. Used by filters on the control node; Python 3.7-compatible all the same.

Stages, each a play of its own in playbooks/patching.yml (keep the two in step):
  others            hosts in none of the groups below: canaries, a bad patch shows up here first
  weblogic_managed  managed servers one at a time; the cluster keeps serving on the others
  weblogic_admin    after its managed servers: the Admin Server is not in the request path
  app_storage       avrecord media storage: a reboot pauses media access, so after the app tier
  oracle_db         last: a database reboot stops the whole platform, done once all else is proven
A host in several groups is patched in the latest of its stages (a single-box DB + WebLogic host
with the databases), so no host is patched twice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQ = "SEC-01"
STAGES = (
    ("others", "其他主机"),
    ("weblogic_managed", "WebLogic 受管服务器"),
    ("weblogic_admin", "WebLogic 管理服务器"),
    ("app_storage", "应用存储"),
    ("oracle_db", "Oracle 数据库"),
)
STAGE_NAMES = dict(STAGES)


def stage_of(host, groups):
    stage = "others"
    for name, _title in STAGES[1:]:
        if host in (groups.get(name) or ()):
            stage = name
    return stage


def rollout(groups, targets):
    """[{host, stage, stage_title, position, total}] in the order the plays reach the hosts.

    groups: the inventory's `groups` (group -> hosts in inventory order); targets: the hosts of
    this run (the plan play's hosts, i.e. after --limit). Within a stage the group's order holds,
    as it does for the play's host pattern.
    """
    targets = list(targets)
    wanted = set(targets)
    ordered, seen = [], set()
    for stage, title in STAGES:
        members = (groups.get("all") or targets) if stage == "others" else (groups.get(stage) or ())
        for host in members:
            if host in wanted and host not in seen and stage_of(host, groups) == stage:
                seen.add(host)
                ordered.append({"host": host, "stage": stage, "stage_title": title})
    for host in targets:  # hosts outside groups['all'] (never in practice): last, not lost
        if host not in seen:
            ordered.append({"host": host, "stage": "others", "stage_title": STAGE_NAMES["others"]})
    total = len(ordered)
    for index, entry in enumerate(ordered):
        entry.update(position=index + 1, total=total)
    return ordered


def rollout_records(order):
    return [make_record(REQ, "补丁滚动顺序", o["host"], "ok", value=o["position"],
                        detail="按滚动顺序第 %d/%d 台（阶段：%s）。"
                               % (o["position"], o["total"], o["stage_title"]))
            for o in order]


def remaining_hosts(order, batch):
    """Hosts after the last host of the current batch: the ones a stopped rollout leaves alone."""
    positions = [o["position"] for o in order if o["host"] in batch]
    last = max(positions) if positions else 0
    return [o["host"] for o in order if o["position"] > last]


def failure_record(host, task, message, changed_started, remaining):
    """The host where the rollout stopped; remaining is how many hosts it never reached."""
    if changed_started:
        state = "补丁过程中失败，主机可能处于部分升级状态"
        direction = "查看失败任务的输出与软件包管理器日志，修复后对该主机重新执行补丁剧本（--limit）"
    else:
        state = "前置检查或准备阶段失败，本主机未做任何变更"
        direction = "按前置检查记录的排查方向处理后重新执行补丁剧本"
    return make_record(
        REQ, "补丁执行", host, "critical", value="已中止",
        detail="%s（任务“%s”：%s）；滚动升级在此中止，后续 %d 台主机未处理。"
               % (state, task, (message or "原因未知")[:300], remaining),
        direction=direction, consequence="本主机及后续主机的补丁未完成，漏洞仍未修补（SEC-03）")


def unreached_records(failed_host, remaining):
    """One record for each host a stopped rollout never reached."""
    return [make_record(
        REQ, "补丁执行", other, "warning", value="未执行",
        detail="未执行：滚动升级在主机 %s 失败后中止，本主机未做任何变更。" % failed_host,
        direction="排除 %s 的问题后重新执行补丁剧本" % failed_host,
        consequence="该主机仍缺少补丁，存在安全风险（SEC-03）") for other in remaining]
