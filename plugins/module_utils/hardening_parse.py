# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for the files and command outputs the 等保 baseline audit reads (text in, data out).

Runs on managed hosts: valid on Python 3.7, standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex


def _lines(text):
    """Non-empty lines with comments removed and backslash continuations joined."""
    joined = re.sub(r"\\\n", " ", text or "")
    for raw in joined.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            yield line


def parse_kv(text, sep=None):
    """`KEY VALUE` (sep None) or `key = value` files; the last setting of a key wins.

    A line without the separator (a flag such as `enforce_for_root`) maps to True.
    """
    values = {}
    for line in _lines(text):
        if sep is None:
            parts = line.split(None, 1)
            values[parts[0]] = parts[1].strip() if len(parts) > 1 else True
        elif sep in line:
            key, _, value = line.partition(sep)
            values[key.strip()] = value.strip()
        else:
            values[line] = True
    return values


def parse_ini_section(text, section):
    """`Key=Value` lines of one [section] of a systemd-style file (journald.conf)."""
    values, current = {}, None
    for line in _lines(text):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == section and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def parse_sshd_T(text):  # noqa: N802 - named after the command (sshd -T)
    """`sshd -T` output: keyword (lower case) -> list of values (one per line printed)."""
    config = {}
    for line in (text or "").splitlines():
        parts = line.strip().split(None, 1)
        if parts:
            config.setdefault(parts[0].lower(), []).append(parts[1] if len(parts) > 1 else "")
    return config


def openssh_version(text):
    """(major, minor) from `ssh -V` (e.g. OpenSSH_9.2p1 ...), or None."""
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def sshd_includes(text):
    """Include patterns of an sshd_config, in order."""
    found = []
    for line in _lines(text):
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "include":
            found.extend(parts[1].split())
    return found


# ------------------------------------------------------------------------ PAM

_PAM_LINE = re.compile(r"^(-?)(auth|account|password|session)\s+(\[[^\]]*\]|\S+)\s*(\S*)\s*(.*)$", re.I)


def parse_pam(text):
    """Entries of one /etc/pam.d file: dicts type/control/module/args, or include/substack
    entries (`@include x` on Debian, `type include x` elsewhere) with module = the file named."""
    entries = []
    for line in _lines(text):
        if line.startswith("@include"):
            parts = line.split()
            if len(parts) > 1:
                entries.append({"type": "*", "control": "include", "module": parts[1], "args": []})
            continue
        match = _PAM_LINE.match(line)
        if not match:
            continue
        _dash, ptype, control, module, args = match.groups()
        entries.append({"type": ptype.lower(), "control": control, "module": module,
                        "args": args.split()})
    return entries


def pam_stack(service, files, ptype, depth=0):
    """The flattened `ptype` stack of a PAM service, includes and substacks resolved.

    files maps a /etc/pam.d file name to its text (a missing file contributes nothing).
    """
    if depth > 8 or service not in files:
        return []
    stack = []
    for entry in parse_pam(files[service]):
        if entry["control"] in ("include", "substack") and entry["type"] in ("*", ptype):
            stack.extend(pam_stack(entry["module"], files, ptype, depth + 1))
        elif entry["type"] == ptype:
            stack.append(entry)
    return stack


def module_name(module):
    """pam_faillock.so from /usr/lib64/security/pam_faillock.so."""
    return module.rsplit("/", 1)[-1]


def pam_args(entry):
    """Arguments of a PAM entry: key=value -> value, bare flags -> True."""
    values = {}
    for arg in entry["args"]:
        key, sep, value = arg.partition("=")
        values[key] = value if sep else True
    return values


# ------------------------------------------------------------------ accounts

def parse_passwd(text):
    """Accounts of /etc/passwd, in file order: name, uid, gid, home, shell, passwd_empty."""
    accounts = []
    for raw in (text or "").splitlines():
        fields = raw.split(":")
        if len(fields) < 7 or not fields[0] or fields[0].startswith(("+", "-")):
            continue
        try:
            uid, gid = int(fields[2]), int(fields[3])
        except ValueError:
            continue
        # Only whether the password field is empty is kept, never its content.
        accounts.append({"name": fields[0], "uid": uid, "gid": gid, "home": fields[5],
                         "shell": fields[6].strip(), "passwd_empty": fields[1] == ""})
    return accounts


def _int_or_none(field):
    try:
        return int(field)
    except ValueError:
        return None


def password_state(field):
    """What a shadow password field means, without keeping it: empty, locked or usable."""
    if field == "":
        return "empty"
    if field.startswith(("!", "*")):
        return "locked"
    return "usable"


def parse_shadow(text):
    """/etc/shadow as name -> state and ageing fields. The password hash is never kept."""
    accounts = {}
    for raw in (text or "").splitlines():
        fields = raw.split(":")
        if len(fields) < 9 or not fields[0]:
            continue
        accounts[fields[0]] = {
            "state": password_state(fields[1]),
            "lastchg": _int_or_none(fields[2]), "min": _int_or_none(fields[3]),
            "max": _int_or_none(fields[4]), "warn": _int_or_none(fields[5]),
            "inactive": _int_or_none(fields[6]), "expire": _int_or_none(fields[7]),
        }
    return accounts


def parse_group(text):
    """/etc/group as name -> {gid, members}."""
    groups = {}
    for raw in (text or "").splitlines():
        fields = raw.split(":")
        if len(fields) < 4 or not fields[0]:
            continue
        members = [m for m in fields[3].strip().split(",") if m]
        groups[fields[0]] = {"gid": _int_or_none(fields[2]), "members": members}
    return groups


