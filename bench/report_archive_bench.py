"""Benchmark: archive N inspection-sized reports, then verify the whole archive.

Prints figures only; asserts nothing. The archive grows by about three runs a
working day per platform (INSP-15), so a year is ~1,500 runs.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "collections"))

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "1500"))
FILES = {"report.json": b"{" + b" " * 200_000 + b"}", "report.html": b"<p>" * 100_000,
         "summary.txt": b"x" * 500}


def main():
    with tempfile.TemporaryDirectory() as root:
        archive = ReportArchive(root)
        start = time.perf_counter()
        for _ in range(RUNS):
            archive.store("inspection", FILES)
        stored = time.perf_counter() - start
        start = time.perf_counter()
        problems = archive.verify()
        verified = time.perf_counter() - start
    print("runs=%d store_total=%.2fs store_per_run=%.1fms verify_total=%.2fs problems=%d"
          % (RUNS, stored, 1000 * stored / RUNS, verified, len(problems)))


if __name__ == "__main__":
    main()
