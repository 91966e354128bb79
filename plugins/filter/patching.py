# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patching filters (control node): thin wrappers over plugins/module_utils (SEC-01).

patch_rollout           groups, play hosts -> [{host, stage, stage_title, position, total}]
patch_rollout_records   that order -> one 补丁滚动顺序 record per host
patch_remaining_hosts   that order, the current batch -> the hosts a stopped rollout never reaches
patch_failure_record    the host that failed, its task and message -> its 补丁执行 record
patch_unreached_records the hosts a stopped rollout never reaches -> 补丁执行 未执行 records
patch_window_records    a release_window_check answer, hosts -> 补丁时间窗口 records
patch_reboot_record     required, reasons, policy, rebooted -> the 重启 record
patch_duration_record   seconds, mode -> the 补丁耗时 record
patch_summary_section   mode, packages changed, reboot needed/done, seconds -> a row of the 补丁概况 table
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.gxtax.ops.plugins.module_utils import patch_records, patch_rollout
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record


def _plain(value):
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def patch_rollout_order(groups, targets):
    """{{ groups | gxtax.ops.patch_rollout(ansible_play_hosts_all) }}"""
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError("patch_rollout: groups must be the inventory's `groups` dict")
    return patch_rollout.rollout(_plain(groups), [str(h) for h in targets or []])


def patch_rollout_records(order):
    return patch_rollout.rollout_records(_plain(order or []))


def patch_remaining_hosts(order, batch):
    return patch_rollout.remaining_hosts(_plain(order or []), [str(h) for h in batch or []])


def patch_failure_record(host, task, message, changed_started, remaining):
    """remaining: the hosts the rollout will not reach (a list) or their number."""
    count = remaining if isinstance(remaining, int) else len(remaining or [])
    return patch_rollout.failure_record(str(host), str(task or "?"), str(message or ""),
                                        bool(changed_started), count)


def patch_unreached_records(remaining, failed_host):
    """{{ remaining | gxtax.ops.patch_unreached_records(inventory_hostname) }}"""
    return patch_rollout.unreached_records(str(failed_host), [str(h) for h in remaining or []])


def patch_window_records(answer, hosts, env, kind="patch"):
    """{{ check | gxtax.ops.patch_window_records(hosts, env) }}: the calendar's verdict for each host."""
    answer = _plain(answer or {})
    if "allowed" not in answer:
        raise AnsibleFilterError("patch_window_records: expected the answer of release_window_check")
    records = []
    for host in hosts or []:
        if answer["allowed"]:
            records.append(make_record("SEC-01", "补丁时间窗口", str(host), "ok", value="允许",
                                       detail="环境 %s：%s。" % (env, answer.get("reason", ""))))
        else:
            nxt = answer.get("next_allowed") or "无（该环境不允许此类变更）"
            records.append(make_record(
                "SEC-01", "补丁时间窗口", str(host), "warning", value="拒绝", threshold=kind,
                detail="环境 %s：%s；本次补丁未执行，所有主机均未变更，下一个允许的时间：%s。"
                       % (env, answer.get("reason", ""), nxt),
                direction="在下一个允许的时间窗口（%s）重新执行；紧急安全补丁按紧急变更审批后以 "
                          "gxtax_patching_window_kind=emergency 执行" % nxt,
                consequence="补丁推迟到下一个窗口，期间漏洞仍未修补"))
    return records


def patch_reboot_record(host, required, reasons, policy, rebooted):
    if policy not in patch_records.REBOOT_POLICIES:
        raise AnsibleFilterError("patch_reboot_record: policy must be one of %s"
                                 % ", ".join(patch_records.REBOOT_POLICIES))
    return patch_records.reboot_record(str(host), bool(required), [str(r) for r in reasons or []],
                                       policy, bool(rebooted))


def patch_summary_section(host, mode, installed, reboot_required, rebooted, seconds):
    """{{ inventory_hostname | gxtax.ops.patch_summary_section(mode, n, required, rebooted, seconds) }}"""
    if mode not in patch_records.MODES:
        raise AnsibleFilterError("patch_summary_section: mode must be one of %s"
                                 % ", ".join(patch_records.MODES))
    return patch_records.summary_section(str(host), mode, int(installed or 0), bool(reboot_required),
                                         bool(rebooted), float(seconds))


def patch_duration_record(host, seconds, mode):
    if mode not in patch_records.MODES:
        raise AnsibleFilterError("patch_duration_record: mode must be one of %s"
                                 % ", ".join(patch_records.MODES))
    return patch_records.duration_record(str(host), float(seconds), mode)


class FilterModule:
    def filters(self):
        return {
            "patch_rollout": patch_rollout_order,
            "patch_rollout_records": patch_rollout_records,
            "patch_remaining_hosts": patch_remaining_hosts,
            "patch_failure_record": patch_failure_record,
            "patch_unreached_records": patch_unreached_records,
            "patch_window_records": patch_window_records,
            "patch_reboot_record": patch_reboot_record,
            "patch_duration_record": patch_duration_record,
            "patch_summary_section": patch_summary_section,
        }
