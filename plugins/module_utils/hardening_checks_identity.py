# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""等保2.0 level 3 §8.1.4.1 身份鉴别 and §8.1.4.2 访问控制 checks: PAM, login.defs, SSH, accounts.

Each check takes a Facts object and the settings dict and returns an Outcome. Runs on managed
hosts: valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from ansible_collections.gxtax.ops.plugins.module_utils import hardening_parse as hp
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_facts import Outcome, SourceError, join

# Shells that cannot be used to log in (sync/shutdown/halt run one command and exit).
NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "/bin/sync",
                  "/sbin/shutdown", "/sbin/halt", "/usr/bin/sync", "/usr/sbin/shutdown", "/usr/sbin/halt")
# Files a login shell reads, where TMOUT and umask are set.
PROFILE_FILES = ("/etc/profile", "/etc/bashrc", "/etc/bash.bashrc", "/etc/login.defs")
# Anywhere in a line, so `case ... *) TMOUT=600 ;;` and `export TMOUT=600` count too.
_TMOUT = re.compile(r"(?<![\w$])TMOUT=(\d+)")
_UMASK = re.compile(r"(?<![\w-])umask\s+(0?[0-7]{3})\b")


def _code(text):
    """Shell text without comment lines (a commented-out setting does not count)."""
    return "\n".join(line for line in (text or "").splitlines() if not line.lstrip().startswith("#"))


# ------------------------------------------------------------------ PAM helpers

def _stack(facts, service, ptype):
    """The `ptype` stack of a PAM service, falling back to the distribution's shared file."""
    files = facts.pam_files()
    if service not in files:
        service = "common-" + ptype if "common-" + ptype in files else "system-auth"
    return hp.pam_stack(service, files, ptype)


def _find(stack, *modules):
    return [e for e in stack if hp.module_name(e["module"]) in modules]


def _enforcing(entry):
    """A module whose failure is ignored (optional/sufficient) does not enforce anything."""
    return entry["control"] not in ("optional", "sufficient")


def _conf(facts, path, dropin_dir=None):
    values = hp.parse_kv(facts.text(path) or "", "=")
    for _name, text in facts.conf_dir(dropin_dir) if dropin_dir else ():
        values.update(hp.parse_kv(text, "="))
    return values


def _int(value, default=None):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


# --------------------------------------------------------------- 8.1.4.1 a

def password_complexity(facts, s):
    found = [e for e in _find(_stack(facts, "passwd", "password"), "pam_pwquality.so", "pam_cracklib.so")
             if _enforcing(e)]
    threshold = "minlen≥%d，至少 %d 类字符，无正值 credit" % (s["pw_minlen"], s["pw_minclass"])
    if not found:
        return Outcome(False, "口令修改的 PAM 栈中无 pam_pwquality / pam_cracklib", threshold,
                       "修改口令时不检查复杂度：PAM 口令栈中没有启用 pam_pwquality 或 pam_cracklib。")
    entry = found[0]
    module = hp.module_name(entry["module"])
    cracklib = module == "pam_cracklib.so"
    values = {} if cracklib else _conf(facts, "/etc/security/pwquality.conf",
                                       "/etc/security/pwquality.conf.d")
    values.update(hp.pam_args(entry))
    minlen = _int(values.get("minlen"))
    # pam_cracklib counts a class 1 credit by default; libpwquality's credits default to 0.
    credits = dict((k, _int(values.get(k), 1 if cracklib else 0))
                   for k in ("dcredit", "ucredit", "lcredit", "ocredit"))
    classes = max(_int(values.get("minclass"), 0), sum(1 for v in credits.values() if v < 0))
    positive = sorted(k for k, v in credits.items() if v > 0)
    value = "%s：minlen=%s，字符类别≥%d%s" % (module, "未设置" if minlen is None else minlen, classes,
                                         "，正值 credit：%s" % join(positive) if positive else "")
    passed = minlen is not None and minlen >= s["pw_minlen"] and classes >= s["pw_minclass"] and not positive
    detail = ("口令复杂度符合要求：%s。" % value) if passed else ("口令复杂度不足：%s。" % value)
    return Outcome(passed, value, threshold, detail)


