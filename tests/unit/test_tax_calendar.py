"""The one calendar (plugins/module_utils/tax_calendar.py): working days and statutory holidays
(INSP-16), the monthly tax filing deadline and period, release windows (REL-04), application
lead time (REL-03) and monthly release dates (REL-02).

Expected dates are derived by hand from the State Council notices as the chinese-calendar
package records them; each case says how, so a wrong rule fails here."""

import datetime as dt
import json
import pathlib

import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.module_utils import tax_calendar as tc
from ansible_collections.gxtax.ops.plugins.module_utils.tax_calendar import (
    CalendarError,
    TaxCalendar,
    load_overrides,
)

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLE = ROOT / "files" / "calendar" / "overrides.example.yml"
CAL = TaxCalendar()


# ---------------------------------------------------------------- working days, holidays

@pytest.mark.parametrize("day,workday", [
    ("2026-10-01", False),  # 国庆节
    ("2026-10-08", True),   # first working day after it
    ("2026-10-10", True),   # Saturday, make-up working day (调休上班)
    ("2026-09-20", True),   # Sunday, make-up working day
    ("2026-11-07", False),  # ordinary Saturday
    ("2026-11-09", True),   # ordinary Monday
    (dt.date(2025, 2, 8), True),                  # Saturday make-up day for 春节 2025
    (dt.datetime(2025, 1, 29, 10, 0), False),     # 春节 2025, as a datetime
    ("2024-06-10T09:30:00", False),               # 端午节 2024, ISO date-time
])
def test_is_workday(day, workday):
    assert CAL.is_workday(day) is workday


@pytest.mark.parametrize("day,name", [
    ("2026-01-01", "元旦"), ("2026-02-17", "春节"), ("2026-04-05", "清明节"), ("2026-05-01", "劳动节"),
    ("2026-06-19", "端午节"), ("2026-09-25", "中秋节"), ("2026-10-01", "国庆节"),
    # one block holding both, named as the notices name it, in the order the holidays begin
    ("2025-10-06", "国庆节、中秋节"), ("2025-10-01", "国庆节、中秋节"), ("2023-09-29", "中秋节、国庆节"),
    # a weekend joined to a holiday belongs to it although the package does not list it
    ("2024-06-08", "端午节"), ("2015-05-03", "劳动节"),
    # ordinary weekends and make-up working days are no holidays
    ("2026-11-08", None), ("2026-10-10", None), ("2026-10-09", None),
])
def test_holiday_name_and_is_holiday(day, name):
    assert CAL.holiday_name(day) == name
    assert CAL.is_holiday(day) is (name is not None)


@pytest.mark.parametrize("day,last", [
    ("2026-10-07", True), ("2026-10-06", False), ("2026-10-08", False),
    ("2026-02-23", True),   # 春节 2026: 15-23 February
    ("2026-02-15", False),
    ("2025-10-08", True),   # 国庆节、中秋节 2025: 1-8 October
    ("2024-06-10", True),   # 端午节 2024: Monday 10 June after the weekend
    ("2015-05-03", True),   # 劳动节 2015: Friday 1 May, the block ends on Sunday
    ("2025-06-02", True),   # 端午节 2025: 31 May - 2 June
    ("2026-11-08", False),  # an ordinary Sunday is not a holiday's last day
])
def test_holiday_last_day(day, last):
    assert CAL.is_holiday_last_day(day) is last


def test_an_aware_time_counts_in_beijing():
    # 17:00 UTC on 6 October is 01:00 on 7 October in Beijing, the last day of 国庆节 2026
    assert CAL.is_holiday_last_day("2026-10-06T17:00:00+00:00")
    assert not CAL.is_holiday_last_day("2026-10-06T15:59:59+00:00")


