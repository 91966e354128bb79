#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: storage_check
short_description: Check that every storage mount is mounted, writable, fast and not full (INSP-16)
version_added: 0.1.0
description:
  - Part of the full check on the last day of a statutory holiday (requirement C(INSP-16)). Returns
    three records per mount, in the record format every gxtax.ops check yields
    (C(schemas/inspection-record.schema.json)).
  - C(存储 <path> 挂载状态) - the mount is in the kernel's mount table with the expected filesystem
    type, read-write unless configured read-only. Not mounted, or mounted read-only where writes are
    expected (a NAS export turned read-only, a filesystem the kernel remounted read-only after an
    error), is C(critical); a different filesystem type is C(warning).
  - C(存储 <path> 读写检查) - a small file of O(probe_size) random bytes is written into a dedicated
    directory (O(probe_dir_name) at the mount's root, made and removed by the check; or
    O(mounts[].probe_dir)), synced to the storage with fsync, its cached pages dropped, read back,
    compared and removed. The time of the write and the read together is graded against
    O(thresholds). A write the storage refuses (read-only, I/O error, full, stale NFS handle) is
    C(critical); one this user may not make (permission, NFS root_squash) is C(error), because the
    check could not run.
  - C(存储 <path> 空间使用率) - used space as C(df) computes it, graded against O(thresholds).
  - Every mount is probed in its own thread; a mount that does not answer within O(timeout) (a hung
    NFS server) is C(critical) and does not hold up the others.
  - The mounts are those of O(mounts) and, with O(fstab), every storage entry of C(/etc/fstab)
    (not swap, pseudo filesystems or C(noauto) entries), minus O(exclude).
  - Days until full are not computed here; M(gxtax.ops.storage_trend) does that for the media
    storage, from the figures of earlier inspection reports.
  - In check mode nothing is written; the write check is C(skipped).
options:
  host:
    description: Inventory host name the records are about.
    type: str
    required: true
  mounts:
    description:
      - Mount points to check besides C(/etc/fstab), e.g. the avrecord media storage. Each is a path,
        or a dict with C(path) and optionally C(fstype) (expected type; C(nfs) also matches
        C(nfs4)), C(write) (V(false) for storage mounted read-only on purpose) and C(probe_dir)
        (an existing directory on the mount the inspection user may write to, for NFS exports with
        root_squash).
    type: list
    elements: raw
    default: []
  fstab:
    description: Also check every storage entry of C(/etc/fstab).
    type: bool
    default: true
  exclude:
    description: Mount points not to check.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each mount may take for its capacity figures and the write probe together.
    type: float
    default: 10
  probe_size:
    description: Bytes written and read back; small, so the check costs the storage nothing.
    type: int
    default: 4096
  probe_dir_name:
    description: Name of the directory made (and removed) at the mount's root for the probe file.
    type: str
    default: .gxtax-ops-probe
  thresholds:
    description:
      - C(latency_warning_ms) (default V(200)) and C(latency_critical_ms) (default V(1000)) for the
        write and read time together; C(usage_warning_pct) (V(80)) and C(usage_critical_pct) (V(90))
        for the space used.
    type: dict
    default: {}
notes:
  - Run with privileges that may write to the mounts' roots (C(become)), or give C(probe_dir).
  - Only the probe file and its directory are ever created, and both are removed again.
attributes:
  check_mode:
    description: In check mode the write probe is skipped; mount state and capacity are still checked.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
seealso:
  - module: gxtax.ops.storage_trend
  - module: gxtax.ops.host_metrics
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: INSP-16 | Check every mount of fstab and the avrecord media NAS
  gxtax.ops.storage_check:
    host: "{{ inventory_hostname }}"
    mounts:
      - path: /data/avrecord/media
        fstype: nfs
      - path: /backup
        write: false
  become: true

- name: INSP-16 | NAS exported with root_squash - probe in the application's own directory
  gxtax.ops.storage_check:
    host: "{{ inventory_hostname }}"
    fstab: false
    mounts:
      - path: /nas/media
        probe_dir: /nas/media/upload/tmp
  become: true
  become_user: weblogic
"""

RETURN = r"""
records:
  description: Three records per mount (requirement C(INSP-16)), in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-16
      item: 存储 /data/media 挂载状态
      host: av-app01
      status: critical
      value: 只读
      unit: null
      threshold: 按配置挂载（读写）
      detail: /data/media 已挂载（网络存储，nfs4，10.0.0.5:/media，只读）但为只读，应用无法写入。
      direction: 执行 mount | grep /data/media 确认挂载选项……
      consequence: 应用无法写入文件，执法音像上传、附件保存失败，业务中断