def password_history(facts, s):
    stack = _stack(facts, "passwd", "password")
    remembered = []
    for entry in _find(stack, "pam_pwhistory.so"):
        if _enforcing(entry):
            conf = hp.parse_kv(facts.text("/etc/security/pwhistory.conf") or "", "=")
            # pam_pwhistory remembers 10 passwords unless told otherwise.
            count = hp.pam_args(entry).get("remember", conf.get("remember"))
            remembered.append(("pam_pwhistory", _int(count, 10)))
    for entry in _find(stack, "pam_unix.so"):
        if "remember" in hp.pam_args(entry):
            remembered.append(("pam_unix", _int(hp.pam_args(entry)["remember"], 0)))
    best = max([n for _m, n in remembered] or [0])
    value = join(["%s remember=%d" % r for r in remembered], "未启用口令历史")
    passed = best >= s["pw_remember"]
    detail = ("口令历史符合要求：%s。" % value) if passed else (
        "新口令可与最近 %d 次口令相同（%s）。" % (s["pw_remember"], value))
    return Outcome(passed, value, "remember≥%d" % s["pw_remember"], detail)


def _expiry_problem(entry, s):
    problems = []
    if entry["max"] is None or entry["max"] <= 0 or entry["max"] > s["pass_max_days"]:
        problems.append("max=%s" % entry["max"])
    if (entry["min"] or 0) < s["pass_min_days"]:
        problems.append("min=%s" % entry["min"])
    if (entry["warn"] or 0) < s["pass_warn_age"]:
        problems.append("warn=%s" % entry["warn"])
    return problems


def password_expiry(facts, s):
    defs = facts.login_defs()
    got = dict((k, _int(defs.get(k))) for k in ("PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE"))
    defs_ok = (got["PASS_MAX_DAYS"] is not None and 0 < got["PASS_MAX_DAYS"] <= s["pass_max_days"]
               and (got["PASS_MIN_DAYS"] or 0) >= s["pass_min_days"]
               and (got["PASS_WARN_AGE"] or 0) >= s["pass_warn_age"])
    shadow = facts.shadow()
    exempt = set(s["expiry_exempt"])
    users = [a["name"] for a in facts.passwd() if shadow.get(a["name"], {}).get("state") == "usable"]
    offenders = [n for n in users if n not in exempt and _expiry_problem(shadow[n], s)]
    value = "PASS_MAX_DAYS=%s，PASS_MIN_DAYS=%s，PASS_WARN_AGE=%s；有口令账户 %d 个，不符合：%s；豁免：%s" % (
        got["PASS_MAX_DAYS"], got["PASS_MIN_DAYS"], got["PASS_WARN_AGE"], len(users), join(offenders),
        join(sorted(exempt & set(users))))
    threshold = "口令有效期≤%d 天，最短使用≥%d 天，到期前 %d 天提醒" % (
        s["pass_max_days"], s["pass_min_days"], s["pass_warn_age"])
    passed = defs_ok and not offenders
    detail = "口令定期更换策略符合要求。" if passed else (
        "口令定期更换策略不符合：%s。" % join(([] if defs_ok else ["/etc/login.defs 默认值"])
                                       + (["账户 " + join(offenders)] if offenders else [])))
    return Outcome(passed, value, threshold, detail, {"users": offenders})


def account_unique(facts, _s):
    accounts = facts.passwd()
    names, uids, duplicate_names, duplicate_uids = set(), {}, set(), set()
    for account in accounts:
        if account["name"] in names:
            duplicate_names.add(account["name"])
        names.add(account["name"])
        uids.setdefault(account["uid"], []).append(account["name"])
    for uid, owners in uids.items():
        if len(owners) > 1:
            duplicate_uids.add("%d（%s）" % (uid, join(owners)))
    root_like = uids.get(0, [])
    value = "账户 %d 个；重名：%s；UID 重复：%s；UID 0：%s" % (
        len(accounts), join(sorted(duplicate_names)), join(sorted(duplicate_uids)), join(root_like))
    passed = not duplicate_names and not duplicate_uids and root_like == ["root"]
    detail = "每个账户的用户名和 UID 唯一，只有 root 的 UID 为 0。" if passed else \
        "存在重名、UID 重复或 root 以外 UID 为 0 的账户：%s。" % value
    return Outcome(passed, value, "用户名、UID 唯一，仅 root 的 UID 为 0", detail)


def account_empty_passwords(facts, _s):
    shadow = facts.shadow()
    empty = [a["name"] for a in facts.passwd()
             if shadow.get(a["name"], {}).get("state") == "empty"
             or (a["passwd_empty"] and a["name"] not in shadow)]
    passed = not empty
    detail = "没有空口令账户。" if passed else "账户 %s 的口令为空，无需口令即可登录。" % join(empty)
    return Outcome(passed, "空口令账户：%s" % join(empty), "无空口令账户", detail, {"accounts": empty})


