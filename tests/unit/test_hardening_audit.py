"""SEC-01/SEC-03 等保2.0 baseline audit (gxtax.ops.hardening_audit) over recorded hosts.

fixtures/hardening/debian12_fresh.json and debian12_hardened.json hold everything the checks read
on a harness host (Debian 12, systemd flavour) before and after `playbooks/hardening.yml` in enforce
mode, recorded with fixtures/hardening/record.py (password hashes replaced at recording). Each
control is shown failing and passing on recorded input; a few inputs are edited in place to stand
for what a container cannot have (a running auditd, writable /proc/sys) or for RedHat-family stacks.
"""

import copy
import glob
import json
import os
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils import hardening_audit as ha
from ansible_collections.gxtax.ops.plugins.module_utils import hardening_logrotate as lr
from ansible_collections.gxtax.ops.plugins.module_utils import hardening_parse as hp
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_checks_identity import lockout_problems
from ansible_collections.gxtax.ops.plugins.module_utils.hardening_facts import Facts
from ansible_collections.gxtax.ops.plugins.module_utils.records import record_problems

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "hardening"
ROLE = ROOT / "roles" / "os_hardening"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
BIN = pathlib.Path(sys.executable).parent
# The settings the harness run used (tests/integration/test_os_hardening.py).
SETTINGS = {"admin_accounts": {"system": ["gxsys"], "audit": ["gxaud"], "security": ["gxsec"]},
            "ssh_allow_users": ["root", "gxsys", "oracle"]}
ALL = [c["name"] for c in ha.CONTROLS]


class Replay:
    """A host reader answering from a recording (see fixtures/hardening/record.py)."""

    def __init__(self, recorded):
        self.data = recorded

    def read(self, path):
        value = self.data["read"].get(path)
        if isinstance(value, dict):  # {"error": "..."}: an unreadable file
            raise PermissionError(13, value["error"])
        return value

    def listdir(self, path):
        return self.data["listdir"].get(path)

    def stat(self, path):
        return self.data["stat"].get(path)

    def which(self, name):
        return self.data["which"].get(name)

    def run(self, argv):
        found = self.data["run"].get(" ".join(argv))
        return tuple(found) if found else (None, "", "%s: not found" % argv[0])


def recorded(name):
    return json.loads((FIXTURES / (name + ".json")).read_text(encoding="utf-8"))


def edit(data, read=None, run=None, stat=None, which=None, listdir=None):
    data = copy.deepcopy(data)
    changes = {"read": read, "run": run, "stat": stat, "which": which, "listdir": listdir}
    for key, values in changes.items():
        data[key].update(values or {})
    return data


def audit(data, settings=None, controls=None):
    merged = dict(SETTINGS, **(settings or {}))
    records, summary, findings = ha.audit(Facts(Replay(data), today=data["today"]), merged, controls or ALL,
                                          "gxt-s1")
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record_problems(record) == []
    # Records come in catalogue order, whatever the order asked for.
    by_name = dict(zip([n for n in ALL if n in (controls or ALL)], records, strict=True))
    return by_name, summary, findings


FRESH = recorded("debian12_fresh")
HARDENED = recorded("debian12_hardened")
# Containers have no audit netlink and a read-only /proc/sys: what a real host says instead.
AUDITD_RUNNING = {
    "auditctl -s": [0, "enabled 1\nfailure 1\npid 812\nrate_limit 0\nbacklog_limit 8192\n", ""],
    "systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -p RefuseManualStop -- auditd.service":
        [0, "Id=auditd.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n"
            "RefuseManualStop=yes\n", ""],
}


def sysctl_live(values):
    return {"/proc/sys/" + key.replace(".", "/"): "%s\n" % value for key, value in values.items()}


# ------------------------------------------------------------------ whole hosts

EXPECTED_FAILING_WHEN_FRESH = {
    "password_complexity", "password_expiry", "password_history", "account_empty_passwords",
    "login_lockout", "session_timeout", "ssh_max_auth_tries", "default_accounts_locked", "unneeded_accounts",
    "default_umask", "admin_separation", "file_permissions", "auditd_service", "audit_rules",
    "audit_record_content", "audit_log_retention", "audit_log_protection", "audit_process_protection",
    "sysctl_network", "ssh_access",
}


