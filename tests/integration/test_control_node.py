"""The control_node role on harness hosts: installed from the offline bundle (make bundle) on a host
with no package repository and no route anywhere, the inspection then run there; and on a systemd
host its timers, whose gate skips a faked weekend and runs on the make-up Sunday 2026-09-20.

The bundle is built once per session (scripts/make-bundle --worktree, so it holds the code under
test). Dates are faked with libfaketime: the library of this machine (the same Debian 12) is put
into the host and preloaded through a drop-in of the job's unit, so the installed unit, gate and
gxtax-inspect run unchanged.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from tests.integration.support import unavailable as _unavailable

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
LIBFAKETIME = pathlib.Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
JOBS = ("inspect-transactional", "inspect-analytical", "holiday-check")



@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    """dist-like directory with the bundle of this working tree, built once per session."""
    if not (ROOT / ".git").exists():
        _unavailable("not a git checkout: make-bundle needs git")
    out = tmp_path_factory.mktemp("bundle")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "make-bundle"), "--worktree",
                           "--output-dir", str(out)], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        _unavailable("make-bundle failed (no package index reachable?): %s" % proc.stderr[-1500:])
    (tarball,) = out.glob("gxtax-ops-bundle-*.tar.gz")
    return tarball


def _python_of(h, host):
    command = "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'"
    version = h.ssh(host, command, check=True).stdout
    return version.strip()


def _apply_role(h, host, tarball, *extra, check=True):
    inventory = h.write_inventory(h.dir / "control_node.yml", groups={"control_node": [host.name]})
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / "control_node.yml"),
         "-e", "gxtax_control_node_bundle=%s" % tarball, *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")))
    if check:
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc


def _recap_changed(stdout):
    return [int(n) for n in re.findall(r"changed=(\d+)", stdout.split("PLAY RECAP")[-1])]


def _check_python(h, host, tarball):
    bundle_python = json.loads(subprocess.run(
        ["tar", "-xzOf", str(tarball), "%s/BUNDLE-INFO.json" % tarball.name[:-len(".tar.gz")]],
        capture_output=True, check=True).stdout)["python"]
    host_python = _python_of(h, host)
    if host_python != bundle_python:
        _unavailable("harness host Python %s differs from the bundle's %s (make-bundle --python-version %s)"
                     % (host_python, bundle_python, host_python))


def test_bundle_installs_offline_and_the_inspection_runs_there(harness_factory, bundle):
    h = harness_factory(count=1, flavour="plain")
    host = h.hosts[0]
    _check_python(h, host, bundle)
    # No route anywhere and no package repository: the harness only gives a default route to the
    # bridge (which forwards nothing); remove it too, and prove nothing outside answers.
    h.ssh(host, "ip route del default", check=True)
    routes = h.ssh(host, "ip route; ip -6 route", check=True).stdout
    assert "default" not in routes
    assert h.ssh(host, "ip route get 1.1.1.1").returncode != 0
    sources = h.ssh(host, "cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null "
                          "| grep -v '^#'").stdout
    assert sources.strip() == ""
    assert h.ssh(host, "python3 -c 'import ensurepip'").returncode != 0  # no python3-venv either

    first = _apply_role(h, host, bundle, "-e", "gxtax_control_node_scheduler=cron")
    assert "Write the cron entries" in first.stdout
    again = _apply_role(h, host, bundle, "-e", "gxtax_control_node_scheduler=cron")
    assert _recap_changed(again.stdout) == [0], "second run must change nothing:\n" + again.stdout[-3000:]

    release = h.ssh(host, "readlink /opt/gxtax-ops/current", check=True).stdout.strip()
    assert release == "/opt/gxtax-ops/releases/" + bundle.name[len("gxtax-ops-bundle-"):-len(".tar.gz")]
    cron = h.ssh(host, "cat /etc/cron.d/gxtax-ops", check=True).stdout
    assert re.search(r"^30 8 \* \* \* gxtax .*gxtax-schedule-gate --when workday "
                     r"--name inspect-transactional", cron, re.M)
    assert re.search(r"^0 9 \* \* \* gxtax .*--when holiday-last-day --name holiday-check .*--log syslog",
                     cron, re.M)
    assert re.search(r"^# 0 8 1 \* \* gxtax .*monthly_report\.yml", cron, re.M)  # disabled placeholder
    owner = h.ssh(host, "stat -c %U /opt/gxtax-ops/current/scripts /var/lib/gxtax-ops/reports",
                  check=True).stdout
    assert owner.split() == ["root", "gxtax"]  # the service user writes reports, never code

    # make inspect's playbook, through the cron entry point, as the service user, offline.
    run = h.ssh(host, "cd /var/lib/gxtax-ops && sudo -u gxtax env HOME=/var/lib/gxtax-ops "
                      "/opt/gxtax-ops/current/.venv/bin/python /opt/gxtax-ops/current/scripts/gxtax-inspect "
                      "-i /opt/gxtax-ops/current/inventories/local "
                      "--runner-dir /var/lib/gxtax-ops/runner/test "
                      "--report-root /var/lib/gxtax-ops/reports", timeout=900)
    assert run.returncode in (0, 2), run.stdout + run.stderr  # 2: this busy machine may be critical
    assert re.match(r"^Inspection report: /var/lib/gxtax-ops/reports/inspection/\S+/report\.html status: ",
                    run.stdout)
    verify = h.ssh(host, "cd /opt/gxtax-ops/current && .venv/bin/python bin/gxtax-reports "
                         "--root /var/lib/gxtax-ops/reports verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_tampered_bundle_is_refused(harness_factory, bundle, tmp_path):
    h = harness_factory(count=1, flavour="plain")
    tampered = tmp_path / bundle.name
    shutil.copy(bundle, tampered)
    shutil.copy(str(bundle) + ".sha256", str(tampered) + ".sha256")
    with open(tampered, "r+b") as handle:
        handle.seek(4096)
        byte = handle.read(1)
        handle.seek(4096)
        handle.write(bytes([byte[0] ^ 0xFF]))
    proc = _apply_role(h, h.hosts[0], tampered, "-e", "gxtax_control_node_scheduler=cron", check=False)
    assert proc.returncode != 0
    assert "SHA-256" in proc.stdout
    assert h.ssh(h.hosts[0], "test -e /opt/gxtax-ops/current").returncode != 0


def _start_on(h, host, job, when):
    """Start the job's installed unit with libfaketime preloaded at `when` (UTC; 00:30 is 08:30 in China)."""
    dropin = "/run/systemd/system/gxtax-%s.service.d" % job
    conf = ("[Service]\nEnvironment=LD_PRELOAD=/usr/local/lib/faketime/libfaketime.so.1 "
            "\"FAKETIME=@%s\"\n" % when)
    h.ssh(host, "mkdir -p %s && cat > %s/faketime.conf && systemctl daemon-reload" % (dropin, dropin),
          check=True, input=conf)
    h.ssh(host, "systemctl reset-failed gxtax-%s.service" % job)
    started = h.ssh(host, "systemctl start gxtax-%s.service" % job, timeout=900)
    log = h.ssh(host, "journalctl -u gxtax-%s.service -o cat --no-pager -n 30" % job, check=True).stdout
    return started.returncode, log