@pytest.mark.parametrize("year,blocks", [(2026, 7), (2025, 6), (2024, 7)])
def test_each_holiday_block_has_one_last_day_followed_by_a_working_day(year, blocks):
    day, last_days = dt.date(year, 1, 1), []
    while day.year == year:
        if CAL.is_holiday_last_day(day):
            last_days.append(day)
            assert not CAL.is_workday(day)
            assert CAL.is_workday(day + dt.timedelta(days=1))
        day += dt.timedelta(days=1)
    # 2025: 国庆节 and 中秋节 share one block; 2024 and 2026 have them apart
    assert len(last_days) == blocks, last_days


def test_next_workday_skips_the_holiday():
    assert CAL.next_workday("2026-09-30") == dt.date(2026, 10, 8)
    assert CAL.next_workday("2026-10-09") == dt.date(2026, 10, 10)  # the make-up Saturday
    assert CAL.nth_workday_before("2026-10-12", 2) == dt.date(2026, 10, 9)


def test_a_year_nobody_knows_is_an_error_never_a_guess():
    for call in (lambda: CAL.is_workday("2027-01-04"), lambda: CAL.holiday_name("2003-10-01"),
                 lambda: CAL.tax_filing_deadline(2027, 3)):
        with pytest.raises(CalendarError) as err:
            call()
        assert "国务院" in str(err.value) and "override file" in str(err.value)
        assert "2027" in str(err.value) or "2003" in str(err.value)


def test_a_holiday_block_running_into_an_unknown_year_is_an_error():
    cal = TaxCalendar({2026: {"holidays": {"2026-12-31": "元旦"}}})
    with pytest.raises(CalendarError, match="2027"):
        cal.is_holiday_last_day("2026-12-31")


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", 20261001, None, "2026-10"])
def test_bad_dates_are_refused(bad):
    with pytest.raises(CalendarError, match="YYYY-MM-DD"):
        CAL.is_workday(bad)


# ---------------------------------------------------------------- overrides

NOTICE_2027 = {"2027": {"holidays": {"2027-10-01": "国庆节", "2027-10-02": "国庆节", "2027-10-03": "国庆节",
                                     "2027-10-04": "国庆节"},
                        "workdays": ["2027-10-09"]}}


def test_overrides_teach_a_new_year():
    cal = TaxCalendar(NOTICE_2027)
    assert cal.is_workday("2027-10-04") is False
    assert cal.is_workday("2027-10-09") is True           # Saturday make-up day
    assert cal.is_workday("2027-10-16") is False          # ordinary Saturday
    assert cal.holiday_name("2027-10-02") == "国庆节"
    assert cal.is_holiday_last_day("2027-10-04")
    assert cal.holiday_name("2027-10-16") is None


def test_overrides_win_over_the_package():
    longer = TaxCalendar({2026: {"holidays": {"2026-10-08": "国庆节"}}})  # integer year key
    assert longer.is_holiday_last_day("2026-10-08") and not longer.is_holiday_last_day("2026-10-07")
    shorter = TaxCalendar({"2026": {"workdays": ["2026-10-07"]}})
    assert shorter.is_workday("2026-10-07") and shorter.is_holiday_last_day("2026-10-06")
    block = ("2026-09-25", "2026-09-26", "2026-09-27")
    renamed = TaxCalendar({"2026": {"holidays": {d: "中秋节（调整）" for d in block}}})
    assert renamed.holiday_name("2026-09-26") == "中秋节（调整）"
    # one day renamed: the block carries both names rather than hiding either
    one = TaxCalendar({"2026": {"holidays": {"2026-09-25": "团圆节"}}})
    assert one.holiday_name("2026-09-27") == "团圆节、中秋节"


