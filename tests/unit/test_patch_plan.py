"""SEC-01 plan of a patch run: rollout order, the backup gate over a real archive, the release
window through the calendar, and the role and playbook wiring (the RedHat task file included,
which cannot run here: no RPM host can be built)."""

import datetime
import json
import pathlib
import subprocess
import sys

import jsonschema
import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.gxtax.ops.plugins.filter import patching as filters
from ansible_collections.gxtax.ops.plugins.module_utils import patch_gate, patch_rollout
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
ROLE = ROOT / "roles" / "os_patching"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
TODAY = datetime.date(2026, 11, 27)


def valid(records):
    assert records
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records


# ---------------------------------------------------------------- rollout

GROUPS = {
    "all": ["db1", "wls-admin", "wls1", "wls2", "nas1", "zabbix", "allinone"],
    "oracle_db": ["db1", "allinone"],
    "weblogic_admin": ["wls-admin", "allinone"],
    "weblogic_managed": ["wls2", "wls1", "allinone"],
    "app_storage": ["nas1"],
    "publicity": ["db1", "wls-admin", "wls1", "wls2"],
}


def test_rollout_order_canaries_managed_admin_storage_databases():
    order = patch_rollout.rollout(GROUPS, GROUPS["all"])
    assert [o["host"] for o in order] == ["zabbix", "wls2", "wls1", "wls-admin", "nas1", "db1", "allinone"]
    assert [o["position"] for o in order] == list(range(1, 8)) and order[0]["total"] == 7
    # a host in several groups goes with the latest of its stages, once
    assert order[-1]["stage"] == "oracle_db" and order[-1]["stage_title"] == "Oracle 数据库"
    assert order[0]["stage_title"] == "其他主机"


def test_rollout_follows_the_limit():
    order = patch_rollout.rollout(GROUPS, ["db1", "wls1"])
    assert [(o["host"], o["position"], o["total"]) for o in order] == [("wls1", 1, 2), ("db1", 2, 2)]


def test_rollout_matches_the_playbook_stages():
    plays = yaml.safe_load((ROOT / "playbooks" / "patching.yml").read_text(encoding="utf-8"))
    stage_plays = [p for p in plays if "roles" in p]
    assert len(stage_plays) == len(patch_rollout.STAGES)
    names = [stage for stage, _title in patch_rollout.STAGES]
    for index, (play, stage) in enumerate(zip(stage_plays, names, strict=True)):
        later = ["!" + s for s in names[index + 1:]]
        assert play["hosts"] == ":".join(["all" if stage == "others" else stage] + later)
        assert play["serial"] == "{{ gxtax_patching_serial | default(1) }}"
        assert play["max_fail_percentage"] == "{{ gxtax_patching_max_fail_percentage | default(0) }}"
    assert plays[0]["any_errors_fatal"] is True
    assert plays[0]["vars"] == {"gxtax_report_kind": "patch", "gxtax_report_title": "操作系统补丁升级报告"}


def test_remaining_hosts_and_failure_records():
    order = patch_rollout.rollout(GROUPS, GROUPS["all"])
    assert patch_rollout.remaining_hosts(order, ["wls1"]) == ["wls-admin", "nas1", "db1", "allinone"]
    assert patch_rollout.remaining_hosts(order, ["wls2", "wls1"]) == ["wls-admin", "nas1", "db1", "allinone"]
    assert patch_rollout.remaining_hosts(order, ["allinone"]) == []
    stopped = filters.patch_failure_record("wls1", "SEC-01 | Stop", "剩余空间不足", False, ["a", "b"])
    valid([stopped])
    assert stopped["status"] == "critical" and "未做任何变更" in stopped["detail"]
    assert "后续 2 台主机未处理" in stopped["detail"]
    [midway] = valid([filters.patch_failure_record("wls1", "apt", "dpkg error", True, 0)])
    assert "部分升级" in midway["detail"]
    unreached = valid(filters.patch_unreached_records(["db1", "allinone"], "wls1"))
    assert [(r["host"], r["status"], r["value"]) for r in unreached] == [
        ("db1", "warning", "未执行"), ("allinone", "warning", "未执行")]
    assert all("wls1" in r["detail"] for r in unreached)
    first = valid(filters.patch_rollout_records(order))[0]
    assert first["detail"] == "按滚动顺序第 1/7 台（阶段：其他主机）。"


