# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""等保2.0 level 3 §8.1.4.3 安全审计 and §8.1.4.4 入侵防范 checks: auditd, log retention,
packages, services, ports and kernel network parameters.

Each check takes a Facts object and the settings dict and returns an Outcome. Runs on managed
hosts: valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.gxtax.ops.plugins.module_utils import hardening_parse as hp
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_facts import Outcome, SourceError, join
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_logrotate import plan as logrotate_plan
from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import listening_ports

AUDITD_CONF = "/etc/audit/auditd.conf"
UNIT_PROPS = ("Id", "LoadState", "ActiveState", "UnitFileState", "RefuseManualStop")
IDENTITY_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow")
SUDOERS = ("/etc/sudoers", "/etc/sudoers.d")
DELETE_SYSCALLS = ("unlink", "unlinkat", "rename", "renameat")
AUDIT_CONFIG = ("/etc/audit",)
AUDIT_TOOLS = ("auditctl", "auditd")


def _units(facts, names):
    """systemctl's view of units, by Id; SourceError without systemd."""
    names = [n if "." in n else n + ".service" for n in names]
    argv = ["systemctl", "show"]
    for prop in UNIT_PROPS:
        argv += ["-p", prop]
    rc, out, err = facts.command("units " + " ".join(names), argv + ["--"] + names)
    if rc is None:
        raise SourceError("主机没有 systemctl（非 systemd 系统）")
    if rc != 0 and not out:
        raise SourceError("systemctl show 失败：%s" % err.strip()[:160])
    return hp.parse_unit_states(out)


def _auditd_conf(facts):
    text = facts.text(AUDITD_CONF)
    if text is None:
        raise _NotInstalled("未安装 auditd（无 %s）" % AUDITD_CONF)
    return dict((k.lower(), v) for k, v in hp.parse_kv(text, "=").items())


class _NotInstalled(Exception):
    """The package a control depends on is missing: the control fails (not compliant)."""


def _not_installed(check):
    def wrapped(facts, s):
        try:
            return check(facts, s)
        except _NotInstalled as exc:
            return Outcome(False, str(exc), "已安装并配置 auditd", "%s，该控制项不满足。" % exc)
    wrapped.__name__ = check.__name__
    wrapped.__doc__ = check.__doc__
    return wrapped


# --------------------------------------------------------------- 8.1.4.3 a

@_not_installed
def auditd_service(facts, _s):
    if not facts.which("auditd"):
        raise _NotInstalled("未安装 auditd")
    unit = _units(facts, ["auditd"]).get("auditd.service", {})
    rc, out, err = facts.command("auditctl_s")
    status = hp.parse_auditctl_status(out) if rc == 0 else {}
    enabled = status.get("enabled")
    problems = []
    if unit.get("UnitFileState") not in ("enabled", "static", "enabled-runtime"):
        problems.append("auditd 未设为开机启动（%s）" % unit.get("UnitFileState", "未知"))
    if unit.get("ActiveState") != "active":
        problems.append("auditd 未运行（%s）" % unit.get("ActiveState", "未知"))
    if enabled not in ("1", "2"):
        reason = enabled or (err or out).strip()[:80] or "无输出"
        problems.append("内核审计未启用（auditctl -s：%s）" % reason)
    value = "auditd %s/%s；内核审计 enabled=%s" % (
        unit.get("UnitFileState", "?"), unit.get("ActiveState", "?"), enabled or "?")
    detail = "安全审计服务 auditd 已启用并运行。" if not problems else "安全审计未启用：%s。" % join(problems)
    return Outcome(not problems, value, "auditd 开机启动且运行，内核审计 enabled=1 或 2", detail)


def _writes(rule, path):
    """The rule audits writes to path (a watch, or a syscall rule on dir=/path=)."""
    if rule["kind"] == "watch":
        return rule["path"].rstrip("/") == path and "w" in rule.get("perms", "rwxa")
    fields = rule["fields"]
    target = fields.get("dir", fields.get("path", ("", "")))[1].rstrip("/")
    return target == path and "w" in fields.get("perm", ("", "wa"))[1]


def _executes(rule, path):
    if rule["kind"] == "watch":
        return rule["path"] == path and "x" in rule.get("perms", "rwxa")
    return rule["fields"].get("path", ("", ""))[1] == path and "x" in rule["fields"].get("perm", ("", ""))[1]


def _deletes(rule):
    return rule["kind"] == "syscall" and "always" in rule.get("action", "") and \
        set(DELETE_SYSCALLS) <= rule["syscalls"]


