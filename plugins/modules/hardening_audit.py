#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hardening_audit
short_description: Audit a Linux host against the 等保2.0 level 3 baseline (GB/T 22239-2019 §8.1.4)
version_added: 0.1.0
description:
  - Runs on the managed host and checks each control of the gxtax-ops 等保2.0 (GB/T 22239-2019) level 3
    baseline of §8.1.4 安全计算环境 (SEC-01, SEC-03). Changes nothing.
  - Returns one record per control in the shared record format (C(schemas/inspection-record.schema.json));
    C(requirement_id) is the control ID C(DJBH-<clause>-<item>) (e.g. C(DJBH-8.1.4.1-b) for 身份鉴别 b),
    C(item) the Chinese control name, C(status) C(ok) when it passes, C(critical) (or C(warning)) when it
    does not, C(error) when it could not be checked; C(value) is the evidence, C(threshold) what is required.
  - "Reads: C(sshd -T), C(ssh -V), C(/etc/login.defs), C(/etc/security/pwquality.conf) and C(faillock.conf),
    the PAM stacks of C(/etc/pam.d) (includes resolved), C(/etc/passwd), C(/etc/group), C(/etc/shadow)
    (only whether a password is empty, locked or usable, and its ageing fields: never a hash),
    C(auditctl -l), C(auditctl -s), C(/etc/audit), C(systemctl show), C(/proc/sys), C(/proc/net/tcp*) and
    C(udp*), logrotate and journald configuration, and the mode and owner of important files."
  - A control whose package is missing (auditd, pwquality) is reported as failing (not compliant), with
    the reason C(未安装) in its evidence.
  - Also returns C(findings), the data the role's enforce mode acts on (accounts to lock, files whose
    mode is too open, logrotate files with their corrected text, ...).
  - The control catalogue, with the 等保 clause of each control, is in C(docs/hardening.md).
