# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-01: which updates a host has, which of them are security fixes, and whether it needs a reboot.

Parsers of the package managers' own output (always read under LC_ALL=C, since Kylin and
openEuler hosts run in zh_CN and would translate it), and the plans built from them. The
plans take `run(argv) -> (rc, stdout, stderr)` so that tests feed recorded output.
Runs on managed hosts: Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from fnmatch import fnmatchcase

# The package managers print English only in the C locale; the parsers below read English.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}

# Packages whose update only takes effect after a reboot, whatever the reboot flags say.
KERNEL_PATTERNS = ("linux-image-*", "kernel", "kernel-core", "kernel-uek", "kernel-uek-core",
                   "kernel-modules", "kernel-modules-core", "kernel-rt*")

# An apt transaction that still needs an excluded package after this many rounds of dropping
# the packages that pull it in is given up (nothing is selected) rather than searched forever.
MAX_APT_ROUNDS = 10


def is_excluded(name, patterns):
    """The first shell pattern (e.g. oracle*) matching the package name, or None.

    An architecture suffix (libaio1:i386, libaio.x86_64) does not hide a package from its pattern.
    """
    bare = name.split(":", 1)[0]
    for pattern in patterns or ():
        if fnmatchcase(name, pattern) or fnmatchcase(bare, pattern):
            return pattern
    return None


def is_kernel(name):
    return is_excluded(name, KERNEL_PATTERNS) is not None


# ---------------------------------------------------------------- Debian family (apt, dpkg)

_INST = re.compile(r"^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) (.*?)\s*\[([^\]]+)\]\)")
_REMV = re.compile(r"^Remv (\S+)(?: \[([^\]]*)\])?")
_UNMET = re.compile(r"^ (\S+) : (?:Pre)?Depends|^ (\S+) : (?:Breaks|Conflicts)")


def parse_apt_simulation(text):
    """`apt-get -s dist-upgrade` / `apt-get -s install ...` output.

    {"install": [{name, current (None for a new package), available, origins, arch}],
     "remove": [{name, current}]}; `Conf` and the summary lines are ignored.
    """
    install, remove = [], []
    for line in text.splitlines():
        match = _INST.match(line)
        if match:
            name, current, available, origins, arch = match.groups()
            install.append({
                "name": name, "current": current or None, "available": available,
                "origins": [o.strip() for o in origins.split(",") if o.strip()], "arch": arch,
            })
            continue
        match = _REMV.match(line)
        if match:
            remove.append({"name": match.group(1), "current": match.group(2) or None})
    return {"install": install, "remove": remove}


def apt_origin_is_security(origins):
    """Debian-Security:12/stable-security, Ubuntu:22.04/jammy-security: the suite says so."""
    return any("security" in origin.lower() for origin in origins)


def parse_apt_unmet(text):
    """Packages named in apt's 'The following packages have unmet dependencies' block."""
    names = []
    for line in text.splitlines():
        match = _UNMET.match(line)
        if match:
            name = match.group(1) or match.group(2)
            if name not in names:
                names.append(name)
    return names


def parse_apt_list_upgradable(text):
    """`apt list --upgradable`: [{name, available, suites, arch, current}] (a cross-check for operators)."""
    result = []
    for line in text.splitlines():
        match = re.match(r"^(\S+?)/(\S+) (\S+) (\S+) \[upgradable from: ([^\]]+)\]", line)
        if match:
            name, suites, available, arch, current = match.groups()
            result.append({"name": name, "suites": suites.split(","), "available": available,
                           "arch": arch, "current": current})
    return result


DPKG_QUERY = ["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\t${db:Status-Abbrev}\\t${Architecture}\\n"]


def parse_dpkg_query(text, native_arch=None):
    """name -> version of the installed packages (status ii, or half-done states on the way).

    Packages of the native architecture (or `all`) keep their bare name, as apt prints them;
    a foreign-architecture one is named like libc6:i386.
    """
    installed = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or len(parts[2]) < 2 or parts[2][1] not in "iUFWt" or not parts[1]:
            continue
        arch = parts[3].strip() if len(parts) > 3 else ""
        name = parts[0]
        if arch and native_arch and arch not in (native_arch, "all"):
            name = "%s:%s" % (name, arch)
        installed[name] = parts[1]
    return installed


# ---------------------------------------------------------------- RedHat family (dnf, yum, rpm)

def split_nevra(text):
    """openssl-libs-1:3.0.7-25.el9_3.x86_64 -> {name, epoch, version, release, arch}, or None."""
    text = text.strip()
    if text.endswith(".rpm"):
        text = text[:-4]
    base, dot, arch = text.rpartition(".")
    if not dot or not base:
        return None
    rest, dash, release = base.rpartition("-")
    if not dash:
        return None
    name, dash, version = rest.rpartition("-")
    if not dash or not name:
        return None
    epoch = "0"
    if ":" in version:
        epoch, version = version.split(":", 1)
    elif ":" in name:  # name-epoch:version form seen in some yum output: ignore the odd layout
        return None
    return {"name": name, "epoch": epoch, "version": version, "release": release, "arch": arch}