def _sshd_first(config, key, default=""):
    values = config.get(key)
    return values[0] if values else default


def ssh_empty_passwords(facts, _s):
    config = facts.sshd()
    got = dict((k, _sshd_first(config, k))
               for k in ("permitemptypasswords", "hostbasedauthentication", "ignorerhosts"))
    wanted = {"permitemptypasswords": "no", "hostbasedauthentication": "no", "ignorerhosts": "yes"}
    passed = got == wanted
    value = "PermitEmptyPasswords %s，HostbasedAuthentication %s，IgnoreRhosts %s" % (
        got["permitemptypasswords"], got["hostbasedauthentication"], got["ignorerhosts"])
    detail = "SSH 不允许空口令和基于主机信任的免认证登录。" if passed else \
        "SSH 允许空口令或主机信任登录：%s。" % value
    return Outcome(passed, value, "PermitEmptyPasswords no，HostbasedAuthentication no，IgnoreRhosts yes",
                   detail)


# --------------------------------------------------------------- 8.1.4.1 b

def _lockout_in(facts, service):
    """(tool, settings) of the failed-login lock-out on a service's stacks, or (None, reason)."""
    auth, account = _stack(facts, service, "auth"), _stack(facts, service, "account")
    faillock = _find(auth, "pam_faillock.so")
    modes = set(a for e in faillock for a in e["args"])
    if "preauth" in modes and "authfail" in modes and _find(account, "pam_faillock.so"):
        values = hp.parse_kv(facts.text("/etc/security/faillock.conf") or "", "=")
        for entry in faillock:
            values.update(hp.pam_args(entry))
        return "pam_faillock", values
    tally = _find(auth, "pam_tally2.so", "pam_tally.so")
    if tally and _enforcing(tally[0]):
        return "pam_tally2", hp.pam_args(tally[0])
    return None, "%s 的认证栈没有完整启用 pam_faillock（preauth、authfail 和 account）" % service


def login_lockout(facts, s):
    threshold = "连续失败≤%d 次锁定，锁定≥%d 秒（0 为须管理员解锁）" % (
        s["faillock_deny"], s["faillock_unlock_time"])
    services = [name for name in ("sshd", "login") if name in facts.pam_files()] or ["sshd"]
    evidence, problems = [], []
    for service in services:
        tool, values = _lockout_in(facts, service)
        if tool is None:
            problems.append(values)
            continue
        # faillock's defaults: deny=3, unlock_time=600; tally2 never locks without deny=.
        deny = _int(values.get("deny"), 3 if tool == "pam_faillock" else 0)
        unlock = _int(values.get("unlock_time"), 600 if tool == "pam_faillock" else 0)
        evidence.append("%s：%s deny=%d unlock_time=%d" % (service, tool, deny, unlock))
        if not 0 < deny <= s["faillock_deny"]:
            problems.append("%s 连续失败 %d 次才锁定" % (service, deny))
        if unlock != 0 and unlock < s["faillock_unlock_time"]:
            problems.append("%s 锁定仅 %d 秒" % (service, unlock))
    value = join(evidence + problems)
    detail = "登录失败锁定已启用：%s。" % join(evidence) if not problems else \
        "登录失败处理不符合：%s。" % join(problems)
    return Outcome(not problems, value, threshold, detail)


def _tmout_values(facts):
    found = []
    paths = [p for p in PROFILE_FILES if p != "/etc/login.defs"]
    paths += [path for path, _t in facts.conf_dir("/etc/profile.d", ".sh")]
    for path in paths:
        for number in _TMOUT.findall(_code(facts.text(path))):
            found.append((path, int(number)))
    return found


def session_timeout(facts, s):
    tmouts = _tmout_values(facts)
    config = facts.sshd()
    interval = _int(_sshd_first(config, "clientaliveinterval"), 0)
    count = _int(_sshd_first(config, "clientalivecountmax"), 0)
    problems = []
    if not tmouts:
        problems.append("未设置 TMOUT")
    elif any(not 0 < n <= s["tmout"] for _p, n in tmouts):
        problems.append("TMOUT 大于 %d 秒或为 0" % s["tmout"])
    if not 0 < interval <= s["ssh_client_alive_interval"] or not 0 < count <= s["ssh_client_alive_count_max"]:
        problems.append("SSH ClientAliveInterval/CountMax 未按要求设置")
    value = "TMOUT：%s；ClientAliveInterval %d，ClientAliveCountMax %d" % (
        join(["%s（%s）" % (n, p) for p, n in tmouts], "未设置"), interval, count)
    threshold = "TMOUT≤%d 秒；ClientAliveInterval 1–%d 秒，ClientAliveCountMax 1–%d" % (
        s["tmout"], s["ssh_client_alive_interval"], s["ssh_client_alive_count_max"])
    detail = "空闲会话超时自动退出已配置。" if not problems else \
        "登录连接超时退出不符合：%s。" % join(problems)
    return Outcome(not problems, value, threshold, detail)