options:
  host:
    description: Inventory host name put into the records.
    type: str
    default: localhost
  controls:
    description:
      - Names of the controls to check (the catalogue in C(docs/hardening.md), e.g. C(password_complexity),
        C(login_lockout), C(audit_rules)). Default is every control.
    type: list
    elements: str
  connection_user:
    description:
      - The user Ansible logs in as. When given, C(lockout) says whether the SSH settings would lock this
        user out (C(PermitRootLogin no) for root, C(AllowUsers)/C(AllowGroups) without the user).
    type: str
  return_records:
    description:
      - Return the records as C(records), where the C(gxtax.ops.inspection_report) callback collects them.
        The role's enforce mode sets this to false for the look it takes before changing anything, so
        that only the final audit reaches the report.
    type: bool
    default: true
  settings:
    description: What the controls require; anything not given takes the default shown.
    type: dict
    default: {}
    suboptions:
      pass_max_days:
        description: Longest password lifetime in days (login.defs and users with a password). Default 90.
        type: int
      pass_min_days:
        description: Shortest time between password changes in days. Default 1.
        type: int
      pass_warn_age:
        description: Days of warning before a password expires. Default 7.
        type: int
      expiry_exempt:
        description:
          - Users whose own password ageing is not checked. Default C(root), C(oracle), C(grid), C(weblogic)
            (cron jobs of a user whose password has expired stop running).
        type: list
        elements: str
      pw_minlen:
        description: Smallest password length (pwquality C(minlen)). Default 8.
        type: int
      pw_minclass:
        description: Smallest number of character classes in a password. Default 3.
        type: int
      pw_remember:
        description: Number of old passwords that may not be reused (pam_pwhistory C(remember)). Default 5.
        type: int
      faillock_deny:
        description: Failed logins before an account locks, at most. Default 5.
        type: int
      faillock_unlock_time:
        description: Seconds an account stays locked, at least (0 = until an administrator unlocks it).
          Default 600.
        type: int
      tmout:
        description: Idle shell timeout (C(TMOUT)) in seconds, at most. Default 600.
        type: int
      ssh_client_alive_interval:
        description: Largest sshd C(ClientAliveInterval) in seconds (0 is not allowed). Default 300.
        type: int
      ssh_client_alive_count_max:
        description: Largest sshd C(ClientAliveCountMax) (0 is not allowed). Default 3.
        type: int
      ssh_max_auth_tries:
        description: Largest sshd C(MaxAuthTries). Default 5.
        type: int
      ssh_login_grace_time:
        description: Largest sshd C(LoginGraceTime) in seconds. Default 60.
        type: int
      ssh_permit_root_login:
        description: The root login policy required. Default C(prohibit-password).
        type: str
        choices: ["no", prohibit-password, forced-commands-only]
      ssh_allow_users:
        description: sshd C(AllowUsers) entries required (control C(ssh_access)). Default none.
        type: list
        elements: str
      ssh_allow_groups:
        description: sshd C(AllowGroups) entries required (control C(ssh_access)). Default none.
        type: list
        elements: str
      umask:
        description: Default umask required, octal text. Default C(027).
        type: str
      software_owners:
        description:
          - Oracle and WebLogic software owners, left out of the account controls (their shells are kept) and
            given umask 022 by the role. Default C(oracle), C(grid), C(weblogic).
        type: list
        elements: str
      system_account_exempt:
        description: System accounts (UID below UID_MIN) that may log in. Default none (root always may).
        type: list
        elements: str
      unneeded_accounts:
        description:
          - Accounts that must be locked with a nologin shell.
          - Default C(games), C(gopher), C(ftp), C(news), C(uucp), C(irc), C(gnats).
        type: list
        elements: str
      admin_accounts:
        description: "三员分立 accounts, C({system: [...], audit: [...], security: [...]}). Default none."
        type: dict
      admin_groups:
        description: Groups of the three roles. Default C(gxtax_sysadm), C(gxtax_audadm), C(gxtax_secadm).
        type: dict
      admin_sudoers_file:
        description: The sudoers drop-in of the three roles. Default C(/etc/sudoers.d/gxtax-admin-separation).
        type: str
      file_modes:
        description:
          - Files whose mode may be at most C(mode), owned by C(owner) and one of C(groups). Default the
            identity files, C(/etc/sudoers), C(/etc/ssh/sshd_config) and C(/etc/security/opasswd).
        type: list
        elements: dict
      audit_privileged_commands:
        description:
          - Privileged commands whose execution must be audited (those that exist).
          - Default sudo, su, passwd, chage, gpasswd, newgrp, chsh, chfn, useradd, usermod, userdel, visudo,
            crontab, pkexec.
        type: list
        elements: str
      audit_immutable:
        description: Require the audit rules to be locked until reboot (C(-e 2)). Default false.
        type: bool
      log_retention_days:
        description: Days logs must be kept, at least. Default 183 (six months, 网络安全法 第二十一条).
        type: int
      logrotate_files:
        description:
          - logrotate files whose stanzas must keep logs that long (those that exist).
          - Default C(/etc/logrotate.conf) and C(rsyslog), C(syslog), C(wtmp), C(btmp) in C(/etc/logrotate.d).
        type: list
        elements: str
      unneeded_packages:
        description: Packages that must not be installed. Default none.
        type: list
        elements: str
      unneeded_services:
        description:
          - systemd units that must be neither running nor enabled.
          - Default telnet, rsh, rlogin, rexec and tftp sockets, xinetd, vsftpd, avahi-daemon, cups,
            nfs-server,
            Samba (smb, nmb, smbd, nmbd), ypserv, snmpd.
        type: list
        elements: str
      high_risk_tcp_ports:
        description: TCP ports nothing may listen on. Default 21, 23, 135, 139, 445, 512, 513, 514, 6000.
        type: list
        elements: int
      high_risk_udp_ports:
        description: UDP ports nothing may be bound to. Default 69, 137, 138.
        type: list
        elements: int
      sysctl:
        description:
          - Kernel parameters and their required values (keys missing from the kernel are skipped).
          - Default the IPv4/IPv6 network hardening set (forwarding, redirects, source routing, rp_filter=2,
            martians, broadcasts, SYN cookies).
        type: dict
notes:
  - Needs root (C(become)) to read C(/etc/shadow) and run C(auditctl); without it those controls are C(error).
  - Uses only the Python standard library; runs on Python 3.7 and later.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.host_metrics
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: DJBH-8.1.4 | Audit the 等保 baseline of this host
  gxtax.ops.hardening_audit:
    host: "{{ inventory_hostname }}"
  become: true

- name: DJBH-8.1.4.1-a | Only the password controls, with a 60-day lifetime
  gxtax.ops.hardening_audit:
    host: "{{ inventory_hostname }}"
    controls: [password_complexity, password_expiry, password_history]
    settings:
      pass_max_days: 60
  become: true
"""

RETURN = r"""
records:
  description: One record per control checked, in the shared record format; none with O(return_records=false).
  returned: when O(return_records) is true
  type: list
  elements: dict
  sample:
    - requirement_id: DJBH-8.1.4.1-b
      item: 身份鉴别·登录失败锁定
      host: pub-db01
      status: critical
      value: sshd 的认证栈没有完整启用 pam_faillock（preauth、authfail 和 account）
      unit: null
      threshold: 连续失败≤5 次锁定，锁定≥600 秒（0 为须管理员解锁）
      detail: 登录失败处理不符合：sshd 的认证栈没有完整启用 pam_faillock（preauth、authfail 和 account）。
      direction: 检查 sshd/login 的 PAM 认证栈中 pam_faillock 及 /etc/security/faillock.conf
      consequence: 口令可被无限次尝试，易被暴力破解
