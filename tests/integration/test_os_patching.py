"""SEC-01 / SEC-03: playbooks/patching.yml on three harness hosts, one per stage.

gxt-h1 is a WebLogic managed server, gxt-h2 an Admin Server, gxt-h3 a database host, so the
rollout reaches them in that order. The bridge apt repository serves newer versions of packages
the hosts have: sensible-utils (all hosts), oracle-gxtax-demo (all hosts; excluded by the default
pattern oracle*) and gxtax-reboot-demo (h1 and h3; its postinst flags a reboot, as a kernel's does).

One harness for the module; the runs happen in order in the `runs` fixture and each test looks
at one aspect of them:
  refused   production window with a freeze, then the backup gate with an empty archive: nothing
            changes, the report says why (and when the next slot is).
  checked   all mode with --check: nothing changes.
  listed    list mode: every version unchanged, changed=0, the updates in the report.
  stopped   all mode with a full /var on h2: h1 patched (with a stand-in reboot and its hooks),
            h2 fails its pre-check and is untouched, h3 (a later stage) untouched.
  finished  all mode again after /var is freed: h2 and h3 patched, h3 flagged 需要重启 (reboot never).
"""

import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from tests.harness import Harness
from tests.integration.support import play_recap, prepare_harness

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
PACKAGES = ("sensible-utils", "oracle-gxtax-demo", "gxtax-reboot-demo")
# Debian's kernel packages flag a reboot the same way (update-notifier's notify-reboot-required).
REBOOT_POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
    touch /var/run/reboot-required
    echo gxtax-reboot-demo >> /var/run/reboot-required.pkgs
fi
"""
# A stand-in for a reboot on a host whose PID 1 is sshd: a new boot identity, and /run emptied of
# the reboot flag as a real boot would. ansible.builtin.reboot then sees "the host came back".
FAKE_REBOOT = ("/bin/sh -c 'rm -f /run/reboot-required /run/reboot-required.pkgs; "
               "cat /proc/sys/kernel/random/uuid > /run/gxtax-boot-id'")
HOOK = """- name: Test hook | note that the {0}-reboot hook ran, and in which boot
  ansible.builtin.shell: echo "{0} $(cat /run/gxtax-boot-id)" >> /root/gxtax-hooks.log
  changed_when: true
