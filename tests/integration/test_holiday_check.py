"""INSP-16 holiday full check on harness hosts: on a date faked to 2026-10-07 (last day of 国庆节)
the check runs and archives a `holiday` report naming the holiday; on 2026-10-06 it exits quietly;
an NFS-like mount made read-only on one host is critical.

The date is faked with libfaketime (Debian package `faketime`) around the gate and the playbook,
so the code under test reads the real clock as in production: no date option exists for tests.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
GATE = ROOT / "scripts" / "gxtax-schedule-gate"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
MEDIA = "/data/media"
# 09:00 in China; the gate and the playbook both take the date in China Standard Time.
LAST_DAY = "2026-10-07 01:00:00"
DAY_BEFORE = "2026-10-06 01:00:00"
# host_inspection's thresholds relaxed so that this busy machine's CPU does not colour the report.
RELAXED = {"gxtax_inspection_thresholds": {"cpu_warning": 100, "cpu_critical": 100,
                                           "load_per_cpu_warning": 1000, "load_per_cpu_critical": 1000},
           "gxtax_inspection_sample_seconds": 0.2, "gxtax_inspection_basic_info": False,
           "gxtax_inspection_media_mounts": [MEDIA]}



@pytest.fixture(scope="module")
def faketime():
    path = shutil.which("faketime")
    if not path:
        _unavailable("faketime is not installed (apt-get install faketime)")
    return path


@pytest.fixture
def estate(harness_factory, tmp_path):
    """Two plain hosts; gxt-h1 serves avrecord's media from an ext4 filesystem mounted at /data/media."""
    h = harness_factory(count=2, flavour="plain", groups={"avrecord": ["gxt-h1"], "app_storage": ["gxt-h1"]})
    h.mount_filesystem(h.hosts[0], MEDIA, size_mb=64, fill_pct=20)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(RELAXED), encoding="utf-8")
    return h, extra


