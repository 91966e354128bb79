#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: storage_trend
short_description: Media storage capacity, growth since the previous report and days until full (INSP-17)
version_added: 0.1.0
description:
  - For each media storage path of a host (the C(avrecord) audio/video store), returns two inspection
    records (requirement C(INSP-17)) in the record format every gxtax.ops check yields
    (C(schemas/inspection-record.schema.json)).
  - C(媒体存储 <path> 已用容量), the used capacity in GiB, status C(ok). This is the figure the next
    run reads back from the report archive.
  - C(媒体存储 <path> 预计可用天数), the days until the filesystem is full at the growth rate between
    the newest earlier inspection report that recorded this host and path (at least
    O(min_interval_hours) old) and now. At or below O(warn_days) it is C(warning), at or below
    O(crit_days) C(critical); a full filesystem is C(critical). It is C(skipped), with the reason, when
    no earlier report holds the figure (first run) or the usage did not grow.
  - Runs where the report archive is, normally the control node (C(delegate_to=localhost)); the figures
    come from M(gxtax.ops.host_metrics) run on the storage host (O(filesystems) and O(paths)), or are
    given directly (O(mounts)).
  - A path that cannot be measured gives an C(error) record; the module does not fail for it.
  - Read-only; runs in check mode too.
options:
  host:
    description: Inventory host name of the storage host; records are about it and are matched by it.
    type: str
    required: true
  paths:
    description:
      - Media paths to watch, with O(filesystems). Each must be a mount point that O(filesystems)
        reports; any other path is an C(error) record, so that a NAS that is not mounted (its path then
        lying on the root filesystem) is found rather than measured on the wrong filesystem.
    type: list
    elements: str
  filesystems:
    description:
      - The C(metrics.filesystems) section returned by M(gxtax.ops.host_metrics) on the storage host
        (C(mounts) with C(mountpoint), C(size_kb), C(used_kb), C(avail_kb) each).
    type: dict
  mounts:
    description:
      - Figures given directly instead of O(paths) and O(filesystems).
    type: list
    elements: dict
    suboptions:
      path:
        description: Media path.
        type: str
        required: true
      total_bytes:
        description: Size of its filesystem in bytes.
        type: int
        required: true
      used_bytes:
        description: Used bytes.
        type: int
        required: true
      avail_bytes:
        description:
          - Bytes still available to the application (without the root reserve); default is
            O(mounts[].total_bytes) minus O(mounts[].used_bytes).
        type: int
  archive_root:
    description:
      - Root of the report archive (as the C(gxtax.ops.inspection_report) callback writes it). A missing
        directory only means there is no earlier report.
    type: path
    required: true
  report_kind:
    description: Kind of the archived reports to read earlier figures from.
    type: str
    default: inspection
  warn_days:
    description: Days until full at or below which the record is C(warning).
    type: float
    default: 90
  crit_days:
    description: Days until full at or below which the record is C(critical).
    type: float
    default: 30
  min_interval_hours:
    description:
      - Only reports at least this many hours old serve as the earlier figure. V(0) takes the previous
        report; about a day (V(20)) measures the growth over a whole working day, so uploads made in
        office hours are not extrapolated to the whole day, nor a quiet night read as no growth.
    type: float
    default: 0
notes:
  - Reports and the run are dated by the control node's local clock.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.host_metrics
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: Measure the storage host's filesystems (records hidden; host_inspection reports them)
  gxtax.ops.host_metrics:
    host: "{{ inventory_hostname }}"
    sample_seconds: 0.1
  register: storage_metrics
  no_log: true

- name: Grade the media storage growth against the previous inspection report
  gxtax.ops.storage_trend:
    host: "{{ inventory_hostname }}"
    paths: [/data/avrecord/media]
    filesystems: "{{ storage_metrics.metrics.filesystems }}"
    archive_root: /var/lib/gxtax-ops/reports
    min_interval_hours: 20
  delegate_to: localhost
"""

RETURN = r"""
records:
  description: Two records per path (requirement C(INSP-17)), in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-17
      item: 媒体存储 /data/media 预计可用天数
      host: av-nas01
      status: warning
      value: 61.8
      unit: 天
      threshold: 警告≤90天 / 严重≤30天
      detail: >-
        媒体存储 /data/media 自上次巡检（2026-11-26 08:30，间隔 1 天）增长 12.4 GiB，
        日均 12.4 GiB，按此速度约 61.8 天后写满，已达到告警阈值 90 天。
      direction: >-
        清理或迁移超过保存期限的执法音像文件至归档存储，核查近期是否有异常的大量上传，
        并按增长趋势提前申请存储扩容
      consequence: 存储写满后执法记录仪音像文件无法上传保存，造成执法音像记录缺失，影响执法过程追溯
trend:
  description:
    - Figures per path, C(path), C(mountpoint), C(used_gib), C(total_gib), C(avail_gib) and, when an
      earlier figure was found, C(previous_used_gib), C(previous_time), C(previous_run_id),
      C(interval_days), C(growth_gib), C(growth_gib_per_day), C(days_to_full); C(error) for a path
      that could not be measured.
  returned: always
  type: list
  elements: dict
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst
from ansible_collections.gxtax.ops.plugins.module_utils.storage_trend import (
    TrendError, evaluate, find_previous, normalize_mount, resolve_paths,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            paths=dict(type="list", elements="str"),
            filesystems=dict(type="dict"),
            # elements raw: a bad entry is an error record, validated in module_utils
            mounts=dict(type="list", elements="raw"),
            archive_root=dict(type="path", required=True),
            report_kind=dict(type="str", default="inspection"),
            warn_days=dict(type="float", default=90.0),
            crit_days=dict(type="float", default=30.0),
            min_interval_hours=dict(type="float", default=0.0),
        ),
        mutually_exclusive=[("mounts", "paths")],
        required_one_of=[("mounts", "paths")],
        required_together=[("paths", "filesystems")],
        supports_check_mode=True,
    )
    p = module.params
    if p["mounts"] is not None:
        mounts = [normalize_mount(entry) for entry in p["mounts"]]
    else:
        mounts = resolve_paths(p["paths"], p["filesystems"])
    now = datetime.datetime.now()
    wanted = [mount["path"] for mount, problem in mounts if not problem]
    archive_problem = None
    previous = {}
    try:
        previous = find_previous(p["archive_root"], p["host"], wanted, now, p["min_interval_hours"],
                                 p["report_kind"])
    except TrendError as exc:
        archive_problem = str(exc)
    records, trend = evaluate(p["host"], mounts, previous, now, p["warn_days"], p["crit_days"],
                              p["min_interval_hours"], archive_problem)
    module.exit_json(changed=False, records=records, trend=trend, status=worst(records))


if __name__ == "__main__":
    main()