"""


def build_deb(directory, name, version, postinst=None):
    tree = directory / f"{name}-{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nSection: misc\nPriority: optional\n"
        "Maintainer: gxtax-ops tests <ops@example.invalid>\nDescription: gxtax-ops patching test package\n")
    if postinst:
        (tree / "DEBIAN" / "postinst").write_text(postinst)
        (tree / "DEBIAN" / "postinst").chmod(0o755)
    doc = tree / "usr" / "share" / "doc" / name
    doc.mkdir(parents=True)
    (doc / "README").write_text(f"{name} {version}\n")
    out = directory / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "-b", str(tree), str(out)],
                   check=True, capture_output=True)
    return out


def versions(harness, host):
    query = "dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\\n'"
    out = harness.ssh(host, query, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in PACKAGES and parts[2].startswith("ii"):
            found[parts[0]] = parts[1]
    return found


def reboot_flag(harness, host):
    # /run is the host's own tmpfs, seen only from inside it
    return harness.ssh(host, "test -e /var/run/reboot-required").returncode == 0


def run_patching(workdir, inventories, extra, flags=()):
    """ansible-playbook playbooks/patching.yml into its own archive: (process, report)."""
    reports = workdir / "reports"
    command = [str(BIN / "ansible-playbook"), "playbooks/patching.yml", "-e", json.dumps(extra), *flags]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), GXTAX_REPORT_ROOT=str(reports))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    entries = ReportArchive(str(reports)).entries()
    assert len(entries) == 1, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert entries[0]["kind"] == "patch"
    report = json.loads((reports / entries[0]["path"] / "report.json").read_text(encoding="utf-8"))
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)
    return proc, report



def recap(proc):
    return play_recap(proc.stdout)


def records(report, host, item=None):
    return [r for r in report["records"] if r["host"] == host and (item is None or r["item"] == item)]


def table(report, table_id):
    return next((t for t in report.get("tables", []) if t["id"] == table_id), None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    prepare_harness('plain')
    work = tmp_path_factory.mktemp("patching")
    with Harness(count=3, flavour="plain", name=f"pt{os.getpid()}patch") as h:
        h1, h2, h3 = h.hosts
        repo = h.apt_repo()
        new_sensible = repo.rebuild_higher("sensible-utils")
        debs = work / "debs"
        debs.mkdir()
        old_oracle = build_deb(debs, "oracle-gxtax-demo", "1.0")
        repo.add_deb(build_deb(debs, "oracle-gxtax-demo", "1.1"))
        old_reboot = build_deb(debs, "gxtax-reboot-demo", "1.0")
        repo.add_deb(build_deb(debs, "gxtax-reboot-demo", "1.1", postinst=REBOOT_POSTINST))
        for host in h.hosts:
            wanted = [old_oracle] + ([old_reboot] if host in (h1, h3) else [])
            for deb in wanted:
                (host.root / "tmp" / deb.name).write_bytes(deb.read_bytes())
            h.ssh(host, "dpkg -i " + " ".join(f"/tmp/{d.name}" for d in wanted)
                  + " && echo boot-0 > /run/gxtax-boot-id", check=True)
            repo.configure(host)
        inventory = h.write_inventory(work / "hosts.yml", groups={
            "weblogic_managed": [h1.name], "weblogic_admin": [h2.name], "oracle_db": [h3.name],
            "app_storage": []})
        hooks = work / "hooks"
        hooks.mkdir()
        (hooks / "pre.yml").write_text(HOOK.format("pre"))
        (hooks / "post.yml").write_text(HOOK.format("post"))
        host_vars = work / "host-vars.yml"
        host_vars.write_text(yaml.safe_dump({"all": {"hosts": {
            h1.name: {"gxtax_patching_reboot": "auto", "gxtax_patching_reboot_command": FAKE_REBOOT,
                      "gxtax_patching_boot_time_command": "cat /run/gxtax-boot-id",
                      "gxtax_patching_post_reboot_delay": 0, "gxtax_patching_reboot_timeout": 60,
                      "gxtax_patching_pre_reboot_tasks": [str(hooks / "pre.yml")],
                      "gxtax_patching_post_reboot_tasks": [str(hooks / "post.yml")]},
            h3.name: {"gxtax_patching_reboot": "never"},
        }}}))
        inventories = [inventory, host_vars]
        quiet = {"gxtax_patching_window_check": False}
        result = {"harness": h, "hosts": (h1, h2, h3), "new_sensible": new_sensible}
        result["initial"] = {x.name: versions(h, x) for x in h.hosts}

        def run(tag, extra, flags=()):
            directory = work / tag
            directory.mkdir()
            return run_patching(directory, inventories, extra, flags)

        result["refused_window"] = run("window", {
            "gxtax_patching_mode": "all", "gxtax_patching_window_check": True,
            "gxtax_patching_environment": "production", "gxtax_patching_window_rules": {"production": []}})
        result["refused_backup"] = run("backup", dict(quiet, gxtax_patching_mode="all",
                                                      gxtax_patching_require_backup_report=True))
        result["after_refusals"] = {x.name: versions(h, x) for x in h.hosts}
        result["checked"] = run("check", dict(quiet, gxtax_patching_mode="all"), ["--check"])
        result["after_check"] = {x.name: versions(h, x) for x in h.hosts}
        result["listed"] = run("list", dict(quiet, gxtax_patching_mode="list"))
        result["after_list"] = {x.name: versions(h, x) for x in h.hosts}
        result["flag_after_list"] = {x.name: reboot_flag(h, x) for x in h.hosts}

        h.mount_filesystem(h2, "/var", 64, 99)
        result["stopped"] = run("stopped", dict(quiet, gxtax_patching_mode="all"))
        h.ssh(h2, "umount /var", check=True)
        result["after_stop"] = {x.name: versions(h, x) for x in h.hosts}
        result["hooks_h1"] = h.ssh(h1, "cat /root/gxtax-hooks.log").stdout.split("\n")

        result["finished"] = run("finished", dict(quiet, gxtax_patching_mode="all"))
        result["after_finish"] = {x.name: versions(h, x) for x in h.hosts}
        result["holds"] = {x.name: h.ssh(x, "apt-mark showhold", check=True).stdout.strip() for x in h.hosts}
        result["flag_after_finish"] = {x.name: reboot_flag(h, x) for x in h.hosts}
        yield result


def test_hosts_start_with_the_old_versions(runs):
    h1, h2, h3 = runs["hosts"]
    initial = runs["initial"]
    assert initial[h1.name]["oracle-gxtax-demo"] == "1.0"
    assert initial[h2.name].get("gxtax-reboot-demo") is None
    assert initial[h3.name]["gxtax-reboot-demo"] == "1.0"
    assert all(v["sensible-utils"] != runs["new_sensible"] for v in initial.values())


def test_refusals_change_nothing_and_say_why(runs):
    proc, report = runs["refused_window"]
    assert proc.returncode != 0
    assert runs["after_refusals"] == runs["initial"]
    for host in runs["hosts"]:
        window = records(report, host.name, "补丁时间窗口")
        assert len(window) == 1 and window[0]["status"] == "warning", window
        assert "所有主机均未变更" in window[0]["detail"]
        assert "下一个允许的时间" in window[0]["detail"]
        assert records(report, host.name, "可用更新") == []  # never reached the host
        assert report["hosts"][host.name]["state"] == "failed"
    proc, report = runs["refused_backup"]
    assert proc.returncode != 0
    for host in runs["hosts"]:
        gate = records(report, host.name, "备份检查（补丁前置条件）")
        assert len(gate) == 1 and gate[0]["status"] == "critical", gate
        assert "没有" in gate[0]["detail"] and "inspection" in gate[0]["detail"]
        assert records(report, host.name, "可用更新") == []


def test_check_mode_of_an_all_run_changes_nothing(runs):
    proc, report = runs["checked"]
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert runs["after_check"] == runs["initial"]
    for host in runs["hosts"]:
        assert [r["status"] for r in records(report, host.name, "已安装更新")] == ["ok"]
        assert [r["status"] for r in records(report, host.name, "软件源可达")] == ["skipped"]


def test_list_mode_changes_nothing_and_reports_the_updates(runs):
    proc, report = runs["listed"]
    h1, h2, h3 = runs["hosts"]
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert runs["after_list"] == runs["initial"]
    assert not any(runs["flag_after_list"].values())
    counts = recap(proc)
    for host in runs["hosts"]:
        assert counts[host.name]["changed"] == 0, counts
        assert counts[host.name]["failed"] == 0, counts
        [available] = records(report, host.name, "可用更新")
        assert available["value"] == (3 if host in (h1, h3) else 2)
        assert "仅列出" in available["detail"]
        [excluded] = records(report, host.name, "排除的更新")
        assert "oracle-gxtax-demo（oracle*）" in excluded["detail"]
    rows = table(report, "patch-available")["rows"]
    assert [h3.name, "gxtax-reboot-demo", "1.0", "1.1", "否", ""] in rows
    assert [h1.name, "oracle-gxtax-demo", "1.0", "1.1", "否", "oracle*"] in rows
    assert {r[0] for r in rows} == {h.name for h in runs["hosts"]}


def test_full_var_fails_the_precheck_and_stops_the_rollout(runs):
    proc, report = runs["stopped"]
    h1, h2, h3 = runs["hosts"]
    initial, after = runs["initial"], runs["after_stop"]
    assert proc.returncode == 2, proc.stdout[-3000:]
    # h1 (first stage) was patched, excluded package kept
    assert after[h1.name]["sensible-utils"] == runs["new_sensible"]
    assert after[h1.name]["gxtax-reboot-demo"] == "1.1"
    assert after[h1.name]["oracle-gxtax-demo"] == "1.0"
    # h2 failed its pre-check untouched; h3 (a later stage) never reached
    assert after[h2.name] == initial[h2.name]
    assert after[h3.name] == initial[h3.name]
    [space] = records(report, h2.name, "剩余空间 /var")
    assert space["status"] == "critical" and space["value"] < space["threshold"] == 1024
    [stop] = records(report, h2.name, "补丁执行")
    assert stop["status"] == "critical" and "未做任何变更" in stop["detail"]
    [unreached] = records(report, h3.name, "补丁执行")
    assert unreached["status"] == "warning" and h2.name in unreached["detail"]
    assert records(report, h3.name, "剩余空间 /var") == []
    assert report["hosts"][h2.name]["state"] == "failed"
    # h3 only took part in the plan play on the control node: no task of the role reached it
    assert records(report, h3.name, "可用更新") == [] and records(report, h3.name, "补丁滚动顺序")
    assert recap(proc)[h3.name]["changed"] == 0


def test_reboot_runs_the_hooks_around_it(runs):
    proc, report = runs["stopped"]
    h1 = runs["hosts"][0]
    lines = [line for line in runs["hooks_h1"] if line]
    assert len(lines) == 2, lines
    assert lines[0] == "pre boot-0"
    assert lines[1].startswith("post ") and lines[1] != "post boot-0"
    [reboot] = records(report, h1.name, "重启")
    assert reboot["status"] == "ok" and reboot["value"] == "已重启", reboot
    assert "gxtax-reboot-demo" in reboot["detail"]
    for item in ("补丁后监听端口", "补丁后挂载点", "运行内核"):
        assert [r["status"] for r in records(report, h1.name, item)] == ["ok"], item


def test_second_run_patches_the_rest_and_flags_the_reboot(runs):
    proc, report = runs["finished"]
    h1, h2, h3 = runs["hosts"]
    after = runs["after_finish"]
    assert proc.returncode == 0, proc.stdout[-3000:]
    for host in runs["hosts"]:
        assert after[host.name]["sensible-utils"] == runs["new_sensible"]
        assert after[host.name]["oracle-gxtax-demo"] == "1.0"  # excluded by default
        assert runs["holds"][host.name] == ""  # exclusion leaves no apt-mark hold behind
    assert after[h3.name]["gxtax-reboot-demo"] == "1.1"
    [reboot] = records(report, h3.name, "重启")
    assert reboot["status"] == "warning" and reboot["value"] == "需要重启", reboot
    assert "需要重启" in reboot["detail"] and "never" in reboot["detail"]
    assert runs["flag_after_finish"][h3.name]  # never rebooted
    assert not runs["flag_after_finish"][h1.name]  # its stand-in reboot cleared /run
    assert [r["value"] for r in records(report, h1.name, "已安装更新")] == [0]
    packages = table(report, "patch-packages")["rows"]
    old = runs["initial"][h2.name]["sensible-utils"]
    assert [h2.name, "sensible-utils", old, runs["new_sensible"]] in packages
    assert [h3.name, "gxtax-reboot-demo", "1.0", "1.1"] in packages
    assert not any(row[1] == "oracle-gxtax-demo" for row in packages)
    summary = {row[0]: row for row in table(report, "patch-summary")["rows"]}
    assert summary[h3.name][1:5] == ["全部更新", 2, "是", "否"]
    assert summary[h2.name][1:5] == ["全部更新", 1, "否", "否"]
    for host in runs["hosts"]:
        assert report["hosts"][host.name]["state"] == "ok"
