# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one record format every check yields (DESIGN.md, "One record format").

Runs on managed hosts too, so it must stay valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping

STATUSES = ("ok", "warning", "critical", "error", "skipped")

# Worst first: reports sort by this, and a host's overall state is its worst
# record. A skipped item (no swap configured, say) says nothing bad, so it
# ranks after ok: ok + skipped is ok, only skipped alone is skipped.
SEVERITY = {"critical": 0, "error": 1, "warning": 2, "ok": 3, "skipped": 4}

FIELDS = (
    "requirement_id", "item", "host", "status", "value", "unit",
    "threshold", "detail", "direction", "consequence",
)


def make_record(requirement_id, item, host, status, value=None, unit=None,
                threshold=None, detail="", direction=None, consequence=None):
    """Return one record; raise ValueError on a status outside STATUSES.

    direction (排查方向) and consequence (导致问题) are required for
    warning, critical and error, so no abnormal item reaches a report bare.
    """
    if status not in STATUSES:
        raise ValueError("status %r is not one of %s" % (status, ", ".join(STATUSES)))
    if status in ("warning", "critical", "error") and not (direction and consequence):
        raise ValueError("%s record for %r needs direction and consequence" % (status, item))
    return {
        "requirement_id": requirement_id,
        "item": item,
        "host": host,
        "status": status,
        "value": value,
        "unit": unit,
        "threshold": threshold,
        "detail": detail,
        "direction": direction,
        "consequence": consequence,
    }


def grade(value, warning, critical):
    """Status of a higher-is-worse measurement against its two thresholds."""
    if value is None:
        return "error"
    if critical is not None and value >= critical:
        return "critical"
    if warning is not None and value >= warning:
        return "warning"
    return "ok"


def worst(records):
    """The most severe status among records ('ok' for none)."""
    statuses = [r["status"] for r in records] or ["ok"]
    return min(statuses, key=lambda s: SEVERITY[s])


# Checking records made elsewhere (action gxtax.ops.record, the report callback):
# schemas/inspection-record.schema.json, rule by rule.
REQUIREMENT_ID = re.compile(r"^([A-Z]+-[0-9]{2}|DJBH-[0-9.]+-[a-z])$")
REQUIRED = ("requirement_id", "item", "host", "status")
ABNORMAL = ("warning", "critical", "error")
_SCALAR = (str, int, float, bool)


def _type_problem(field, value):
    if field == "value" and not (value is None or isinstance(value, _SCALAR)):
        return "value 必须是数字、字符串、布尔或空 / value must be a number, string, boolean or null"
    if field == "threshold" and not (value is None or isinstance(value, (str, int, float, Mapping))
                                     and not isinstance(value, bool)):
        return "threshold 必须是数字、字符串、字典或空 / threshold must be a number, string, object or null"
    if field in ("unit", "direction", "consequence") and not (value is None or isinstance(value, str)):
        return "%s 必须是字符串或空 / %s must be a string or null" % (field, field)
    if field == "detail" and not isinstance(value, str):
        return "detail 必须是字符串 / detail must be a string"
    return None


def record_problems(record):
    """Why record breaks the record format ([] if it does not). Missing optional fields are allowed."""
    if not isinstance(record, Mapping):
        return ["记录必须是字典 / a record must be a dict, got %s" % type(record).__name__]
    problems = []
    unknown = sorted(str(k) for k in record if k not in FIELDS)
    if unknown:
        problems.append("未知字段 / unknown fields: %s" % ", ".join(unknown))
    for field in REQUIRED:
        value = record.get(field)
        if not isinstance(value, str) or not value:
            problems.append("缺少 %s / %s is required (a non-empty string)" % (field, field))
    if isinstance(record.get("requirement_id"), str) and record["requirement_id"] \
            and not REQUIREMENT_ID.match(record["requirement_id"]):
        problems.append("requirement_id %r 不是需求编号 / is not a requirement ID like INSP-14"
                        % record["requirement_id"])
    if isinstance(record.get("status"), str) and record["status"] and record["status"] not in STATUSES:
        problems.append("status %r 不是 %s 之一 / is not one of them"
                        % (record["status"], "/".join(STATUSES)))
    for field in ("value", "unit", "threshold", "detail", "direction", "consequence"):
        if field in record:
            problem = _type_problem(field, record[field])
            if problem:
                problems.append(problem)
    if record.get("status") in ABNORMAL:
        for field, chinese in (("direction", "排查方向"), ("consequence", "导致问题")):
            if not (isinstance(record.get(field), str) and record[field].strip()):
                problems.append("%s 记录缺少 %s（%s） / a %s record needs %s"
                                % (record["status"], field, chinese, record["status"], field))
    return problems


def normalise(record):
    """A complete record (every field present) from a valid, possibly partial, one."""
    values = {field: record.get(field) for field in FIELDS}
    values["detail"] = values["detail"] or ""
    return make_record(**values)