def test_a_fresh_host_fails_exactly_the_controls_it_does_not_meet():
    records, summary, _ = audit(FRESH)
    failing = {name for name, r in records.items() if r["status"] != "ok"}
    assert failing == EXPECTED_FAILING_WHEN_FRESH
    assert {r["status"] for n, r in records.items() if n in failing} == {"critical"}
    for name, record in records.items():
        assert record["requirement_id"] == ha.BY_NAME[name]["id"]
        assert summary[name] == {"id": record["requirement_id"], "status": record["status"]}
        if record["status"] != "ok":
            assert record["direction"] and record["consequence"] and record["value"]


def test_the_hardened_host_passes_every_control_a_container_can_meet():
    records, _, _ = audit(HARDENED)
    failing = {name for name, r in records.items() if r["status"] != "ok"}
    # auditd cannot run in a container (no audit netlink); /proc/sys is read-only there.
    assert failing == {"auditd_service", "sysctl_network"}
    auditd = records["auditd_service"]
    assert "audit support not in kernel" in auditd["value"] + auditd["detail"]


def test_with_auditd_running_and_the_parameters_set_every_control_passes():
    data = edit(HARDENED, run=AUDITD_RUNNING,
                read=sysctl_live(ha.DEFAULT_SETTINGS["sysctl"]))
    records, _, _ = audit(data)
    assert {n: r["status"] for n, r in records.items() if r["status"] != "ok"} == {}


def test_records_carry_the_clause_of_each_control():
    records, _, _ = audit(HARDENED)
    assert records["login_lockout"]["requirement_id"] == "DJBH-8.1.4.1-b"
    assert records["login_lockout"]["item"] == "身份鉴别·登录失败锁定"
    assert records["audit_log_retention"]["requirement_id"] == "DJBH-8.1.4.3-c"
    assert records["ssh_access"]["requirement_id"] == "DJBH-8.1.4.4-c"


def test_no_password_hash_ever_leaves_the_audit():
    secret = "$6$Zx9secret$VerySecretHashValue0123456789"
    shadow = FRESH["read"]["/etc/shadow"].replace("$6$fixture$recorded-hash-removed", secret)
    assert secret in shadow
    data = edit(FRESH, read={"/etc/shadow": shadow})
    records, summary, findings = audit(data)
    dumped = json.dumps([records, summary, findings], ensure_ascii=False)
    assert "VerySecretHashValue" not in dumped and "Zx9secret" not in dumped
    assert hp.parse_shadow(shadow)["gxtest"] == {"state": "usable", "lastchg": 20784, "min": 0, "max": 99999,
                                                 "warn": 7, "inactive": None, "expire": None}


# ------------------------------------------------------------------ control by control
# (failing input, passing input, text the failing evidence or detail must contain)

def _pam(data, **files):
    return edit(data, read={"/etc/pam.d/" + k.replace("_", "-"): v for k, v in files.items()},
                listdir={"/etc/pam.d": sorted(set(data["listdir"]["/etc/pam.d"])
                                             | {k.replace("_", "-") for k in files})})


CUPS = "systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -p RefuseManualStop -- cups.service"


