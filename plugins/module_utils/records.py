# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one record format every check yields (DESIGN.md, "One record format").

Runs on managed hosts too, so it must stay valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
