# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""REL-06: the release notification text in the contract's format (control node only).

The contract (采购需求 ②3 包名称及通知格式) gives the notice line by line:

    【系统应用系统补丁升级通知】
    补丁升级时间：20XX 年 XX 月 XX 日 XX:XX 至 XX 月 XX 日 XX:XX
    补丁升级范围：
    系统应用
    业务影响：需停机重启；
    用户影响：升级期间，业务暂时无法办理；
    补丁说明：
    1、X.XX.XX.XX 版本历史遗留的相关问题。
    2、优化用户体验，修改相关的提示信息。

The blank lines between them in the extracted text are the extraction's (every paragraph of the
document has one), so the notice has none. Half-width spaces around the numbers and the
full-width colons are the contract's own.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.gxtax.ops.plugins.module_utils.tax_calendar import CalendarError, to_datetime

TITLE = "【系统应用系统补丁升级通知】"
DEFAULT_SCOPE = "系统应用"
DEFAULT_BUSINESS_IMPACT = "需停机重启；"
DEFAULT_USER_IMPACT = "升级期间，业务暂时无法办理；"
# A note given as "1、…" or "2. …" is numbered again here, not twice; "1.0.2.06 版本…" is a
# version, not a number (a dot followed by a digit).
_NUMBERED = re.compile(r"^\s*\d+\s*(?:[、)）]|[.．](?!\d))\s*")


def _lines(value, what):
    """Text (one item a line) or a list of texts -> non-empty stripped lines."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.splitlines()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise CalendarError("REL-06 %s 必须是文本或文本列表 / %s must be text or a list of texts"
                            % (what, what))
    result = []
    for item in items:
        if not isinstance(item, str):
            raise CalendarError("REL-06 %s 必须是文本或文本列表 / %s must be text or a list of texts"
                                % (what, what))
        if item.strip():
            result.append(item.strip())
    return result


def upgrade_time(start, end):
    """'2026 年 10 月 27 日 19:00 至 10 月 27 日 21:00' (zero-padded, as the XX of the template).

    end is a time, or the upgrade's length in minutes (an int) counted from start.
    """
    begin = to_datetime(start, "start")
    if isinstance(end, int) and not isinstance(end, bool):
        finish = begin + datetime.timedelta(minutes=end)
    else:
        finish = to_datetime(end, "end")
    if finish <= begin:
        raise CalendarError("REL-06 结束时间 %s 必须晚于开始时间 %s / end must be after start"
                            % (finish.strftime("%Y-%m-%d %H:%M"), begin.strftime("%Y-%m-%d %H:%M")))
    return "%s 年 %s 月 %s 日 %s 至 %s 月 %s 日 %s" % (
        begin.strftime("%Y"), begin.strftime("%m"), begin.strftime("%d"), begin.strftime("%H:%M"),
        finish.strftime("%m"), finish.strftime("%d"), finish.strftime("%H:%M"))


def release_notice(start, end, scope=DEFAULT_SCOPE, business_impact=DEFAULT_BUSINESS_IMPACT,
                   user_impact=DEFAULT_USER_IMPACT, notes=()):
    """The notice as one text, lines joined by newlines, no trailing newline."""
    scope_lines = _lines(scope, "scope")
    note_lines = [_NUMBERED.sub("", n) for n in _lines(notes, "notes")]
    if not scope_lines:
        raise CalendarError("REL-06 补丁升级范围不能为空 / scope must not be empty")
    if not note_lines:
        raise CalendarError("REL-06 补丁说明至少一条 / notes need at least one line")
    business = " ".join(_lines(business_impact, "business_impact")) or DEFAULT_BUSINESS_IMPACT
    user = " ".join(_lines(user_impact, "user_impact")) or DEFAULT_USER_IMPACT
    lines = [TITLE, "补丁升级时间：" + upgrade_time(start, end), "补丁升级范围："]
    lines += scope_lines
    lines += ["业务影响：" + business, "用户影响：" + user, "补丁说明："]
    lines += ["%d、%s" % (number, note) for number, note in enumerate(note_lines, 1)]
    return "\n".join(lines)
