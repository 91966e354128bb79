"""INSP-15 / INSP-16 schedule gate: which days a job runs, asked of the one calendar, and the
gate script's exit statuses, log line and lock."""

import datetime as dt
import fcntl
import importlib.machinery
import importlib.util
import os
import pathlib
import sys

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import schedule_gate as sg
from ansible_collections.gxtax.ops.plugins.module_utils.tax_calendar import TaxCalendar

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gxtax-schedule-gate"
CAL = TaxCalendar()
UTC = dt.timezone.utc


def day(text):
    return dt.date.fromisoformat(text)


def test_weekend_is_skipped():
    decision = sg.decide("workday", day("2026-09-19"), CAL, "巡检")
    assert not decision.run and not decision.error
    assert "周六" in decision.line and "周末" in decision.line


def test_make_up_sunday_runs():
    decision = sg.decide("workday", day("2026-09-20"), CAL, "巡检")
    assert decision.run and "调休上班日" in decision.line


def test_ordinary_weekday_runs_and_holiday_weekday_is_skipped():
    assert sg.decide("workday", day("2026-09-22"), CAL).run
    decision = sg.decide("workday", day("2026-10-06"), CAL)
    assert not decision.run and "国庆节" in decision.line and decision.holiday == "国庆节"


def test_last_day_of_national_day_runs_the_full_check_and_the_day_before_does_not():
    last = sg.decide("holiday-last-day", day("2026-10-07"), CAL, "节假日全面检查")
    assert last.run and last.holiday == "国庆节" and "2026-10-01 至 2026-10-07" in last.line
    before = sg.decide("holiday-last-day", day("2026-10-06"), CAL, "节假日全面检查")
    assert not before.run and "最后一天是 2026-10-07" in before.line
    assert not sg.decide("holiday-last-day", day("2026-10-08"), CAL).run  # back at work


def test_an_ordinary_sunday_is_not_a_holiday_last_day():
    decision = sg.decide("holiday-last-day", day("2026-09-13"), CAL)
    assert not decision.run and "不是法定节假日最后一天" in decision.line


def test_unknown_year_fails_open_for_inspections_and_closed_for_the_full_check():
    workday = sg.decide("workday", day("2030-03-01"), CAL)
    assert workday.run and workday.error and "2030" in workday.line
    holiday = sg.decide("holiday-last-day", day("2030-03-01"), CAL)
    assert not holiday.run and holiday.error


def test_overrides_teach_the_gate_a_new_year():
    may_day = {"2030-05-0%d" % n: "劳动节" for n in range(1, 6)}
    calendar = TaxCalendar({"2030": {"holidays": may_day, "workdays": ["2030-04-28"]}})
    assert sg.decide("holiday-last-day", day("2030-05-05"), calendar).run
    assert not sg.decide("holiday-last-day", day("2030-05-04"), calendar).run
    assert sg.decide("workday", day("2030-04-28"), calendar).run  # a Sunday worked
    assert not sg.decide("workday", day("2030-05-02"), calendar).run


def test_daily_always_runs_and_unknown_condition_is_refused():
    assert sg.decide("daily", day("2026-10-03"), CAL).run
    with pytest.raises(ValueError):
        sg.decide("weekly", day("2026-10-03"), CAL)


def test_today_is_the_date_in_china():
    assert sg.today_in_china(dt.datetime(2026, 10, 6, 20, 0, tzinfo=UTC)) == day("2026-10-07")
    assert sg.today_in_china(dt.datetime(2026, 10, 7, 15, 59, tzinfo=UTC)) == day("2026-10-07")
    assert sg.today_in_china(dt.datetime(2026, 10, 7, 16, 0, tzinfo=UTC)) == day("2026-10-08")


# ------------------------------------------------------------------ the script


def _script():
    loader = importlib.machinery.SourceFileLoader("gxtax_schedule_gate", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def _at(text):
    """09:00 in China on that day, as an aware time."""
    return dt.datetime.fromisoformat(text + "T01:00:00+00:00")


def test_script_skips_with_one_line_and_status_0(tmp_path, capsys):
    marker = tmp_path / "ran"
    touch = "open(%r, 'w').close()" % str(marker)
    status = _script().main(["--when", "workday", "--name", "交易类巡检", "--", sys.executable, "-c", touch],
                            now=_at("2026-09-19"))
    out, err = capsys.readouterr()
    assert status == 0 and not marker.exists() and err == ""
    assert out.splitlines() == ["gxtax-schedule-gate: 2026-09-19（周六） 是周末，不是工作日，跳过 交易类巡检"]


def test_script_runs_the_command_and_returns_its_status(tmp_path, capsys):
    status = _script().main(["--when", "workday", "--lock", str(tmp_path / "lock"), "--",
                             sys.executable, "-c", "import sys; sys.exit(2)"], now=_at("2026-09-20"))
    assert status == 2
    assert "调休上班日" in capsys.readouterr().out


def test_script_gives_up_when_the_lock_stays_taken(tmp_path, capsys):
    lock = tmp_path / "schedule.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        status = _script().main(["--when", "holiday-last-day", "--lock", str(lock), "--lock-wait", "0", "--",
                                 "true"], now=_at("2026-10-07"))
    finally:
        os.close(fd)
    assert status == 1
    assert "未释放" in capsys.readouterr().err


def test_script_lock_is_released_after_the_job(tmp_path):
    lock = tmp_path / "schedule.lock"
    assert _script().main(["--when", "daily", "--lock", str(lock), "--", "true"], now=_at("2026-10-03")) == 0
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the gate still held it
    finally:
        os.close(fd)


def test_script_unknown_year_for_the_full_check_exits_1(capsys):
    assert _script().main(["--when", "holiday-last-day", "--", "true"], now=_at("2030-10-07")) == 1
    assert "2030" in capsys.readouterr().err


def test_script_refuses_a_missing_command_and_a_bad_override_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _script().main(["--when", "workday"])
    assert exc.value.code == 1
    bad = tmp_path / "calendar.yml"
    bad.write_text("2030: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        _script().main(["--when", "workday", "--calendar-overrides", str(bad), "--", "true"])
    assert exc.value.code == 1
    assert "calendar.yml" in capsys.readouterr().err
