#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: patch_backup_gate
short_description: The "backup done" gate of a patch run, from today's inspection report (SEC-01, SEC-03)
version_added: 0.1.0
description:
  - Runs on the control node (C(delegate_to=localhost), C(run_once)) and changes nothing.
  - Finds in the report archive's C(index.jsonl) the latest report of kind O(kind) created today, checks
    its C(report.json) against the SHA-256 the index holds, and passes when no record of
    O(requirement_ids) (the database backup checks, C(INSP-12)) has a status in O(block_statuses) - and,
    with O(require_records), when there is at least one such record (an inspection that did not look at
    the backups proves nothing).
  - Returns one C(SEC-01) record per host of O(hosts) in the shared record format, so every host's part of
    the patch report says why it was or was not patched.
options:
  archive_root:
    description: Root of the report archive (where C(index.jsonl) lies).
    type: path
    required: true
  kind:
    description: Report kind to read.
    type: str
    default: inspection
  requirement_ids:
    description: Requirement IDs of the backup checks.
    type: list
    elements: str
    default: [INSP-12]
  block_statuses:
    description: Statuses of those records that stop the patch run.
    type: list
    elements: str
    default: [critical, error]
  require_records:
    description: Fail the gate when the report has no record of O(requirement_ids) at all.
    type: bool
    default: true
  date:
    description: Day whose reports count (C(YYYY-MM-DD)); default today on the control node.
    type: str
  hosts:
    description: Hosts of the patch run; one record each.
    type: list
    elements: str
    default: []
notes:
  - Reads the archive the C(gxtax.ops.inspection_report) callback writes; needs no access to managed hosts.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.expdp_backup_check
  - module: gxtax.ops.oracle_health
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: SEC-01 | Patch only when today's inspection found the backups fine
  gxtax.ops.patch_backup_gate:
    archive_root: "{{ playbook_dir }}/../reports"
    hosts: "{{ ansible_play_hosts_all }}"
  delegate_to: localhost
  run_once: true
  register: gate
"""

RETURN = r"""
passed:
  description: Whether patching may go ahead.
  returned: always
  type: bool
reason:
  description: Why, in Chinese.
  returned: always
  type: str
  sample: 2026-11-27 的巡检报告 20261127T083000-1a2b3c 中 4 条备份检查记录（INSP-12）均无严重问题
report:
  description: The report read (C(run_id), C(created), C(path)), or null.
  returned: always
  type: dict
findings:
  description: The blocking records (C(host), C(item), C(status), C(detail)).
  returned: always
  type: list
  elements: dict
records:
  description: One SEC-01 record per host of O(hosts).
  returned: always
  type: list
  elements: dict
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.patch_gate import evaluate, gate_records
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive


def main():
    module = AnsibleModule(
        argument_spec=dict(
            archive_root=dict(type="path", required=True),
            kind=dict(type="str", default="inspection"),
            requirement_ids=dict(type="list", elements="str", default=["INSP-12"]),
            block_statuses=dict(type="list", elements="str", default=["critical", "error"]),
            require_records=dict(type="bool", default=True),
            date=dict(type="str"),
            hosts=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    day = None
    if p["date"]:
        try:
            day = datetime.datetime.strptime(p["date"], "%Y-%m-%d").date()
        except ValueError:
            module.fail_json(msg="date 必须是 YYYY-MM-DD / date must be YYYY-MM-DD, got %r" % p["date"])
    archive = ReportArchive(p["archive_root"])
    try:
        entries = archive.entries()
    except (OSError, ValueError) as exc:  # a torn or unreadable index proves nothing
        result = {"passed": False, "report": None, "findings": [],
                  "reason": "无法读取报告索引 %s：%s" % (archive.index_path, exc)}
    else:
        result = evaluate(archive.root, entries, p["kind"], tuple(p["requirement_ids"]),
                          tuple(p["block_statuses"]), p["require_records"], day)
    module.exit_json(changed=False, records=gate_records(p["hosts"], result), **result)


if __name__ == "__main__":
    main()
