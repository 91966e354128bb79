"""The release report callback under real ansible-playbook runs (REL-09, REL-08, SEC-03).

Small playbooks in tests/integration/playbooks/release_report_*.yml stand in for the release
playbook: they follow its contract (gxtax_release_report, REL- step names, release_meta,
release_event, records). Both report callbacks are enabled, as in ansible.cfg.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import pytest
from referencing import Registry, Resource

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
SCHEMAS = ROOT / "schemas"
SENTINEL = "Sentinel-rel-91c2-not-for-reports"
pytestmark = pytest.mark.integration


def _validator():
    record = json.loads((SCHEMAS / "inspection-record.schema.json").read_text(encoding="utf-8"))
    report = json.loads((SCHEMAS / "release-report.schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(record["$id"], Resource.from_contents(record))
    return jsonschema.Draft202012Validator(report, registry=registry)


def _require(*tools):
    missing = [t for t in tools if not (BIN / t).exists() and not shutil.which(t)]
    if missing:
        reason = "missing %s" % ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this fails)", pytrace=False)
        pytest.skip(reason)


def _run(tmp_path, name, *extra, unreachable=False):
    _require("ansible-playbook")
    inventory = tmp_path / "hosts.yml"
    hosts = ("all:\n  hosts:\n    app01:\n      ansible_connection: local\n"
             "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    if unreachable:  # a closed loopback port: refused at once, reported unreachable
        _require("ssh")
        hosts += ("    gone01: {ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1,"
                  " ansible_user: nobody}\n")
    inventory.write_text(hosts, encoding="utf-8")
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]),
               GXTAX_REPORT_ROOT=str(tmp_path / "reports"),
               ANSIBLE_CALLBACKS_ENABLED="gxtax.ops.inspection_report,gxtax.ops.release_report")
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory),
                           str(PLAYBOOKS / ("release_report_%s.yml" % name)), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    archive = ReportArchive(tmp_path / "reports")
    entries = archive.entries()
    assert len(entries) == 1, proc.stdout + proc.stderr
    entry = entries[0]
    run_dir = pathlib.Path(archive.root) / entry["path"]
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    _validator().validate(report)
    verify = subprocess.run([sys.executable, str(ROOT / "bin" / "gxtax-reports"), "--root",
                             str(tmp_path / "reports"), "verify"], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return proc, entry, report, run_dir


def _texts(run_dir):
    return {name: (run_dir / name).read_text(encoding="utf-8")
            for name in ("report.html", "summary.txt", "report.json")}


def test_successful_release_is_reported_once_without_secrets(tmp_path):
    proc, entry, report, run_dir = _run(tmp_path, "success", "-e", "release_secret=%s" % SENTINEL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert entry["kind"] == "release"  # and only one entry: the inspection callback stayed out
    assert entry["meta"]["version"] == "1.0.2.06" and entry["meta"]["outcome"] == "succeeded"
    assert entry["meta"]["environment"] == "preproduction" and entry["meta"]["package"] == "1.0.2_06.tar.gz"
    assert "gxtax.ops release report (成功): %s" % (run_dir / "report.html") in proc.stdout
    assert report["outcome"] == "succeeded"
    names = [s["task"] for s in report["steps"]]
    # REL- tasks of the release play only: not the untagged helper, not the unflagged play.
    assert names == ["REL-03 | Register the release", "REL-07 | Stage the package files",
                     "REL-07 | Run the database script", "REL-09 | Log in with the deployment credential",
                     "REL-09 | Verify the application", "REL-09 | Record the verification"]
    stage = report["steps"][1]
    assert stage["items"] == 2 and stage["changed"] is True
    assert stage["started"] <= stage["ended"]
    hidden = report["steps"][3]
    assert hidden["hidden"] is True and hidden["msg"] == "（已隐藏）"
    assert report["db_scripts"][0]["script"] == "db/001_add_index.sql"
    assert report["verifications"][0]["passed"] is True
    assert [r["item"] for r in report["records"]] == ["应用首页可访问"]
    assert report["release"]["checksums"]["publicity.war"] == {"md5": "0cc175b9c0f1b6a831c399e269772661"}
    texts = _texts(run_dir)
    assert 'id="rollback-banner"' not in texts["report.html"] and texts["summary.txt"].startswith("【成功】")
    assert "&lt;script&gt;" in texts["report.html"] and "<script" not in texts["report.html"]
    leaks = [str(p) for p in (tmp_path / "reports").rglob("*")
             if p.is_file() and SENTINEL.encode() in p.read_bytes()]
    assert leaks == []


def test_refused_release_reports_refused_and_nothing_after_the_refusal(tmp_path):
    proc, entry, report, run_dir = _run(tmp_path, "refused")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the play stops on purpose
    assert report["outcome"] == "refused" and entry["meta"]["outcome"] == "refused"
    assert [s["task"] for s in report["steps"]] == ["REL-04 | Check the release window",
                                                    "REL-04 | Stop the release"]
    assert not any(s["changed"] for s in report["steps"])
    assert report["refusals"][0]["next_allowed"] == "2026-12-16T18:00:00"
    texts = _texts(run_dir)
    assert texts["summary.txt"].startswith("【已拒绝（未做任何变更）】")
    assert 'id="rollback-banner"' not in texts["report.html"]


def test_rollback_is_shouted_in_html_summary_and_json(tmp_path):
    proc, entry, report, run_dir = _run(tmp_path, "rollback")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the rescue handled the failure
    assert report["outcome"] == "rolled_back" and entry["meta"]["outcome"] == "rolled_back"
    assert report["rollbacks"][0]["to"] == "1.0.2.06"
    verify = [s for s in report["steps"] if s["task"] == "REL-09 | Verify the application"]
    assert [s["status"] for s in verify] == ["rescued"]
    texts = _texts(run_dir)
    html = texts["report.html"]
    assert html.count('id="rollback-banner"') == 1 and html.index('id="rollback-banner"') < html.index("<h1>")
    assert texts["summary.txt"].splitlines()[0].startswith("【已回退】")


def test_release_failing_midway_still_writes_which_step_failed(tmp_path):
    proc, entry, report, run_dir = _run(tmp_path, "failed", unreachable=True)
    assert proc.returncode != 0
    assert report["outcome"] == "failed" and entry["meta"]["outcome"] == "failed"
    by_host = {(s["host"], s["task"]): s["status"] for s in report["steps"]}
    assert by_host[("app01", "REL-07 | Run the database script")] == "failed"
    assert by_host[("gone01", "REL-07 | Run the database script")] == "unreachable"
    assert not any(task == "REL-09 | Verify the application" for _host, task in by_host)
    assert report["hosts"]["gone01"]["state"] == "unreachable"
    assert "REL-07 | Run the database script" in report["failed_step"]["task"]
    texts = _texts(run_dir)
    assert "步骤“REL-07 | Run the database script”在主机 app01 失败" in texts["summary.txt"]
    assert 'id="rollback-banner"' not in texts["report.html"]
