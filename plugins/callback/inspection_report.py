# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: inspection_report
type: aggregate
short_description: Write the Chinese inspection report (JSON, HTML, summary) into the report archive
version_added: 0.1.0
author: gxtax-ops contributors
description:
  - Collects the C(records) that gxtax.ops check modules return (the one record format,
    C(schemas/inspection-record.schema.json)) and the state of every host, and at the end of the
    playbook writes C(report.json), C(report.html) and C(summary.txt) to
    C(<archive_root>/<kind>/YYYY/MM/DD/<run-id>/), appending a hash-chained line to
    C(<archive_root>/index.jsonl).
  - Only plays that set the variable C(gxtax_report_kind) (for example C(inspection)) are
    reported, so the callback can stay enabled for every playbook.
  - Hosts that were unreachable or failed are listed as such, never silently missing.
  - "Besides C(records), a task result may carry C(report_sections): extra tables
    (C({id, title, columns, rows})) such as packages before and after a patch run, shown after
    the host states and kept in C(report.json) under C(tables); tables of the same C(id) from
    several hosts are merged. And C(report_meta): a dict added to the report's C(meta), whose
    C(title) replaces the play's C(gxtax_report_title) (e.g. the holiday's name in the title).
    C(gxtax.ops.record) hands both over from a play."
  - An aggregate callback enabled by FQCN, so it still runs under ansible-runner and AWX,
    which force their own stdout callback and callback path.
requirements:
  - enable in ansible.cfg with C(callbacks_enabled = gxtax.ops.inspection_report)
extends_documentation_fragment:
  - gxtax.ops.report_archive
options:
  formats:
    description:
      - Human-readable files to write beside C(report.json), which is always written because
        the archive, the storage trend and the monthly aggregation read it.
      - C(html) is C(report.html), C(txt) is C(summary.txt).
    type: list
    elements: str
    choices: [html, txt]
    default: [html, txt]
    env:
      - name: GXTAX_REPORT_FORMATS
    ini:
      - section: gxtax_report
        key: formats