@pytest.mark.parametrize("data,where", [
    ({"27": {}}, "['27']"),
    ({"2027": {"holiday": {}}}, "holiday"),
    ({"2027": {"holidays": {"2027-02-30": "春节"}}}, "'2027-02-30'"),
    ({"2027": {"holidays": {"2026-10-01": "国庆节"}}}, "'2026-10-01'"),
    ({"2027": {"holidays": {"2027-10-01": ""}}}, "'2027-10-01'"),
    ({"2027": {"holidays": ["2027-10-01"]}}, "holidays"),
    ({"2027": {"workdays": "2027-10-09"}}, "workdays"),
    ({"2027": {"holidays": {"2027-10-01": "国庆节"}, "workdays": ["2027-10-01"]}}, "2027-10-01"),
    ({"2027": {"filing_deadlines": {"2027-13": "2027-12-15"}}}, "'2027-13'"),
    ({"2027": {"filing_deadlines": {"2027-10": "2027-11-02"}}}, "'2027-10'"),
    ({"2027": "国庆节"}, "['2027']"),
    (["2027"], "mapping"),
])
def test_bad_overrides_name_the_key(data, where):
    with pytest.raises(CalendarError) as err:
        TaxCalendar(data)
    assert where in str(err.value)


def test_load_overrides_yaml_json_and_errors(tmp_path):
    yml = tmp_path / "calendar.yml"
    # unquoted YAML dates load as datetime.date: accepted too
    yml.write_text("2027:\n  holidays:\n    2027-10-01: 国庆节\n  workdays: [2027-10-09]\n", encoding="utf-8")
    assert TaxCalendar(load_overrides(yml)).holiday_name("2027-10-01") == "国庆节"
    assert TaxCalendar(str(yml)).is_workday("2027-10-09")   # a path works as overrides too
    js = tmp_path / "calendar.json"
    js.write_text(json.dumps(NOTICE_2027, ensure_ascii=False), encoding="utf-8")
    assert TaxCalendar(load_overrides(js)).is_holiday_last_day("2027-10-04")
    bad = tmp_path / "bad.yml"
    bad.write_text("2027:\n  holidays: {2027-10-01: 国庆节\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="does not parse"):
        load_overrides(bad)
    with pytest.raises(CalendarError, match="cannot read"):
        load_overrides(tmp_path / "missing.yml")
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("2027:\n  workday: []\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=r"wrong\.yml\[2027\].*workday"):
        load_overrides(wrong)


def _example_block(marker="2027"):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# >>> " + marker)
    end = lines.index("# <<< " + marker)
    return "\n".join(line[2:] for line in lines[start + 1:end])


def test_the_example_file_loads_and_its_2027_block_is_well_shaped(tmp_path):
    assert load_overrides(EXAMPLE) == {}  # everything in it is commented out
    block = tmp_path / "2027.yml"
    block.write_text(_example_block(), encoding="utf-8")
    cal = TaxCalendar(load_overrides(block))
    assert cal.holiday_name("2027-10-03") == "国庆节"
    assert cal.tax_filing_deadline(2027, 10) == dt.date(2027, 10, 22)  # from its STA table


# ---------------------------------------------------------------- filing deadline (征期)

@pytest.mark.parametrize("month,deadline", [
    # 1-15 hold a run of >= 3 holiday days: the 15th plus that many working days
    ("2026-10", "2026-10-26"),  # 1-7 Oct off (7): 16, 19, 20, 21, 22, 23, 26
    ("2025-10", "2025-10-27"),  # 1-8 Oct off (8): 16, 17, 20, 21, 22, 23, 24, 27
    ("2024-10", "2024-10-24"),  # 1-7 Oct off (7): 16, 17, 18, 21, 22, 23, 24
    ("2024-02", "2024-02-23"),  # 春节 10-17 Feb, 10-15 in the period (6): 18 (make-up Sunday), 19-23
    ("2025-02", "2025-02-20"),  # 春节 28 Jan - 4 Feb, 1-4 Feb in the period (4); 15th Sat: 17, 18, 19, 20
    ("2026-01", "2026-01-20"),  # 元旦 1-3 Jan (3): 16, 19, 20
    ("2024-06", "2024-06-19"),  # 端午节 8-10 Jun, weekend included (3); 15th Sat: 17, 18, 19
    ("2025-05", "2025-05-22"),  # 劳动节 1-5 May (5): 16, 19, 20, 21, 22
    # no such run, the 15th is not a working day: the next working day
    ("2026-02", "2026-02-24"),  # 春节 15-23 Feb: only the 15th is in the period
    ("2024-09", "2024-09-18"),  # 中秋节 15-17 Sep: only the 15th (a Sunday) is in the period
    ("2025-06", "2025-06-16"),  # 端午节 31 May - 2 Jun: 1-2 June is a run of 2; 15th Sunday
    ("2026-03", "2026-03-16"),  # 15th Sunday
    ("2024-12", "2024-12-16"),  # 15th Sunday
    ("2026-08", "2026-08-17"),  # 15th Saturday
    # otherwise the 15th
    ("2025-07", "2025-07-15"), ("2026-06", "2026-06-15"),
])
def test_filing_deadline(month, deadline):
    assert CAL.tax_filing_deadline(*map(int, month.split("-"))).isoformat() == deadline
    detail = CAL.filing_deadline_detail(month.split("-")[0], month.split("-")[1])
    assert detail["source"] == "computed" and detail["rule"]


def test_every_computed_deadline_is_a_working_day_on_or_after_the_15th():
    for year in range(2005, 2027):
        for month in range(1, 13):
            deadline = CAL.tax_filing_deadline(year, month)
            fifteenth = dt.date(year, month, 15)
            assert deadline.month == month and deadline >= fifteenth and CAL.is_workday(deadline)
            calm = not any(CAL.is_holiday(dt.date(year, month, d)) for d in range(1, 16))
            if calm and CAL.is_workday(fifteenth):
                assert deadline == fifteenth


def test_the_sta_table_wins():
    cal = TaxCalendar({"2026": {"filing_deadlines": {"2026-02": "2026-02-27"}}})
    assert cal.tax_filing_deadline(2026, 2) == dt.date(2026, 2, 27)
    assert cal.filing_deadline_detail(2026, 2)["source"] == "override"
    assert cal.tax_filing_deadline(2026, 10) == dt.date(2026, 10, 26)  # other months computed
    assert cal.in_filing_period("2026-02-26") and not CAL.in_filing_period("2026-02-26")


def test_a_sta_table_alone_does_not_make_a_year_known():
    cal = TaxCalendar({"2027": {"filing_deadlines": {"2027-10": "2027-10-22"}}})
    assert cal.tax_filing_deadline(2027, 10) == dt.date(2027, 10, 22)
    with pytest.raises(CalendarError, match="2027"):
        cal.tax_filing_deadline(2027, 11)
    with pytest.raises(CalendarError, match="2027"):
        cal.is_workday("2027-10-25")


@pytest.mark.parametrize("day,inside", [
    ("2026-10-01", True), ("2026-10-26", True), ("2026-10-27", False),
    ("2026-10-31T23:59", False), ("2026-11-16", True), ("2026-11-17", False),
])
def test_in_filing_period(day, inside):
    assert CAL.in_filing_period(day) is inside


# ---------------------------------------------------------------- release windows (REL-04)

def test_monthly_release_inside_the_filing_period_is_refused():
    result = CAL.release_window_check("2026-10-25T18:30", "monthly", "production")
    assert result["allowed"] is False
    # the deadline (26th) belongs to the period; the first outside day opens at 18:00
    assert result["next_allowed"] == "2026-10-27T18:00:00"
    assert "征期（2026-10-01 至 2026-10-26）内仅允许紧急补丁发布，时间 19:00–23:00" in result["reason"]
    assert "月版本" in result["reason"]


@pytest.mark.parametrize("when,kind,allowed,next_allowed", [
    # outside the period: 18:00-22:00 for every kind, the end itself outside
    ("2026-10-27T18:00", "monthly", True, "2026-10-27T18:00:00"),
    ("2026-10-27T21:59:59", "patch", True, "2026-10-27T21:59:59"),
    ("2026-10-27T22:00", "patch", False, "2026-10-28T18:00:00"),
    ("2026-10-27T17:59", "emergency", False, "2026-10-27T18:00:00"),
    ("2026-10-27T22:30", "emergency", False, "2026-10-28T18:00:00"),
    # inside: emergency 19:00-23:00 only
    ("2026-10-20T19:00", "emergency", True, "2026-10-20T19:00:00"),
    ("2026-10-20T18:30", "emergency", False, "2026-10-20T19:00:00"),
    ("2026-10-20T22:59", "emergency", True, "2026-10-20T22:59:00"),
    ("2026-10-20T23:00", "emergency", False, "2026-10-21T19:00:00"),
    ("2026-10-26T19:30", "patch", False, "2026-10-27T18:00:00"),
    ("2026-10-26T22:30", "emergency", True, "2026-10-26T22:30:00"),
    # from outside into the next month's period: a patch waits for its deadline (2026-11-16)
    ("2026-10-31T22:00", "patch", False, "2026-11-17T18:00:00"),
    ("2026-10-31T22:00", "emergency", False, "2026-11-01T19:00:00"),
    # an aware time is the bureau's local time: 10:30 UTC is 18:30 in Beijing
    ("2026-10-27T10:30:00+00:00", "monthly", True, "2026-10-27T18:30:00"),
    # 20:30 in Tokyo (UTC+9) is 19:30 in Beijing
    (dt.datetime(2026, 10, 27, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))), "patch", True,
     "2026-10-27T19:30:00"),
])
def test_production_windows(when, kind, allowed, next_allowed):
    result = CAL.release_window_check(when, kind, "production")
    assert (result["allowed"], result["next_allowed"]) == (allowed, next_allowed), result["reason"]
    assert ("不在窗口内" in result["reason"]) is (not allowed)