def evr(epoch, version, release):
    """An RPM version as operators read it: the epoch only when it is not 0."""
    epoch = str(epoch or "0")
    text = "%s-%s" % (version, release)
    return text if epoch in ("0", "(none)", "") else "%s:%s" % (epoch, text)


def _plain_evr(text):
    return text[2:] if text.startswith("0:") else text


_VERSION_TOKEN = re.compile(r"^(\d+:)?[^\s:-]+-[^\s:-]+$")
_NAME_ARCH = re.compile(r"^(\S+)\.([A-Za-z0-9_]+)$")


def parse_check_update(text):
    """`dnf/yum check-update` (exit 100 when there are updates): [{name, arch, available, repo}].

    Long names push the version onto the next line, so the tokens are read as a stream of
    name.arch / version / repository triples; the 'Obsoleting Packages' block ends the list.
    """
    updates = []
    pending = []
    for line in text.splitlines():
        if line.strip().lower().startswith("obsoleting packages"):
            break
        tokens = line.split()
        if not tokens:
            pending = []
            continue
        if not pending and not _NAME_ARCH.match(tokens[0]):
            continue  # 'Last metadata expiration check', 'Security: ...', plugin chatter
        pending.extend(tokens)
        if len(pending) < 3:
            continue
        name_arch, version, repo = pending[:3]
        pending = []
        match = _NAME_ARCH.match(name_arch)
        if not match or not _VERSION_TOKEN.match(version):
            continue
        updates.append({"name": match.group(1), "arch": match.group(2),
                        "available": _plain_evr(version), "repo": repo})
    return updates


def parse_updateinfo(text):
    """`dnf updateinfo list --security` / `yum updateinfo list security`:
    {name: [advisory, ...]} of the packages with a security advisory."""
    found = {}
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 3:
            continue
        advisory, kind, package = tokens[0], tokens[1], tokens[-1]
        if "sec" not in kind.lower():
            continue
        nevra = split_nevra(package)
        if nevra is None:
            continue
        advisories = found.setdefault(nevra["name"], [])
        if advisory not in advisories:
            advisories.append(advisory)
    return found


RPM_QUERY = ["rpm", "-qa", "--qf", "%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n"]


def parse_rpm_qa(text):
    """name -> version; several installed versions (kernels) are joined with ', ' in sorted order."""
    versions = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0] or parts[0] == "gpg-pubkey":
            continue
        found = versions.setdefault(parts[0], [])
        version = _plain_evr(parts[1])
        if version not in found:
            found.append(version)
    return dict((name, ", ".join(sorted(found))) for name, found in versions.items())


def parse_needs_restarting(rc, stdout):
    """`needs-restarting -r`: (True/False, reasons), or (None, []) when it could not tell.

    Exit 1 means a reboot is needed, 0 that it is not; anything else (not installed, an old
    yum-utils without -r) is unknown.
    """
    reasons = [line.strip()[2:].strip() for line in stdout.splitlines()
               if line.strip().startswith("* ")]
    if rc == 1 and "reboot is required" in stdout.lower():
        return True, reasons
    if rc == 0 and "reboot should not be necessary" in stdout.lower():
        return False, []
    return None, []


# ---------------------------------------------------------------- plans

def _update(name, arch, current, available, security, origin, exclude):
    return {"name": name, "arch": arch, "current": current, "available": available,
            "security": bool(security), "origin": origin,
            "excluded_by": is_excluded(name, exclude)}


def _plan(manager, updates, security_only):
    """Which of the updates this mode installs: excluded ones never, non-security ones only in 'all'."""
    selected = [u["name"] for u in updates
                if not u["excluded_by"] and (u["security"] or not security_only)]
    return {"manager": manager, "updates": updates, "selected": selected, "held": [],
            "removals": [], "pulled": [], "apt_install": [], "error": None}


