# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calendar filters (control node): thin wrappers over module_utils/tax_calendar.py and
module_utils/release_notice.py. Each filter's documentation is plugins/filter/<name>.yml.

Every calendar filter takes overrides= (a dict, or the path of a YAML/JSON override file;
inventories set gxtax_calendar_overrides). Errors name the filter and the rule.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.gxtax.ops.plugins.module_utils import release_notice as notice
from ansible_collections.gxtax.ops.plugins.module_utils.tax_calendar import (
    CalendarError,
    TaxCalendar,
    to_month,
)

_CACHE = {}  # one calendar per override file version / dict content: filters run per host
_CACHE_SIZE = 16


def _plain(value):
    """Jinja/Ansible proxies and YAML objects as plain dicts, lists and texts."""
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, int) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _calendar(overrides):
    if overrides is None or overrides == "":
        key, overrides = ("none",), None
    elif isinstance(overrides, (str, os.PathLike)):
        path = os.path.abspath(os.fspath(overrides))
        try:
            stat = os.stat(path)
            key = ("file", path, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None  # TaxCalendar reports the unreadable file
        overrides = path
    else:
        overrides = _plain(overrides)
        key = ("dict", json.dumps(overrides, sort_keys=True, default=str))
    if key is not None and key in _CACHE:
        return _CACHE[key]
    calendar = TaxCalendar(overrides)
    if key is not None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = calendar
    return calendar


def _call(name, rule, func):
    try:
        return func()
    except CalendarError as exc:
        raise AnsibleFilterError("gxtax.ops.%s (%s): %s" % (name, rule, exc)) from None


def is_workday(day, overrides=None):
    return _call("is_workday", "工作日", lambda: _calendar(overrides).is_workday(_plain(day)))


def holiday_name(day, overrides=None):
    return _call("holiday_name", "法定节假日", lambda: _calendar(overrides).holiday_name(_plain(day)))


def holiday_last_day(day, overrides=None):
    return _call("holiday_last_day", "INSP-16 法定节假日最后一天",
                 lambda: _calendar(overrides).is_holiday_last_day(_plain(day)))


def tax_filing_deadline(month, overrides=None):
    def deadline():
        year, number = to_month(_plain(month))
        return _calendar(overrides).tax_filing_deadline(year, number).isoformat()

    return _call("tax_filing_deadline", "征期申报截止日", deadline)


def in_tax_filing_period(day, overrides=None):
    return _call("in_tax_filing_period", "征期",
                 lambda: _calendar(overrides).in_filing_period(_plain(day)))


def release_window_check(when, kind, env, rules=None, overrides=None):
    return _call("release_window_check", "REL-04 发布时间窗口",
                 lambda: _calendar(overrides).release_window_check(_plain(when), str(kind), str(env),
                                                                   _plain(rules)))


def application_lead_ok(applied, release, overrides=None):
    return _call("application_lead_ok", "REL-03 提前两个工作日申请",
                 lambda: _calendar(overrides).application_lead_ok(_plain(applied), _plain(release)))


def monthly_release_plan(month, rules=None, overrides=None):
    def plan():
        year, number = to_month(_plain(month))
        return _calendar(overrides).monthly_release_plan(year, number, _plain(rules))

    return _call("monthly_release_plan", "REL-02 月版本发布日", plan)


def release_notice(start, end, scope=notice.DEFAULT_SCOPE,
                   business_impact=notice.DEFAULT_BUSINESS_IMPACT,
                   user_impact=notice.DEFAULT_USER_IMPACT, notes=None):
    return _call("release_notice", "REL-06 通知格式",
                 lambda: notice.release_notice(_plain(start), _plain(end), _plain(scope),
                                               _plain(business_impact), _plain(user_impact), _plain(notes)))


class FilterModule:
    def filters(self):
        return {
            "is_workday": is_workday,
            "holiday_name": holiday_name,
            "holiday_last_day": holiday_last_day,
            "tax_filing_deadline": tax_filing_deadline,
            "in_tax_filing_period": in_tax_filing_period,
            "release_window_check": release_window_check,
            "application_lead_ok": application_lead_ok,
            "monthly_release_plan": monthly_release_plan,
            "release_notice": release_notice,
        }
