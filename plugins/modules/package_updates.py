#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: package_updates
short_description: List a host's updates, which are security fixes, and whether it needs a reboot (SEC-01)
version_added: 0.1.0
description:
  - Runs on the managed host and changes nothing. Debian family (apt) - C(apt-get -s dist-upgrade), an update
    being a security one when it comes from a C(*-security) suite; then C(apt-get -s install) of exactly
    the chosen versions with every excluded upgradable package pinned at its installed version, so an
    update that would drag an excluded package along is held back (RV(plan.held)) instead of moving it.
  - RedHat family (dnf, yum; also Kylin V10 and openEuler) - C(check-update) classified by
    C(updateinfo list --security).
  - With O(before) (the RV(installed) map of an earlier call), also returns the packages whose version
    changed since then (RV(changes)) and the table of them for the report (RV(report_sections)).
  - Reboot - C(/var/run/reboot-required) on Debian, C(needs-restarting -r) on RedHat, and on both a kernel
    package that changed since O(before).
  - Records (requirement C(SEC-01)) in the shared record format (C(schemas/inspection-record.schema.json)).
  - Reads the package managers' output under C(LC_ALL=C); the host's own locale (zh_CN on Kylin) does
    not matter.
options:
  mode:
    description:
      - What the run will do with the updates; decides which are RV(plan.selected).
      - C(list) selects as C(all) does but the records say nothing is installed.
    type: str
    choices: [list, security, all]
    default: list
  exclude:
    description: Shell patterns of package names never selected (e.g. V(oracle*), V(libaio*)).
    type: list
    elements: str
    default: []
  manager:
    description: Package manager; C(auto) takes C(apt) when C(apt-get) exists, else C(dnf), else C(yum).
    type: str
    choices: [auto, apt, dnf, yum]
    default: auto
  before:
    description: The RV(installed) map of an earlier call (before the upgrade); enables RV(changes).
    type: dict
  expected:
    description:
      - Names of the packages the upgrade was meant to change (RV(plan.selected) of the earlier call);
        with O(before), one that did not change gives a C(warning) record.
    type: list
    elements: str
    default: []
  plan:
    description:
      - Skip listing updates (no C(check-update), no simulation); only versions, changes and reboot.
      - Set it to false after the upgrade, when only the comparison with O(before) is wanted.
    type: bool
    default: true
  report_available:
    description: Return the table of available updates in RV(report_sections) (for the C(list) mode).
    type: bool
    default: false
  host:
    description: Inventory host name put into the records.
    type: str
    default: localhost
notes:
  - Uses only the Python standard library and the package managers' commands; runs on Python 3.7 and later.
  - Does not refresh the package lists; gxtax.ops.patch_precheck does that first.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.patch_precheck
  - module: gxtax.ops.system_snapshot
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: SEC-01 | What would a security run install?
  gxtax.ops.package_updates:
    mode: security
    exclude: [oracle*, libaio*, compat-libstdc++*]
    host: "{{ inventory_hostname }}"
  register: plan

- name: SEC-01 | After the upgrade, what changed and is a reboot needed?
  gxtax.ops.package_updates:
    mode: security
    plan: false
    before: "{{ plan.installed }}"
    host: "{{ inventory_hostname }}"
"""

RETURN = r"""
manager:
  description: The package manager used.
  returned: always
  type: str
  sample: apt
plan:
  description: The updates and what the mode selects; empty lists when O(plan=false).
  returned: always
  type: dict
  contains:
    updates:
      description: >-
        Each available update - C(name), C(arch), C(current), C(available), C(security), C(origin),
        C(excluded_by).
      type: list
      elements: dict
    selected:
      description: Names of the packages the mode upgrades.
      type: list
      elements: str
    apt_install:
      description: C(name=version) of each selected package, ready for ansible.builtin.apt (Debian only).
      type: list
      elements: str
    held:
      description: Updates held back because they need an excluded package upgraded (C(name), C(reason)).
      type: list
      elements: dict
    removals:
      description: Packages a full dist-upgrade would remove (never removed by the role).
      type: list
      elements: str
    pulled:
      description: >-
        Packages apt installs or upgrades on its own for the chosen ones - new dependencies, and in
        security mode the upgrades a fix depends on (C(name), C(current), C(available)).
      type: list
      elements: dict
    error:
      description: Why the list is incomplete, or null.
      type: str