def test_other_environments_are_unrestricted_by_default():
    result = CAL.release_window_check("2026-10-05T03:00", "monthly", "test")
    assert result == {"allowed": True, "next_allowed": "2026-10-05T03:00:00", "reason": result["reason"]}
    assert "test" in result["reason"]
    # no calendar is needed where nothing is restricted
    assert CAL.release_window_check("2027-10-05T03:00", "patch", "preproduction")["allowed"]


def test_rules_are_data_and_per_environment():
    rules = {"preproduction": [{"period": "any", "kinds": ["patch", "emergency"],
                                "start": "09:00", "end": "17:30"}]}
    early = CAL.release_window_check("2026-10-20T08:00", "patch", "preproduction", rules)
    assert (early["allowed"], early["next_allowed"]) == (False, "2026-10-20T09:00:00")
    never = CAL.release_window_check("2026-10-20T10:00", "monthly", "preproduction", rules)
    assert (never["allowed"], never["next_allowed"]) == (False, None)
    # laying preproduction over the default leaves production as it was
    assert not CAL.release_window_check("2026-10-25T18:30", "monthly", "production", rules)["allowed"]
    free = CAL.release_window_check("2026-10-25T18:30", "monthly", "production", {"production": None})
    assert free["allowed"]
    frozen = CAL.release_window_check("2026-10-27T18:30", "emergency", "production", {"production": []})
    assert (frozen["allowed"], frozen["next_allowed"]) == (False, None) and "不允许" in frozen["reason"]
    late = {"production": [{"period": "outside_filing_period", "kinds": ["monthly"],
                            "start": "20:00", "end": "24:00"}]}
    assert CAL.release_window_check("2026-10-27T23:59", "monthly", "production", late)["allowed"]
    assert tc.DEFAULT_RELEASE_RULES["production"][1]["kinds"] == ["emergency"]  # defaults untouched


