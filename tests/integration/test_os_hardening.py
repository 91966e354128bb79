"""SEC-01 / SEC-03: playbooks/hardening.yml (role os_hardening) on three systemd harness hosts.

Each host starts as a Debian 12 server would: logrotate installed; an `oracle` software owner with
a password and bash; `gxtest`, a user whose password never expires; `gxempty` with an empty
password; the system account `daemon` given a shell and a password; `games` given bash. auditd,
libpam-pwquality and logrotate come from the harness's bridge apt repository (the hosts have no
other route to a mirror), as they would from the bureau's own repository.

The hosts are containers: they have no audit netlink (auditd cannot run) and a read-only /proc/sys,
so the controls auditd_service and sysctl_network are switched off here; the unit tests show both
passing and failing on recorded input. 三员分立 and the SSH access list are switched on.

One harness for the module; the runs happen in order in the `runs` fixture, each test looks at one
aspect of them:
  checked   enforce with --check on the three fresh hosts: nothing fails, nothing changes.
  audited   audit mode on the fresh hosts: changed=0, nothing changes, the failures are reported.
  enforced  enforce on gxt-s1 and gxt-s2: every enabled control passes; SSH with the test key works
            over a new connection; Oracle's owner keeps its shell, umask 022 and password ageing.
  again     enforce on all three: gxt-s1 changes nothing; gxt-s2 has a broken sshd drop-in of someone
            else's and fails its pre-check untouched; gxt-s3 has an sshd override sshd -t refuses,
            which is not written, and the host fails with sshd's reason, otherwise untouched.
"""

import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils.hardening_audit import CONTROLS
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from tests.harness import Harness
from tests.integration.support import play_recap, prepare_harness

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
DROPIN = "/etc/ssh/sshd_config.d/00-gxtax-hardening.conf"
# A test password hash (of a throw-away password), so that the users have a usable password.
TEST_HASH = ("$6$gxtaxtest$pQRUE8rpMB3M4eDgnW./JMKpk6uWLUvbOAS/7RQUBgJ/"
             "tWM8Brjr8.OD80CNR7R4l82r6AAlVydU9PrLzkU62/")
SETUP = """set -e
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q logrotate >/dev/null
useradd -m -s /bin/bash -p '{h}' oracle
useradd -m -s /bin/bash -p '{h}' gxtest
useradd -m -s /bin/bash gxempty
passwd -d gxempty >/dev/null
usermod -s /bin/bash -p '{h}' daemon
usermod -s /bin/bash games
""".format(h=TEST_HASH)
# What a change anywhere the role may touch would show: checksums of the files, the drop-in
# directories' listings, the packages and the accounts.
FINGERPRINT = (
    "sha256sum /etc/login.defs /etc/pam.d/* /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* /etc/passwd "
    "/etc/shadow /etc/group /etc/logrotate.conf /etc/logrotate.d/* /etc/security/* 2>/dev/null; "
    "ls -lA /etc/profile.d /etc/sudoers.d /usr/share/pam-configs /etc/ssh/sshd_config.d; "
    "dpkg-query -W -f '${Package} ${Status}\\n' auditd libpam-pwquality 2>&1; "
    "stat -c '%n %a' /etc/ssh/sshd_config"
)
TEST_VARS = {
    # Containers: no audit netlink, and /proc/sys is mounted read-only.
    "gxtax_hardening_auditd_service_enabled": False,
    "gxtax_hardening_sysctl_network_enabled": False,
    "gxtax_hardening_admin_separation_enabled": True,
    "gxtax_hardening_admin_accounts": {"system": ["gxsys"], "audit": ["gxaud"], "security": ["gxsec"]},
    "gxtax_hardening_ssh_access_enabled": True,
    "gxtax_hardening_ssh_allow_users": ["root", "gxsys", "oracle"],
}
ENABLED = [c["name"] for c in CONTROLS if TEST_VARS.get("gxtax_hardening_%s_enabled" % c["name"], True)]
# An sshd option sshd -t refuses ("Invalid MaxStartups spec"): an operator's typo in an override.
BAD_OVERRIDE = {"MaxStartups": "10:30:lots"}
SOMEONE_ELSES_DROPIN = "/etc/ssh/sshd_config.d/50-local.conf"
# No RPM host can be built here: for a check-mode run of the RedHat-family task files, gxt-s3 says it
# is RHEL 8 (os-release, Ansible's facts) and answers `authselect current --raw` like an EL8 host.
REDHAT_FACTS = {"os_family": "RedHat", "service_mgr": "systemd", "distribution": "RedHat",
                "distribution_major_version": "8"}
