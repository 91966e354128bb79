"""The shared validation of warning/critical threshold pairs."""

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.thresholds import kind_of, validate

DEFAULTS = {"cpu_warning": 90, "cpu_critical": 95, "clock_offset_warning_ms": 100,
            "clock_offset_critical_ms": 1000}


@pytest.mark.parametrize("key,kind", [("cpu_warning", "cpu"), ("cpu_critical", "cpu"),
                                      ("clock_offset_critical_ms", "clock_offset")])
def test_kind_of(key, kind):
    assert kind_of(key) == kind


def test_valid_overrides_and_null_levels_pass():
    assert validate({"cpu_warning": 80, "cpu_critical": None}, DEFAULTS, ("cpu",)) == []


@pytest.mark.parametrize("overrides,fragment", [
    ({"cpu_warning": 101}, "between 0 and 100"),
    ({"clock_offset_warning_ms": -1}, "must not be negative"),
    ({"cpu_warning": "high"}, "must be a number"),
    ({"cpu_warning": True}, "must be a number"),
    ({"cpu_warnign": 80}, "unknown threshold cpu_warnign"),
    ({"clock_offset_warning_ms": 2000}, "warning threshold clock_offset_warning_ms (2000) is above"),
])
def test_each_kind_of_mistake_gets_one_message(overrides, fragment):
    problems = validate(overrides, DEFAULTS, ("cpu",))
    assert len(problems) == 1 and fragment in problems[0], problems


def test_not_a_dict():
    assert validate(["cpu_warning"], DEFAULTS, ()) == ["阈值必须是字典 / thresholds must be a dictionary"]
