"""Benchmark: grade a large host (many filesystems and disks) into records.

Prints figures only; asserts nothing. Measures parsing and grading in
module_utils/host_metrics.py, not the reading of /proc or the sampling sleep.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "collections"))

from ansible_collections.gxtax.ops.plugins.module_utils import host_metrics as hm  # noqa: E402

FILESYSTEMS = 300
ROUNDS = 200


def synthetic_raw():
    """/proc-shaped texts of a big database host: FILESYSTEMS xfs mounts, 64 disks."""
    mounts = "".join("/dev/mapper/vg-u%03d /u%03d xfs rw,relatime 0 0\n" % (i, i)
                     for i in range(FILESYSTEMS))
    statvfs = {"/u%03d" % i: {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 1000, "f_bfree": 10 * (i % 100),
                               "f_bavail": 10 * (i % 100), "f_files": 1000, "f_ffree": 500}
               for i in range(FILESYSTEMS)}
    disk = "   8 %4d sd%s 1000 0 8000 %d 500 0 4000 %d 0 %d %d\n"
    before = "".join(disk % (16 * i, chr(97 + i % 26) * (1 + i // 26), 0, 0, 0, 0) for i in range(64))
    after = "".join(disk % (16 * i, chr(97 + i % 26) * (1 + i // 26), 900, 600, 10 * i, 1500)
                    for i in range(64))
    cpu = "cpu  %d 0 %d %d %d 0 0 0 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\n"
    return {
        "stat_before": cpu % (100, 50, 800, 10), "stat_after": cpu % (400, 150, 1100, 30),
        "loadavg": "4.00 3.00 2.00 2/500 12345\n",
        "meminfo": ("MemTotal: 65536000 kB\nMemAvailable: 16000000 kB\n"
                    "SwapTotal: 8000000 kB\nSwapFree: 7900000 kB\n"),
        "diskstats_before": before, "diskstats_after": after, "interval": 1.0,
        "mounts": mounts, "statvfs": statvfs, "uptime": "86400.00 100000.00\n",
        "pid_stats": ["%d (oracle) S 1 1 1 0" % pid for pid in range(2000)],
        "tcp": "", "tcp6": "", "clock_attempts": [],
    }


def main():
    raw = synthetic_raw()
    start = time.perf_counter()
    count = 0
    for _ in range(ROUNDS):
        metrics = hm.build_metrics(raw)
        records = hm.evaluate(metrics, host="bench", expected_ports=[22, 1521, 7001])
        count = len(records)
    elapsed = time.perf_counter() - start
    errors = sum(1 for r in records if r["status"] == "error")
    print("filesystems=%d rounds=%d records_per_round=%d error_records=%d parse_and_grade_per_round=%.2fms"
          % (FILESYSTEMS, ROUNDS, count, errors, 1000 * elapsed / ROUNDS))


if __name__ == "__main__":
    main()
