#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: patch_precheck
short_description: Pre-checks before patching - free space, package-manager lock, repositories (SEC-01)
version_added: 0.1.0
description:
  - Runs on the managed host before any package changes and returns C(SEC-01) records in the shared record
    format (C(schemas/inspection-record.schema.json)); RV(passed) is false when any of them is C(critical)
    or C(error), and the role then leaves the host untouched.
  - C(剩余空间 <path>) - free MB (for non-root users, as C(df) shows) of each path in O(min_free_mb)
    against its minimum; a path that does not exist is C(skipped) (a host without C(/boot) is fine).
  - C(软件包管理器锁) - whether another process holds the lock of the package manager right now, asked with
    C(F_GETLK) on the fcntl locks of dpkg/apt/rpm (which names the holder without taking the lock or
    waiting) and by the PID files of yum and dnf.
  - C(软件源可达) - C(apt-get update --error-on=any), C(dnf makecache) or C(yum makecache fast) must succeed
    within O(refresh_timeout) seconds. Not run when space is short or the lock is held (nothing is written
    to a full disk), nor in check mode; the record is C(skipped) then.
  - Refreshing the package lists changes no installed software, so the module reports C(changed=false).
options:
  min_free_mb:
    description: Path -> minimum free space in MB.
    type: dict
    default: {"/": 1024, "/var": 1024, "/boot": 100}
  manager:
    description: Package manager; C(auto) takes C(apt) when C(apt-get) exists, else C(dnf), else C(yum).
    type: str
    choices: [auto, apt, dnf, yum]
    default: auto
  refresh:
    description: Refresh the package lists to prove the repositories are reachable.
    type: bool
    default: true
  refresh_timeout:
    description: Seconds the refresh may take before it counts as unreachable.
    type: int
    default: 300
  host:
    description: Inventory host name put into the records.
    type: str
    default: localhost
notes:
  - Uses only the Python standard library; runs on Python 3.7 and later.
  - Needs root (become) to read the locks.
  - Check mode runs every check except the refresh.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.package_updates
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: SEC-01 | Pre-checks before patching
  gxtax.ops.patch_precheck:
    min_free_mb: {"/": 1024, "/var": 2048, "/boot": 150}
    host: "{{ inventory_hostname }}"
  become: true
  register: precheck

- name: SEC-01 | Stop this host when a pre-check failed
  ansible.builtin.fail:
    msg: 补丁前置检查未通过
  when: not precheck.passed
"""

RETURN = r"""
passed:
  description: True when no record is C(critical) or C(error).
  returned: always
  type: bool
manager:
  description: The package manager checked.
  returned: always
  type: str
  sample: apt
records:
  description: SEC-01 records - one per path of O(min_free_mb), the lock, the repositories.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: SEC-01
      item: 剩余空间 /var
      host: pub-wls01
      status: critical
      value: 0
      unit: MB
      threshold: 1024
      detail: /var 剩余 0 MB，低于补丁要求的 1024 MB。
      direction: 清理该文件系统……
      consequence: 补丁下载或安装中途因空间不足失败……
"""

import os
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils import patch_precheck as pc
from ansible_collections.gxtax.ops.plugins.module_utils.package_updates import C_LOCALE
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst


def _refresh(argv, timeout):
    """(rc, stdout, stderr); run_command has no timeout, and a dead mirror must not hang the rollout."""
    env = dict(os.environ, **C_LOCALE)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, universal_newlines=True)
    except OSError as exc:
        return 127, "", str(exc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return 124, out, "超过 %d 秒未完成 / timed out after %d s" % (timeout, timeout)
    return proc.returncode, out, err


def main():
    module = AnsibleModule(
        argument_spec=dict(
            min_free_mb=dict(type="dict", default={"/": 1024, "/var": 1024, "/boot": 100}),
            manager=dict(type="str", default="auto", choices=["auto", "apt", "dnf", "yum"]),
            refresh=dict(type="bool", default=True),
            refresh_timeout=dict(type="int", default=300),
            host=dict(type="str", default="localhost"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        minimums = dict((str(k), int(v)) for k, v in p["min_free_mb"].items())
    except (TypeError, ValueError):
        module.fail_json(msg="min_free_mb 的值必须是整数 MB / min_free_mb values must be whole MB")
    if any(v < 0 for v in minimums.values()) or p["refresh_timeout"] <= 0:
        module.fail_json(msg="min_free_mb must not be negative and refresh_timeout must be positive")
    manager = p["manager"]
    if manager == "auto":
        manager = next((m for m, tool in (("apt", "apt-get"), ("dnf", "dnf"), ("yum", "yum"))
                        if module.get_bin_path(tool)), None)
        if manager is None:
            module.fail_json(msg="找不到 apt-get、dnf 或 yum / no supported package manager found")
    records, space_failed = pc.free_space_records(p["host"], minimums)
    lock, locked = pc.lock_record(p["host"], manager)
    records.append(lock)
    skip = None
    if not p["refresh"]:
        skip = "按配置不刷新（gxtax_patching_refresh: false）"
    elif module.check_mode:
        skip = "检查模式下不刷新软件包列表"
    elif space_failed:
        skip = "剩余空间不足，不向磁盘写入软件包列表"
    elif locked:
        skip = "软件包管理器正被占用"
    result = None if skip else _refresh(pc.REFRESH[manager], p["refresh_timeout"])
    records.append(pc.refresh_record(p["host"], manager, result, skip))
    status = worst(records)
    module.exit_json(changed=False, passed=status not in ("critical", "error"), manager=manager,
                     records=records, status=status)


if __name__ == "__main__":
    main()