def _missing_rules(rules, privileged):
    """Which required kinds of audit rule are missing from a rule set."""
    missing = []
    for label, paths in (("身份文件", IDENTITY_FILES), ("sudoers", SUDOERS)):
        absent = [p for p in paths if not any(_writes(r, p) for r in rules)]
        if absent:
            missing.append("%s（%s）" % (label, join(absent)))
    commands = [p for p in privileged if not any(_executes(r, p) for r in rules)]
    if commands:
        missing.append("特权命令（%s）" % join(commands))
    if not any(_deletes(r) for r in rules):
        missing.append("文件删除（unlink/unlinkat/rename/renameat）")
    return missing


def _rule_files(facts):
    if not facts.which("auditctl") and facts.text(AUDITD_CONF) is None:
        raise _NotInstalled("未安装 auditd")
    files = facts.audit_rule_files()
    return files, [r for _p, t in files for r in hp.parse_audit_rules(t)]


def audit_rules(facts, s):
    # Found before anything else: the enforce mode writes the rules for these even when auditd
    # is only being installed in the same run.
    privileged = [p for p in s["audit_privileged_commands"] if facts.stat(p) is not None]
    findings = {"privileged_present": privileged}
    try:
        files, rules = _rule_files(facts)
    except _NotInstalled as exc:
        return Outcome(False, str(exc), "已安装并配置 auditd", "%s，该控制项不满足。" % exc, findings)
    missing = _missing_rules(rules, privileged)
    loaded = facts.loaded_audit_rules()
    loaded_missing = _missing_rules(loaded, privileged) if loaded is not None else []
    value = "规则文件 %s；缺少：%s；内核已加载规则：%s" % (
        join([p for p, _t in files], "无"), join(missing),
        "无法读取（auditd 未运行）" if loaded is None
        else "%d 条，缺少：%s" % (len(loaded), join(loaded_missing)))
    threshold = "审计身份文件、sudoers、特权命令（%d 个）与文件删除" % len(privileged)
    if missing:
        return Outcome(False, value, threshold, "审计规则未覆盖：%s。" % join(missing), findings)
    if loaded_missing:
        return Outcome(False, value, threshold, "规则已写入文件但未加载到内核：%s。" % join(loaded_missing),
                       findings, status="warning")
    return Outcome(True, value, threshold, "审计规则覆盖身份文件、sudoers、特权命令与文件删除。", findings)


# --------------------------------------------------------------- 8.1.4.3 b, c, d

@_not_installed
def audit_record_content(facts, _s):
    conf = _auditd_conf(facts)
    got = dict((k, str(conf.get(k, d)).upper()) for k, d in
               (("log_format", "RAW"), ("write_logs", "yes"), ("local_events", "yes")))
    passed = got["log_format"] in ("RAW", "ENRICHED") and "NO" not in (got["write_logs"], got["local_events"])
    value = "log_format=%s，write_logs=%s，local_events=%s" % (
        got["log_format"], got["write_logs"], got["local_events"])
    detail = "审计记录写入磁盘，含日期时间、用户、事件类型和结果。" if passed else \
        "审计记录未完整写入：%s。" % value
    return Outcome(passed, value, "log_format=ENRICHED 或 RAW，write_logs 与 local_events 未关闭", detail)


_SPAN = re.compile(r"(\d+)\s*(us|ms|s|sec|m|min|h|hr|d|day|w|week|month|M|y|year)?s?$")
_SPAN_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1, "sec": 1, None: 1, "m": 60, "min": 60, "h": 3600, "hr": 3600,
                 "d": 86400, "day": 86400, "w": 604800, "week": 604800, "M": 2629800, "month": 2629800,
                 "y": 31557600, "year": 31557600}


def _span_days(text):
    """Days of a systemd time span such as 6month, 180d or 1y (sums of parts)."""
    total = 0.0
    for part in (text or "").split():
        match = _SPAN.match(part)
        if not match:
            return None
        total += int(match.group(1)) * _SPAN_SECONDS[match.group(2)]
    return total / 86400


def _journald_problems(facts, days):
    values = hp.parse_ini_section(facts.text("/etc/systemd/journald.conf") or "", "Journal")
    for _p, text in facts.conf_dir("/etc/systemd/journald.conf.d"):
        values.update(hp.parse_ini_section(text, "Journal"))
    storage = values.get("Storage", "auto").lower()
    problems = []
    if storage in ("volatile", "none") or (storage == "auto" and facts.stat("/var/log/journal") is None):
        problems.append("journald 日志不落盘（Storage=%s）" % storage)
    retention = _span_days(values.get("MaxRetentionSec", "0"))
    if retention is not None and 0 < retention < days:
        problems.append("journald MaxRetentionSec 仅 %.0f 天" % retention)
    return "journald Storage=%s" % storage, problems


