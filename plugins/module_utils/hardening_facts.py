# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the 等保 baseline audit reads from a host, read once and cached.

Checks ask a Facts object for files, directory listings, stat results and command outputs; a
real host answers through HostReader, the unit tests through a reader over recorded inputs.
A source that cannot be read raises SourceError, which the audit turns into an `error` record
for the controls that needed it. Runs on managed hosts: valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import os
import pwd
import stat as stat_module

from ansible_collections.gxtax.ops.plugins.module_utils import hardening_parse as hp

# Commands, by name; argv[0] is looked up on the PATH and the sbin directories.
COMMANDS = {
    "sshd_T": ["sshd", "-T"],
    "sshd_t": ["sshd", "-t"],
    "ssh_V": ["ssh", "-V"],
    "auditctl_l": ["auditctl", "-l"],
    "auditctl_s": ["auditctl", "-s"],
}
SEARCH_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin")


class SourceError(Exception):
    """A file or command a check needs could not be read; the message is Chinese."""


class HostReader(object):
    """The real host: files, stat and commands (run_command as AnsibleModule gives it)."""

    def __init__(self, run_command):
        self._run = run_command

    def read(self, path):
        """Text of path, None if it does not exist; OSError for anything else."""
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def listdir(self, path):
        try:
            return sorted(os.listdir(path))
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def stat(self, path):
        try:
            st = os.lstat(path)
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise
        return {"mode": stat_module.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                "owner": _name(pwd.getpwuid, st.st_uid), "group": _name(grp.getgrgid, st.st_gid),
                "isdir": stat_module.S_ISDIR(st.st_mode), "islink": stat_module.S_ISLNK(st.st_mode)}

    def which(self, name):
        for directory in os.environ.get("PATH", "").split(os.pathsep) + list(SEARCH_DIRS):
            candidate = os.path.join(directory, name)
            if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    def run(self, argv):
        """(rc, stdout, stderr); rc None when the program does not exist."""
        path = self.which(argv[0])
        if path is None:
            return None, "", "%s: not found" % argv[0]
        rc, out, err = self._run([path] + list(argv[1:]))
        return rc, out, err


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


class Facts(object):
    """Cached access to one host for the checks."""

    def __init__(self, reader, today=None):
        self.reader = reader
        self.today = today  # days since 1970-01-01, for shadow expiry dates
        self._cache = {}

    def _cached(self, key, func):
        if key not in self._cache:
            try:
                self._cache[key] = ("ok", func())
            except (IOError, OSError) as exc:
                self._cache[key] = ("error", "%s（%s）" % (key[1], getattr(exc, "strerror", None) or exc))
        state, value = self._cache[key]
        if state == "error":
            raise SourceError("无法读取 %s" % value)
        return value

    def text(self, path):
        """File text, None if missing."""
        return self._cached(("text", path), lambda: self.reader.read(path))

    def required_text(self, path, what=None):
        text = self.text(path)
        if text is None:
            raise SourceError("%s 不存在%s" % (path, "（%s）" % what if what else ""))
        return text

    def listdir(self, path):
        return self._cached(("listdir", path), lambda: self.reader.listdir(path)) or []

    def conf_dir(self, path, suffix=".conf"):
        """(path, text) of the files of a drop-in directory ending in suffix, in name order."""
        return [(os.path.join(path, name), self.text(os.path.join(path, name)) or "")
                for name in self.listdir(path) if name.endswith(suffix)]

    def stat(self, path):
        return self._cached(("stat", path), lambda: self.reader.stat(path))

    def command(self, name, argv=None):
        """(rc, stdout, stderr) of a command by name (COMMANDS) or of argv cached under name."""
        argv = argv or COMMANDS[name]
        return self._cached(("command", name), lambda: self.reader.run(argv))

    def which(self, name):
        return self._cached(("which", name), lambda: self.reader.which(name))

    def sysctl(self, key):
        """Live value of a kernel parameter from /proc/sys, None if the key does not exist."""
        text = self.text("/proc/sys/" + key.replace(".", "/"))
        return None if text is None else " ".join(text.split())

    # ---- parsed, shared by several checks
    def os_family(self):
        release = hp.parse_os_release(self.text("/etc/os-release") or "")
        ids = (release.get("ID", "") + " " + release.get("ID_LIKE", "")).lower().split()
        if "debian" in ids or "ubuntu" in ids:
            return "Debian"
        if set(ids) & {"rhel", "centos", "fedora", "kylin", "openeuler", "anolis", "rocky", "almalinux"}:
            return "RedHat"
        return "Debian" if self.which("dpkg-query") else "RedHat"

    def sshd(self):
        rc, out, err = self.command("sshd_T")
        if rc is None:
            raise SourceError("未找到 sshd")
        if rc != 0:
            raise SourceError("sshd -T 失败（rc=%s）：%s" % (rc, (err or out).strip()[:200]))
        return hp.parse_sshd_T(out)

    def passwd(self):
        return hp.parse_passwd(self.required_text("/etc/passwd"))

    def shadow(self):
        return hp.parse_shadow(self.required_text("/etc/shadow", "需要 root 权限读取"))

    def group(self):
        return hp.parse_group(self.required_text("/etc/group"))

    def login_defs(self):
        return hp.parse_kv(self.text("/etc/login.defs") or "")

    def pam_files(self):
        files = {}
        for name in self.listdir("/etc/pam.d"):
            text = self.text("/etc/pam.d/" + name)
            if text is not None:
                files[name] = text
        return files

    def audit_rule_files(self):
        """(path, text) of the persistent audit rules: rules.d/*.rules, else audit.rules."""
        files = self.conf_dir("/etc/audit/rules.d", ".rules")
        if not files and self.text("/etc/audit/audit.rules") is not None:
            files = [("/etc/audit/audit.rules", self.text("/etc/audit/audit.rules"))]
        return files

    def loaded_audit_rules(self):
        """Rules in the kernel (`auditctl -l`), or None when they cannot be read."""
        rc, out, _err = self.command("auditctl_l")
        return hp.parse_audit_rules(out) if rc == 0 else None


class Outcome(object):
    """What one check found: passed (bool), value (the evidence, text), threshold (what was
    required), detail (one Chinese sentence), findings (data the enforce mode acts on) and an
    optional status for a failure that is only a warning."""

    def __init__(self, passed, value, threshold, detail, findings=None, status=None):
        self.passed = bool(passed)
        self.value = value
        self.threshold = threshold
        self.detail = detail
        self.findings = findings or {}
        self.status = "ok" if passed else (status or "critical")


def join(items, empty="无"):
    """Chinese list: a、b、c (or `empty`)."""
    items = [str(i) for i in items]
    return "、".join(items) if items else empty
