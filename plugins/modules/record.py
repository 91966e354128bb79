#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin plugins/action/record.py on the
# control node, as ansible-core does for ansible.builtin.debug and ansible.builtin.set_fact.
# ansible-doc reads the documentation of an action plugin from the module of the same name.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: record
short_description: Hand records, report tables and report metadata made on the control node to the report
version_added: 0.1.0
description:
  - Returns the given O(records) as the task's C(records), after checking each against the one
    record format (C(schemas/inspection-record.schema.json)), so that the
    C(gxtax.ops.inspection_report) callback puts them into the report like the records of any
    check module.
  - Meant for records built by filters, such as the INSP-14 basic-information sheet from
    C(gxtax.ops.basic_info_records).
  - "A record may leave out C(value), C(unit), C(threshold), C(direction) and C(consequence) (null)
    and C(detail) (empty); C(requirement_id), C(item), C(host) and C(status) are required, and a
    C(warning), C(critical) or C(error) record needs a C(direction) (排查方向) and a
    C(consequence) (导致问题)."
  - O(sections) adds tables to the report (for what is not a check, such as packages before and
    after a patch run) and O(meta) adds to the report's metadata; O(meta.title) replaces the
    play's C(gxtax_report_title).
  - Any record or table breaking its format fails the task with one message per problem; nothing
    is returned then.
  - Runs on the control node only; never connects to the managed host.
options:
  records:
    description:
      - The records, each a dict with the fields C(requirement_id), C(item), C(host), C(status),
        C(value), C(unit), C(threshold), C(detail), C(direction), C(consequence).
    type: list
    elements: dict
    default: []
  sections:
    description:
      - Tables for the report, each a dict C(id), C(title) (Chinese), C(columns) (list of
        strings) and C(rows) (list of lists of scalars, one cell per column).
      - Tables with the same C(id) from several hosts become one table.
    type: list
    elements: dict
    default: []
  meta:
    description:
      - Added to the report's metadata, for example C(holiday) (shown as 节假日) or C(title).
      - Cannot replace C(run_id), C(kind), C(started) or C(ended).
    type: dict
    default: {}
attributes:
  action:
    description: The work is done by an action plugin on the control node.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  bypass_host_loop:
    description: Forces a 'global' task that does not execute per host.
    support: none
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: all
notes:
  - Runs on the control node; the managed host is not contacted.
seealso:
  - module: gxtax.ops.host_metrics
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: INSP-14 | Record the basic-information sheet of this host
  gxtax.ops.record:
    records: >-
      {{ ansible_facts | gxtax.ops.basic_info_records(
           {'group_names': group_names, 'gxtax_inspection_contacts': gxtax_inspection_contacts},
           inventory_hostname) }}

- name: INSP-16 | Name the holiday in the report's title
  gxtax.ops.record:
    meta:
      title: 节假日全面检查报告（国庆节）
      holiday: 国庆节

- name: SEC-01 | Add the packages upgraded on this host to the patch report
  gxtax.ops.record:
    sections:
      - id: packages
        title: 软件包升级明细
        columns: [主机, 软件包, 升级前版本, 升级后版本]
        rows:
          - ["{{ inventory_hostname }}", openssl, 3.0.11-1, 3.0.13-1]

- name: INSP-16 | Record a finding made by hand on the last day of a holiday
  gxtax.ops.record:
    records:
      - requirement_id: INSP-16
        item: 机房空调
        host: "{{ inventory_hostname }}"
        status: warning
        value: 28
        unit: ℃
        detail: 机房温度 28℃，高于 26℃ 的运行要求。
        direction: 检查空调运行状态和出风口
        consequence: 设备过热导致宕机
"""

RETURN = r"""
records:
  description: The records, each completed with every field of the record format.
  returned: success
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-14
      item: 基本信息 操作系统
      host: db01
      status: ok
      value: Kylin Linux Advanced Server V10 (Sword)
      unit: null
      threshold: null
      detail: 操作系统：Kylin Linux Advanced Server V10 (Sword)（来源：主机采集）。
      direction: null
      consequence: null
report_sections:
  description: The tables of O(sections), when given.
  returned: when O(sections) is not empty
  type: list
  elements: dict
report_meta:
  description: O(meta), when given.
  returned: when O(meta) is not empty
  type: dict
status:
  description: The worst status among O(records) (C(ok) when there are none).
  returned: success
  type: str
  sample: ok
problems:
  description: One message per problem found (Chinese / English), when the task failed for them.
  returned: failure
  type: list
  elements: str
  sample:
    - "记录 #2（基本信息 备份）：缺少 host / host is required (a non-empty string)"
"""
