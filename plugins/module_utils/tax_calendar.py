# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one calendar of gxtax.ops (control node only, Python 3.11; needs chinese-calendar).

Working days, statutory holidays and their last days (INSP-16), the monthly tax filing
deadline and period (征期), the release windows (REL-04), the application lead time (REL-03)
and the monthly release dates (REL-02). Releases, patching, holiday checks and schedules ask
this module; none keeps its own date rules (DESIGN.md "One calendar").

Data: the chinese-calendar package (State Council notices 2004-2026) under an override dict
(``load_overrides`` reads it from YAML/JSON); the override wins. A year that neither knows is
a CalendarError: weekends alone would be a guess, and a guessed 征期 is a wrong release window.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import chinese_calendar
import yaml
from chinese_calendar import constants as _cc

ONE_DAY = dt.timedelta(days=1)
# China Standard Time has no DST since 1991: an aware datetime converts without tzdata.
CST = dt.timezone(dt.timedelta(hours=8))
SEARCH_DAYS = 400  # next_allowed looks this far ahead: more than a year of windows
BLOCK_SPAN = 40  # no holiday block (longest: 春节 9 days) comes near this; bounds the walk

PACKAGE_FIRST_YEAR = min(_cc.holidays).year
PACKAGE_LAST_YEAR = max(_cc.holidays).year

# The package names holidays in English (its Chinese ones drop 节); the notices say these.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}

RELEASE_KINDS = {"monthly": "月版本", "patch": "补丁包", "emergency": "紧急补丁"}
PERIODS = ("filing_period", "outside_filing_period", "any")

# REL-04, the contract's 升级发版时间. Per environment a list of windows; an environment not
# listed (or listed as None) is unrestricted; an empty list allows nothing (a freeze).
DEFAULT_RELEASE_RULES = {
    "production": [
        {"period": "outside_filing_period", "kinds": ["monthly", "patch", "emergency"],
         "start": "18:00", "end": "22:00"},
        {"period": "filing_period", "kinds": ["emergency"], "start": "19:00", "end": "23:00"},
    ],
}

OVERRIDE_KEYS = ("holidays", "workdays", "filing_deadlines")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class CalendarError(ValueError):
    """The calendar cannot answer: unknown year, bad input or a malformed override."""


def no_data_message(year):
    return ("%s 年的节假日安排未知：请把国务院办公厅 %s 年部分节假日安排的通知写入日历覆盖文件"
            "（gxtax_calendar_overrides，见 files/calendar/overrides.example.yml）"
            " / no holiday data for %s: add the State Council notice for %s to the calendar"
            " override file" % (year, year, year, year))


# ---------------------------------------------------------------- input parsing

def to_date(value, what="date"):
    """A datetime.date from a date, a datetime or an ISO 8601 text (its date part)."""
    if isinstance(value, dt.datetime):
        return to_datetime(value, what).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return to_datetime(text, what).date()
        except (ValueError, CalendarError):
            pass
    raise CalendarError("%s 必须是日期 YYYY-MM-DD / %s must be a date (YYYY-MM-DD), got %r"
                        % (what, what, value))


def to_datetime(value, what="time"):
    """A naive datetime in China Standard Time; aware values are converted to UTC+8."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 10:
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                pass
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CST).replace(tzinfo=None)
        return value
    raise CalendarError("%s 必须是日期和时间 YYYY-MM-DDTHH:MM[:SS] / %s must be a date and time "
                        "(YYYY-MM-DDTHH:MM[:SS]), got %r" % (what, what, value))


def to_month(value):
    """(year, month) from 'YYYY-MM', a date/ISO date, or a (year, month) pair."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        year, month = value
    elif isinstance(value, str) and _MONTH_RE.match(value.strip()):
        year, month = _MONTH_RE.match(value.strip()).groups()
    else:
        try:
            day = to_date(value, "month")
        except CalendarError:
            raise CalendarError("月份必须是 YYYY-MM / month must be YYYY-MM, got %r" % (value,)) from None
        return day.year, day.month
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError):
        raise CalendarError("月份必须是 YYYY-MM / month must be YYYY-MM, got %r" % (value,)) from None
    if not (1 <= month <= 12 and dt.MINYEAR < year < dt.MAXYEAR):
        raise CalendarError("月份必须是 YYYY-MM / month must be YYYY-MM, got %r" % (value,))
    return year, month