"""

import datetime
import json
import os

from ansible.plugins.callback import CallbackBase
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_html import render_html
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import (
    build_report,
    render_summary,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record, normalise, record_problems
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive, new_run_id
from ansible_collections.gxtax.ops.plugins.module_utils.run_context import default_archive_root, run_meta
from ansible_collections.gxtax.ops.plugins.module_utils.report_tables import merge_tables, table_problems

PLATFORM_GROUPS = ("publicity", "avrecord")



class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "gxtax.ops.inspection_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kind = None
        self._title = None
        self._playbook_dir = None
        self._extra_vars = {}
        self._started = None
        self._records = []
        self._hosts = {}
        self._tables = []
        self._report_meta = {}
        self._play_named_kind = False

    # -- collection ---------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook_dir = os.path.dirname(os.path.abspath(playbook._file_name))
        self._started = datetime.datetime.now()

    def v2_playbook_on_play_start(self, play):
        play_vars = play.vars or {}
        self._play_named_kind = bool(play_vars.get("gxtax_report_kind")) and not self._kind
        if play_vars.get("gxtax_report_kind") and not self._kind:
            self._kind = str(play_vars["gxtax_report_kind"])
            self._title = str(play_vars.get("gxtax_report_title") or "系统巡检报告")
            self._extra_vars = dict(play.get_variable_manager().extra_vars)
        if self._kind:
            for host in play.get_variable_manager()._inventory.get_hosts(play.hosts):
                self._host(host)

    def v2_playbook_on_no_hosts_matched(self):
        # The play naming the report kind matched no host: nothing was checked, so no report
        # (holiday_check.yml's first play leaves the second one no host on an ordinary day).
        if self._play_named_kind and not self._records:
            self._kind = self._title = None
            self._hosts = {}

    def _host(self, host):
        name = host.get_name()
        if name not in self._hosts:
            groups = {g.get_name() for g in host.get_groups()}
            self._hosts[name] = {
                "state": "ok",
                "platforms": sorted(groups.intersection(PLATFORM_GROUPS)),
                "message": "",
            }
        return self._hosts[name]

    def _collect(self, result, payload=None):
        payload = result._result if payload is None else payload
        host = result._host.get_name()
        for item in payload.get("results") or []:
            if isinstance(item, dict):
                self._collect(result, item)
        for raw in payload.get("records") or []:
            record = self._checked(raw, host, result._task.get_name())
            self._records.append(record)
            if record["host"] not in self._hosts:
                # A record about something other than an inventory host (a URL, a
                # listener checked from the control node): list it under the
                # platforms of the host whose task measured it.
                self._hosts[record["host"]] = {
                    "state": "ok", "message": "由 %s 的任务检查" % host,
                    "platforms": list(self._hosts[host]["platforms"]),
                }
        for table in payload.get("report_sections") or []:
            problems = table_problems(table)
            if problems:
                self._records.append(make_record(
                    "INSP-11", "报告表格格式错误（任务 %s）" % result._task.get_name(), host, "error",
                    detail="任务返回的 report_sections 不符合格式：%s" % "；".join(problems)[:300],
                    direction="检查该任务返回的表格数据", consequence="该表格未写入报告"))
            else:
                self._tables.append(table)
        if isinstance(payload.get("report_meta"), dict):
            self._report_meta.update(payload["report_meta"])

    @staticmethod
    def _checked(record, host, task):
        """Keep a well-formed record; turn anything else into an error record."""
        problems = record_problems(record)
        if not problems:
            return normalise(record)
        return make_record("INSP-11", "记录格式错误（任务 %s）" % task, host, "error",
                           detail="检查模块返回的记录不符合统一记录格式：%s" % "；".join(problems)[:300],
                           direction="检查该任务所用模块的版本与记录格式", consequence="该项检查结果缺失")

    def v2_runner_on_ok(self, result):
        if self._kind:
            self._host(result._host)
            self._collect(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not self._kind:
            return
        host = self._host(result._host)
        self._collect(result)
        if not ignore_errors:
            host["state"] = "failed"
            host["message"] = "任务“%s”失败：%s" % (result._task.get_name(),
                                                 str(result._result.get("msg", ""))[:300])

    def v2_runner_on_unreachable(self, result):
        if not self._kind:
            return
        host = self._host(result._host)
        host["state"] = "unreachable"
        host["message"] = str(result._result.get("msg", ""))[:300]

    # -- output -------------------------------------------------------------
    def _archive_root(self):
        return self.get_option("archive_root") or default_archive_root(self._playbook_dir)

    def _meta(self, run_id, ended):
        # Tasks may add to the meta (report_meta, e.g. the holiday's name) but never
        # replace what identifies the run.
        fixed = ("run_id", "kind", "started", "ended")
        added = {k: v for k, v in self._report_meta.items() if k not in fixed}
        return added | run_meta(run_id, self._started, ended, self._extra_vars) | {
            "kind": self._kind, "title": str(added.get("title") or self._title)}

    def v2_playbook_on_stats(self, stats):
        if not self._kind:
            return
        for name, host in self._hosts.items():
            # A failure that a block's rescue handled is not counted by Ansible either
            # (stats: rescued, not failures); the rescue records what could not be checked.
            rescued = name in stats.processed and not stats.summarize(name)["failures"]
            if host["state"] == "failed" and rescued:
                host["state"], host["message"] = "ok", ""
        ended = datetime.datetime.now()
        run_id = new_run_id(self._started)
        meta = self._meta(run_id, ended)
        report = build_report(self._records, self._hosts, meta, merge_tables(self._tables))
        formats = self.get_option("formats") or []
        files = {"report.json": json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True,
                                           default=str).encode("utf-8")}
        if "html" in formats:
            files["report.html"] = render_html(report).encode("utf-8")
        if "txt" in formats:
            files["summary.txt"] = render_summary(report).encode("utf-8")
        archive = ReportArchive(self._archive_root())
        entry = archive.store(self._kind, files, when=self._started, run_id=run_id,
                              meta={"overall_status": report["overall_status"],
                                    "counts": report["counts"], "title": meta["title"]})
        main_file = "report.html" if "report.html" in files else "report.json"
        self._display.display("gxtax.ops report: %s" % os.path.join(archive.root, entry["path"], main_file))
