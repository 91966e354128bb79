# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: release_report
type: aggregate
short_description: Write the Chinese release report (JSON, HTML, summary) into the report archive
version_added: 0.1.0
author: gxtax-ops contributors
description:
  - At the end of a release playbook writes C(report.json) (C(schemas/release-report.schema.json)),
    C(report.html) and C(summary.txt) to C(<archive_root>/release/YYYY/MM/DD/<run-id>/) and appends
    a hash-chained line to C(<archive_root>/index.jsonl) whose C(meta) carries C(version),
    C(package), C(environment), C(outcome) and C(title) (REL-08, SEC-03).
  - Only plays with the variable C(gxtax_release_report) set to true (play vars or extra vars) are
    reported. Such plays must not set C(gxtax_report_kind), so the inspection callback never reports
    the same play.
  - B(Steps.) Every task whose name starts with a requirement tag C(REL-NN) is a step, one per host
    (a loop is one step with its item count); its start and end times come from this callback's
    clock. A task without the tag that fails or finds its host unreachable is listed as a step too,
    so no failure goes unreported. A C(no_log) result shows only C(（已隐藏）) and nothing else of it
    is read; keys whose name contains password, passwd, secret or token are replaced by
    C(（已隐藏）) wherever they appear.
  - B(Release metadata.) A task result key C(release_meta) (a dict), returned by a module or set
    with M(ansible.builtin.set_fact) (read from the task's C(ansible_facts)), is merged into the
    report, later tasks winning key by key. Keys with a place of their own are C(title),
    C(version), C(package), C(package_name), C(environment) (production, preproduction, test),
    C(kind) (monthly, patch, emergency), C(approval), C(emergency_approval), C(application_date),
    C(window_check) (the dict returned by the C(gxtax.ops.release_window_check) filter, with
    allowed, reason and next_allowed), C(checksums) (file name to digest, or file name to a dict of
    md5, sha1 or sha256 to digest) and
    C(notice) (the REL-06 notice, shown verbatim); any other key is listed as it is.
  - B(Events.) A result key C(release_event) (a dict or a list of dicts, returned or set like
    C(release_meta)) of type C(refused) (reason, next_allowed), C(rollback) (from, to, reason,
    outcome), C(verification) (environment, passed, checks - strings or dicts with item, passed,
    detail) or C(db_script) (script, outcome succeeded/failed/skipped, rows, seconds, error). Records
    in the one record format under C(records) (for example from M(gxtax.ops.record)) are kept as
    verification records.
  - B(Outcome.) C(rolled_back) (已回退) whenever a rollback event exists, shouted by a red banner
    at the top of the HTML, the first line of C(summary.txt) and the JSON C(outcome);
    otherwise C(refused) (已拒绝（未做任何变更）) when a refusal exists and no step changed
    anything; otherwise C(failed) (失败) when a step failed (not ignored, not rescued), a host was
    unreachable, a database script failed, a verification did not pass or a record is critical or
    error; otherwise C(succeeded) (成功). A playbook that stops midway still gets its report,
    naming the step that failed.
requirements:
  - enable in ansible.cfg with C(callbacks_enabled = gxtax.ops.inspection_report, gxtax.ops.release_report)
extends_documentation_fragment:
  - gxtax.ops.report_archive
"""

import datetime
import json
import os
from collections.abc import Mapping

from ansible.plugins.callback import CallbackBase
from ansible_collections.gxtax.ops.plugins.module_utils.release_html import render_html
from ansible_collections.gxtax.ops.plugins.module_utils.release_report import (
    build_report,
    index_meta,
    is_step_name,
    render_summary,
)
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive, new_run_id
from ansible_collections.gxtax.ops.plugins.module_utils.run_context import default_archive_root, run_meta

TRUE_WORDS = ("true", "yes", "on", "1")


def _truthy(value):
    return value is True or str(value).strip().lower() in TRUE_WORDS


def _now():
    return datetime.datetime.now().isoformat(timespec="milliseconds")



def _hidden(payload):
    return bool(payload.get("censored") or payload.get("_ansible_no_log"))


def _as_list(value):
    return value if isinstance(value, list) else [value]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "gxtax.ops.release_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._active = False  # the current play is a release play
        self._seen = False  # some play of this run was
        self._play = ""
        self._playbook_dir = None
        self._extra_vars = {}
        self._started = None
        self._task_started = {}
        self._runner_started = {}
        self._steps = []
        self._release_meta = []
        self._events = []
        self._records = []
        self._hosts = {}

    # -- which plays -------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook_dir = os.path.dirname(os.path.abspath(playbook._file_name))
        self._started = datetime.datetime.now()

    def v2_playbook_on_play_start(self, play):
        manager = play.get_variable_manager()
        extra = dict(manager.extra_vars)
        flag = extra.get("gxtax_release_report", (play.vars or {}).get("gxtax_release_report"))
        self._active = _truthy(flag)
        if not self._active:
            return
        self._seen = True
        if (play.vars or {}).get("gxtax_report_kind"):
            self._display.warning("play %r sets both gxtax_release_report and gxtax_report_kind: it is "
                                  "reported twice (release and %s)" % (play.get_name(),
                                                                      play.vars["gxtax_report_kind"]))
        self._extra_vars = extra
        self._play = play.get_name()
        for host in manager._inventory.get_hosts(play.hosts):
            self._host(host.get_name())

    def _host(self, name):
        return self._hosts.setdefault(name, {"state": "ok", "message": "", "failures": None})

    # -- step timing ----------------------------------------------------------------
    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._active:
            self._task_started[task._uuid] = _now()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_runner_on_start(self, host, task):
        if self._active:
            self._runner_started[(host.get_name(), task._uuid)] = _now()

    # -- results ---------------------------------------------------------------------
    def v2_runner_on_ok(self, result):
        self._finish(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._finish(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._finish(result, "unreachable")

    def _finish(self, result, status):
        if not self._active:
            return
        task, host, payload = result._task, result._host.get_name(), result._result
        name = task.get_name()
        ended = _now()
        hidden = bool(task.no_log is True or _hidden(payload))
        origin = {"host": host, "task": name, "time": ended}
        if not hidden:
            self._collect(payload, origin)
        if status in ("failed", "unreachable"):
            state = self._host(host)
            state["state"] = status
            state["message"] = "任务“%s”%s" % (name, "失败" if status == "failed" else "无法连接")
        if not is_step_name(name) and status not in ("failed", "unreachable"):
            return
        items = payload.get("results") if isinstance(payload.get("results"), list) else None
        self._steps.append({
            "play": self._play, "host": host, "task": name,
            "started": self._runner_started.pop((host, task._uuid), None)
            or self._task_started.get(task._uuid) or ended,
            "ended": ended, "status": status, "changed": bool(payload.get("changed")),
            "items": len(items) if items is not None else None,
            "hidden": hidden or bool(items) and all(isinstance(i, Mapping) and _hidden(i) for i in items),
            "msg": self._message(payload, status, items),
        })

    @staticmethod
    def _message(payload, status, items):
        if status == "skipped":
            return payload.get("skip_reason") or ""
        parts = [payload.get("msg")]
        if status in ("failed", "unreachable", "ignored"):
            # A loop's own msg only says that an item failed: add the first failed item's.
            failed = [i for i in items or [] if isinstance(i, Mapping) and i.get("failed") and not _hidden(i)]
            if failed:
                parts.append(failed[0].get("msg"))
            if payload.get("stderr"):
                parts.append(payload["stderr"])
        return [p for p in parts if p]

    def _collect(self, payload, origin):
        """release_meta, release_event and records of a result and of its loop items."""
        for item in payload.get("results") or []:
            if isinstance(item, Mapping) and not _hidden(item):
                self._collect(item, origin)
        facts = payload.get("ansible_facts") if isinstance(payload.get("ansible_facts"), Mapping) else {}
        for source in (payload, facts):
            if source.get("release_meta") is not None:
                self._release_meta.append(source["release_meta"])
            if source.get("release_event") is not None:
                self._events.extend((event, origin) for event in _as_list(source["release_event"]))
        for record in payload.get("records") or []:
            self._records.append((record, origin))

    # -- output ----------------------------------------------------------------------
    def _archive_root(self):
        return self.get_option("archive_root") or default_archive_root(self._playbook_dir)

    def _meta(self, run_id, ended):
        return run_meta(run_id, self._started, ended, self._extra_vars)

    def v2_playbook_on_stats(self, stats):
        if not self._seen:
            return
        for name, host in self._hosts.items():
            if name in stats.processed:
                host["failures"] = stats.summarize(name)["failures"]
        ended = datetime.datetime.now()
        run_id = new_run_id(self._started)
        report = build_report(self._meta(run_id, ended), self._steps, self._release_meta, self._events,
                              self._records, self._hosts)
        files = {
            "report.json": json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True,
                                      default=str).encode("utf-8"),
            "report.html": render_html(report).encode("utf-8"),
            "summary.txt": render_summary(report).encode("utf-8"),
        }
        archive = ReportArchive(self._archive_root())
        entry = archive.store("release", files, when=self._started, run_id=run_id, meta=index_meta(report))
        self._display.display("gxtax.ops release report (%s): %s" % (
            report["outcome_zh"], os.path.join(archive.root, entry["path"], "report.html")))