CASES = {
    "password_complexity": (FRESH, HARDENED, "无 pam_pwquality"),
    "password_expiry": (FRESH, HARDENED, "gxtest"),
    "password_history": (FRESH, HARDENED, "未启用口令历史"),
    "account_unique": (
        edit(HARDENED, read={"/etc/passwd": HARDENED["read"]["/etc/passwd"] + "toor:x:0:0::/root:/bin/sh\n"}),
        HARDENED, "toor"),
    "account_empty_passwords": (FRESH, HARDENED, "gxempty"),
    "ssh_empty_passwords": (
        edit(HARDENED, run={"sshd -T": [0, HARDENED["run"]["sshd -T"][1].replace(
            "permitemptypasswords no", "permitemptypasswords yes"), ""]}),
        HARDENED, "PermitEmptyPasswords yes"),
    "login_lockout": (FRESH, HARDENED, "pam_faillock"),
    "session_timeout": (FRESH, HARDENED, "TMOUT"),
    "ssh_max_auth_tries": (FRESH, HARDENED, "MaxAuthTries 6"),
    "ssh_protocol": (
        edit(HARDENED, run={"sshd -T": [0, HARDENED["run"]["sshd -T"][1].replace(
            "ciphers aes256-gcm@openssh.com", "ciphers aes128-cbc,aes256-gcm@openssh.com"), ""]}),
        FRESH, "aes128-cbc"),
    "ssh_root_login": (
        edit(HARDENED, run={"sshd -T": [0, HARDENED["run"]["sshd -T"][1].replace(
            "permitrootlogin without-password", "permitrootlogin yes"), ""]}),
        HARDENED, "PermitRootLogin yes"),
    "default_accounts_locked": (FRESH, HARDENED, "daemon"),
    "unneeded_accounts": (FRESH, HARDENED, "games"),
    "default_umask": (FRESH, HARDENED, "UMASK 022"),
    "admin_separation": (FRESH, HARDENED, "未配置" if False else "gxtax_sysadm"),
    "file_permissions": (FRESH, HARDENED, "/etc/ssh/sshd_config"),
    "auditd_service": (HARDENED, edit(HARDENED, run=AUDITD_RUNNING), "auditd"),
    "audit_rules": (FRESH, HARDENED, "未安装 auditd"),
    "audit_record_content": (
        edit(HARDENED, read={"/etc/audit/auditd.conf": HARDENED["read"]["/etc/audit/auditd.conf"].replace(
            "log_format = ENRICHED", "log_format = NOLOG")}),
        HARDENED, "NOLOG"),
    "audit_log_retention": (FRESH, HARDENED, "/etc/logrotate.conf"),
    "audit_log_protection": (
        edit(HARDENED, stat={"/var/log/audit": dict(HARDENED["stat"]["/var/log/audit"], mode=0o777)}),
        HARDENED, "0777"),
    "audit_process_protection": (FRESH, edit(HARDENED, run=AUDITD_RUNNING), "auditd"),
    "minimal_install": (
        edit(HARDENED, which={"dpkg-query": "/usr/bin/dpkg-query"}, run={
            "dpkg-query -W -f ${Package} ${db:Status-Abbrev}\\n telnetd rsh-server":
                [1, "telnetd ii \n", "dpkg-query: no packages found matching rsh-server\n"]}),
        edit(HARDENED, which={"dpkg-query": "/usr/bin/dpkg-query"}, run={
            "dpkg-query -W -f ${Package} ${db:Status-Abbrev}\\n telnetd rsh-server":
                [1, "telnetd un \n", "dpkg-query: no packages found matching rsh-server\n"]}),
        "telnetd"),
    "unneeded_services": (
        edit(HARDENED, run={CUPS: [0, "Id=cups.service\nLoadState=loaded\nActiveState=inactive\n"
                                      "UnitFileState=enabled\n", ""]}),
        edit(HARDENED, run={CUPS: [0, "Id=cups.service\nLoadState=not-found\nActiveState=inactive\n"
                                      "UnitFileState=\n", ""]}),
        "cups.service"),
    "high_risk_ports": (
        edit(HARDENED, read={"/proc/net/tcp": HARDENED["read"]["/proc/net/tcp"] +
                             "   9: 00000000:0017 00000000:0000 0A 00000000:00000000 00:00000000 "
                             "00000000     0        0 99999 1 0000000000000000 100 0 0 10 0\n"}),
        HARDENED, "0.0.0.0:23/tcp"),
    "sysctl_network": (HARDENED, edit(HARDENED, read=sysctl_live(ha.DEFAULT_SETTINGS["sysctl"])),
                       "net.ipv4.conf.all.accept_redirects=1"),
    "ssh_access": (FRESH, HARDENED, "AllowUsers 未设置"),
}
SETTINGS_FOR = {"minimal_install": {"unneeded_packages": ["telnetd", "rsh-server"]},
                "unneeded_services": {"unneeded_services": ["cups"]}}


