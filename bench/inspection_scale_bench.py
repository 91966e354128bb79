"""Benchmark: the inspection playbook over many harness hosts (needs root).

Prints figures only; asserts nothing. For N plain harness hosts (default 50):
wall time of playbooks/inspection.yml, peak controller memory (summed RSS of
ansible-playbook and its workers, sampled every 0.1 s), and the overhead of
the gxtax.ops.inspection_report callback against the same run with only the
default callback (median of REPEAT runs each, alternated).
"""

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import Harness  # noqa: E402

HOSTS = int(os.environ.get("BENCH_HOSTS", "50"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
BIN = pathlib.Path(sys.executable).parent


def _tree_rss_kb(root_pid):
    """Summed VmRSS of root_pid and its descendants."""
    children, rss = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/status" % pid, encoding="utf-8") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        children.setdefault(int(fields["PPid"]), []).append(int(pid))
        rss[int(pid)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_once(inventory, reports, with_callback):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]), GXTAX_REPORT_ROOT=str(reports))
    if not with_callback:
        env["ANSIBLE_CALLBACKS_ENABLED"] = ""
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/inspection.yml",
                             "-e", "gxtax_inspection_sample_seconds=1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.1)
    return time.perf_counter() - start, peak, proc.returncode


def main():
    with Harness(count=HOSTS, flavour="plain", name="bench%d" % os.getpid()) as harness, \
            tempfile.TemporaryDirectory() as tmp:
        inventory = pathlib.Path(tmp) / "hosts.yml"
        harness.write_inventory(inventory)
        timings = {True: [], False: []}
        peaks = {True: [], False: []}
        for _ in range(REPEAT):
            for with_callback in (True, False):
                wall, peak, rc = run_once(inventory, pathlib.Path(tmp) / "reports", with_callback)
                if rc != 0:
                    print("run failed with status %d" % rc)
                    return 1
                timings[with_callback].append(wall)
                peaks[with_callback].append(peak)
        with_cb, without_cb = statistics.median(timings[True]), statistics.median(timings[False])
        print("hosts=%d forks=20 repeat=%d wall_with_report=%.2fs wall_default_only=%.2fs "
              "callback_overhead=%.1f%% peak_controller_rss_with_report=%.0fMB peak_default_only=%.0fMB"
              % (HOSTS, REPEAT, with_cb, without_cb, 100 * (with_cb - without_cb) / without_cb,
                 max(peaks[True]) / 1024, max(peaks[False]) / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