AS_REDHAT = """set -e
mv /etc/os-release /root/os-release.saved
printf 'NAME="Red Hat Enterprise Linux"\\nID="rhel"\\nID_LIKE="fedora"\\nVERSION_ID="8.9"\\n' \\
    > /etc/os-release
printf '#!/bin/sh\\n[ "$1 $2" = "current --raw" ] && echo "sssd with-fingerprint"\\nexit 0\\n' \\
    > /usr/local/bin/authselect
chmod 755 /usr/local/bin/authselect
touch /etc/bashrc
"""
BACK_TO_DEBIAN = ("rm -f /etc/os-release /usr/local/bin/authselect /etc/bashrc && "
                  "mv /root/os-release.saved /etc/os-release")
REDHAT_TASKS = ("Enable faillock with authselect", "Create custom/gxtax from the current authselect profile",
                "Select custom/gxtax with the features in use", "EL7 - enable faillock with authconfig",
                "Repeat the umask rule at the end of /etc/bashrc (RedHat family)")
# Controls a fresh Debian 12 server (as set up above) does not meet.
FAILING_WHEN_FRESH = {
    "password_complexity", "password_expiry", "password_history", "account_empty_passwords", "login_lockout",
    "session_timeout", "ssh_max_auth_tries", "default_accounts_locked", "unneeded_accounts", "default_umask",
    "admin_separation", "file_permissions", "audit_rules", "audit_record_content", "audit_log_retention",
    "audit_log_protection", "audit_process_protection", "ssh_access",
}



def recap(proc):
    return play_recap(proc.stdout)


def run_hardening(directory, inventories, extra, flags=(), limit=None):
    """ansible-playbook playbooks/hardening.yml; returns {proc, recap, report}."""
    reports = directory / "reports"
    command = [str(BIN / "ansible-playbook"), "playbooks/hardening.yml", *flags,
               "-e", json.dumps(dict(TEST_VARS, **extra))]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    if limit:
        command += ["--limit", limit]
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), GXTAX_REPORT_ROOT=str(reports))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    entries = ReportArchive(str(reports)).entries()
    report = None
    if len(entries) == 1:
        report = json.loads((reports / entries[0]["path"] / "report.json").read_text(encoding="utf-8"))
        for record in report["records"]:
            jsonschema.validate(record, SCHEMA)
    kind = entries[0]["kind"] if entries else None
    return {"proc": proc, "recap": recap(proc), "report": report, "kind": kind}


def statuses(run, host):
    """control name -> status of a host's records: one record per enabled control, with its ID."""
    by_item = {c["item"]: c for c in CONTROLS}
    mine = [r for r in run["report"]["records"] if r["host"] == host]
    got = {by_item[r["item"]]["name"]: r for r in mine}
    assert len(got) == len(mine) and sorted(got) == sorted(ENABLED), [r["item"] for r in mine]
    for record in got.values():
        assert record["requirement_id"] == by_item[record["item"]]["id"], record
    return {name: record["status"] for name, record in got.items()}