# ---------------------------------------------------------------- backup gate

def store_inspection(root, records, when, tamper=False):
    archive = ReportArchive(str(root))
    report = {"records": records, "meta": {"kind": "inspection"}}
    entry = archive.store("inspection", {"report.json": json.dumps(report).encode()}, when=when)
    if tamper:
        path = pathlib.Path(archive.root) / entry["path"] / "report.json"
        path.chmod(0o640)
        path.write_text(json.dumps({"records": []}))
    return archive


def backup(host, status):
    extra = {} if status == "ok" else {"direction": "查看 RMAN 日志", "consequence": "无法恢复"}
    return make_record("INSP-12", "RMAN备份", host, status, detail="RMAN 全备", **extra)


def gate(root, day=TODAY, **kwargs):
    archive = ReportArchive(str(root))
    return patch_gate.evaluate(archive.root, archive.entries(), day=day, **kwargs)


def test_gate_passes_on_todays_clean_backups(tmp_path):
    store_inspection(tmp_path, [backup("db1", "ok"), backup("db2", "warning")],
                     datetime.datetime(2026, 11, 27, 8, 30))
    result = gate(tmp_path)
    assert result["passed"], result
    assert "2 条备份检查记录（INSP-12）均无严重问题" in result["reason"]
    records = valid(patch_gate.gate_records(["wls1", "db1"], result))
    assert [r["status"] for r in records] == ["ok", "ok"]


def test_gate_reads_the_latest_report_of_today_only(tmp_path):
    store_inspection(tmp_path, [backup("db1", "ok")], datetime.datetime(2026, 11, 26, 17, 30))
    assert not gate(tmp_path)["passed"]  # yesterday's does not count
    store_inspection(tmp_path, [backup("db1", "ok")], datetime.datetime(2026, 11, 27, 8, 30))
    store_inspection(tmp_path, [backup("db1", "critical")], datetime.datetime(2026, 11, 27, 12, 0))
    result = gate(tmp_path)
    assert not result["passed"]
    assert result["findings"] == [
        {"host": "db1", "item": "RMAN备份", "status": "critical", "detail": "RMAN 全备"}]
    assert "db1 RMAN备份（critical）" in result["reason"]
    assert result["report"]["created"].startswith("2026-11-27T12:00")


def test_gate_blocks_on_errors_and_on_missing_backup_records(tmp_path):
    store_inspection(tmp_path, [backup("db1", "error")], datetime.datetime(2026, 11, 27, 8, 30))
    assert not gate(tmp_path)["passed"]
    assert gate(tmp_path, block_statuses=("critical",))["passed"]
    other = tmp_path / "other"
    store_inspection(other, [make_record("INSP-01", "CPU", "db1", "ok")],
                     datetime.datetime(2026, 11, 27, 8, 30))
    result = gate(other)
    assert not result["passed"] and "没有备份检查记录" in result["reason"]
    assert gate(other, require_records=False)["passed"]


def test_gate_refuses_a_changed_report_and_an_empty_archive(tmp_path):
    store_inspection(tmp_path, [backup("db1", "ok")], datetime.datetime(2026, 11, 27, 8, 30), tamper=True)
    result = gate(tmp_path)
    assert not result["passed"] and "SHA-256" in result["reason"]
    empty = gate(tmp_path / "none")
    assert not empty["passed"] and "没有 2026-11-27 的 inspection 报告" in empty["reason"]
    records = valid(patch_gate.gate_records(["db1"], empty))
    assert records[0]["status"] == "critical" and "所有主机均未变更" in records[0]["detail"]


# ---------------------------------------------------------------- release window (the one calendar)