def _run(faketime, when, argv, tmp_path):
    env = dict(os.environ, GXTAX_REPORT_ROOT=str(tmp_path / "reports"),
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    return subprocess.run([faketime, when, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


def _playbook(h, extra, *more):
    return [str(BIN / "ansible-playbook"), "-i", str(h.inventory_path),
            str(ROOT / "playbooks" / "holiday_check.yml"), "-e", "@%s" % extra, *more]


def _gated(h, extra):
    return [sys.executable, str(GATE), "--when", "holiday-last-day", "--name", "holiday-check", "--",
            *_playbook(h, extra)]


def _reports(tmp_path):
    archive = ReportArchive(str(tmp_path / "reports"))
    if not os.path.exists(archive.index_path):
        return archive, []
    assert archive.verify() == []
    return archive, archive.entries()


def _report(archive, entry):
    path = pathlib.Path(archive.root) / entry["path"] / "report.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _items(report, host):
    return {r["item"]: r for r in report["records"] if r["host"] == host and r["requirement_id"] == "INSP-16"}


def test_last_day_of_national_day_runs_the_full_check(estate, faketime, tmp_path):
    h, extra = estate
    proc = _run(faketime, LAST_DAY, _gated(h, extra), tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.startswith(
        "gxtax-schedule-gate: 2026-10-07（周三） 是国庆节假期（2026-10-01 至 2026-10-07）最后一天")
    archive, entries = _reports(tmp_path)
    assert [(e["kind"], e["meta"]["title"]) for e in entries] == [("holiday", "节假日全面检查报告（国庆节）")]
    assert entries[0]["path"].startswith("holiday/2026/10/07/")
    report = _report(archive, entries[0])
    assert report["meta"]["holiday"] == "国庆节" and report["meta"]["holiday_date"] == "2026-10-07"
    assert report["meta"]["kind"] == "holiday"
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)
    assert {name: host["state"] for name, host in report["hosts"].items()} == {"gxt-h1": "ok", "gxt-h2": "ok"}
    media = _items(report, "gxt-h1")
    assert media["存储 %s 挂载状态" % MEDIA]["status"] == "ok"
    assert media["存储 %s 读写检查" % MEDIA]["status"] == "ok"
    assert 10 < media["存储 %s 空间使用率" % MEDIA]["value"] < 40  # filled to 20 %
    # The network part ran on both hosts: the harness bridge is their default gateway.
    for host in ("gxt-h1", "gxt-h2"):
        gateway = [r for r in _items(report, host).values() if r["item"].startswith("默认网关")]
        assert [r["status"] for r in gateway] == ["ok"]
    # And the nightly inspection's checks are in the same report (INSP-01 host resources).
    assert any(r["requirement_id"] == "INSP-01" and r["host"] == "gxt-h2" for r in report["records"])


def test_the_day_before_the_gate_exits_quietly(estate, faketime, tmp_path):
    h, extra = estate
    proc = _run(faketime, DAY_BEFORE, _gated(h, extra), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "gxtax-schedule-gate: 2026-10-06（周二） 是国庆节假期，最后一天是 2026-10-07，今天跳过 holiday-check"]
    assert proc.stderr == ""
    assert _reports(tmp_path)[1] == []


def test_the_playbook_alone_decides_too_and_force_overrides(estate, faketime, tmp_path):
    h, extra = estate
    quiet = _run(faketime, DAY_BEFORE, _playbook(h, extra), tmp_path)
    assert quiet.returncode == 0, quiet.stdout[-3000:]
    assert "不是最后一天，不执行节假日全面检查" in quiet.stdout
    assert _reports(tmp_path)[1] == [], "an ordinary day must leave no report (see the report callback)"
    forced = _run(faketime, DAY_BEFORE, _playbook(h, extra, "-e", "force=true"), tmp_path)
    assert forced.returncode == 0, forced.stdout[-3000:]
    archive, entries = _reports(tmp_path)
    assert [e["kind"] for e in entries] == ["holiday"]
    assert _report(archive, entries[0])["meta"]["holiday_check_forced"] in (True, "True")


def test_a_read_only_nfs_like_mount_is_critical(estate, faketime, tmp_path):
    h, extra = estate
    h.ssh(h.hosts[0], "mount -o remount,ro %s" % MEDIA, check=True)
    proc = _run(faketime, LAST_DAY, _playbook(h, extra), tmp_path)
    archive, entries = _reports(tmp_path)
    assert len(entries) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = _report(archive, entries[0])
    mount = _items(report, "gxt-h1")["存储 %s 挂载状态" % MEDIA]
    assert (mount["status"], mount["value"]) == ("critical", "只读")
    assert mount["direction"] and mount["consequence"]
    assert report["overall_status"] == "critical" and proc.returncode == 0
    # Only that host's storage is critical.
    others = [r for r in report["records"] if r["status"] == "critical" and r["item"].startswith("存储")]
    assert [(r["host"], r["item"]) for r in others] == [("gxt-h1", "存储 %s 挂载状态" % MEDIA)]


@pytest.mark.parametrize(("module", "args"), [
    ("storage_check", {"host": "py37", "fstab": False, "mounts": ["/dev/shm"]}),
    ("network_check", {"host": "py37", "peers": [{"host": "127.0.0.1"}], "dns_names": ["localhost"]}),
])
def test_the_modules_run_on_python37(module, args):
    """Kylin V10's system Python: the modules run for real under 3.7 (vermin only reads them)."""
    found = sorted(pathlib.Path.home().glob(".pyenv/versions/3.7*/bin/python3.7"))
    python37 = str(found[0]) if found else shutil.which("python3.7")
    if not python37:
        _unavailable("no Python 3.7 interpreter (pyenv's 3.7 expected on this kind of machine)")
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-o",
         "-e", "ansible_python_interpreter=%s" % python37,
         "-m", "gxtax.ops.%s" % module, "-a", json.dumps(args)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["records"]
    for record in result["records"]:
        assert record["host"] == "py37" and record["requirement_id"] == "INSP-16"
        jsonschema.validate(record, SCHEMA)
    assert result["status"] in ("ok", "warning", "skipped")