def output(run):
    return run["proc"].stdout[-6000:] + run["proc"].stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    prepare_harness('systemd')
    work = tmp_path_factory.mktemp("hardening")
    with Harness(count=3, flavour="systemd", name=f"pt{os.getpid()}hard") as h:
        s1, s2, s3 = h.hosts
        repo = h.apt_repo(["auditd", "libpam-pwquality", "logrotate"])
        for host in h.hosts:
            repo.configure(host)
            h.ssh(host, SETUP, check=True)
        inventory = h.write_inventory(work / "hosts.yml")
        host_vars = work / "host-vars.yml"
        host_vars.write_text(yaml.safe_dump({"all": {"hosts": {
            s3.name: {"gxtax_hardening_sshd_extra_options": BAD_OVERRIDE}}}}))
        inventories = [inventory, host_vars]
        result = {"harness": h, "hosts": (s1, s2, s3)}

        def fingerprints():
            return {x.name: h.ssh(x, FINGERPRINT, check=True).stdout for x in h.hosts}

        def run(tag, extra, flags=(), limit=None):
            directory = work / tag
            directory.mkdir()
            return run_hardening(directory, inventories, extra, flags, limit)

        result["fresh"] = fingerprints()
        result["checked"] = run("check", {"gxtax_hardening_mode": "enforce"}, ["--check", "--diff"],
                                limit="%s,%s" % (s1.name, s2.name))
        result["after_check"] = fingerprints()
        result["audited"] = run("audit", {"gxtax_hardening_mode": "audit"})
        result["after_audit"] = fingerprints()
        result["enforced"] = run("enforce", {"gxtax_hardening_mode": "enforce"},
                                 limit="%s,%s" % (s1.name, s2.name))
        # New connections (plain ssh, no ControlMaster) with the harness's test key.
        result["ssh_after"] = {x.name: h.ssh(x, "id -un; echo $TMOUT") for x in (s1, s2)}
        owner = "getent passwd {0} | cut -d: -f7; su - {0} -c umask; chage -l {0} | grep -i '^maximum'"
        result["owners"] = {name: h.ssh(s1, owner.format(name), check=True).stdout.split("\n")
                            for name in ("oracle", "gxtest")}
        result["backups"] = h.ssh(s1, "ls /etc/login.defs.*~ /etc/security/pwquality.conf.*~ "
                                      "/var/backups/gxtax-hardening/", check=True).stdout
        h.ssh(s3, AS_REDHAT, check=True)
        as_redhat = {"gxtax_hardening_mode": "enforce", "ansible_facts": REDHAT_FACTS,
                     "gxtax_hardening_install_packages": False}
        result["redhat_check"] = run("redhat", as_redhat, ["--check"], limit=s3.name)
        h.ssh(s3, BACK_TO_DEBIAN, check=True)
        result["after_redhat"] = fingerprints()
        h.ssh(s2, "printf 'PermitRootLogin maybe\\n' > %s" % SOMEONE_ELSES_DROPIN, check=True)
        result["before_again"] = fingerprints()
        result["again"] = run("again", {"gxtax_hardening_mode": "enforce"})
        result["after_again"] = fingerprints()
        result["ssh_after_again"] = {x.name: h.ssh(x, "id -un") for x in h.hosts}
        yield result


# ------------------------------------------------------------------ check mode

def test_check_mode_on_fresh_hosts_fails_nothing_and_changes_nothing(runs):
    checked = runs["checked"]
    s1, s2, _ = runs["hosts"]
    assert checked["proc"].returncode == 0, output(checked)
    for host in (s1, s2):
        assert checked["recap"][host.name]["failed"] == 0
        assert checked["recap"][host.name]["changed"] > 0  # it says what it would change
    assert runs["after_check"] == runs["fresh"]
    assert "--- before" in checked["proc"].stdout  # --diff shows the would-be edits


def test_redhat_task_files_run_in_check_mode(runs):
    checked = runs["redhat_check"]
    s3 = runs["hosts"][2].name
    assert checked["proc"].returncode == 0, output(checked)
    assert checked["recap"][s3]["failed"] == 0
    for name in REDHAT_TASKS:
        assert name in checked["proc"].stdout, name
    umask_task = checked["proc"].stdout.split("Repeat the umask rule at the end of /etc/bashrc")[1]
    assert umask_task.split("TASK [")[0].count("changed: [%s]" % s3) == 1
    assert runs["after_redhat"][s3] == runs["fresh"][s3]


# ------------------------------------------------------------------ audit of unhardened hosts