controls:
  description: Per control checked, its ID and status.
  returned: always
  type: dict
  sample: {"login_lockout": {"id": "DJBH-8.1.4.1-b", "status": "critical"}}
findings:
  description: >-
    Per control, what the role's enforce mode acts on, e.g. C(password_expiry.users),
    C(default_accounts_locked.accounts), C(file_permissions.files), C(unneeded_services.units),
    C(audit_log_retention.logrotate_fixes) (path -> corrected text), C(sysctl_network.present).
  returned: always
  type: dict
lockout:
  description: Why the configured SSH settings would lock O(connection_user) out (empty when they would not).
  returned: always
  type: list
  elements: str
facts:
  description: >-
    C(os_family); C(sshd_config_valid) and C(sshd_config_message) (C(sshd -t) of the current configuration);
    C(sshd_includes_dropins) (the main sshd_config includes C(/etc/ssh/sshd_config.d/*.conf));
    C(auditd_active) (the kernel audit answers, so rules and configuration can be reloaded);
    C(files) (path -> whether it exists, for the files packages bring);
    C(pam_tool) (C(pam-auth-update), C(authselect), C(authconfig) or null) and C(authselect) (the
    profile in use and its features, from C(authselect current --raw)).
  returned: always
  type: dict
status:
  description: The worst status among the records.
  returned: always
  type: str
  sample: critical
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_audit import (
    BY_NAME,
    CONTROLS,
    audit,
    host_facts,
    settings_with_defaults,
    unknown_controls,
)
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_checks_identity import lockout_problems
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_facts import Facts, HostReader
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst

_STR_LIST = dict(type="list", elements="str")
_INT = dict(type="int")
SETTINGS_SPEC = dict(
    pass_max_days=_INT, pass_min_days=_INT, pass_warn_age=_INT, expiry_exempt=_STR_LIST,
    pw_minlen=_INT, pw_minclass=_INT, pw_remember=_INT, faillock_deny=_INT, faillock_unlock_time=_INT,
    tmout=_INT, ssh_client_alive_interval=_INT, ssh_client_alive_count_max=_INT, ssh_max_auth_tries=_INT,
    ssh_login_grace_time=_INT,
    ssh_permit_root_login=dict(type="str", choices=["no", "prohibit-password", "forced-commands-only"]),
    ssh_allow_users=_STR_LIST, ssh_allow_groups=_STR_LIST, umask=dict(type="str"),
    software_owners=_STR_LIST, system_account_exempt=_STR_LIST, unneeded_accounts=_STR_LIST,
    admin_accounts=dict(type="dict"), admin_groups=dict(type="dict"), admin_sudoers_file=dict(type="str"),
    file_modes=dict(type="list", elements="dict"), audit_privileged_commands=_STR_LIST,
    audit_immutable=dict(type="bool"), log_retention_days=_INT, logrotate_files=_STR_LIST,
    unneeded_packages=_STR_LIST, unneeded_services=_STR_LIST,
    high_risk_tcp_ports=dict(type="list", elements="int"),
    high_risk_udp_ports=dict(type="list", elements="int"),
    sysctl=dict(type="dict"),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", default="localhost"),
            controls=dict(type="list", elements="str"),
            connection_user=dict(type="str"),
            return_records=dict(type="bool", default=True),
            settings=dict(type="dict", default={}, options=SETTINGS_SPEC),
        ),
        supports_check_mode=True,
    )
    p = module.params
    controls = p["controls"] if p["controls"] is not None else [c["name"] for c in CONTROLS]
    unknown = unknown_controls(controls)
    if unknown:
        module.fail_json(msg="unknown controls: %s (known: %s)"
                         % (", ".join(unknown), ", ".join(sorted(BY_NAME))))
    settings = settings_with_defaults(p["settings"])
    facts = Facts(HostReader(module.run_command), today=int(time.time() // 86400))
    records, summary, findings = audit(facts, settings, controls, p["host"])
    result = dict(changed=False, controls=summary, findings=findings, status=worst(records),
                  lockout=lockout_problems(facts, settings, controls, p["connection_user"]),
                  facts=host_facts(facts))
    if p["return_records"]:
        result["records"] = records
    module.exit_json(**result)


if __name__ == "__main__":
    main()