@pytest.mark.parametrize("rules,where", [
    ("production", "dict"),
    ({"production": {"start": "18:00"}}, "rules['production']"),
    ({"production": [{"period": "征期", "kinds": ["patch"], "start": "18:00", "end": "22:00"}]}, "period"),
    ({"production": [{"period": "any", "kinds": [], "start": "18:00", "end": "22:00"}]}, "kinds"),
    ({"production": [{"period": "any", "kinds": ["hotfix"], "start": "18:00", "end": "22:00"}]}, "kinds"),
    ({"production": [{"period": "any", "kinds": ["patch"], "start": "6pm", "end": "22:00"}]}, "start"),
    ({"production": [{"period": "any", "kinds": ["patch"], "start": "22:00", "end": "18:00"}]}, "before"),
    ({"production": [{"period": "any", "kinds": ["patch"], "start": "18:00", "end": "22:00", "x": 1}]}, "x"),
])
def test_bad_rules_name_the_key(rules, where):
    with pytest.raises(CalendarError) as err:
        CAL.release_window_check("2026-10-27T18:30", "patch", "production", rules)
    assert "REL-04" in str(err.value) and where in str(err.value)


def test_bad_release_input():
    with pytest.raises(CalendarError, match="hotfix"):
        CAL.release_window_check("2026-10-27T18:30", "hotfix", "production")
    with pytest.raises(CalendarError, match="HH:MM"):
        CAL.release_window_check("2026-10-27", "patch", "production")  # a start needs a time