def test_timers_on_a_systemd_host_and_the_gate_on_faked_dates(harness_factory, bundle):
    if not LIBFAKETIME.exists():
        _unavailable("libfaketime is not installed (apt-get install faketime)")
    h = harness_factory(count=1, flavour="systemd")
    host = h.hosts[0]
    _check_python(h, host, bundle)
    _apply_role(h, host, bundle)

    timers = h.ssh(host, "systemctl list-timers --all --no-pager 'gxtax-*'", check=True).stdout
    for job in JOBS:
        assert "gxtax-%s.timer" % job in timers
        assert h.ssh(host, "systemctl is-enabled gxtax-%s.timer" % job).stdout.strip() == "enabled"
    assert "monthly-report" not in timers  # installed but stopped until its playbook exists
    assert h.ssh(host, "systemctl is-enabled gxtax-monthly-report.timer").stdout.strip() == "disabled"
    calendar = h.ssh(host, "systemctl cat gxtax-inspect-transactional.timer", check=True).stdout
    assert re.findall(r"^OnCalendar=(.*)$", calendar, re.M) == [
        "*-*-* 08:30:00", "*-*-* 12:00:00", "*-*-* 17:30:00"]

    target = host.root / "usr/local/lib/faketime"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(LIBFAKETIME, target / LIBFAKETIME.name)

    status, log = _start_on(h, host, "inspect-transactional", "2026-09-19 00:30:00")  # Saturday
    assert status == 0, log
    assert "gxtax-schedule-gate: 2026-09-19（周六） 是周末，不是工作日，跳过 inspect-transactional" in log
    assert h.ssh(host, "ls /var/lib/gxtax-ops/reports/inspection").returncode != 0

    status, log = _start_on(h, host, "inspect-transactional", "2026-09-20 00:30:00")  # make-up Sunday
    assert "gxtax-schedule-gate: 2026-09-20（周日） 是调休上班日，执行 inspect-transactional" in log
    assert re.search(r"Inspection report: /var/lib/gxtax-ops/reports/inspection/2026/09/20/\S+ status: ",
                     log), log
    assert status == 0 or "status=2/" in log  # gxtax-inspect 2: an abnormal report (busy CPU), still a run

    status, log = _start_on(h, host, "holiday-check", "2026-10-06 01:00:00")
    assert status == 0 and "最后一天是 2026-10-07，今天跳过 holiday-check" in log

    # The last day: the job's command (gxtax-inspect --playbook playbooks/holiday_check.yml) runs
    # and archives a holiday report.
    status, log = _start_on(h, host, "holiday-check", "2026-10-07 01:00:00")
    assert "是国庆节假期（2026-10-01 至 2026-10-07）最后一天，执行 holiday-check" in log
    assert re.search(r"Inspection report: /var/lib/gxtax-ops/reports/holiday/2026/10/07/\S+ status: ",
                     log), log
