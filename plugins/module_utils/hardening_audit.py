# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The 等保2.0 (GB/T 22239-2019) level 3 §8.1.4 baseline: its controls and the audit that grades
them into records (SEC-01, SEC-03).

Each control has a name (the role's toggle is gxtax_hardening_<name>_enabled), the ID of the
clause item it implements (DJBH-<clause>-<item>, the record's requirement_id), a Chinese item,
and a check in hardening_checks_identity / hardening_checks_system. One record per enabled
control: ok when it passes, critical (or warning) when not, error when it could not be checked.
Runs on managed hosts: valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gxtax.ops.plugins.module_utils import hardening_checks_identity as ident
from ansible_collections.gxtax.ops.plugins.module_utils import hardening_checks_system as system
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_facts import SourceError
from ansible_collections.gxtax.ops.plugins.module_utils import hardening_parse as hp
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

# GB/T 22239-2019 第三级 8.1.4 安全计算环境: the clause items the controls implement.
CLAUSES = {
    "DJBH-8.1.4.1-a": ("身份鉴别",
                       "应对登录的用户进行身份标识和鉴别，身份标识具有唯一性，身份鉴别信息具有复杂度要求并定期更换"),
    "DJBH-8.1.4.1-b": ("身份鉴别",
                       "应具有登录失败处理功能，应配置并启用结束会话、限制非法登录次数和当登录连接超时自动退出等相关措施"),
    "DJBH-8.1.4.1-c": ("身份鉴别",
                       "当进行远程管理时，应采取必要措施防止鉴别信息在网络传输过程中被窃听"),
    "DJBH-8.1.4.2-b": ("访问控制",
                       "应重命名或删除默认账户，修改默认账户的默认口令"),
    "DJBH-8.1.4.2-c": ("访问控制",
                       "应及时删除或停用多余的、过期的账户，避免共享账户的存在"),
    "DJBH-8.1.4.2-d": ("访问控制",
                       "应授予管理用户所需的最小权限，实现管理用户的权限分离"),
    "DJBH-8.1.4.2-e": ("访问控制",
                       "应由授权主体配置访问控制策略，访问控制策略规定主体对客体的访问规则"),
    "DJBH-8.1.4.3-a": ("安全审计",
                       "应启用安全审计功能，审计覆盖到每个用户，对重要的用户行为和重要安全事件进行审计"),
    "DJBH-8.1.4.3-b": ("安全审计",
                       "审计记录应包括事件的日期和时间、用户、事件类型、事件是否成功及其他与审计相关的信息"),
    "DJBH-8.1.4.3-c": ("安全审计",
                       "应对审计记录进行保护，定期备份，避免受到未预期的删除、修改或覆盖等"),
    "DJBH-8.1.4.3-d": ("安全审计",
                       "应对审计进程进行保护，防止未经授权的中断"),
    "DJBH-8.1.4.4-a": ("入侵防范",
                       "应遵循最小安装的原则，仅安装需要的组件和应用程序"),
    "DJBH-8.1.4.4-b": ("入侵防范",
                       "应关闭不需要的系统服务、默认共享和高危端口"),
    "DJBH-8.1.4.4-c": ("入侵防范",
                       "应通过设定终端接入方式或网络地址范围对通过网络进行管理的管理终端进行限制"),
}


def _control(name, control_id, item, check, direction, consequence):
    return {"name": name, "id": control_id, "item": "%s·%s" % (CLAUSES[control_id][0], item),
            "check": check, "direction": direction, "consequence": consequence}


# In report order: clause by clause.
CONTROLS = (
    _control("password_complexity", "DJBH-8.1.4.1-a", "口令复杂度", ident.password_complexity,
             "检查 /etc/security/pwquality.conf 与口令修改的 PAM 栈"
             "（common-password / system-auth）中 pam_pwquality 的参数",
             "可设置弱口令，账户易被猜测或暴力破解"),
    _control("password_expiry", "DJBH-8.1.4.1-a", "口令定期更换", ident.password_expiry,
             "检查 /etc/login.defs 的 PASS_MAX_DAYS/PASS_MIN_DAYS/PASS_WARN_AGE 与 chage -l <账户> 的有效期",
             "口令长期不更换，泄露后可被长期冒用"),
    _control("password_history", "DJBH-8.1.4.1-a", "口令历史", ident.password_history,
             "检查口令修改的 PAM 栈中 pam_pwhistory 的 remember 参数",
             "到期更换时可改回旧口令，定期更换形同虚设"),
    _control("account_unique", "DJBH-8.1.4.1-a", "用户身份标识唯一", ident.account_unique,
             "检查 /etc/passwd 中重名、UID 重复和 UID 为 0 的账户，核实其用途后删除或改 UID",
             "操作无法追溯到唯一的人，隐藏的 UID 0 账户拥有 root 权限"),
    _control("account_empty_passwords", "DJBH-8.1.4.1-a", "无空口令账户", ident.account_empty_passwords,
             "检查 /etc/shadow 中口令字段为空的账户，设置口令或用 passwd -l 锁定",
             "无需口令即可登录该账户"),
    _control("ssh_empty_passwords", "DJBH-8.1.4.1-a", "SSH 禁止空口令与主机信任登录",
             ident.ssh_empty_passwords,
             "检查 sshd -T 的 PermitEmptyPasswords、HostbasedAuthentication、IgnoreRhosts",
             "远程登录可绕过身份鉴别"),
    _control("login_lockout", "DJBH-8.1.4.1-b", "登录失败锁定", ident.login_lockout,
             "检查 sshd/login 的 PAM 认证栈中 pam_faillock（preauth/authfail/account）"
             "及 /etc/security/faillock.conf",
             "口令可被无限次尝试，易被暴力破解"),
    _control("session_timeout", "DJBH-8.1.4.1-b", "登录连接超时自动退出", ident.session_timeout,
             "检查 /etc/profile.d 中的 TMOUT 与 sshd -T 的 ClientAliveInterval/ClientAliveCountMax",
             "无人值守的会话长期保持登录状态，可被他人利用"),
    _control("ssh_max_auth_tries", "DJBH-8.1.4.1-b", "SSH 限制认证尝试次数", ident.ssh_max_auth_tries,
             "检查 sshd -T 的 MaxAuthTries 与 LoginGraceTime",
             "单个连接可反复尝试口令，加快暴力破解"),
    _control("ssh_protocol", "DJBH-8.1.4.1-c", "远程管理加密传输", ident.ssh_protocol,
             "检查 sshd -T 的 Ciphers/MACs/KexAlgorithms 与 OpenSSH 版本，去除弱算法",
             "鉴别信息在网络传输中可被窃听或破解"),
    _control("ssh_root_login", "DJBH-8.1.4.2-b", "限制 root 远程登录", ident.ssh_root_login,
             "检查 sshd -T 的 PermitRootLogin，运维人员改用具名账户登录后 sudo",
             "默认超级账户 root 可被远程口令猜测，操作无法追溯到人"),
    _control("default_accounts_locked", "DJBH-8.1.4.2-b", "系统默认账户禁止登录",
             ident.default_accounts_locked,
             "检查 UID 小于 UID_MIN 的账户的登录 shell 与口令状态，用 usermod -L 锁定",
             "默认账户可被用于登录，绕过对具名账户的管理"),
    _control("unneeded_accounts", "DJBH-8.1.4.2-c", "多余、过期账户停用", ident.unneeded_accounts,
             "检查清单中的多余账户和已过期账户，锁定口令并改为 nologin",
             "无人管理的账户可被冒用而不被发现"),
    _control("default_umask", "DJBH-8.1.4.2-d", "默认权限掩码最小化", ident.default_umask,
             "检查 /etc/login.defs 的 UMASK 与 /etc/profile.d 中的 umask 设置",
             "新建文件默认对其他用户可读，信息可被越权读取"),
    _control("admin_separation", "DJBH-8.1.4.2-d", "三员分立", ident.admin_separation,
             "检查系统、审计、安全管理员组的成员与 /etc/sudoers.d 中的授权",
             "一人同时掌握系统、审计和安全权限，操作可不留痕迹"),
    _control("file_permissions", "DJBH-8.1.4.2-e", "重要文件访问权限", ident.file_permissions,
             "检查 /etc/passwd、/etc/shadow、/etc/sudoers、sshd_config 等文件的权限与属主",
             "口令散列或安全配置可被非授权用户读取或篡改"),
    _control("auditd_service", "DJBH-8.1.4.3-a", "安全审计服务运行", system.auditd_service,
             "检查 auditd 是否安装、开机启动和运行（systemctl status auditd、auditctl -s）",
             "重要操作和安全事件无审计记录，事后无法追查"),
    _control("audit_rules", "DJBH-8.1.4.3-a", "审计规则覆盖重要行为", system.audit_rules,
             "检查 /etc/audit/rules.d 中的规则与 auditctl -l 的输出",
             "账户变更、提权和删除文件等操作不被审计"),
    _control("audit_record_content", "DJBH-8.1.4.3-b", "审计记录内容", system.audit_record_content,
             "检查 /etc/audit/auditd.conf 的 log_format、write_logs、local_events",
             "审计记录缺少用户、事件类型或结果，无法用于追查"),
    _control("audit_log_retention", "DJBH-8.1.4.3-c", "日志留存不少于六个月", system.audit_log_retention,
             "检查 auditd.conf 的 max_log_file_action、journald 的存储方式与 logrotate 的保留份数",
             "日志在六个月内被覆盖删除，违反网络安全法第二十一条，事件无法追溯"),
    _control("audit_log_protection", "DJBH-8.1.4.3-c", "审计记录访问保护", system.audit_log_protection,
             "检查审计日志目录和文件的属主与权限",
             "审计记录可被非授权读取、修改或删除"),
    _control("audit_process_protection", "DJBH-8.1.4.3-d", "审计进程保护", system.audit_process_protection,
             "检查 auditd.service 的 RefuseManualStop 与对 /etc/audit、auditctl 的审计规则",
             "审计可被悄然停止或改规则而不留痕迹"),
    _control("minimal_install", "DJBH-8.1.4.4-a", "最小安装", system.minimal_install,
             "检查清单中的多余软件包（telnet、rsh、tftp 等服务端）是否安装",
             "多余组件扩大攻击面"),
    _control("unneeded_services", "DJBH-8.1.4.4-b", "关闭不需要的服务", system.unneeded_services,
             "检查 systemctl 中清单内服务的运行和开机启动状态",
             "多余服务扩大攻击面，可能存在未修补的漏洞"),
    _control("high_risk_ports", "DJBH-8.1.4.4-b", "关闭高危端口", system.high_risk_ports,
             "用 ss -tulnp 查看监听这些端口的进程，停用对应服务",
             "明文协议或共享服务暴露在网络上，可被窃听或入侵"),
    _control("sysctl_network", "DJBH-8.1.4.4-b", "内核网络参数加固", system.sysctl_network,
             "检查 sysctl -a 与 /etc/sysctl.d 中的转发、重定向、源路由和 SYN cookies 参数",
             "主机可被用于转发或受 ICMP 重定向、源路由与 SYN 洪泛攻击"),
    _control("ssh_access", "DJBH-8.1.4.4-c", "限制管理终端接入", ident.ssh_access,
             "检查 sshd -T 的 AllowUsers/AllowGroups（可含来源地址，如 user@10.0.0.*）",
             "任何地址、任何账户都可尝试远程管理登录"),
)
BY_NAME = dict((c["name"], c) for c in CONTROLS)

# Defaults of the settings: the same values as the role's defaults (roles/os_hardening).
DEFAULT_SETTINGS = {
    "pass_max_days": 90, "pass_min_days": 1, "pass_warn_age": 7,
    "expiry_exempt": ["root", "oracle", "grid", "weblogic"],
    "pw_minlen": 8, "pw_minclass": 3, "pw_remember": 5,
    "faillock_deny": 5, "faillock_unlock_time": 600,
    "tmout": 600, "ssh_client_alive_interval": 300, "ssh_client_alive_count_max": 3,
    "ssh_max_auth_tries": 5, "ssh_login_grace_time": 60, "ssh_permit_root_login": "prohibit-password",
    "ssh_allow_users": [], "ssh_allow_groups": [],
    "umask": "027", "software_owners": ["oracle", "grid", "weblogic"], "system_account_exempt": [],
    "unneeded_accounts": ["games", "gopher", "ftp", "news", "uucp", "irc", "gnats"],
    "admin_accounts": {"system": [], "audit": [], "security": []},
    "admin_groups": {"system": "gxtax_sysadm", "audit": "gxtax_audadm",
                                           "security": "gxtax_secadm"},
    "admin_sudoers_file": "/etc/sudoers.d/gxtax-admin-separation",
    "file_modes": [
        {"path": "/etc/passwd", "mode": "0644", "owner": "root", "groups": ["root"]},
        {"path": "/etc/group", "mode": "0644", "owner": "root", "groups": ["root"]},
        {"path": "/etc/shadow", "mode": "0640", "owner": "root", "groups": ["root", "shadow"]},
        {"path": "/etc/gshadow", "mode": "0640", "owner": "root", "groups": ["root", "shadow"]},
        {"path": "/etc/sudoers", "mode": "0440", "owner": "root", "groups": ["root"]},
        {"path": "/etc/ssh/sshd_config", "mode": "0600", "owner": "root", "groups": ["root"]},
        {"path": "/etc/security/opasswd", "mode": "0600", "owner": "root", "groups": ["root"]},
    ],
    "audit_privileged_commands": ["/usr/bin/sudo", "/usr/bin/su", "/usr/bin/passwd", "/usr/bin/chage",
                                  "/usr/bin/gpasswd", "/usr/bin/newgrp", "/usr/bin/chsh", "/usr/bin/chfn",
                                  "/usr/sbin/useradd", "/usr/sbin/usermod", "/usr/sbin/userdel",
                                  "/usr/sbin/visudo", "/usr/bin/crontab", "/usr/bin/pkexec"],
    "audit_immutable": False,
    "log_retention_days": 183,
    "logrotate_files": ["/etc/logrotate.conf", "/etc/logrotate.d/rsyslog", "/etc/logrotate.d/syslog",
                        "/etc/logrotate.d/wtmp", "/etc/logrotate.d/btmp"],
    "unneeded_packages": [],
    "unneeded_services": ["telnet.socket", "rsh.socket", "rlogin.socket", "rexec.socket", "tftp.socket",
                          "xinetd", "vsftpd", "avahi-daemon", "cups", "nfs-server", "smb", "nmb", "smbd",
                          "nmbd", "ypserv", "snmpd"],
    "high_risk_tcp_ports": [21, 23, 135, 139, 445, 512, 513, 514, 6000],
    "high_risk_udp_ports": [69, 137, 138],
    "sysctl": {
        "net.ipv4.ip_forward": "0",
        "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.default.send_redirects": "0",
        "net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.default.accept_redirects": "0",
        "net.ipv4.conf.all.secure_redirects": "0", "net.ipv4.conf.default.secure_redirects": "0",
        "net.ipv4.conf.all.accept_source_route": "0", "net.ipv4.conf.default.accept_source_route": "0",
        "net.ipv4.conf.all.rp_filter": "2", "net.ipv4.conf.default.rp_filter": "2",
        "net.ipv4.conf.all.log_martians": "1", "net.ipv4.conf.default.log_martians": "1",
        "net.ipv4.icmp_echo_ignore_broadcasts": "1", "net.ipv4.icmp_ignore_bogus_error_responses": "1",
        "net.ipv4.tcp_syncookies": "1",
        "net.ipv6.conf.all.accept_redirects": "0", "net.ipv6.conf.default.accept_redirects": "0",
        "net.ipv6.conf.all.accept_source_route": "0", "net.ipv6.conf.default.accept_source_route": "0",
    },
}


def settings_with_defaults(settings):
    """The settings given, completed with DEFAULT_SETTINGS (a None value means the default)."""
    merged = dict(DEFAULT_SETTINGS)
    for key, value in (settings or {}).items():
        if value is not None:
            merged[key] = value
    return merged


def unknown_controls(names):
    return sorted(set(names) - set(BY_NAME))


def _record(control, host, outcome):
    status = outcome.status
    abnormal = status != "ok"
    return make_record(control["id"], control["item"], host, status, value=outcome.value,
                       threshold=outcome.threshold, detail=outcome.detail,
                       direction=control["direction"] if abnormal else None,
                       consequence=control["consequence"] if abnormal else None)


def _error_record(control, host, reason):
    return make_record(control["id"], control["item"], host, "error", detail="无法检查：%s。" % reason,
                       direction="按错误原因排查（root 权限、文件是否存在、命令是否可用），再人工核查：%s"
                                 % control["direction"],
                       consequence="该控制项的合规状态未知，报告不能证明其已落实")


def audit(facts, settings, controls, host):
    """Check each control named in `controls` (catalogue order).

    Returns (records, summary {name: {id, status}}, findings {name: {...}}). A check that cannot
    read what it needs, or fails in any other way, gives an `error` record; the others still run.
    """
    settings = settings_with_defaults(settings)
    wanted = set(controls)
    records, summary, findings = [], {}, {}
    for control in CONTROLS:
        if control["name"] not in wanted:
            continue
        try:
            outcome = control["check"](facts, settings)
            record = _record(control, host, outcome)
            findings[control["name"]] = outcome.findings
        except SourceError as exc:
            record = _error_record(control, host, str(exc))
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            record = _error_record(control, host, "检查程序异常 %s: %s" % (type(exc).__name__, exc))
        records.append(record)
        summary[control["name"]] = {"id": control["id"], "status": record["status"]}
    return records, summary, findings


# Files and directories that packages bring: in check mode the role skips editing those missing.
ENFORCED_PATHS = ("/etc/security/pwquality.conf", "/etc/security/faillock.conf", "/etc/audit/auditd.conf",
                  "/etc/audit/rules.d", "/etc/systemd/journald.conf.d",
                  "/etc/systemd/system/auditd.service.d", "/etc/authselect/custom/gxtax")


def pam_facts(facts, family):
    """How PAM is changed here: pam-auth-update (Debian), authselect (EL8+) or authconfig (EL7)."""
    if family == "Debian":
        return {"pam_tool": "pam-auth-update" if facts.which("pam-auth-update") else None, "authselect": []}
    rc, out, _err = facts.command("authselect_current", ["authselect", "current", "--raw"])
    if rc == 0 and out.split():
        return {"pam_tool": "authselect", "authselect": out.split()}
    return {"pam_tool": "authconfig" if facts.which("authconfig") else None, "authselect": []}


def host_facts(facts):
    """What the enforce mode needs to know before it changes anything."""
    result = {"os_family": facts.os_family()}
    rc, out, err = facts.command("sshd_t")
    result["sshd_config_valid"] = rc == 0
    result["sshd_config_message"] = (err or out or "").strip()[:500] if rc else ""
    try:
        includes = hp.sshd_includes(facts.text("/etc/ssh/sshd_config") or "")
    except SourceError:
        includes = []
    result["sshd_includes_dropins"] = any(p in ("/etc/ssh/sshd_config.d/*.conf", "sshd_config.d/*.conf")
                                          for p in includes)
    result["files"] = dict((path, facts.stat(path) is not None) for path in ENFORCED_PATHS)
    result.update(pam_facts(facts, result["os_family"]))
    rc, out, _err = facts.command("auditctl_s")
    result["auditd_active"] = rc == 0 and hp.parse_auditctl_status(out).get("enabled") in ("1", "2") \
        and hp.parse_auditctl_status(out).get("pid", "0") not in ("0", "")
    return result