def ssh_max_auth_tries(facts, s):
    config = facts.sshd()
    tries = _int(_sshd_first(config, "maxauthtries"), 6)
    grace = _int(_sshd_first(config, "logingracetime"), 120)
    passed = 0 < tries <= s["ssh_max_auth_tries"] and 0 < grace <= s["ssh_login_grace_time"]
    value = "MaxAuthTries %d，LoginGraceTime %d" % (tries, grace)
    detail = ("SSH 单次连接认证尝试次数和登录宽限时间受限：%s。" if passed
              else "SSH 认证尝试限制不足：%s。") % value
    return Outcome(passed, value, "MaxAuthTries≤%d，LoginGraceTime≤%d 秒" % (
        s["ssh_max_auth_tries"], s["ssh_login_grace_time"]), detail)


# --------------------------------------------------------------- 8.1.4.1 c

WEAK_ALGORITHMS = (
    ("ciphers", re.compile(r"cbc|arcfour|3des|blowfish|cast128|rijndael")),
    ("macs", re.compile(r"md5|-96|ripemd")),
    ("kexalgorithms", re.compile(r"group1-sha1|group14-sha1|exchange-sha1")),
)


def ssh_protocol(facts, _s):
    config = facts.sshd()
    rc, out, err = facts.command("ssh_V")
    version = hp.openssh_version((err or "") + (out or "")) if rc is not None else None
    protocol = _sshd_first(config, "protocol", None)
    problems = []
    if protocol is not None and protocol.strip() != "2":
        problems.append("Protocol %s" % protocol)
    elif protocol is None and version is not None and version < (7, 4):
        problems.append("OpenSSH %d.%d 未声明仅用 SSH-2" % version)
    for key, pattern in WEAK_ALGORITHMS:
        weak = [a for a in _sshd_first(config, key).split(",") if a and pattern.search(a)]
        if weak:
            problems.append("%s 含弱算法 %s" % (key, join(weak)))
    value = "OpenSSH %s；%s" % ("%d.%d" % version if version else "版本未知",
                               join(problems, "仅 SSH-2，无弱加密/MAC/密钥交换算法"))
    detail = "远程管理经 SSH-2 加密传输，未启用弱算法。" if not problems else \
        "SSH 传输加密不足：%s。" % join(problems)
    return Outcome(not problems, value, "仅 SSH-2；无 CBC/RC4/3DES/MD5/96 位 MAC/SHA-1 密钥交换", detail)


# --------------------------------------------------------------- 8.1.4.2 b, c

ROOT_LOGIN_ALLOWED = {
    "no": ("no",),
    "prohibit-password": ("no", "prohibit-password", "without-password", "forced-commands-only"),
    "forced-commands-only": ("no", "forced-commands-only"),
}


def ssh_root_login(facts, s):
    got = _sshd_first(facts.sshd(), "permitrootlogin")
    allowed = ROOT_LOGIN_ALLOWED[s["ssh_permit_root_login"]]
    passed = got in allowed
    detail = ("root 远程登录受限（PermitRootLogin %s）。" if passed
              else "root 可用口令远程登录（PermitRootLogin %s）。") % got
    return Outcome(passed, "PermitRootLogin %s" % got, "PermitRootLogin ∈ {%s}" % "、".join(allowed), detail)


def _can_log_in(account, shadow):
    state = shadow.get(account["name"], {}).get("state", "locked")
    return account["shell"] not in NOLOGIN_SHELLS and state != "locked"