def test_every_control_has_a_failing_and_a_passing_case():
    assert set(CASES) == set(ALL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_control_fails_and_passes_on_recorded_input(name):
    failing, passing, evidence = CASES[name]
    settings = SETTINGS_FOR.get(name)
    bad = audit(failing, settings, [name])[0][name]
    good = audit(passing, settings, [name])[0][name]
    assert bad["status"] == "critical", bad
    assert evidence in bad["value"] + bad["detail"], bad
    assert good["status"] == "ok", good
    assert good["direction"] is None and good["consequence"] is None


# ------------------------------------------------------------------ enforce findings

def test_findings_name_what_the_enforce_mode_changes():
    _, _, findings = audit(FRESH)
    assert findings["password_expiry"]["users"] == ["daemon", "gxtest"]  # oracle is exempt
    assert findings["account_empty_passwords"]["accounts"] == ["gxempty"]
    assert findings["default_accounts_locked"]["accounts"] == ["daemon"]
    assert findings["unneeded_accounts"]["accounts"] == ["games"]
    assert [f["path"] for f in findings["file_permissions"]["files"]] == ["/etc/ssh/sshd_config"]
    assert findings["file_permissions"]["files"][0]["mode"] == "0600"
    assert "/usr/bin/sudo" in findings["audit_rules"]["privileged_present"]
    fixes = findings["audit_log_retention"]["logrotate_fixes"]
    assert sorted(fixes) == ["/etc/logrotate.conf", "/etc/logrotate.d/btmp", "/etc/logrotate.d/wtmp"]
    assert "rotate 27" in fixes["/etc/logrotate.conf"]
    assert "rotate 6" in fixes["/etc/logrotate.d/btmp"]
    assert set(findings["sysctl_network"]["present"]) == set(ha.DEFAULT_SETTINGS["sysctl"])


def test_the_oracle_owner_keeps_its_shell_password_and_ageing():
    records, _, findings = audit(FRESH)
    for name in ("password_expiry", "default_accounts_locked", "unneeded_accounts",
                 "account_empty_passwords"):
        assert "oracle" not in json.dumps(findings[name])
    assert "豁免：oracle" in records["password_expiry"]["value"]
    records, _, findings = audit(FRESH, {"unneeded_accounts": ["games", "oracle"]})
    assert findings["unneeded_accounts"]["accounts"] == ["games"]


def test_nothing_found_on_a_hardened_host():
    _, _, findings = audit(HARDENED)
    assert findings["password_expiry"]["users"] == []
    assert findings["audit_log_retention"]["logrotate_fixes"] == {}
    assert findings["file_permissions"]["files"] == []


# ------------------------------------------------------------------ PAM of other families

EL8_SYSTEM_AUTH = """\
auth        required      pam_env.so
auth        required      pam_faillock.so preauth silent deny=4 unlock_time=900
auth        sufficient    pam_unix.so nullok try_first_pass
auth        [default=die] pam_faillock.so authfail deny=4 unlock_time=900
auth        required      pam_deny.so
account     required      pam_faillock.so
account     required      pam_unix.so
password    requisite     pam_pwquality.so try_first_pass local_users_only retry=3
password    requisite     pam_pwhistory.so remember=5 use_authtok
password    sufficient    pam_unix.so sha512 shadow nullok try_first_pass use_authtok
password    required      pam_deny.so
"""
EL_SSHD = "auth       substack     password-auth\naccount    include      password-auth\n"
EL_PASSWD = "password   substack     system-auth\n"
EL7_TALLY = """\
auth        required      pam_tally2.so deny=5 unlock_time=600 onerr=fail
auth        sufficient    pam_unix.so nullok try_first_pass
account     required      pam_tally2.so
password    requisite     pam_cracklib.so retry=3 minlen=8 dcredit=-1 ucredit=-1 lcredit=-1 ocredit=0
password    sufficient    pam_unix.so sha512 shadow nullok try_first_pass use_authtok remember=5
"""


def test_el8_authselect_stacks_are_followed_through_substack_and_include():
    data = _pam(HARDENED, system_auth=EL8_SYSTEM_AUTH, password_auth=EL8_SYSTEM_AUTH, sshd=EL_SSHD,
                login=EL_SSHD, passwd=EL_PASSWD)
    records, _, _ = audit(data, controls=["login_lockout", "password_history", "password_complexity"])
    assert records["login_lockout"]["status"] == "ok", records["login_lockout"]
    assert "deny=4 unlock_time=900" in records["login_lockout"]["value"]
    assert records["password_history"]["status"] == "ok"


def test_el7_tally2_and_cracklib_with_negative_credits_pass():
    data = _pam(HARDENED, system_auth=EL7_TALLY, password_auth=EL7_TALLY, sshd=EL_SSHD, login=EL_SSHD,
                passwd=EL_PASSWD)
    records, _, _ = audit(data, controls=["login_lockout", "password_history", "password_complexity"])
    assert {n: r["status"] for n, r in records.items()} == {
        "password_complexity": "ok", "password_history": "ok", "login_lockout": "ok"}
    assert "pam_tally2" in records["login_lockout"]["value"]
    assert "pam_unix remember=5" in records["password_history"]["value"]


def test_cracklib_default_credits_let_short_passwords_through():
    stack = EL7_TALLY.replace(" dcredit=-1 ucredit=-1 lcredit=-1 ocredit=0", " minclass=3")
    data = _pam(HARDENED, system_auth=stack, password_auth=stack, sshd=EL_SSHD, login=EL_SSHD,
                passwd=EL_PASSWD)
    record = audit(data, controls=["password_complexity"])[0]["password_complexity"]
    assert record["status"] == "critical" and "正值 credit" in record["value"]


def test_an_optional_pwquality_enforces_nothing():
    text = HARDENED["read"]["/etc/pam.d/common-password"].replace(
        "requisite\t\t\tpam_pwquality.so", "optional\t\t\tpam_pwquality.so")
    assert text != HARDENED["read"]["/etc/pam.d/common-password"]
    records = audit(_pam(HARDENED, common_password=text), controls=["password_complexity"])[0]
    record = records["password_complexity"]
    assert record["status"] == "critical"


def test_a_weak_lockout_is_named():
    conf = HARDENED["read"]["/etc/security/faillock.conf"].replace("deny = 5", "deny = 10")
    record = audit(edit(HARDENED, read={"/etc/security/faillock.conf": conf}),
                   controls=["login_lockout"])[0]["login_lockout"]
    assert record["status"] == "critical" and "连续失败 10 次" in record["detail"]


# ------------------------------------------------------------------ errors and never-lock-out

def test_an_unreadable_source_gives_error_records_and_the_other_checks_still_run():
    data = edit(HARDENED, read={"/etc/shadow": {"error": "Permission denied"}})
    records, _, _ = audit(data)
    errors = {n for n, r in records.items() if r["status"] == "error"}
    assert errors == {"password_expiry", "account_empty_passwords", "default_accounts_locked",
                      "unneeded_accounts"}
    assert "/etc/shadow" in records["password_expiry"]["detail"]
    assert records["password_complexity"]["status"] == "ok"


def test_a_broken_sshd_config_makes_the_ssh_controls_errors():
    reason = "/etc/ssh/sshd_config line 3: Bad configuration option: Foo\n"
    data = edit(HARDENED, run={"sshd -T": [255, "", reason]})
    records, _, _ = audit(data, controls=["ssh_root_login", "ssh_protocol", "password_history"])
    root_login = records["ssh_root_login"]
    assert root_login["status"] == "error" and "Bad configuration option" in root_login["detail"]
    assert records["password_history"]["status"] == "ok"


def test_a_check_that_crashes_is_an_error_not_an_abort(monkeypatch):
    def broken(_facts, _settings):
        raise KeyError("surprise")
    monkeypatch.setitem(ha.BY_NAME["account_unique"], "check", broken)
    records, _, _ = audit(HARDENED, controls=["account_unique", "ssh_root_login"])
    unique = records["account_unique"]
    assert unique["status"] == "error" and "KeyError" in unique["detail"]
    assert records["ssh_root_login"]["status"] == "ok"


def test_ssh_settings_that_would_lock_ansible_out_are_refused():
    facts = Facts(Replay(HARDENED))
    settings = ha.settings_with_defaults({"ssh_permit_root_login": "no"})
    assert lockout_problems(facts, settings, ["ssh_root_login"], "root")
    assert lockout_problems(facts, settings, ["ssh_root_login"], "gxsys") == []
    settings = ha.settings_with_defaults({"ssh_allow_users": ["gxsys@10.10.1.*"]})
    assert lockout_problems(facts, settings, ["ssh_access"], "root")
    assert lockout_problems(facts, settings, ["ssh_access"], "gxsys") == []
    # AllowGroups admits a user through a supplementary group (gxsys is in gxtax_sysadm).
    settings = ha.settings_with_defaults({"ssh_allow_groups": ["gxtax_sys*"]})
    assert lockout_problems(facts, settings, ["ssh_access"], "gxsys") == []
    assert lockout_problems(facts, settings, ["ssh_access"], "oracle")


def test_host_facts_tell_the_enforce_mode_how_to_proceed():
    fresh = ha.host_facts(Facts(Replay(FRESH)))
    assert fresh["os_family"] == "Debian" and fresh["pam_tool"] == "pam-auth-update"
    assert fresh["sshd_config_valid"] and fresh["sshd_includes_dropins"]
    assert fresh["files"]["/etc/audit/auditd.conf"] is False
    assert ha.host_facts(Facts(Replay(HARDENED)))["files"]["/etc/audit/auditd.conf"] is True
    assert ha.host_facts(Facts(Replay(edit(HARDENED, run=AUDITD_RUNNING))))["auditd_active"] is True
    assert ha.host_facts(Facts(Replay(HARDENED)))["auditd_active"] is False


# ------------------------------------------------------------------ parsers

def test_audit_rules_parse_from_files_and_from_auditctl():
    from_file = hp.parse_audit_rules(
        "-w /etc/passwd -p wa -k identity\n"
        "-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -F auid>=1000 -F auid!=unset "
        "-k delete\n"
        "-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -k priv\n-e 2\n")
    listed = hp.parse_audit_rules(
        "-w /etc/passwd -p wa -k identity\n"
        "-a always,exit -F arch=b64 -S rename,unlink,unlinkat,renameat -F auid>=1000 -F auid!=-1 "
        "-F key=delete\n")
    assert from_file[0] == {"kind": "watch", "path": "/etc/passwd", "perms": "wa", "key": "identity",
                            "fields": {}, "syscalls": set()}
    assert from_file[1]["syscalls"] == listed[1]["syscalls"] == {"unlink", "unlinkat", "rename", "renameat"}
    assert listed[1]["key"] == "delete" and listed[1]["fields"]["auid"] == ("!=", "-1")
    assert from_file[2]["fields"]["path"] == ("=", "/usr/bin/sudo")
    assert hp.audit_immutable("-e 2\n") and not hp.audit_immutable("-e 1\n")
    assert hp.parse_audit_rules("No rules\n") == []


def test_sshd_T_keeps_repeated_keywords():
    config = hp.parse_sshd_T("AllowUsers root\nallowusers gxsys@10.0.0.*\nport 22\n")
    assert config == {"allowusers": ["root", "gxsys@10.0.0.*"], "port": ["22"]}
    assert hp.openssh_version("OpenSSH_7.4p1, OpenSSL 1.0.2k-fips") == (7, 4)


def test_pam_parser_reads_bracket_controls_dashes_and_includes():
    entries = hp.parse_pam("@include common-auth\n-session optional pam_systemd.so\n"
                           "auth [success=2 default=ignore] pam_unix.so nullok \\\n  try_first_pass\n")
    assert entries[0] == {"type": "*", "control": "include", "module": "common-auth", "args": []}
    assert entries[1]["module"] == "pam_systemd.so"
    assert entries[2] == {"type": "auth", "control": "[success=2 default=ignore]", "module": "pam_unix.so",
                          "args": ["nullok", "try_first_pass"]}


# ------------------------------------------------------------------ logrotate (网络安全法 第二十一条)

DEBIAN_CONF = "weekly\n\n# keep 4 weeks worth of backlogs\nrotate 4\ncreate\ninclude /etc/logrotate.d\n"
RSYSLOG = ("/var/log/syslog\n/var/log/auth.log\n{\n\trotate 4\n\tweekly\n\tpostrotate\n"
           "\t\trotate 1 inside a script\n\tendscript\n}\n")
DAILY = "/var/log/app.log {\n    daily\n    maxage 30\n}\n"


def test_logrotate_retention_is_rotations_times_period():
    assert lr.kept_days({"rotate": 4}, {"period": "weekly"}) == 28
    assert lr.kept_days({"period": "monthly", "rotate": 6}, {}) == 186
    assert lr.kept_days({"period": "daily", "rotate": 400, "maxage": 30}, {}) == 30
    assert lr.needed_rotations("weekly", 183) == 27 and lr.needed_rotations("daily", 183) == 183


def test_logrotate_plan_fixes_global_and_stanzas_in_place_and_is_stable():
    files = [("/etc/logrotate.conf", DEBIAN_CONF), ("/etc/logrotate.d/rsyslog", RSYSLOG),
             ("/etc/logrotate.d/app", DAILY)]
    short, fixes = lr.plan(files, 183)
    assert {(p, d) for p, _paths, d in short} == {
        ("/etc/logrotate.conf", 28), ("/etc/logrotate.d/rsyslog", 28), ("/etc/logrotate.d/app", 4)}
    assert "rotate 27\n" in fixes["/etc/logrotate.conf"] and "# keep 4 weeks" in fixes["/etc/logrotate.conf"]
    assert "\trotate 27\n" in fixes["/etc/logrotate.d/rsyslog"]
    assert "rotate 1 inside a script" in fixes["/etc/logrotate.d/rsyslog"]  # scripts untouched
    # A daily stanza inheriting the (fixed) weekly count of 27 needs its own rotate, and maxage goes up.
    assert "rotate 183" in fixes["/etc/logrotate.d/app"] and "maxage 183" in fixes["/etc/logrotate.d/app"]
    again = [(p, fixes.get(p, t)) for p, t in files]
    assert lr.plan(again, 183) == ([], {})


def test_retention_counts_a_journal_time_limit_and_auditd_deleting_logs():
    conf = HARDENED["read"]["/etc/audit/auditd.conf"].replace("max_log_file_action = keep_logs",
                                                              "max_log_file_action = ROTATE")
    data = edit(HARDENED, read={"/etc/audit/auditd.conf": conf,
                                "/etc/systemd/journald.conf.d/gxtax-hardening.conf":
                                    "[Journal]\nStorage=persistent\nMaxRetentionSec=1month\n"})
    record = audit(data, controls=["audit_log_retention"])[0]["audit_log_retention"]
    assert record["status"] == "critical"
    assert "ROTATE" in record["detail"] and "MaxRetentionSec 仅 30 天" in record["detail"]


# ------------------------------------------------------------------ catalogue in step everywhere

def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_role_catalogue_module_catalogue_defaults_and_docs_agree():
    role = _yaml(ROLE / "vars" / "controls.yml")["__gxtax_hardening_catalogue"]
    assert [(c["name"], c["id"]) for c in role] == [(c["name"], c["id"]) for c in ha.CONTROLS]
    defaults = _yaml(ROLE / "defaults" / "main.yml")
    spec = _yaml(ROLE / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    docs = (ROOT / "docs" / "hardening.md").read_text(encoding="utf-8")
    for control in role:
        clause_title = ha.CLAUSES[control["id"]][0]
        assert "%s·%s" % (clause_title, control["item"]) == ha.BY_NAME[control["name"]]["item"]
        assert control["toggle"] == "gxtax_hardening_%s_enabled" % control["name"]
        assert control["toggle"] in defaults and control["toggle"] in spec
        assert control["clause"].split()[0] in control["id"] and control["requirement"] and control["check"]
        assert "`%s`" % control["name"] in docs and control["id"] in docs
    assert set(defaults) == set(spec)


def test_the_role_hands_every_setting_to_the_module_with_the_same_defaults():
    role_settings = _yaml(ROLE / "vars" / "main.yml")["__gxtax_hardening_settings"]
    assert set(role_settings) == set(ha.DEFAULT_SETTINGS)
    defaults = _yaml(ROLE / "defaults" / "main.yml")
    for key, template in role_settings.items():
        variable = "gxtax_hardening_" + key
        assert variable in template, key
        if defaults.get(variable) is not None and key != "expiry_exempt":
            assert defaults[variable] == ha.DEFAULT_SETTINGS[key], key
    assert defaults["gxtax_hardening_expiry_exempt"] == ha.DEFAULT_SETTINGS["expiry_exempt"]
    module = (ROOT / "plugins" / "modules" / "hardening_audit.py").read_text(encoding="utf-8")
    for key in ha.DEFAULT_SETTINGS:
        assert "\n      %s:\n" % key in module, key  # documented under settings


# ------------------------------------------------------------------ the module on Python 3.7

def _python37():
    found = next(iter(sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7*/bin/python3.7")))),
                 None) or shutil.which("python3.7")
    if not found:
        message = "no Python 3.7 interpreter on this machine (expected pyenv's 3.7)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_the_module_runs_on_python37_and_changes_nothing():
    """On this machine itself (no sshd, no auditd): every control answers, none crashes."""
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-o", "-e",
         "ansible_python_interpreter=%s" % _python37(), "-m", "gxtax.ops.hardening_audit", "-a",
         "host=py37-host connection_user=root"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["changed"] is False
    assert [r["requirement_id"] for r in result["records"]] == [c["id"] for c in ha.CONTROLS]
    for record in result["records"]:
        assert record["host"] == "py37-host"
        jsonschema.validate(record, SCHEMA)
    assert "检查程序异常" not in json.dumps(result, ensure_ascii=False)
    assert set(result["facts"]) >= {"os_family", "sshd_config_valid", "pam_tool", "files", "auditd_active"}