def test_the_window_search_never_guesses_past_the_data():
    with pytest.raises(CalendarError, match="2027"):
        CAL.release_window_check("2027-01-04T18:30", "patch", "production")
    # the last days of 2026 are outside the period, but a patch at 22:30 waits for 2027
    with pytest.raises(CalendarError, match="2027"):
        CAL.release_window_check("2026-12-31T22:30", "patch", "production")


def test_the_window_search_is_bounded(monkeypatch):
    monkeypatch.setattr(tc, "SEARCH_DAYS", 3)
    with pytest.raises(CalendarError, match="3 天内"):
        CAL.release_window_check("2026-10-02T18:30", "monthly", "production")


# ---------------------------------------------------------------- lead time (REL-03), dates (REL-02)

@pytest.mark.parametrize("applied,release,ok", [
    ("2026-10-22", "2026-10-26T18:00", True),    # Thu before Mon: Fri is one, Thu two working days
    ("2026-10-22T17:59", "2026-10-26", True),    # the time of day does not count
    ("2026-10-23", "2026-10-26T18:00", False),
    ("2026-10-09", "2026-10-12", True),          # Sat 10 Oct is a make-up working day: Fri 9 is the 2nd
    ("2026-10-10", "2026-10-12", False),
    ("2026-09-29", "2026-10-08", True),          # across 国庆节: 30 Sep is the 1st, 29 Sep the 2nd
    ("2026-09-30", "2026-10-08", False),
    ("2026-10-27", "2026-10-26", False),         # after the release
])
def test_application_lead(applied, release, ok):
    assert CAL.application_lead_ok(applied, release) is ok
    detail = CAL.application_lead_detail(applied, release)
    assert detail["ok"] is ok and ("不符合" in detail["reason"]) is (not ok)


def test_application_lead_names_the_last_day():
    assert CAL.application_lead_detail("2026-10-01", "2026-10-12")["latest_application"] == "2026-10-09"


@pytest.mark.parametrize("month,start", [
    ("2026-10", "2026-10-27T18:00:00"),  # the 25th is inside 征期 (deadline 26th)
    ("2026-11", "2026-11-25T18:00:00"), ("2026-02", "2026-02-25T18:00:00"),
])
def test_monthly_release_plan(month, start):
    year, number = month.split("-")
    plan = CAL.monthly_release_plan(year, number)
    assert plan["test"] == month + "-05" and plan["production"] == month + "-25"
    assert plan["production_start"] == start
    assert plan["production_window"]["allowed"] is (start.startswith(month + "-25"))


def test_overrides_reach_the_windows():
    moved = TaxCalendar(yaml.safe_load('"2026": {filing_deadlines: {"2026-11": "2026-11-26"}}'))
    assert not moved.release_window_check("2026-11-25T18:00", "monthly", "production")["allowed"]
    assert CAL.release_window_check("2026-11-25T18:00", "monthly", "production")["allowed"]