def test_window_refusal_names_the_next_allowed_start():
    calendar = pytest.importorskip("ansible_collections.gxtax.ops.plugins.filter.calendar")
    # 2026-10-25 is inside October's filing period (deadline moved to the 26th by the holiday)
    answer = calendar.release_window_check("2026-10-25T18:30", "patch", "production")
    assert not answer["allowed"]
    records = valid(filters.patch_window_records(answer, ["wls1", "db1"], "production"))
    assert [r["status"] for r in records] == ["warning", "warning"]
    assert "下一个允许的时间：2026-10-27T18:00" in records[0]["detail"]
    assert "所有主机均未变更" in records[0]["detail"]
    allowed = calendar.release_window_check("2026-10-28T19:00", "patch", "production")
    assert [r["status"] for r in filters.patch_window_records(allowed, ["wls1"], "production")] == ["ok"]
    emergency = calendar.release_window_check("2026-10-25T19:30", "emergency", "production")
    assert emergency["allowed"]  # an emergency fix may go in during the filing period, 19:00-23:00


def test_filters_refuse_bad_input():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError):
        filters.patch_window_records({"reason": "x"}, ["h"], "production")
    with pytest.raises(AnsibleFilterError):
        filters.patch_reboot_record("h", True, [], "sometimes", False)
    with pytest.raises(AnsibleFilterError):
        filters.patch_rollout_order(["not", "groups"], [])
    assert filters.patch_summary_section("h", "list", 0, False, False, 1.4)["rows"] == [
        ["h", "仅列出", 0, "否", "否", 1]]


# ---------------------------------------------------------------- role and playbook wiring

def load(name):
    return yaml.safe_load((ROLE / name).read_text(encoding="utf-8"))


def test_defaults_match_the_argument_specs():
    defaults = load("defaults/main.yml")
    specs = load("meta/argument_specs.yml")["argument_specs"]
    documented = {}
    for entry in specs.values():
        documented.update(entry["options"])
    assert set(defaults) <= set(documented)
    for name, value in defaults.items():
        if "default" in documented[name]:
            assert documented[name]["default"] == value, name


def test_redhat_task_file_passes_mode_and_exclusions_to_dnf():
    tasks = load("tasks/apply_redhat.yml")
    dnf = next(t for t in tasks if "ansible.builtin.dnf" in t)["ansible.builtin.dnf"]
    assert dnf["name"] == "*" and dnf["state"] == "latest" and dnf["update_only"] is True
    assert dnf["security"] == "{{ gxtax_patching_mode == 'security' }}"
    assert dnf["exclude"] == "{{ __gxtax_patching_excludes }}"
    assert dnf["nobest"] is True and dnf["update_cache"] is False


@pytest.mark.parametrize("mode, expected", [
    ("security", ["yum", "-y", "update", "--skip-broken", "--security",
                  "--exclude=oracle*", "--exclude=libaio*"]),
    ("all", ["yum", "-y", "update", "--skip-broken", "--exclude=oracle*", "--exclude=libaio*"]),
])
def test_yum_task_renders_its_command(mode, expected):
    tasks = load("tasks/apply_redhat.yml")
    argv = next(t for t in tasks if "ansible.builtin.command" in t)["ansible.builtin.command"]["argv"]
    templar = Templar(loader=DataLoader(), variables={
        "gxtax_patching_mode": mode, "__gxtax_patching_excludes": ["oracle*", "libaio*"]})
    assert templar.template(argv) == expected


def test_debian_task_file_installs_exact_versions_without_holds():
    tasks = load("tasks/apply_debian.yml")
    apt = next(t for t in tasks if "ansible.builtin.apt" in t)["ansible.builtin.apt"]
    assert apt["name"] == "{{ __gxtax_patching_plan.plan.apt_install }}"
    assert apt["install_recommends"] is False and apt["update_cache"] is False
    # no apt-mark / dpkg_selections task: nothing that could leave a hold behind
    modules = {key for task in tasks for key in task if key.startswith("ansible.")}
    assert modules == {"ansible.builtin.set_fact", "ansible.builtin.apt"}


def test_playbook_syntax_covers_every_task_file():
    out = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "playbooks/patching.yml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    main = (ROLE / "tasks" / "main.yml").read_text(encoding="utf-8")
    for name in ("precheck", "snapshot", "list", "apply_debian", "apply_redhat", "reboot", "postcheck"):
        # imported statically, so --syntax-check reads them
        assert "ansible.builtin.import_tasks: %s.yml" % name in main, name