def iso_seconds(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------- overrides

def _override_date(value, where, year):
    try:
        day = to_date(value, where)
    except CalendarError:
        raise CalendarError("%s：%r 不是日期 YYYY-MM-DD / %s: %r is not a date YYYY-MM-DD"
                            % (where, value, where, value)) from None
    if day.year != year:
        raise CalendarError("%s：%s 不在 %s 年内 / %s: %s is not in %s"
                            % (where, day, year, where, day, year))
    return day


def validate_overrides(data, source="overrides"):
    """The override dict in canonical form {int year: {"holidays": {date: name},
    "workdays": set(date), "filing_deadlines": {(y, m): date}}}; CalendarError names the key."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CalendarError("%s 必须是以年份为键的字典 / %s must be a mapping of years, got %s"
                            % (source, source, type(data).__name__))
    result = {}
    for key, entry in data.items():
        where = "%s[%r]" % (source, key)
        if not re.match(r"^\d{4}$", str(key)):
            raise CalendarError("%s：键必须是四位年份 / %s: the key must be a four-digit year"
                                % (where, where))
        year = int(key)
        if year in result:
            raise CalendarError("%s：年份重复 / %s: year given twice" % (where, where))
        if not isinstance(entry or {}, dict):
            raise CalendarError("%s 必须是字典 / %s must be a mapping" % (where, where))
        unknown = sorted(str(k) for k in entry if k not in OVERRIDE_KEYS)
        if unknown:
            raise CalendarError("%s：未知的键 %s，只允许 %s / %s: unknown key %s, allowed: %s"
                                % (where, ", ".join(unknown), ", ".join(OVERRIDE_KEYS),
                                   where, ", ".join(unknown), ", ".join(OVERRIDE_KEYS)))
        result[year] = _validate_year(entry or {}, where, year)
    return result


def _validate_year(entry, where, year):
    canon = {"filing_deadlines": {}}
    if "holidays" in entry:  # present (even empty) = this year's notice is known
        holidays = entry["holidays"] or {}
        if not isinstance(holidays, dict):
            raise CalendarError("%s.holidays 必须是 日期: 节日名 的字典 / %s.holidays must map "
                                "dates to names" % (where, where))
        canon["holidays"] = {}
        for day, name in holidays.items():
            at = "%s.holidays[%r]" % (where, str(day))
            if not isinstance(name, str) or not name.strip():
                raise CalendarError("%s：节日名必须是非空文本 / %s: the holiday name must be "
                                    "non-empty text" % (at, at))
            canon["holidays"][_override_date(day, at, year)] = name.strip()
    workdays = entry.get("workdays") or []
    if not isinstance(workdays, list):
        raise CalendarError("%s.workdays 必须是日期列表 / %s.workdays must be a list of dates"
                            % (where, where))
    canon["workdays"] = {_override_date(d, "%s.workdays[%r]" % (where, str(d)), year) for d in workdays}
    both = sorted(canon["workdays"] & set(canon.get("holidays", {})))
    if both:
        raise CalendarError("%s：%s 同时是节假日和调休上班日 / %s: %s is both a holiday and a workday"
                            % (where, both[0], where, both[0]))
    deadlines = entry.get("filing_deadlines") or {}
    if not isinstance(deadlines, dict):
        raise CalendarError("%s.filing_deadlines 必须是 YYYY-MM: YYYY-MM-DD 的字典 / "
                            "%s.filing_deadlines must map YYYY-MM to YYYY-MM-DD" % (where, where))
    for month, day in deadlines.items():
        at = "%s.filing_deadlines[%r]" % (where, str(month))
        match = _MONTH_RE.match(str(month))
        if not match or int(match.group(1)) != year or not 1 <= int(match.group(2)) <= 12:
            raise CalendarError("%s：键必须是 %s 年的月份 YYYY-MM / %s: the key must be a month "
                                "YYYY-MM of %s" % (at, year, at, year))
        deadline = _override_date(day, at, year)
        if deadline.month != int(match.group(2)):
            raise CalendarError("%s：申报截止日 %s 不在该月内 / %s: deadline %s is not in that month"
                                % (at, deadline, at, deadline))
        canon["filing_deadlines"][(year, deadline.month)] = deadline
    return canon


def load_overrides(path):
    """Read and validate an override file (JSON when it ends in .json, else YAML)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise CalendarError("无法读取日历覆盖文件 %s：%s / cannot read the calendar override file %s: %s"
                            % (path, exc.strerror, path, exc.strerror)) from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CalendarError("日历覆盖文件 %s 无法解析 / the calendar override file %s does not parse: %s"
                            % (path, path, exc)) from None
    validate_overrides(data, source=path)
    return data or {}


# ---------------------------------------------------------------- the calendar

class TaxCalendar:
    """One calendar: the package's State Council data under the override dict."""

    def __init__(self, overrides=None):
        if isinstance(overrides, (str, os.PathLike)):
            overrides = load_overrides(overrides)
        self._over = validate_overrides(overrides)
        self._deadlines = {}

    # ---- days

    def known_year(self, year):
        return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR or "holidays" in self._over.get(year, {})

    def _require(self, day):
        if not self.known_year(day.year):
            raise CalendarError(no_data_message(day.year))

    def _statutory_name(self, day):
        """Name when this very day is listed as a holiday (override first), else None."""
        over = self._over.get(day.year, {})
        if day in over.get("workdays", ()):
            return None
        if day in over.get("holidays", {}):
            return over["holidays"][day]
        if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR and day in _cc.holidays:
            english = _cc.holidays[day]
            return HOLIDAY_NAMES.get(english) or chinese_calendar.Holiday(english).chinese
        return None

    def is_workday(self, d):
        day = to_date(d)
        self._require(day)
        over = self._over.get(day.year, {})
        if day in over.get("workdays", ()):
            return True
        if day in over.get("holidays", {}):
            return False
        if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR:
            if day in _cc.workdays:
                return True
            if day in _cc.holidays:
                return False
        return day.weekday() < 5

    def holiday_block(self, d):
        """(first, last, name) of the statutory holiday block holding d, or None.

        A block is a maximal run of consecutive non-working days holding at least one listed
        holiday day; ordinary weekends at its edge belong to it (the notices' 与周末连休).
        """
        day = to_date(d)
        if self.is_workday(day):
            return None
        first = last = day
        for _ in range(BLOCK_SPAN):
            if self.is_workday(first - ONE_DAY):
                break
            first -= ONE_DAY
        for _ in range(BLOCK_SPAN):
            if self.is_workday(last + ONE_DAY):
                break
            last += ONE_DAY
        names = []
        cursor = first
        while cursor <= last:
            name = self._statutory_name(cursor)
            if name and name not in names:
                names.append(name)
            cursor += ONE_DAY
        if not names:
            return None  # an ordinary weekend
        return first, last, "、".join(names)

    def is_holiday(self, d):
        return self.holiday_block(d) is not None

    def holiday_name(self, d):
        block = self.holiday_block(d)
        return block[2] if block else None

    def is_holiday_last_day(self, d):
        day = to_date(d)
        block = self.holiday_block(day)
        return bool(block) and block[1] == day

    def next_workday(self, d):
        """The first working day after d."""
        day = to_date(d) + ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def nth_workday_before(self, d, n):
        day = to_date(d)
        for _ in range(n):
            day -= ONE_DAY
            while not self.is_workday(day):
                day -= ONE_DAY
        return day

    # ---- filing deadline (征期)

    def filing_deadline_detail(self, year, month):
        """{"deadline", "source", "holiday_days", "rule"} for the month's filing deadline."""
        year, month = to_month((year, month))
        if (year, month) in self._deadlines:
            return self._deadlines[(year, month)]
        table = self._over.get(year, {}).get("filing_deadlines", {})
        if (year, month) in table:
            deadline = table[(year, month)]
            detail = {"deadline": deadline, "source": "override", "holiday_days": None,
                      "rule": "按税务总局公布的申报纳税期限（覆盖文件）为 %s" % deadline}
        else:
            detail = self._computed_deadline(year, month)
        self._deadlines[(year, month)] = detail
        return detail

    def _computed_deadline(self, year, month):
        fifteenth = dt.date(year, month, 15)
        # Runs of statutory holiday days (whole blocks, cut to the 1st-15th) of 3 or more
        # days extend the deadline by that many working days (实施细则第一百零九条).
        runs, run = [], 0
        for day_no in range(1, 16):
            if self.is_holiday(dt.date(year, month, day_no)):
                run += 1
            else:
                runs.append(run)
                run = 0
        runs.append(run)
        extension = sum(r for r in runs if r >= 3)
        if extension:
            deadline = fifteenth
            for _ in range(extension):
                deadline = self.next_workday(deadline)
            rule = ("1 日至 15 日内有连续 3 日以上法定休假日共 %d 天，截止日自 15 日起顺延 %d 个工作日"
                    % (extension, extension))
        elif not self.is_workday(fifteenth):
            deadline = self.next_workday(fifteenth)
            rule = "15 日不是工作日，截止日顺延至其后第一个工作日"
        else:
            deadline = fifteenth
            rule = "截止日为 15 日"
        return {"deadline": deadline, "source": "computed", "holiday_days": extension, "rule": rule}

    def tax_filing_deadline(self, year, month):
        return self.filing_deadline_detail(year, month)["deadline"]

    def filing_period(self, d):
        """(first, last) of the filing period of d's month."""
        day = to_date(d)
        return day.replace(day=1), self.tax_filing_deadline(day.year, day.month)

    def in_filing_period(self, d):
        first, last = self.filing_period(d)
        return first <= to_date(d) <= last

    # ---- releases

    def release_window_check(self, when, kind, env, rules=None):
        """REL-04: may a release of this kind start at `when` in `env`?

        {"allowed": bool, "reason": Chinese, "next_allowed": "YYYY-MM-DDTHH:MM:SS" or None}:
        next_allowed is the first moment >= when at which it may start (when itself if allowed).
        """
        moment = to_datetime(when, "when")
        if kind not in RELEASE_KINDS:
            raise CalendarError("REL-04 发布类型 %r 不是 %s 之一 / release kind %r is not one of %s"
                                % (kind, "、".join(RELEASE_KINDS), kind, ", ".join(RELEASE_KINDS)))
        windows = release_rules(rules).get(str(env))
        if windows is None:
            return {"allowed": True, "next_allowed": iso_seconds(moment),
                    "reason": "环境 %s 未设发布时间限制（REL-04 仅约束已配置的环境）" % env}
        here = self._day_windows(moment.date(), windows)
        start = self._first_start(moment, kind, windows, here)
        allowed = start == moment
        text = _describe(here)
        if allowed:
            reason = "%s；%s %s 开始在窗口内" % (text, RELEASE_KINDS[kind], moment.strftime("%H:%M"))
        elif start is None:
            reason = "%s；环境 %s 的规则不允许%s发布" % (text, env, RELEASE_KINDS[kind])
        else:
            reason = "%s；%s计划 %s 开始，不在窗口内，最早可于 %s 开始" % (
                text, RELEASE_KINDS[kind], moment.strftime("%Y-%m-%d %H:%M"),
                start.strftime("%Y-%m-%d %H:%M"))
        return {"allowed": allowed, "reason": reason, "next_allowed": iso_seconds(start) if start else None}

    def _day_windows(self, day, windows):
        """(period label, [windows that apply on this day])."""
        first, last = self.filing_period(day)
        inside = first <= day <= last
        period = "filing_period" if inside else "outside_filing_period"
        if inside:
            label = "征期（%s 至 %s）" % (first, last)
        else:
            label = "非征期（本月征期已于 %s 结束）" % last
        return label, [w for w in windows if w["period"] in (period, "any")]

    def _first_start(self, moment, kind, windows, here):
        if not any(kind in w["kinds"] for w in windows):
            return None
        day = moment.date()
        for offset in range(SEARCH_DAYS + 1):
            applying = here[1] if offset == 0 else self._day_windows(day, windows)[1]
            starts = []
            for window in applying:
                if kind not in window["kinds"]:
                    continue
                opens = dt.datetime.combine(day, window["start"])
                closes = dt.datetime.combine(day, dt.time()) + window["end"]
                begin = max(opens, moment)
                if begin < closes:  # a start at exactly the end is outside
                    starts.append(begin)
            if starts:
                return min(starts)
            day += ONE_DAY
        raise CalendarError("REL-04 %d 天内找不到允许%s发布的窗口 / no release window for %s within %d days"
                            % (SEARCH_DAYS, RELEASE_KINDS[kind], kind, SEARCH_DAYS))

    def application_lead_detail(self, applied, release):
        """REL-03: applied no later than the 2nd working day before the release day."""
        applied_day = to_date(applied, "applied")
        release_day = to_date(release, "release")
        latest = self.nth_workday_before(release_day, 2)
        ok = applied_day <= latest
        reason = ("挂包申请须不晚于发布日前第二个工作日（%s 发布须不晚于 %s 申请），申请日 %s %s"
                  % (release_day, latest, applied_day, "符合" if ok else "不符合"))
        return {"ok": ok, "applied": applied_day.isoformat(), "release": release_day.isoformat(),
                "latest_application": latest.isoformat(), "reason": reason}

    def application_lead_ok(self, applied, release):
        return self.application_lead_detail(applied, release)["ok"]

    def monthly_release_plan(self, year, month, rules=None):
        """REL-02: the month's version goes to test on the 5th and production on the 25th;
        production's slot is the first window at or after the 25th 18:00."""
        year, month = to_month((year, month))
        production_day = dt.datetime(year, month, 25, 18, 0)
        check = self.release_window_check(production_day, "monthly", "production", rules)
        return {"test": dt.date(year, month, 5).isoformat(),
                "production": production_day.date().isoformat(),
                "production_start": check["next_allowed"], "production_window": check}


# ---------------------------------------------------------------- release rules (REL-04)

def _hhmm(value, where):
    match = _HHMM_RE.match(str(value))
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise CalendarError("REL-04 %s 必须是 HH:MM（00:00-24:00）/ %s must be HH:MM, got %r"
                            % (where, where, value))
    return int(match.group(1)), int(match.group(2))


def release_rules(rules=None):
    """DEFAULT_RELEASE_RULES with `rules` ({env: [window, ...] or None}) laid over it per
    environment, validated; times come back as datetime.time / timedelta for the search."""
    merged = dict(DEFAULT_RELEASE_RULES)
    if rules is not None:
        if not isinstance(rules, dict):
            raise CalendarError("REL-04 发布规则必须是 环境: 窗口列表 的字典 / release rules must be a dict "
                                "mapping environments to lists of windows")
        merged.update({str(k): v for k, v in rules.items()})
    result = {}
    for env, windows in merged.items():
        if windows is None:
            result[env] = None
            continue
        if not isinstance(windows, list):
            raise CalendarError("REL-04 rules[%r] 必须是窗口列表或 null / rules[%r] must be a list of "
                                "windows or null" % (env, env))
        result[env] = [_window(w, "rules[%r][%d]" % (env, i)) for i, w in enumerate(windows)]
    return result


def _window(window, where):
    if not isinstance(window, dict):
        raise CalendarError("REL-04 %s 必须是字典 / %s must be a mapping" % (where, where))
    unknown = sorted(set(window) - {"period", "kinds", "start", "end"})
    if unknown:
        raise CalendarError("REL-04 %s：未知的键 %s / %s: unknown key %s"
                            % (where, ", ".join(unknown), where, ", ".join(unknown)))
    period = window.get("period", "any")
    if period not in PERIODS:
        raise CalendarError("REL-04 %s.period 必须是 %s 之一 / %s.period must be one of %s, got %r"
                            % (where, "、".join(PERIODS), where, ", ".join(PERIODS), period))
    kinds = window.get("kinds")
    if not isinstance(kinds, list) or not kinds or any(k not in RELEASE_KINDS for k in kinds):
        raise CalendarError("REL-04 %s.kinds 必须是 %s 的非空列表 / %s.kinds must be a non-empty list of %s"
                            % (where, "、".join(RELEASE_KINDS), where, ", ".join(RELEASE_KINDS)))
    start = _hhmm(window.get("start"), where + ".start")
    end = _hhmm(window.get("end"), where + ".end")
    if start >= end:
        raise CalendarError("REL-04 %s：开始 %s 必须早于结束 %s / %s: start must be before end"
                            % (where, window.get("start"), window.get("end"), where))
    return {"period": period, "kinds": list(kinds), "start": dt.time(start[0] % 24, start[1]),
            "end": dt.timedelta(hours=end[0], minutes=end[1]),
            "text": "%s–%s" % (window.get("start"), window.get("end"))}


def _describe(here):
    """'征期（…）内仅允许紧急补丁发布，时间 19:00–23:00' for the windows of one day."""
    label, windows = here
    if not windows:
        return "%s内不允许发布" % label
    parts = []
    for window in windows:
        names = [RELEASE_KINDS[k] for k in RELEASE_KINDS if k in window["kinds"]]
        if len(names) == len(RELEASE_KINDS):
            parts.append("%s可发布，时间 %s" % ("、".join(names), window["text"]))
        else:
            parts.append("仅允许%s发布，时间 %s" % ("、".join(names), window["text"]))
    return "%s内%s" % (label, "；".join(parts))
