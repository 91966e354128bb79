"""Issue 3 acceptance on real SSH hosts: a full filesystem, a host that dies mid-run,
a schema-valid report.json, an HTML page that names every host, and a verify
command that catches tampering."""

import html.parser
import json
import os
import pathlib
import subprocess
import sys
import time

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
pytestmark = pytest.mark.integration


class _TextOf(html.parser.HTMLParser):
    """Collects the visible text; a parse error raises."""

    def __init__(self):
        super().__init__()
        self.text = []

    def handle_data(self, data):
        self.text.append(data)


def _module_running_on(host_root):
    """True once a Python (an Ansible module: with pipelining it is fed on stdin, so its
    name is not on the command line) runs inside the host whose root is host_root."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = pathlib.Path("/proc", pid, "cmdline").read_bytes()
            if cmdline.startswith(b"/usr/bin/python3") and os.readlink("/proc/%s/root" % pid) == host_root:
                return True
        except OSError:
            continue
    return False


def _run_inspection(harness, tmp_path, victim=None):
    inventory = tmp_path / "hosts.yml"
    names = [h.name for h in harness.hosts]
    harness.write_inventory(inventory, groups={"publicity": names[:2], "avrecord": names[2:]})
    reports = tmp_path / "reports"
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), GXTAX_REPORT_ROOT=str(reports))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/inspection.yml",
                             "-e", "gxtax_inspection_sample_seconds=3"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if victim is not None:
        # Power the victim off while its host_metrics module is sampling.
        deadline = time.monotonic() + 120
        while not _module_running_on(str(victim.root)):
            assert proc.poll() is None and time.monotonic() < deadline, "module never started on victim"
            time.sleep(0.1)
        harness.power_off(victim)
    output, _ = proc.communicate(timeout=600)
    return proc.returncode, output, reports


def test_full_filesystem_and_dead_host_are_reported(harness_factory, tmp_path):
    h = harness_factory(count=3, flavour="plain")
    full, _healthy, victim = h.hosts
    h.mount_filesystem(full, "/u01", size_mb=32, fill_pct=96)

    rc, output, reports = _run_inspection(h, tmp_path, victim=victim)
    assert rc == 4, output  # ansible-playbook: some host unreachable

    archive = ReportArchive(reports)
    assert archive.verify() == []
    run_dir = pathlib.Path(archive.root) / archive.entries()[0]["path"]
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)

    u01 = [r for r in report["records"] if r["host"] == full.name and r["item"] == "文件系统 /u01 空间使用率"]
    assert len(u01) == 1 and u01[0]["status"] == "critical", u01
    assert u01[0]["direction"] and u01[0]["consequence"]
    assert report["hosts"][victim.name]["state"] == "unreachable"
    assert report["overall_status"] == "critical"
    assert report["records"][0]["status"] == "critical"  # abnormal first

    parser = _TextOf()
    parser.feed((run_dir / "report.html").read_text(encoding="utf-8"))
    parser.close()
    text = "".join(parser.text)
    for host in h.hosts:
        assert host.name in text
    assert "无法连接" in text and "排查方向" in text


def test_verify_names_a_tampered_or_deleted_report(tmp_path):
    """The documented verify command, run as a user would, on a real archive."""
    archive = ReportArchive(tmp_path)
    entries = [archive.store("inspection", {"report.json": b"{}", "report.html": b"<p>%d</p>" % i})
               for i in range(3)]
    verify = [sys.executable, str(ROOT / "bin" / "gxtax-reports"), "--root", str(tmp_path), "verify"]
    assert subprocess.run(verify, capture_output=True, text=True, check=False).returncode == 0

    tampered = tmp_path / entries[1]["path"] / "report.html"
    tampered.write_bytes(tampered.read_bytes().replace(b"1", b"7"))
    proc = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "%s/report.html: content changed" % entries[1]["path"] in proc.stdout

    (tmp_path / entries[2]["path"] / "report.json").unlink()
    proc = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert "%s/report.json: missing" % entries[2]["path"] in proc.stdout