def default_accounts_locked(facts, s):
    uid_min = _int(facts.login_defs().get("UID_MIN"), 1000)
    exempt = set(["root"] + list(s["software_owners"]) + list(s["system_account_exempt"]))
    shadow = facts.shadow()
    system = [a for a in facts.passwd() if a["uid"] < uid_min and a["name"] not in exempt]
    offenders = [a["name"] for a in system if _can_log_in(a, shadow)]
    value = "系统账户（UID<%d）%d 个，可登录：%s" % (uid_min, len(system), join(offenders))
    detail = "系统默认账户均不能登录（口令锁定或无登录 shell）。" if not offenders else (
        "系统默认账户 %s 既有登录 shell 又未锁定口令。" % join(offenders))
    return Outcome(not offenders, value, "UID<%d 的系统账户（root 除外）口令锁定或使用 nologin" % uid_min,
                   detail, {"accounts": offenders})


def unneeded_accounts(facts, s):
    shadow = facts.shadow()
    owners = set(s["software_owners"])
    accounts = dict((a["name"], a) for a in facts.passwd())
    listed = [n for n in s["unneeded_accounts"] if n in accounts and n not in owners]
    active = [n for n in listed if shadow.get(n, {}).get("state", "locked") != "locked"
              or accounts[n]["shell"] not in NOLOGIN_SHELLS]
    today = facts.today
    expired = [n for n, e in sorted(shadow.items())
               if today is not None and e["expire"] is not None and 0 <= e["expire"] < today
               and e["state"] != "locked" and n not in owners]
    value = "多余账户（清单内，存在 %d 个）未停用：%s；已过期未锁定：%s" % (
        len(listed), join(active), join(expired))
    passed = not active and not expired
    detail = "多余和过期账户均已停用。" if passed else "多余或过期账户未停用：%s。" % join(active + expired)
    return Outcome(passed, value, "清单内多余账户和已过期账户：口令锁定且无登录 shell", detail,
                   {"accounts": active, "expired": expired})


# --------------------------------------------------------------- 8.1.4.2 d, e

def _umask_ok(value, wanted):
    return value is not None and value & wanted == wanted


def default_umask(facts, s):
    wanted = hp.umask_value(s["umask"])
    defs = hp.umask_value(str(facts.login_defs().get("UMASK", "")))
    shells = []
    for path in [p for p in PROFILE_FILES if p != "/etc/login.defs"] + \
            [path for path, _t in facts.conf_dir("/etc/profile.d", ".sh")]:
        for text in _UMASK.findall(_code(facts.text(path))):
            if _umask_ok(hp.umask_value(text), wanted):
                shells.append(path)
    passed = _umask_ok(defs, wanted) and bool(shells)
    value = "login.defs UMASK %s；登录 shell 设置 umask %s 的文件：%s" % (
        "%03o" % defs if defs is not None else "未设置", s["umask"], join(sorted(set(shells))))
    if passed:
        detail = "新建文件默认权限掩码为 %s（Oracle/WebLogic 软件属主 %s 保持 022）。" % (
            s["umask"], join(s["software_owners"]))
    else:
        detail = "默认 umask 宽于 %s：%s。" % (s["umask"], value)
    return Outcome(passed, value, "umask %s（login.defs 与登录 shell）" % s["umask"], detail)


def _members(groups, passwd, group):
    info = groups.get(group)
    if info is None:
        return None
    primary = [a["name"] for a in passwd if a["gid"] == info["gid"]]
    return set(info["members"]) | set(primary)


def _visudo(facts, path):
    rc, out, err = facts.command("visudo_" + path, ["visudo", "-c", "-f", path])
    return rc == 0, (err or out).strip()[:120]


def admin_separation(facts, s):
    roles, groups = s["admin_accounts"], s["admin_groups"]
    group_db, passwd = facts.group(), facts.passwd()
    problems, seen = [], {}
    for role in ("system", "audit", "security"):
        wanted = list(roles.get(role) or [])
        members = _members(group_db, passwd, groups[role])
        if not wanted:
            problems.append("未配置%s账户" % ROLE_NAMES[role])
        if members is None:
            problems.append("组 %s 不存在" % groups[role])
            members = set()
        missing = [u for u in wanted if u not in members]
        if missing:
            problems.append("%s 不在组 %s" % (join(missing), groups[role]))
        for user in members:
            seen.setdefault(user, []).append(ROLE_NAMES[role])
    shared = sorted("%s（%s）" % (u, join(r)) for u, r in seen.items() if len(r) > 1)
    if shared:
        problems.append("一人兼任多个管理角色：%s" % join(shared))
    st = facts.stat(s["admin_sudoers_file"])
    if st is None:
        problems.append("%s 不存在" % s["admin_sudoers_file"])
    else:
        valid, message = _visudo(facts, s["admin_sudoers_file"])
        if not valid:
            problems.append("visudo 校验失败：%s" % message)
    value = "；".join("%s：%s" % (ROLE_NAMES[r], join(sorted(_members(group_db, passwd, groups[r]) or [])))
                     for r in ("system", "audit", "security"))
    detail = "系统、审计、安全管理员账户分离。" if not problems else "三员分立不符合：%s。" % join(problems)
    return Outcome(not problems, value, "系统、审计、安全管理员各有账户，互不兼任，sudo 权限分离", detail)