mounts:
  description:
    - Figures per mount - C(path), C(source), C(mounted), C(fstype), C(device), C(readonly), C(problem)
      and, when measured, C(write_ms), C(read_ms), C(timeout), C(size_kb), C(used_kb), C(avail_kb),
      C(used_pct).
  returned: always
  type: list
  elements: dict
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

import os
import threading
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst
from ansible_collections.gxtax.ops.plugins.module_utils.storage_check import (
    config_error_record, evaluate, expected_mounts, merge_thresholds, mount_state, parse_fstab,
    probe_directory, probe_write, usage_from_statvfs, visible_mounts,
)

STATVFS_FIELDS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read(), None
    except (IOError, OSError) as exc:
        return "", "%s: %s" % (path, exc.strerror or exc)


def measure(want, state, params, check_mode, slot):
    """statvfs, then the write probe, into slot as each finishes (a hung mount leaves gaps)."""
    try:
        st = os.statvfs(want["path"])
        slot["usage"] = dict((k, getattr(st, k)) for k in STATVFS_FIELDS)
    except OSError as exc:
        slot["usage"] = {"error": "statvfs: %s" % (exc.strerror or exc)}
    if check_mode or not want["write"] or state.get("readonly"):
        slot["probe"] = None
        return
    slot["probe"] = probe_write(probe_directory(want, params["probe_dir_name"]), params["probe_size"],
                                tag="gxtax-probe")


def measure_all(wanted, visible, params, check_mode):
    """({path: probe result}, {path: statvfs dict / timeout / error}), mounts probed in parallel."""
    pending = []
    for want in wanted:
        state = mount_state(want, visible)
        if not state["mounted"]:
            continue
        slot = {}
        thread = threading.Thread(target=measure, args=(want, state, params, check_mode, slot))
        thread.daemon = True  # a thread stuck on a dead NFS server must not keep the module alive
        thread.start()
        pending.append((want, state, thread, slot))
    deadline = time.monotonic() + params["timeout"]
    probes, usages = {}, {}
    for want, state, thread, slot in pending:
        thread.join(max(0.0, deadline - time.monotonic()))
        usage = slot.get("usage", {"timeout": params["timeout"]})
        usages[want["path"]] = usage_from_statvfs(want, state, usage)
        if "probe" in slot:
            probes[want["path"]] = slot["probe"]
        else:
            probes[want["path"]] = {"timeout": params["timeout"], "size": params["probe_size"]}
    return probes, usages


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            # elements raw: a path or a dict; a bad entry becomes an error record
            mounts=dict(type="list", elements="raw", default=[]),
            fstab=dict(type="bool", default=True),
            exclude=dict(type="list", elements="str", default=[]),
            timeout=dict(type="float", default=10.0),
            probe_size=dict(type="int", default=4096),
            probe_dir_name=dict(type="str", default=".gxtax-ops-probe"),
            thresholds=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    host = params["host"]
    if params["timeout"] <= 0 or not 0 < params["probe_size"] <= 1 << 20 \
            or "/" in params["probe_dir_name"] or params["probe_dir_name"] in ("", ".", ".."):
        module.fail_json(msg="timeout 须大于 0，probe_size 须在 1 字节至 1 MiB 之间，"
                             "probe_dir_name 须是单个目录名 / timeout must be > 0, probe_size in "
                             "1..1048576, probe_dir_name a plain name")
    try:
        thresholds, problems = merge_thresholds(params["thresholds"])
    except (TypeError, ValueError) as exc:
        thresholds, problems = merge_thresholds({})
        problems = ["thresholds 必须是数字 / thresholds must be numbers: %s" % exc]
    fstab_entries = []
    if params["fstab"]:
        text, error = read_text("/etc/fstab")
        if error:
            problems.append("无法读取 /etc/fstab：%s" % error)
        fstab_entries = parse_fstab(text)
    wanted, config_problems = expected_mounts(fstab_entries, params["mounts"], params["exclude"])
    problems.extend(config_problems)
    mounts_text, error = read_text("/proc/self/mounts")
    records = [config_error_record(host, problems)] if problems else []
    if error:
        records.append(config_error_record(host, ["无法读取挂载表 %s" % error]))
        module.exit_json(changed=False, records=records, mounts=[], status=worst(records))
    visible = visible_mounts(mounts_text)
    probes, usages = measure_all(wanted, visible, params, module.check_mode)
    checked, figures = evaluate(host, wanted, visible, probes, usages, thresholds, params["probe_dir_name"])
    records.extend(checked)
    module.exit_json(changed=False, records=records, mounts=figures, status=worst(records))


if __name__ == "__main__":
    main()
