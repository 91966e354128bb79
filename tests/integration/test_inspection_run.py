"""Real runs of the inspection playbook on this machine: ansible-playbook from the
checkout, ansible-runner with its own callbacks forced, and make's bad-input paths."""

import json
import os
import pathlib
import subprocess
import sys

import ansible_runner
import jsonschema

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))


def _env(**extra):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), **extra)
    env.pop("ANSIBLE_CONFIG", None)
    return env


def _only_report(root):
    archive = ReportArchive(root)
    entries = archive.entries()
    assert len(entries) == 1, entries
    assert archive.verify() == []
    run_dir = pathlib.Path(archive.root) / entries[0]["path"]
    return entries[0], json.loads((run_dir / "report.json").read_text(encoding="utf-8")), run_dir


def _assert_host_records(report):
    assert report["hosts"]["localhost"]["state"] == "ok"
    records = [r for r in report["records"] if r["host"] == "localhost"]
    assert {r["requirement_id"] for r in records} == {"INSP-01", "INSP-14"}
    assert any(r["item"] == "CPU使用率" for r in records)
    for record in records:
        jsonschema.validate(record, SCHEMA)


def test_ansible_playbook_from_checkout_writes_report(tmp_path):
    proc = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/inspection.yml",
                           "-e", "gxtax_inspection_sample_seconds=0.2"],
                          cwd=ROOT, env=_env(GXTAX_REPORT_ROOT=str(tmp_path)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry, report, run_dir = _only_report(tmp_path)
    assert "gxtax.ops report: %s" % (run_dir / "report.html") in proc.stdout
    assert entry["kind"] == "inspection" and report["meta"]["inventory"] == "inventories/local"
    _assert_host_records(report)
    assert "巡检结论" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_ansible_runner_still_loads_the_report_callback_by_fqcn(tmp_path):
    (tmp_path / "runner").mkdir()
    result = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"), project_dir=str(ROOT),
        playbook="playbooks/inspection.yml", inventory=str(ROOT / "inventories" / "local"),
        extravars={"gxtax_inspection_sample_seconds": 0.2},
        envvars={"GXTAX_REPORT_ROOT": str(tmp_path / "reports"), "PATH": _env()["PATH"]},
        quiet=True, timeout=300)
    stdout = result.stdout.read()
    assert result.rc == 0, stdout
    # Runner's own event callback ran too: the runner API saw the task events.
    assert any(e.get("event") == "runner_on_ok" for e in result.events)
    _entry, report, _run_dir = _only_report(tmp_path / "reports")
    _assert_host_records(report)


def _make(*args, **env):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=_env(**env),
                          capture_output=True, text=True, timeout=120)


def test_make_inspect_refuses_a_missing_inventory():
    proc = _make("inspect", "INVENTORY=inventories/does-not-exist")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "inventory 'inventories/does-not-exist' does not exist" in lines[0]


def test_make_inspect_without_python3_venv_says_so(tmp_path):
    fake = ROOT / "tests" / "fixtures" / "python-without-ensurepip"
    proc = _make("inspect", "PYTHON=%s" % fake, "VENV=%s" % (tmp_path / "venv"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "install python3-venv" in lines[0]
    assert not (tmp_path / "venv").exists()


def test_inspection_over_ssh_lists_unreachable_hosts(plain_hosts, tmp_path):
    """Three harness hosts over SSH plus one address on the test bridge where no host
    answers: the report has records for the three and lists the fourth as unreachable."""
    names = [h.name for h in plain_hosts.hosts]
    inventory = tmp_path / "hosts.yml"
    plain_hosts.write_inventory(inventory, groups={"publicity": names[:2], "avrecord": names[2:]})
    ghost = tmp_path / "ghost.yml"
    ghost.write_text("all:\n  hosts:\n    gxt-ghost:\n      ansible_host: 10.231.0.250\n"
                     "      ansible_user: root\n      ansible_ssh_common_args: -o ConnectTimeout=3\n",
                     encoding="utf-8")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-i", str(ghost),
                           "playbooks/inspection.yml", "-e", "gxtax_inspection_sample_seconds=0.2",
                           "-e", '{"gxtax_inspection_expected_ports": [22]}'],
                          cwd=ROOT, env=_env(GXTAX_REPORT_ROOT=str(tmp_path / "reports")),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # 4: some host unreachable
    _entry, report, run_dir = _only_report(tmp_path / "reports")
    assert report["hosts"]["gxt-ghost"]["state"] == "unreachable"
    assert report["platforms"]["publicity"] == names[:2]
    for name in names:
        assert report["hosts"][name]["state"] == "ok"
        mine = [r for r in report["records"] if r["host"] == name]
        assert any(r["item"] == "监听端口 22" and r["status"] == "ok" for r in mine), mine
    assert "1台主机未完成巡检（gxt-ghost）" in report["conclusion"]
    assert "无法连接" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_rescued_failure_leaves_the_host_inspected_but_an_unrescued_one_does_not(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    rescued: {ansible_connection: local}\n"
                         "    unrescued: {ansible_connection: local}\n", encoding="utf-8")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                           "tests/integration/playbooks/rescued_failure.yml"],
                          cwd=ROOT, env=_env(GXTAX_REPORT_ROOT=str(tmp_path / "reports")),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _entry, report, _run_dir = _only_report(tmp_path / "reports")
    assert report["hosts"]["rescued"]["state"] == "ok"
    assert report["hosts"]["unrescued"]["state"] == "failed"
    assert "unrescued failure" in report["hosts"]["unrescued"]["message"]
    assert [r["status"] for r in report["records"] if r["host"] == "rescued"] == ["error"]


def test_tasks_add_tables_and_meta_to_the_report(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  vars: {ansible_connection: local, ansible_python_interpreter: %s}\n"
                         "  hosts: {first: {}, second: {}}\n" % sys.executable, encoding="utf-8")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                           "tests/integration/playbooks/report_tables.yml"],
                          cwd=ROOT, env=_env(GXTAX_REPORT_ROOT=str(tmp_path / "reports")),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry, report, run_dir = _only_report(tmp_path / "reports")
    assert entry["kind"] == "patch"
    assert report["title"] == report["meta"]["title"] == "节假日全面检查报告（国庆节）"
    assert report["meta"]["holiday"] == "国庆节" and report["meta"]["run_id"] != "not-allowed"
    [table] = report["tables"]
    assert table["id"] == "packages"
    assert sorted(row[0] for row in table["rows"]) == ["first", "second"]
    [bad] = [r for r in report["records"] if r["item"].startswith("报告表格格式错误")]
    assert bad["host"] == "second" and bad["status"] == "error" and "row 1" in bad["detail"]
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<h2>软件包升级明细</h2>" in page and "&lt;openssl&gt;" in page and "<openssl>" not in page
    assert "<dt>节假日</dt><dd>国庆节</dd>" in page
    # The record about a URL is listed under the host whose task measured it.
    assert report["hosts"]["portal.example.invalid"]["message"] == "由 first 的任务检查"