ROLE_NAMES = {"system": "系统管理员", "audit": "审计管理员", "security": "安全管理员"}


def _mode_problem(st, rule):
    wanted = int(str(rule["mode"]), 8)
    problems = []
    if st["mode"] & ~wanted:
        problems.append("权限 %04o 宽于 %04o" % (st["mode"], wanted))
    if st["owner"] != rule.get("owner", "root"):
        problems.append("属主 %s" % st["owner"])
    if rule.get("groups") and st["group"] not in rule["groups"]:
        problems.append("属组 %s" % st["group"])
    return problems


def file_permissions(facts, s):
    fixes, evidence = [], []
    for rule in s["file_modes"]:
        st = facts.stat(rule["path"])
        if st is None:
            continue
        problems = _mode_problem(st, rule)
        if problems:
            evidence.append("%s %s" % (rule["path"], join(problems)))
            allowed = rule.get("groups") or [st["group"]]
            group = st["group"] if st["group"] in allowed else allowed[0]
            fixes.append({"path": rule["path"], "mode": "%04o" % int(str(rule["mode"]), 8),
                          "owner": rule.get("owner", "root"), "group": group})
    value = join(evidence, "均符合")
    detail = "身份、口令、sudo 与 SSH 配置文件的访问权限符合要求。" if not fixes else \
        "重要文件访问权限过宽：%s。" % value
    return Outcome(not fixes, value, join(["%s≤%s" % (r["path"], r["mode"]) for r in s["file_modes"]]),
                   detail, {"files": fixes})


# --------------------------------------------------------------- 8.1.4.4 c

def ssh_access(facts, s):
    config = facts.sshd()
    users = sorted(v for line in config.get("allowusers", []) for v in line.split())
    groups = sorted(v for line in config.get("allowgroups", []) for v in line.split())
    wanted_users, wanted_groups = sorted(s["ssh_allow_users"]), sorted(s["ssh_allow_groups"])
    configured = bool(wanted_users or wanted_groups)
    passed = configured and users == wanted_users and groups == wanted_groups
    value = "AllowUsers %s；AllowGroups %s" % (join(users, "未设置"), join(groups, "未设置"))
    if not configured:
        detail = "未配置允许 SSH 登录的用户或组（gxtax_hardening_ssh_allow_users / _groups）。"
    else:
        detail = "SSH 登录限定为指定用户、组和地址。" if passed else "SSH 登录限制与配置不一致：%s。" % value
    threshold = "AllowUsers %s；AllowGroups %s" % (join(wanted_users, "—"), join(wanted_groups, "—"))
    return Outcome(passed, value, threshold, detail)


def _user_allowed(user, groups_of_user, allow_users, allow_groups):
    if not allow_users and not allow_groups:
        return True
    by_user = any(fnmatch.fnmatchcase(user, pattern.split("@", 1)[0]) for pattern in allow_users)
    by_group = any(fnmatch.fnmatchcase(g, pattern) for g in groups_of_user for pattern in allow_groups)
    # sshd requires both lists to admit the user when both are set.
    if allow_users and allow_groups:
        return by_user and by_group
    return by_user or by_group


def lockout_problems(facts, s, enabled, user):
    """Why the SSH settings about to be written would lock the connecting user out ([] if none)."""
    problems = []
    if not user:
        return problems
    if "ssh_root_login" in enabled and s["ssh_permit_root_login"] == "no" and user == "root":
        problems.append("PermitRootLogin no 会拒绝当前以 root 连接的 Ansible，请先改用具名账户加 sudo")
    if "ssh_access" in enabled:
        try:
            passwd, groups = facts.passwd(), facts.group()
        except SourceError:
            return problems
        gid = dict((a["name"], a["gid"]) for a in passwd).get(user)
        mine = [g for g, info in groups.items() if user in info["members"] or info["gid"] == gid]
        if not _user_allowed(user, mine, s["ssh_allow_users"], s["ssh_allow_groups"]):
            problems.append("AllowUsers/AllowGroups 不包含当前连接用户 %s，写入后将无法登录" % user)
    return problems