def apt_plan(run, exclude, security_only):
    """Plan for apt: simulate dist-upgrade, choose, then simulate installing exactly that choice
    with every excluded upgradable package pinned at its installed version, so nothing excluded
    moves even as a dependency (no apt-mark hold is left behind if the run is cut off)."""
    rc, out, err = run(["apt-get", "-s", "-q", "dist-upgrade"])
    if rc != 0:
        plan = _plan("apt", [], security_only)
        plan["error"] = "apt-get -s dist-upgrade 失败（退出码 %s）：%s" % (rc, _last_line(err or out))
        return plan
    sim = parse_apt_simulation(out)
    updates = [_update(i["name"], i["arch"], i["current"], i["available"],
                       apt_origin_is_security(i["origins"]), ", ".join(i["origins"]), exclude)
               for i in sim["install"] if i["current"]]
    plan = _plan("apt", updates, security_only)
    plan["removals"] = [r["name"] for r in sim["remove"]]
    pins = ["%s=%s" % (u["name"], u["current"]) for u in updates if u["excluded_by"]]
    versions = dict((u["name"], u["available"]) for u in updates)
    selected = list(plan["selected"])
    for _round in range(MAX_APT_ROUNDS):
        if not selected:
            break
        argv = ["apt-get", "-s", "-q", "install", "--no-install-recommends"]
        argv += ["%s=%s" % (name, versions[name]) for name in selected] + pins
        rc, out, err = run(argv)
        if rc == 0:
            # What apt adds on its own: new packages (a new kernel ABI) and, in security mode,
            # upgrades a security fix depends on.
            plan["pulled"] = [{"name": i["name"], "current": i["current"], "available": i["available"]}
                              for i in parse_apt_simulation(out)["install"] if i["name"] not in selected]
            break
        blamed = [name for name in parse_apt_unmet(out + "\n" + err) if name in selected]
        if not blamed:  # apt names only excluded packages, or fails otherwise: choose nothing
            plan["held"] += [{"name": name, "reason": _last_line(err or out)} for name in selected]
            selected = []
            break
        for name in blamed:
            plan["held"].append({"name": name, "reason": "依赖被排除的软件包的新版本"})
            selected.remove(name)
    else:
        plan["held"] += [{"name": name, "reason": "依赖计算超过 %d 轮" % MAX_APT_ROUNDS}
                         for name in selected]
        selected = []
    plan["selected"] = selected
    plan["apt_install"] = ["%s=%s" % (name, versions[name]) for name in selected]
    return plan


def rpm_plan(run, manager, exclude, security_only, installed):
    """Plan for dnf/yum: check-update (exit 100 = updates), classified by updateinfo --security."""
    tool = "yum" if manager == "yum" else "dnf"
    rc, out, err = run([tool, "-q", "check-update"])
    if rc not in (0, 100):
        plan = _plan(manager, [], security_only)
        plan["error"] = "%s check-update 失败（退出码 %s）：%s" % (tool, rc, _last_line(err or out))
        return plan
    available = parse_check_update(out)
    info_argv = ([tool, "-q", "updateinfo", "list", "security"] if tool == "yum"
                 else [tool, "-q", "updateinfo", "list", "--security"])
    info_rc, info_out, info_err = run(info_argv)
    security = parse_updateinfo(info_out) if info_rc == 0 else {}
    updates = [_update(a["name"], a["arch"], installed.get(a["name"]), a["available"],
                       a["name"] in security, a["repo"], exclude) for a in available]
    plan = _plan(manager, updates, security_only)
    if info_rc != 0:
        plan["error"] = ("%s updateinfo 失败（退出码 %s），无法区分安全更新：%s"
                         % (tool, info_rc, _last_line(info_err or info_out)))
        if security_only:
            plan["selected"] = []
    return plan


def _last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "无输出"


# ---------------------------------------------------------------- installed versions, reboot

def installed_versions(run, family):
    """name -> version of every installed package, or raise RuntimeError."""
    argv = DPKG_QUERY if family == "Debian" else RPM_QUERY
    rc, out, err = run(argv)
    if rc != 0:
        raise RuntimeError("%s 失败（退出码 %s）：%s" % (argv[0], rc, _last_line(err or out)))
    if family != "Debian":
        return parse_rpm_qa(out)
    arch_rc, arch_out, _err = run(["dpkg", "--print-architecture"])
    return parse_dpkg_query(out, arch_out.strip() if arch_rc == 0 else None)


def diff_installed(before, after):
    """[{name, before, after}] of the packages whose version changed, appeared or went away."""
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append({"name": name, "before": old, "after": new})
    return changes


def reboot_status(family, changed_names, flag_text=None, flag_pkgs_text="", needs_restarting=None):
    """Does the host need a reboot? (required, reasons).

    Debian: /var/run/reboot-required (flag_text is its content, None when absent), its .pkgs
    list; RedHat: needs-restarting -r as (rc, stdout) or None when absent. On both, a kernel
    package changed in this run needs a reboot even when the tools say nothing (Debian creates
    the flag only with unattended-upgrades or update-notifier installed).
    """
    reasons = []
    required = False
    if family == "Debian":
        if flag_text is not None:
            required = True
            pkgs = [p.strip() for p in (flag_pkgs_text or "").splitlines() if p.strip()]
            listed = "、".join(pkgs) if pkgs else "未列出软件包"
            reasons.append("/var/run/reboot-required 存在（%s）" % listed)
    elif needs_restarting is not None:
        said, listed = parse_needs_restarting(*needs_restarting)
        if said:
            required = True
            reasons.append("needs-restarting -r：%s" % ("、".join(listed) or "需要重启"))
    kernels = [name for name in changed_names if is_kernel(name)]
    if kernels:
        required = True
        reasons.append("内核软件包已更新（%s）" % "、".join(sorted(kernels)))
    return required, reasons