def _auditd_retention(facts):
    conf = _auditd_conf(facts)
    action = conf.get("max_log_file_action", "ROTATE").upper()
    problems = []
    if action not in ("KEEP_LOGS", "IGNORE"):
        problems.append("auditd max_log_file_action=%s 会删除旧审计日志" % action)
    deleting = [k for k in ("space_left_action", "admin_space_left_action", "disk_full_action")
                if conf.get(k, "").upper() == "ROTATE"]
    if deleting:
        problems.append("auditd %s=ROTATE 会删除旧审计日志" % join(deleting))
    return "auditd max_log_file_action=%s" % action, problems


def audit_log_retention(facts, s):
    days = s["log_retention_days"]
    evidence, problems = [], []
    try:
        text, found = _auditd_retention(facts)
    except _NotInstalled as exc:
        # The journald and logrotate parts (and their fixes) do not need auditd.
        text, found = str(exc), [str(exc)]
    evidence.append(text)
    problems.extend(found)
    text, found = _journald_problems(facts, days)
    evidence.append(text)
    problems.extend(found)
    files = [(p, facts.text(p)) for p in s["logrotate_files"]]
    files = [(p, t) for p, t in files if t is not None]
    short, fixes = logrotate_plan(files, days)
    if files:
        evidence.append("logrotate 检查 %s" % join([p for p, _t in files]))
    else:
        evidence.append("未安装 logrotate")
    problems.extend("%s 中 %s 仅保留 %d 天" % (p, join(paths), kept) for p, paths, kept in short)
    value = "；".join(evidence)
    if problems:
        detail = "日志留存不足六个月：%s。" % join(problems)
    else:
        detail = "审计与系统日志留存不少于 %d 天（网络安全法第二十一条要求不少于六个月）。" % days
    return Outcome(not problems, value, "日志留存≥%d 天" % days, detail, {"logrotate_fixes": fixes})


def _too_open(st, forbidden):
    return st["owner"] != "root" or bool(st["mode"] & forbidden)


@_not_installed
def audit_log_protection(facts, _s):
    conf = _auditd_conf(facts)
    directory = os.path.dirname(conf.get("log_file", "/var/log/audit/audit.log"))
    st = facts.stat(directory)
    if st is None:
        raise _NotInstalled("审计日志目录 %s 不存在" % directory)
    problems, files = [], []
    if _too_open(st, 0o027):
        problems.append("%s %s %04o" % (directory, st["owner"], st["mode"]))
    for name in facts.listdir(directory):
        path = os.path.join(directory, name)
        fst = facts.stat(path)
        if fst is not None and not fst["isdir"] and _too_open(fst, 0o137):
            files.append(path)
            problems.append("%s %s %04o" % (path, fst["owner"], fst["mode"]))
    value = "%s：%s" % (directory, join(problems, "属主 root，权限不宽于 0750/0640"))
    detail = "审计日志仅 root 可写，其他用户不可读。" if not problems else \
        "审计日志可被非授权用户读取或修改：%s。" % join(problems)
    return Outcome(not problems, value, "目录≤0750、文件≤0640，属主 root", detail,
                   {"directory": directory, "directory_open": _too_open(st, 0o027), "files": files})


@_not_installed
def audit_process_protection(facts, s):
    files, rules = _rule_files(facts)
    problems = []
    unit = _units(facts, ["auditd"]).get("auditd.service", {})
    if unit.get("RefuseManualStop") != "yes":
        problems.append("auditd.service 可被 systemctl stop 停止（RefuseManualStop=%s）"
                        % unit.get("RefuseManualStop", "?"))
    if not any(_writes(r, "/etc/audit") for r in rules):
        problems.append("未审计 /etc/audit 配置修改")
    # /sbin/auditctl and /sbin/auditd on every supported system (/sbin is /usr/sbin on merged-/usr
    # ones): a rule on either path covers the tool.
    tools = ["/sbin/" + t for t in AUDIT_TOOLS]
    unwatched = [t for t in tools if not any(_executes(r, p) for r in rules for p in _tool_paths(t))]
    if unwatched:
        problems.append("未审计 %s 的执行" % join(unwatched))
    immutable = any(hp.audit_immutable(t) for _p, t in files)
    if s["audit_immutable"] and not immutable:
        problems.append("审计规则未锁定（-e 2）")
    value = "RefuseManualStop=%s；规则锁定：%s；%s" % (
        unit.get("RefuseManualStop", "?"), "是" if immutable else "否",
        join(problems, "审计配置和工具的使用均被审计"))
    detail = "审计进程不能被随意停止，对审计配置和工具的操作均被审计。" if not problems else \
        "审计进程保护不足：%s。" % join(problems)
    return Outcome(not problems, value, "auditd 拒绝手动停止；审计配置与工具受审计%s" % (
        "；规则锁定 -e 2" if s["audit_immutable"] else ""), detail,
        {"refuse_manual_stop": unit.get("RefuseManualStop") == "yes"})


