"""Benchmark: build and render the inspection report of a large synthetic estate.

Prints figures only; asserts nothing. Goal from issue 3: 1,000 hosts x 40
checks rendered in under 3 s, report.html under 5 MB.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "collections"))

from ansible_collections.gxtax.ops.plugins.module_utils.inspection_html import render_html  # noqa: E402
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import (  # noqa: E402
    build_report,
    render_summary,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record  # noqa: E402

HOSTS = int(os.environ.get("BENCH_HOSTS", "1000"))
CHECKS = int(os.environ.get("BENCH_CHECKS", "40"))


def synthetic():
    records, hosts = [], {}
    for h in range(HOSTS):
        name = "host%04d" % h
        hosts[name] = {"state": "ok" if h % 97 else "unreachable",
                       "platforms": ["publicity" if h % 2 else "avrecord"], "message": ""}
        for c in range(CHECKS):
            value = (h * 7 + c * 13) % 100
            status = "critical" if value >= 99 else "warning" if value >= 97 else "ok"
            extra = {} if status == "ok" else {"direction": "清理过期文件或扩容",
                                               "consequence": "写满后业务中断"}
            records.append(make_record("INSP-01", "文件系统 /u%02d 空间使用率" % c, name, status, value, "%",
                                       {"warning": 80, "critical": 90},
                                       "文件系统 /u%02d 空间已用 %d%%。" % (c, value), **extra))
    return records, hosts


def main():
    records, hosts = synthetic()
    start = time.perf_counter()
    report = build_report(records, hosts, {"run_id": "bench", "started": "", "ended": ""})
    built = time.perf_counter() - start
    page = render_html(report).encode("utf-8")
    rendered = time.perf_counter() - start - built
    data = json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    summary = render_summary(report)
    total = time.perf_counter() - start
    print("hosts=%d checks_per_host=%d records=%d build=%.2fs html=%.2fs total_with_json=%.2fs "
          "html_size=%.2fMB json_size=%.2fMB summary_lines=%d"
          % (HOSTS, CHECKS, len(records), built, rendered, total, len(page) / 1e6, len(data) / 1e6,
             summary.count("\n")))


if __name__ == "__main__":
    main()
