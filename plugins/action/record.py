# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gxtax.ops.record: put records (and report tables and meta) made on the control node into the task result.

The report callback reads only a task result's `records`; this action lets a play hand it
records built by filters (INSP-14 basic information, for one) after checking each against
the one record format. Runs on the control node only; the documentation is in
plugins/modules/record.py, as ansible-core does for its own action-only plugins.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.plugins.action import ActionBase
from ansible_collections.gxtax.ops.plugins.module_utils.records import normalise, record_problems, worst
from ansible_collections.gxtax.ops.plugins.module_utils.report_tables import table_problems

class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("records", "sections", "meta"))
    _requires_connection = False  # nothing runs on the managed host
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(
            argument_spec={"records": {"type": "list", "elements": "raw", "default": []},
                           "sections": {"type": "list", "elements": "raw", "default": []},
                           "meta": {"type": "dict", "default": {}}})
        problems = []
        for index, record in enumerate(args["records"]):
            label = record.get("item") if isinstance(record, Mapping) else None
            problems.extend("记录 #%d（%s）：%s" % (index + 1, label or "?", problem)
                            for problem in record_problems(record))
        for index, table in enumerate(args["sections"]):
            label = table.get("title") if isinstance(table, Mapping) else None
            problems.extend("表格 #%d（%s）：%s" % (index + 1, label or "?", problem)
                            for problem in table_problems(table))
        if problems:
            result.update(failed=True, changed=False, problems=problems,
                          msg="记录不符合统一记录格式或表格格式错误 / records or tables break their format: "
                              "%s"
                              % "；".join(problems))
            return result
        records = [normalise(r) for r in args["records"]]
        result.update(changed=False, records=records, status=worst(records))
        if args["sections"]:
            result["report_sections"] = args["sections"]
        if args["meta"]:
            result["report_meta"] = args["meta"]
        return result
