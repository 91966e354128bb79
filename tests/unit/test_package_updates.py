"""SEC-01: the parsers and plans of package_updates over recorded package-manager output, and the
records and report tables built from them."""

import json
import pathlib

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import package_updates as pu
from ansible_collections.gxtax.ops.plugins.module_utils import patch_records as pr
from ansible_collections.gxtax.ops.plugins.module_utils.report_tables import table_problems

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "patching"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
DEFAULT_EXCLUDE = ["oracle*", "kmod-oracleasm*", "compat-libstdc++*", "compat-libcap1*", "libaio*",
                   "java-*-openjdk*", "openjdk-*", "jdk*"]


def fixture(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


def valid(records):
    assert records
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records


class FakeRunner:
    """run(argv) answering from a list of (predicate on argv, (rc, out, err)); records the calls."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        for match, answer in self.answers:
            if match(argv):
                if isinstance(answer, list):  # successive answers for the same command
                    return answer.pop(0) if len(answer) > 1 else answer[0]
                return answer
        raise AssertionError("unexpected command %r" % (argv,))


def is_cmd(*words):
    return lambda argv: list(argv[:len(words)]) == list(words)


# ---------------------------------------------------------------- apt

def test_apt_simulation_reads_upgrades_new_packages_and_removals():
    sim = pu.parse_apt_simulation(fixture("apt-dist-upgrade.txt"))
    by_name = {i["name"]: i for i in sim["install"]}
    assert len(by_name) == 8
    assert by_name["libgcrypt20"] == {
        "name": "libgcrypt20", "current": "1.10.1-3", "available": "1.10.1-3+deb12u1", "arch": "amd64",
        "origins": ["Debian:12.15/oldstable", "Debian-Security:12/oldstable-security"]}
    # the trailing "[]" apt prints for packages broken during ordering does not hide the line
    assert by_name["libaio1"]["available"] == "0.3.113-5"
    assert by_name["linux-image-6.1.0-28-amd64"]["current"] is None
    assert by_name["sensible-utils"]["arch"] == "all"
    assert sim["remove"] == [{"name": "libfoo-legacy1", "current": "2.1-3"}]


def test_apt_security_origin():
    assert pu.apt_origin_is_security(["Debian:12.15/oldstable", "Debian-Security:12/oldstable-security"])
    assert pu.apt_origin_is_security(["Ubuntu:22.04/jammy-security"])
    assert not pu.apt_origin_is_security(["Debian:12.15/oldstable", "gxtax-harness:harness/harness"])


def test_apt_unmet_names_the_packages_at_the_start_of_each_entry():
    assert pu.parse_apt_unmet(fixture("apt-install-unmet.txt")) == ["base-files", "libaio1"]
    assert pu.parse_apt_unmet(fixture("apt-install-ok.txt")) == []


def test_apt_list_upgradable():
    rows = pu.parse_apt_list_upgradable(fixture("apt-list-upgradable.txt"))
    assert rows[0] == {"name": "libgcrypt20", "suites": ["oldstable", "oldstable-security"],
                       "available": "1.10.1-3+deb12u1", "arch": "amd64", "current": "1.10.1-3"}
    assert [r["name"] for r in rows] == ["libgcrypt20", "login", "sensible-utils"]
    assert rows[1]["current"] == "1:4.13+dfsg1-1+deb12u1"


def apt_runner(install_answers):
    return FakeRunner([
        (is_cmd("apt-get", "-s", "-q", "dist-upgrade"), (0, fixture("apt-dist-upgrade.txt"), "")),
        (is_cmd("apt-get", "-s", "-q", "install"), install_answers),
    ])


def test_apt_plan_keeps_excluded_packages_pinned_and_drops_what_needs_them():
    run = apt_runner([(100, fixture("apt-install-unmet.txt"), "E: Unable to correct problems"),
                      (0, fixture("apt-install-ok.txt"), "")])
    plan = pu.apt_plan(run, DEFAULT_EXCLUDE, security_only=False)
    excluded = {u["name"]: u["excluded_by"] for u in plan["updates"] if u["excluded_by"]}
    assert excluded == {"libaio1": "libaio*", "openjdk-17-jre-headless": "openjdk-*",
                        "oracle-instantclient-basic": "oracle*"}
    # the kernel is allowed (the reboot policy gates it); a new ABI package is not an "update"
    assert "linux-image-amd64" in plan["selected"]
    assert "linux-image-6.1.0-28-amd64" not in [u["name"] for u in plan["updates"]]
    # base-files needs a newer libaio1, which is excluded: held back instead
    assert plan["held"] == [{"name": "base-files", "reason": "依赖被排除的软件包的新版本"}]
    assert plan["selected"] == ["libgcrypt20", "linux-image-amd64", "sensible-utils"]
    assert plan["apt_install"] == ["libgcrypt20=1.10.1-3+deb12u1", "linux-image-amd64=6.1.119-1",
                                   "sensible-utils=0.0.17+nmu1+gxt1"]
    assert plan["pulled"] == [
        {"name": "linux-image-6.1.0-28-amd64", "current": None, "available": "6.1.119-1"}]
    assert plan["removals"] == ["libfoo-legacy1"]
    first, second = [c for c in run.calls if c[3] == "install"]
    pins = ["libaio1=0.3.113-4", "openjdk-17-jre-headless=17.0.12+7-2~deb12u1",
            "oracle-instantclient-basic=19.19.0.0.0-2"]
    assert first[-3:] == pins and second[-3:] == pins
    assert "base-files=12.4+deb12u15" in first and "base-files=12.4+deb12u15" not in second
    assert "--no-install-recommends" in first


def test_apt_plan_security_only_selects_the_security_suite():
    run = apt_runner([(0, fixture("apt-install-ok.txt"), "")])
    plan = pu.apt_plan(run, DEFAULT_EXCLUDE, security_only=True)
    assert plan["selected"] == ["libgcrypt20", "linux-image-amd64"]
    security = sorted(u["name"] for u in plan["updates"] if u["security"])
    assert security == ["libgcrypt20", "linux-image-amd64", "openjdk-17-jre-headless"]
    # apt also brings sensible-utils along in this recorded answer: reported, not hidden
    assert {p["name"] for p in plan["pulled"]} == {"linux-image-6.1.0-28-amd64", "sensible-utils"}


def test_apt_plan_selects_nothing_when_apt_blames_only_excluded_packages():
    unmet = " libaio1 : Breaks: libgcrypt20 (< 2) but 1 is to be installed\n"
    run = apt_runner([(100, unmet, "E: Unable to correct problems, you have held broken packages.")])
    plan = pu.apt_plan(run, DEFAULT_EXCLUDE, security_only=False)
    assert plan["selected"] == [] and plan["apt_install"] == []
    assert {h["name"] for h in plan["held"]} == {"base-files", "libgcrypt20", "linux-image-amd64",
                                                 "sensible-utils"}
    assert "held broken packages" in plan["held"][0]["reason"]


def test_apt_plan_reports_a_failing_simulation():
    locked = "E: Could not open lock file /var/lib/dpkg/lock-frontend"
    run = FakeRunner([(is_cmd("apt-get"), (100, "", locked))])
    plan = pu.apt_plan(run, [], security_only=False)
    assert plan["updates"] == [] and plan["selected"] == []
    assert "lock-frontend" in plan["error"] and "100" in plan["error"]


def test_dpkg_query_keeps_installed_packages_by_apt_name():
    installed = pu.parse_dpkg_query(fixture("dpkg-query.txt"), "amd64")
    assert installed == {"adduser": "3.134", "libc6": "2.36-9+deb12u14", "libc6:i386": "2.36-9+deb12u14",
                         "login": "1:4.13+dfsg1-1+deb12u1", "halfway": "2.0-1",
                         "sensible-utils": "0.0.17+nmu1"}


def test_installed_versions_asks_dpkg_for_the_native_architecture():
    run = FakeRunner([(is_cmd("dpkg-query"), (0, fixture("dpkg-query.txt"), "")),
                      (is_cmd("dpkg", "--print-architecture"), (0, "i386\n", ""))])
    installed = pu.installed_versions(run, "Debian")
    assert "libc6:amd64" in installed and "libc6" in installed  # i386 is native here
    failing = FakeRunner([(is_cmd("rpm"), (1, "", "error: rpmdb open failed"))])
    with pytest.raises(RuntimeError, match="rpmdb open failed"):
        pu.installed_versions(failing, "RedHat")


# ---------------------------------------------------------------- rpm

@pytest.mark.parametrize("text, expected", [
    ("openssl-libs-1:3.0.7-25.el9_3.x86_64", ("openssl-libs", "1", "3.0.7", "25.el9_3", "x86_64")),
    ("kernel-5.10.0-216.0.0.115.oe2203sp1.x86_64",
     ("kernel", "0", "5.10.0", "216.0.0.115.oe2203sp1", "x86_64")),
    ("python3-libdnf-plugin-versionlock-4.3.0-13.el9.noarch.rpm",
     ("python3-libdnf-plugin-versionlock", "0", "4.3.0", "13.el9", "noarch")),
])
def test_split_nevra(text, expected):
    n = pu.split_nevra(text)
    assert (n["name"], n["epoch"], n["version"], n["release"], n["arch"]) == expected


@pytest.mark.parametrize("text", ["kernel", "noarch", "a-b", "-1-2.x86_64"])
def test_split_nevra_refuses_what_is_not_one(text):
    assert pu.split_nevra(text) is None


def test_evr_shows_the_epoch_only_when_set():
    assert pu.evr("0", "1.2", "3.el9") == "1.2-3.el9"
    assert pu.evr("(none)", "1.2", "3") == "1.2-3"
    assert pu.evr(2, "1.2", "3") == "2:1.2-3"


def test_check_update_el9_reads_wrapped_lines_and_stops_at_obsoletes():
    updates = pu.parse_check_update(fixture("dnf-check-update-el9.txt"))
    names = [u["name"] for u in updates]
    assert names == ["NetworkManager", "kernel", "kernel-core", "libaio", "openssl-libs",
                     "oracle-database-preinstall-19c", "python3-libdnf-plugin-versionlock-and-more", "tzdata"]
    wrapped = updates[6]
    assert wrapped == {"name": "python3-libdnf-plugin-versionlock-and-more", "arch": "noarch",
                       "available": "4.3.0-13.el9", "repo": "baseos"}
    assert updates[0]["available"] == "1:1.46.0-19.el9_4"
    assert "grub2-tools" not in names


def test_check_update_el7_ignores_plugin_chatter():
    updates = pu.parse_check_update(fixture("yum-check-update-el7.txt"))
    assert [(u["name"], u["available"], u["repo"]) for u in updates] == [
        ("kernel", "3.10.0-1160.119.1.el7", "updates"),
        ("openssl-libs", "1:1.0.2k-26.el7_9", "updates"),
        ("compat-libstdc++-33", "3.2.3-72.el7", "base")]


def test_updateinfo_keeps_security_advisories_only():
    assert pu.parse_updateinfo(fixture("dnf-updateinfo-security-el9.txt")) == {
        "kernel": ["RHSA-2024:5101"], "kernel-core": ["RHSA-2024:5101"], "openssl-libs": ["RHSA-2024:4249"]}
    assert pu.parse_updateinfo(fixture("openeuler-updateinfo-security.txt")) == {
        "kernel": ["openEuler-SA-2024-1870"], "kernel-tools": ["openEuler-SA-2024-1870"],
        "openssh": ["openEuler-SA-2024-1811"]}
    assert pu.parse_updateinfo(fixture("yum-updateinfo-security-el7.txt")) == {
        "kernel": ["RHSA-2024:1249"], "openssl-libs": ["RHSA-2023:5477"]}


def test_rpm_qa_joins_installonly_versions():
    installed = pu.parse_rpm_qa(fixture("rpm-qa.txt"))
    assert installed == {"kernel-core": "5.14.0-362.8.1.el9_3, 5.14.0-427.13.1.el9_4",
                         "openssl-libs": "1:3.0.7-27.el9", "libaio": "0.3.111-13.el9",
                         "NetworkManager": "1:1.46.0-8.el9_4"}


def rpm_runner(check_rc=100, info=(0, None, "")):
    text = fixture("dnf-updateinfo-security-el9.txt") if info[1] is None else info[1]
    info_answer = (info[0], text, info[2])
    return FakeRunner([
        (is_cmd("dnf", "-q", "check-update"), (check_rc, fixture("dnf-check-update-el9.txt"), "")),
        (is_cmd("dnf", "-q", "updateinfo"), info_answer),
    ])


def test_rpm_plan_classifies_and_excludes():
    installed = pu.parse_rpm_qa(fixture("rpm-qa.txt"))
    run = rpm_runner()
    plan = pu.rpm_plan(run, "dnf", DEFAULT_EXCLUDE, False, installed)
    by_name = {u["name"]: u for u in plan["updates"]}
    assert by_name["openssl-libs"]["security"] and by_name["openssl-libs"]["current"] == "1:3.0.7-27.el9"
    assert by_name["libaio"]["excluded_by"] == "libaio*"
    assert by_name["oracle-database-preinstall-19c"]["excluded_by"] == "oracle*"
    assert by_name["tzdata"]["current"] is None  # not in the installed map given
    assert "libaio" not in plan["selected"] and "tzdata" in plan["selected"]
    assert run.calls[1] == ["dnf", "-q", "updateinfo", "list", "--security"]
    security = pu.rpm_plan(rpm_runner(), "dnf", DEFAULT_EXCLUDE, True, installed)
    assert security["selected"] == ["kernel", "kernel-core", "openssl-libs"]
    assert security["error"] is None


def test_rpm_plan_without_updateinfo_installs_nothing_in_security_mode():
    plan = pu.rpm_plan(rpm_runner(info=(1, "", "Error: updateinfo metadata missing")), "dnf", [], True, {})
    assert plan["selected"] == [] and plan["updates"]
    assert "updateinfo" in plan["error"] and "metadata missing" in plan["error"]
    records = valid(pr.plan_records("db1", plan, "security"))
    assert {r["item"]: r["status"] for r in records}["安全更新分类"] == "warning"


def test_rpm_plan_yum_asks_yum_and_reports_errors():
    broken = (1, "", "Cannot find a valid baseurl for repo: base")
    run = FakeRunner([(is_cmd("yum", "-q", "check-update"), broken)])
    plan = pu.rpm_plan(run, "yum", [], False, {})
    assert "baseurl" in plan["error"] and plan["updates"] == []
    ok = FakeRunner([(is_cmd("yum", "-q", "check-update"), (0, "", "")),
                     (is_cmd("yum", "-q", "updateinfo", "list", "security"), (0, "", ""))])
    assert pu.rpm_plan(ok, "yum", [], False, {})["updates"] == []


def test_needs_restarting():
    reboot = fixture("needs-restarting-reboot.txt")
    assert pu.parse_needs_restarting(1, reboot) == (True, ["kernel", "systemd"])
    assert pu.parse_needs_restarting(0, fixture("needs-restarting-none.txt")) == (False, [])
    assert pu.parse_needs_restarting(2, "usage: needs-restarting [-h]") == (None, [])


def test_reboot_status():
    assert pu.reboot_status("Debian", [], flag_text="", flag_pkgs_text="linux-image-6.1.0-28-amd64\n") == (
        True, ["/var/run/reboot-required 存在（linux-image-6.1.0-28-amd64）"])
    assert pu.reboot_status("Debian", ["sensible-utils"], flag_text=None) == (False, [])
    required, reasons = pu.reboot_status("Debian", ["linux-image-6.1.0-28-amd64"], flag_text=None)
    assert required and "内核软件包已更新" in reasons[0]
    reboot, none = fixture("needs-restarting-reboot.txt"), fixture("needs-restarting-none.txt")
    required, reasons = pu.reboot_status("RedHat", [], needs_restarting=(1, reboot))
    assert required and reasons == ["needs-restarting -r：kernel、systemd"]
    assert pu.reboot_status("RedHat", ["openssl-libs"], needs_restarting=(0, none)) == (False, [])
    assert pu.reboot_status("RedHat", ["kernel-core"], needs_restarting=None)[0]


def test_exclusion_patterns_see_through_architecture_suffixes():
    assert pu.is_excluded("libaio1:i386", ["libaio*"]) == "libaio*"
    assert pu.is_excluded("compat-libstdc++-33", DEFAULT_EXCLUDE) == "compat-libstdc++*"
    assert pu.is_excluded("kernel-core", DEFAULT_EXCLUDE) is None
    assert pu.is_excluded("glibc", DEFAULT_EXCLUDE) is None


def test_diff_installed():
    before = {"a": "1", "b": "1", "gone": "3"}
    after = {"a": "2", "b": "1", "new": "5"}
    assert pu.diff_installed(before, after) == [
        {"name": "a", "before": "1", "after": "2"}, {"name": "gone", "before": "3", "after": None},
        {"name": "new", "before": None, "after": "5"}]


# ---------------------------------------------------------------- records and tables

def plan_of(**changes):
    run = apt_runner([(0, fixture("apt-install-ok.txt"), "")])
    plan = pu.apt_plan(run, DEFAULT_EXCLUDE, security_only=False)
    plan.update(changes)
    return plan


def test_list_mode_with_pending_security_updates_is_a_warning():
    records = {r["item"]: r for r in valid(pr.plan_records("app1", plan_of(), "list"))}
    available = records["可用更新"]
    assert available["status"] == "warning" and available["value"] == 7
    assert "安全更新 3 个" in available["detail"] and "未安装" in available["detail"]
    excluded = records["排除的更新"]
    assert excluded["status"] == "warning"  # an excluded security update (openjdk) stays unpatched
    assert "openjdk-17-jre-headless（openjdk-*）" in excluded["detail"]
    assert records["升级将删除的软件包"]["status"] == "warning"
    assert records["依赖带入的软件包"]["status"] == "ok"


def test_apply_mode_records_say_what_will_be_installed():
    plan = plan_of(held=[{"name": "base-files", "reason": "依赖被排除的软件包的新版本"}], removals=[])
    records = {r["item"]: r for r in valid(pr.plan_records("app1", plan, "all"))}
    assert records["可用更新"]["status"] == "ok"
    assert "全部更新将安装 4 个" in records["可用更新"]["detail"]
    assert records["因排除项保留的更新"]["status"] == "warning"
    assert "base-files" in records["因排除项保留的更新"]["detail"]
    assert "升级将删除的软件包" not in records


def test_a_plan_that_could_not_be_made_is_an_error_record():
    plan = pu.apt_plan(FakeRunner([(is_cmd("apt-get"), (100, "", "E: broken"))]), [], False)
    [record] = valid(pr.plan_records("app1", plan, "all"))
    assert record["status"] == "error" and "E: broken" in record["detail"]


def test_changes_record():
    changes = [{"name": "a", "before": "1", "after": "2"}, {"name": "k", "before": None, "after": "6"}]
    [ok] = valid([pr.changes_record("h", changes, ["a"])])
    assert ok["status"] == "ok" and ok["value"] == 2 and "升级 1 个、新安装 1 个" in ok["detail"]
    [missed] = valid([pr.changes_record("h", changes, ["a", "b"])])
    assert missed["status"] == "warning" and "版本未变：b" in missed["detail"]
    [removed] = valid([pr.changes_record("h", changes + [{"name": "r", "before": "1", "after": None}], [])])
    assert removed["status"] == "warning" and "被删除：r" in removed["detail"]


@pytest.mark.parametrize("required, policy, rebooted, status, value", [
    (True, "never", False, "warning", "需要重启"),
    (True, "auto", True, "ok", "已重启"),
    (False, "always", True, "ok", "已重启"),
    (False, "auto", False, "ok", "无需重启"),
])
def test_reboot_record(required, policy, rebooted, status, value):
    reasons = ["内核软件包已更新（kernel-core）"]
    [record] = valid([pr.reboot_record("db1", required, reasons, policy, rebooted)])
    assert (record["status"], record["value"]) == (status, value)
    if required:
        assert "kernel-core" in record["detail"]
    if status == "warning":
        assert "never" in record["detail"] and "需要重启" in record["detail"]


def test_tables_are_well_formed_and_carry_the_host():
    changes = [{"name": "a", "before": "1", "after": "2"}, {"name": "k", "before": None, "after": "6"}]
    tables = [pr.available_section("app1", plan_of()), pr.changes_section("app1", changes),
              pr.summary_section("app1", "security", 2, True, False, 12.6)]
    for table in tables:
        assert table_problems(table) == []
        assert all(row[0] == "app1" for row in table["rows"])
    assert tables[1]["rows"] == [["app1", "a", "1", "2"], ["app1", "k", "（新安装）", "6"]]
    assert tables[1]["columns"][2:] == ["升级前版本", "升级后版本"]
    assert tables[2]["rows"] == [["app1", "仅安全更新", 2, "是", "否", 13]]
    assert ["app1", "oracle-instantclient-basic", "19.19.0.0.0-2", "19.23.0.0.0-2", "否", "oracle*"] \
        in tables[0]["rows"]