installed:
  description: Package name -> installed version (several versions, e.g. kernels, joined by C(, )).
  returned: always
  type: dict
  sample: {sensible-utils: 0.0.17+nmu1, kernel-core: "5.14.0-362.8.1.el9_3, 5.14.0-427.13.1.el9_4"}
changes:
  description: >-
    Packages whose version changed since O(before) - C(name), C(before), C(after) (null when new
    or gone).
  returned: when O(before) is given
  type: list
  elements: dict
reboot_required:
  description: Whether the host needs a reboot for its updates to take effect.
  returned: always
  type: bool
reboot_reasons:
  description: Why, in Chinese.
  returned: always
  type: list
  elements: str
records:
  description: SEC-01 records (available updates, exclusions, held updates; installed updates with O(before)).
  returned: always
  type: list
  elements: dict
report_sections:
  description: >-
    Report tables - the available updates (O(report_available)) or the packages before and after
    (O(before)) - each C(id), C(title), C(columns), C(rows).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils import package_updates as pu
from ansible_collections.gxtax.ops.plugins.module_utils import patch_records as pr

REBOOT_FLAG = "/var/run/reboot-required"


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="list", choices=["list", "security", "all"]),
            exclude=dict(type="list", elements="str", default=[]),
            manager=dict(type="str", default="auto", choices=["auto", "apt", "dnf", "yum"]),
            before=dict(type="dict"),
            expected=dict(type="list", elements="str", default=[]),
            plan=dict(type="bool", default=True),
            report_available=dict(type="bool", default=False),
            host=dict(type="str", default="localhost"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    manager = p["manager"]
    if manager == "auto":
        manager = next((m for m, tool in (("apt", "apt-get"), ("dnf", "dnf"), ("yum", "yum"))
                        if module.get_bin_path(tool)), None)
        if manager is None:
            module.fail_json(msg="找不到 apt-get、dnf 或 yum / no supported package manager found")
    family = "Debian" if manager == "apt" else "RedHat"

    def run(argv):
        return module.run_command(argv, environ_update=pu.C_LOCALE)

    try:
        installed = pu.installed_versions(run, family)
    except RuntimeError as exc:
        module.fail_json(msg=str(exc))
    result = {"changed": False, "manager": manager, "installed": installed, "records": [],
              "report_sections": []}
    plan = {"updates": [], "selected": [], "apt_install": [], "held": [], "removals": [], "pulled": [],
            "error": None}
    if p["plan"]:
        if manager == "apt":
            plan = pu.apt_plan(run, p["exclude"], p["mode"] == "security")
        else:
            plan = pu.rpm_plan(run, manager, p["exclude"], p["mode"] == "security", installed)
        result["records"] += pr.plan_records(p["host"], plan, p["mode"])
        if p["report_available"]:
            result["report_sections"].append(pr.available_section(p["host"], plan))
    result["plan"] = plan
    changed_names = []
    if p["before"] is not None:
        changes = pu.diff_installed(p["before"], installed)
        changed_names = [c["name"] for c in changes]
        result["changes"] = changes
        result["records"].append(pr.changes_record(p["host"], changes, p["expected"]))
        result["report_sections"].append(pr.changes_section(p["host"], changes))
    if family == "Debian":
        flag = _read(REBOOT_FLAG)
        required, reasons = pu.reboot_status(family, changed_names, flag_text=flag,
                                             flag_pkgs_text=_read(REBOOT_FLAG + ".pkgs") or "")
    else:
        needs = None
        tool = module.get_bin_path("needs-restarting")
        if tool:
            rc, out, _err = run([tool, "-r"])
            needs = (rc, out)
        elif manager == "dnf":
            rc, out, _err = run(["dnf", "-q", "needs-restarting", "-r"])
            needs = (rc, out)
        required, reasons = pu.reboot_status(family, changed_names, needs_restarting=needs)
    result.update(reboot_required=required, reboot_reasons=reasons)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