def _tool_paths(path):
    name = os.path.basename(path)
    return (path, "/sbin/" + name, "/usr/sbin/" + name)


# --------------------------------------------------------------- 8.1.4.4 a, b

def minimal_install(facts, s):
    names = list(s["unneeded_packages"])
    if not names:
        return Outcome(True, "未配置多余软件包清单", "无", "未配置需要移除的软件包。")
    if facts.which("dpkg-query"):
        # dpkg-query and rpm expand the backslash-n of their formats themselves.
        argv = ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\\n"] + names
        _rc, out, _err = facts.command("dpkg-query", argv)
        installed = hp.parse_dpkg_query(out)
    elif facts.which("rpm"):
        _rc, out, _err = facts.command("rpm", ["rpm", "-q", "--qf", "%{NAME}\\n"] + names)
        installed = hp.parse_rpm_query(out)
    else:
        raise SourceError("既无 dpkg-query 也无 rpm")
    found = sorted(set(names) & installed)
    detail = "未安装清单中的多余软件包。" if not found else "安装了不需要的软件包：%s。" % join(found)
    return Outcome(not found, "已安装：%s" % join(found), "不安装 %s" % join(names), detail,
                   {"packages": found})


def unneeded_services(facts, s):
    names = list(s["unneeded_services"])
    if not names:
        return Outcome(True, "未配置多余服务清单", "无", "未配置需要关闭的服务。")
    units = _units(facts, names)
    running = sorted(uid for uid, u in units.items() if u.get("LoadState") == "loaded" and (
        u.get("ActiveState") in ("active", "activating", "reloading")
        or u.get("UnitFileState") in ("enabled", "enabled-runtime")))
    detail = "清单中的多余服务均未运行且未设为开机启动。" if not running else \
        "不需要的服务在运行或开机启动：%s。" % join(running)
    return Outcome(not running, "运行或开机启动：%s" % join(running), "关闭 %s" % join(names), detail,
                   {"units": running})


def _listening(facts):
    tcp = listening_ports(facts.text("/proc/net/tcp") or "", facts.text("/proc/net/tcp6") or "")
    udp = set()
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        udp |= set(port for port, _a in hp.udp_bound_ports(facts.text(path) or ""))
    return tcp["sockets"], udp


def high_risk_ports(facts, s):
    sockets, udp = _listening(facts)
    tcp_hits = sorted(set("%s:%d/tcp" % (x["address"], x["port"]) for x in sockets
                          if x["port"] in s["high_risk_tcp_ports"]))
    udp_hits = sorted("%d/udp" % p for p in udp if p in s["high_risk_udp_ports"])
    hits = tcp_hits + udp_hits
    threshold = "不监听 TCP %s，UDP %s" % (join(s["high_risk_tcp_ports"]), join(s["high_risk_udp_ports"]))
    detail = "未监听高危端口。" if not hits else "监听了高危端口：%s。" % join(hits)
    return Outcome(not hits, "高危端口监听：%s" % join(hits), threshold, detail)


def _persisted_sysctl(facts):
    """Values the boot applies: *.conf of the sysctl.d directories by file name (/etc wins a
    name), then /etc/sysctl.conf; the last setting of a key wins."""
    by_name = {}
    for directory in ("/usr/lib/sysctl.d", "/lib/sysctl.d", "/run/sysctl.d", "/etc/sysctl.d"):
        for path, text in facts.conf_dir(directory):
            by_name[os.path.basename(path)] = text
    values = {}
    for name in sorted(by_name):
        values.update(hp.parse_sysctl_conf(by_name[name]))
    values.update(hp.parse_sysctl_conf(facts.text("/etc/sysctl.conf") or ""))
    return values


def sysctl_network(facts, s):
    persisted = _persisted_sysctl(facts)
    present, wrong, absent = {}, [], []
    for key, value in sorted(s["sysctl"].items()):
        wanted = " ".join(str(value).split())
        live = facts.sysctl(key)
        if live is None:
            absent.append(key)
            continue
        present[key] = wanted
        if live != wanted:
            wrong.append("%s=%s" % (key, live))
        elif key in persisted and persisted[key] != wanted:
            # Not set in any file, the boot keeps the kernel's default, which is the live value.
            wrong.append("%s 重启后将变为 %s" % (key, persisted[key]))
    value = "不符合：%s；内核无此参数：%s" % (join(wrong), join(absent))
    detail = "内核网络参数（转发、重定向、源路由、SYN cookies 等）已按基线设置并持久化。" if not wrong else \
        "内核网络参数不符合基线：%s。" % join(wrong)
    return Outcome(not wrong, value, join(["%s=%s" % kv for kv in sorted(s["sysctl"].items())]), detail,
                   {"present": present})
