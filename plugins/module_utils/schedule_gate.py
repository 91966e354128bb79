# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a scheduled job runs today (INSP-15, INSP-16): asked of the one calendar.

Timers and cron fire every day; scripts/gxtax-schedule-gate asks decide() and runs the job's
command only on the days the contract wants: working days (make-up working days included,
weekends and statutory holidays excluded) for the inspections, the last day of a statutory
holiday for the full check. No date rule lives here: every answer comes from
module_utils/tax_calendar.py. Control node only (Python 3.11, chinese-calendar).
"""

from __future__ import annotations

import datetime as dt

from ansible_collections.gxtax.ops.plugins.module_utils.tax_calendar import CST, CalendarError, TaxCalendar

CONDITIONS = ("workday", "holiday-last-day", "daily")
WEEKDAYS = "一二三四五六日"


class Decision:
    """run: whether the job runs; line: the one log line saying why; error: the calendar could not
    answer (a year with no data), so an operator must act even if the job ran."""

    def __init__(self, run, line, error=False, holiday=None):
        self.run = run
        self.line = line
        self.error = error
        self.holiday = holiday

    def __repr__(self):
        return "Decision(run=%r, line=%r, error=%r)" % (self.run, self.line, self.error)


def today_in_china(now=None):
    """The date in China Standard Time: the bureau's day, whatever the control node's timezone."""
    moment = now if now is not None else dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the machine's local time
    return moment.astimezone(CST).date()


def _day(day):
    return "%s（周%s）" % (day.isoformat(), WEEKDAYS[day.weekday()])


def decide(when, day, calendar=None, job="任务"):
    """Decision for condition `when` on `day` (a datetime.date)."""
    if when not in CONDITIONS:
        raise ValueError("when must be one of %s, not %r" % (", ".join(CONDITIONS), when))
    calendar = calendar or TaxCalendar()
    if when == "daily":
        return Decision(True, "%s 每日执行 %s" % (_day(day), job))
    try:
        if when == "workday":
            return _workday(day, calendar, job)
        return _holiday_last_day(day, calendar, job)
    except CalendarError as exc:
        if when == "workday":
            # Fail open: an inspection on a day off costs nothing, a missed working day breaks INSP-15.
            return Decision(True, "日历无法判断 %s 是否工作日，按工作日执行 %s：%s" % (_day(day), job, exc),
                            error=True)
        # Fail closed: a full check cannot be placed without knowing the holidays; say so loudly.
        return Decision(False, "日历无法判断 %s 是否法定节假日最后一天，未执行 %s：%s"
                        % (_day(day), job, exc), error=True)


def _workday(day, calendar, job):
    if calendar.is_workday(day):
        kind = "调休上班日" if day.weekday() >= 5 else "工作日"
        return Decision(True, "%s 是%s，执行 %s" % (_day(day), kind, job))
    name = calendar.holiday_name(day)
    why = "%s假期" % name if name else "周末"
    return Decision(False, "%s 是%s，不是工作日，跳过 %s" % (_day(day), why, job), holiday=name)


def _holiday_last_day(day, calendar, job):
    block = calendar.holiday_block(day)
    if block is None:
        return Decision(False, "%s 不是法定节假日最后一天，跳过 %s" % (_day(day), job))
    first, last, name = block
    if day == last:
        return Decision(True, "%s 是%s假期（%s 至 %s）最后一天，执行 %s" % (
            _day(day), name, first.isoformat(), last.isoformat(), job), holiday=name)
    return Decision(False, "%s 是%s假期，最后一天是 %s，今天跳过 %s" % (
        _day(day), name, last.isoformat(), job), holiday=name)