# ---------------------------------------------------------------- audit rules

# auditctl option -> what it sets in a rule.
_AUDIT_OPTIONS = {"-w": "path", "-p": "perms", "-k": "key", "-a": "action"}


def _audit_field(rule, value):
    """One `-F name<op>value` of a rule."""
    if re.search(r"[=<>&]", value):
        name, op, field_value = re.split(r"(!=|>=|<=|=|>|<|&=|&)", value, maxsplit=1)
    else:
        name, op, field_value = value, "", ""
    rule["fields"][name] = (op, field_value)
    if name == "key":
        rule["key"] = field_value


def _audit_fields(tokens):
    rule = {"fields": {}, "syscalls": set(), "key": None}
    for index, option in enumerate(tokens):
        value = tokens[index + 1] if index + 1 < len(tokens) else ""
        if option in _AUDIT_OPTIONS:
            rule[_AUDIT_OPTIONS[option]] = value
            if option in ("-w", "-a"):
                rule["kind"] = "watch" if option == "-w" else "syscall"
        elif option == "-S":
            rule["syscalls"].update(value.split(","))
        elif option == "-F":
            _audit_field(rule, value)
    return rule


def parse_audit_rules(text):
    """Watch and syscall rules of audit rule files or `auditctl -l` (control lines skipped).

    Each rule: kind watch (path, perms) or syscall (action, syscalls, fields {name: (op, value)}),
    and key. `-a always,exit -F path=X -F perm=x` is kept as a syscall rule with its fields.
    """
    rules = []
    for line in _lines(text):
        if not line.startswith(("-w", "-a")):
            continue
        try:
            tokens = shlex.split(line)
        except ValueError:
            continue
        rule = _audit_fields(tokens)
        if rule.get("kind"):
            rules.append(rule)
    return rules


def audit_immutable(text):
    """True if the rules set `-e 2` (locked until reboot)."""
    return any(re.match(r"^-e\s+2\b", line) for line in _lines(text))


def parse_auditctl_status(text):
    """`auditctl -s`: key -> value (enabled, pid, ...)."""
    values = {}
    for line in (text or "").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            values[parts[0]] = parts[1].strip()
    return values


# --------------------------------------------------------------------- logrotate

PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "yearly": 366}


def _logrotate_directive(directive, block, number):
    words = directive.split()
    name = words[0]
    if name in PERIOD_DAYS:
        block["period"] = name
    elif name in ("rotate", "maxage") and len(words) > 1 and words[1].lstrip("-").isdigit():
        block[name] = int(words[1])
        block[name + "_line"] = number
    elif name in ("size", "maxsize", "minsize"):
        block["size"] = True


def parse_logrotate(text):
    """A logrotate file: its global directives and its stanzas, with the line numbers of
    `rotate`/`maxage` (0-based) so a fix can change them in place.

    Returns {"global": {...}, "stanzas": [{"paths": [...], "period", "rotate", "maxage",
    "open_line", ...}]}; postrotate/prerotate script bodies are skipped.
    """
    result = {"global": {}, "stanzas": []}
    pending_paths, stanza, in_script = [], None, False
    for number, raw in enumerate((text or "").splitlines()):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word = line.split()[0]
        if in_script:
            in_script = word != "endscript"
            continue
        if word in ("postrotate", "prerotate", "firstaction", "lastaction", "preremove"):
            in_script = True
            continue
        if stanza is None and "{" in line:
            before = line.split("{", 1)[0].split()
            stanza = {"paths": pending_paths + before, "open_line": number}
            pending_paths = []
            continue
        if stanza is not None and line.startswith("}"):
            result["stanzas"].append(stanza)
            stanza = None
            continue
        if stanza is not None:
            _logrotate_directive(line, stanza, number)
        elif line.startswith("/") or line.startswith('"'):
            pending_paths.extend(line.split())
        else:
            _logrotate_directive(line, result["global"], number)
    return result


# ------------------------------------------------------------------ sysctl

def parse_sysctl_conf(text):
    """key -> value of a sysctl.d file (keys with / normalised to dots; a leading - dropped)."""
    values = {}
    for line in _lines(text):
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().lstrip("-").replace("/", ".")
        values[key] = " ".join(value.split())
    return values


# ------------------------------------------------------------------ misc

def parse_os_release(text):
    values = {}
    for line in _lines(text):
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def parse_unit_states(text):
    """`systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -- units`: Id -> props."""
    units, current = {}, {}
    for line in (text or "").splitlines() + [""]:
        if not line.strip():
            if current.get("Id"):
                units[current["Id"]] = current
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    return units


def parse_dpkg_query(text):
    """Installed package names from `dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n'`."""
    installed = set()
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("ii"):
            installed.add(parts[0].split(":", 1)[0])
    return installed


def parse_rpm_query(text):
    """Installed package names from `rpm -q --qf '%{NAME}\\n' ...` (misses say `is not installed`)."""
    return set(line.strip() for line in (text or "").splitlines()
               if line.strip() and " " not in line.strip())


def udp_bound_ports(text):
    """UDP sockets bound to a port (state 07) in /proc/net/udp or udp6: (port, local hex address)."""
    sockets = set()
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].endswith(":") or fields[3] != "07":
            continue
        address, _, port = fields[1].partition(":")
        sockets.add((int(port, 16), address))
    return sockets


def umask_value(text):
    """The octal value of `umask NNN` / `UMASK NNN`, or None."""
    match = re.match(r"^0?([0-7]{3})$", (text or "").strip())
    return int(match.group(1), 8) if match else None
