#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: system_snapshot
short_description: Snapshot of services, listening ports, mounts and kernel; compare after patching (SEC-01)
version_added: 0.1.0
description:
  - Runs on the managed host and changes nothing. Returns RV(snapshot) - the running kernel (C(uname -r)),
    the running systemd services (C(systemctl list-units --type=service --state=running); null on a host
    without systemd), the listening TCP ports from C(/proc/net/tcp) and C(tcp6) (ports of the ephemeral
    range C(net.ipv4.ip_local_port_range) left out, since JMX/RMI listeners pick a new one at each start),
    and the mount points of real filesystems (C(/dev/shm) included, per-boot ones under C(/run) not).
  - With O(compare_with) (a snapshot taken before patching), returns C(SEC-01) records in the shared record
    format - a service that ran before and does not now, a port no longer listening, a mount point gone
    (each C(critical)), and the kernel before and after (C(ok)).
options:
  compare_with:
    description: A RV(snapshot) taken earlier (before patching).
    type: dict
  ignore_services:
    description: Shell patterns of services whose absence afterwards is expected (e.g. one-shot helpers).
    type: list
    elements: str
    default: []
  ignore_ports:
    description: Ports whose absence afterwards is expected.
    type: list
    elements: int
    default: []
  host:
    description: Inventory host name put into the records.
    type: str
    default: localhost
notes:
  - Uses only the Python standard library; runs on Python 3.7 and later.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.package_updates
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: SEC-01 | Snapshot before patching
  gxtax.ops.system_snapshot:
    host: "{{ inventory_hostname }}"
  register: before

- name: SEC-01 | Compare after patching
  gxtax.ops.system_snapshot:
    compare_with: "{{ before.snapshot }}"
    host: "{{ inventory_hostname }}"
"""

RETURN = r"""
snapshot:
  description: What runs now.
  returned: always
  type: dict
  contains:
    kernel:
      description: The running kernel release.
      type: str
      sample: 5.14.0-427.13.1.el9_4.x86_64
    services:
      description: Running systemd services, or null without systemd.
      type: list
      elements: str
    ports:
      description: Listening TCP ports below the ephemeral range.
      type: list
      elements: int
    mounts:
      description: Mount points of real filesystems.
      type: list
      elements: str
records:
  description: SEC-01 post-check records; empty without O(compare_with).
  returned: always
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils import system_snapshot as ss
from ansible_collections.gxtax.ops.plugins.module_utils.package_updates import C_LOCALE


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            compare_with=dict(type="dict"),
            ignore_services=dict(type="list", elements="str", default=[]),
            ignore_ports=dict(type="list", elements="int", default=[]),
            host=dict(type="str", default="localhost"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    services = None
    systemctl = module.get_bin_path("systemctl")
    # systemctl exists on hosts where systemd is not PID 1 (containers): it fails there, so ask it.
    if systemctl and os.path.isdir("/run/systemd/system"):
        rc, out, _err = module.run_command([systemctl] + ss.SYSTEMCTL_RUNNING[1:], environ_update=C_LOCALE)
        if rc == 0:
            services = ss.parse_running_services(out)
    snap = ss.snapshot(os.uname()[2], services, _read("/proc/net/tcp"), _read("/proc/net/tcp6"),
                       _read("/proc/self/mounts"), _read("/proc/sys/net/ipv4/ip_local_port_range"))
    records = []
    if p["compare_with"] is not None:
        records = ss.compare(p["compare_with"], snap, p["host"], p["ignore_services"], p["ignore_ports"])
    module.exit_json(changed=False, snapshot=snap, records=records)


if __name__ == "__main__":
    main()