def test_audit_of_unhardened_hosts_changes_nothing_and_reports_the_failures(runs):
    audited = runs["audited"]
    assert audited["proc"].returncode == 0, output(audited)
    assert audited["kind"] == "hardening"
    assert audited["report"]["meta"]["title"] == "等保2.0三级安全基线合规报告"
    for host in runs["hosts"]:
        assert audited["recap"][host.name]["changed"] == 0
        got = statuses(audited, host.name)
        assert {n for n, s in got.items() if s != "ok"} == FAILING_WHEN_FRESH, got
        assert {s for n, s in got.items() if n in FAILING_WHEN_FRESH} == {"critical"}
    assert runs["after_audit"] == runs["fresh"]
    assert audited["report"]["meta"]["hardening_mode"] == "audit"
    catalogue = next(t for t in audited["report"]["tables"] if t["id"] == "hardening_catalogue")
    assert len(catalogue["rows"]) == len(CONTROLS)  # once per run, not once per host
    by_id = {(row[0], row[2]): row for row in catalogue["rows"]}
    assert by_id[("DJBH-8.1.4.1-b", "登录失败锁定")][1] == "8.1.4.1 身份鉴别 b"
    assert by_id[("DJBH-8.1.4.3-a", "安全审计服务运行")][-1] == "否（已关闭）"
    s1 = runs["hosts"][0].name
    by_item = {r["item"]: r for r in audited["report"]["records"] if r["host"] == s1}
    assert "gxtest" in by_item["身份鉴别·口令定期更换"]["value"]
    assert "未安装 auditd" in by_item["安全审计·审计规则覆盖重要行为"]["value"]
    assert "/etc/ssh/sshd_config" in by_item["访问控制·重要文件访问权限"]["value"]


# ------------------------------------------------------------------ enforce, then audit

def test_enforce_makes_every_enabled_control_pass(runs):
    enforced = runs["enforced"]
    s1, s2, s3 = runs["hosts"]
    assert enforced["proc"].returncode == 0, output(enforced)
    for host in (s1, s2):
        assert enforced["recap"][host.name]["failed"] == 0
        got = statuses(enforced, host.name)
        assert {n: s for n, s in got.items() if s != "ok"} == {}, got
        assert enforced["report"]["hosts"][host.name]["state"] == "ok"
    assert s3.name not in enforced["report"]["hosts"]


def test_ssh_with_the_test_key_still_works_over_a_new_connection(runs):
    for name, proc in runs["ssh_after"].items():
        assert proc.returncode == 0, (name, proc.stderr)
        assert proc.stdout.split("\n")[0] == "root"
    for name, proc in runs["ssh_after_again"].items():
        assert proc.returncode == 0, (name, proc.stderr)


def test_oracle_keeps_its_shell_umask_and_password_ageing_while_users_are_hardened(runs):
    oracle, user = runs["owners"]["oracle"], runs["owners"]["gxtest"]
    assert oracle[0] == "/bin/bash" and oracle[1] == "0022" and oracle[2].rstrip().endswith(": 99999")
    assert user[1] == "0027" and user[2].rstrip().endswith(": 90")


def test_every_changed_file_is_backed_up(runs):
    backups = runs["backups"]
    assert "/etc/login.defs." in backups and "/etc/security/pwquality.conf." in backups
    assert "pam.d." in backups  # the copy of /etc/pam.d made before pam-auth-update changed it


# ------------------------------------------------------------------ second run, broken sshd config

def test_a_second_enforce_changes_nothing(runs):
    again = runs["again"]
    s1 = runs["hosts"][0].name
    assert again["recap"][s1] == dict(again["recap"][s1], changed=0, failed=0), again["recap"]
    assert {n: s for n, s in statuses(again, s1).items() if s != "ok"} == {}
    assert runs["after_again"][s1] == runs["before_again"][s1]


def test_an_sshd_override_that_sshd_rejects_is_not_written_and_the_host_is_left_alone(runs):
    again = runs["again"]
    s3 = runs["hosts"][2].name
    assert again["recap"][s3]["failed"] == 1 and again["recap"][s3]["changed"] == 0
    assert again["proc"].returncode == 2, output(again)
    state = again["report"]["hosts"][s3]
    assert state["state"] == "failed"
    assert "未通过 sshd -t 校验，未写入 %s" % DROPIN in state["message"]
    assert "Invalid MaxStartups" in state["message"]
    assert runs["after_again"][s3] == runs["before_again"][s3] == runs["fresh"][s3]
    assert DROPIN not in runs["after_again"][s3]


def test_a_host_whose_sshd_config_is_already_broken_fails_its_pre_check_untouched(runs):
    again = runs["again"]
    s2 = runs["hosts"][1].name
    assert again["recap"][s2]["failed"] == 1 and again["recap"][s2]["changed"] == 0
    state = again["report"]["hosts"][s2]
    assert state["state"] == "failed" and "当前 sshd 配置未通过 sshd -t 校验" in state["message"]
    assert "50-local.conf line 1" in state["message"]  # sshd's own reason
    assert runs["after_again"][s2] == runs["before_again"][s2]
    assert [r for r in again["report"]["records"] if r["host"] == s2] == []
