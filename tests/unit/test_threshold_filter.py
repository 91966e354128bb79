"""INSP-01 thresholds are checked on the control node before any host is touched:
the gxtax.ops.threshold_problems filter, the role's first task and its argument spec."""

import pathlib

import pytest
import yaml

from ansible_collections.gxtax.ops.plugins.filter.inspection import FilterModule
from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import DEFAULT_THRESHOLDS

ROOT = pathlib.Path(__file__).parents[2]
ROLE = ROOT / "roles" / "host_inspection"
problems = FilterModule().filters()["threshold_problems"]


@pytest.mark.parametrize("thresholds", [None, {}, {"cpu_warning": 80, "cpu_critical": None},
                                        {"clock_offset_warning_ms": 500, "clock_offset_critical_ms": 5000},
                                        {"memory_warning": "85"}, '{"cpu_warning": 70}'])
def test_usable_thresholds_have_no_problems(thresholds):
    assert problems(thresholds) == []


@pytest.mark.parametrize("thresholds,key,value", [
    ({"cpu_warning": 120}, "cpu_warning", "120"),
    ({"filesystem_critical": -1}, "filesystem_critical", "-1"),
    ({"memory_warning": 96, "memory_critical": 95}, "memory_warning", "96"),
    ({"clock_offset_warning_ms": 2000}, "clock_offset_warning_ms", "2000"),
    ({"zombie_warning": "many"}, "zombie_warning", "many"),
    ({"disk_warning": 80}, "disk_warning", "disk_warning"),
    ('{"io_util_warning": 101}', "io_util_warning", "101"),
])
def test_impossible_thresholds_are_named_with_their_value(thresholds, key, value):
    found = problems(thresholds)
    assert len(found) == 1, found
    message = found[0]
    assert key in message and value in message
    chinese, _, english = message.partition(" / ")
    assert "阈值" in chinese and "threshold" in english


def test_every_mistake_is_reported_at_once():
    found = problems({"cpu_warning": 120, "inode_warning": 95, "inode_critical": 90, "typo_warning": 1})
    assert len(found) == 3


@pytest.mark.parametrize("thresholds", [["cpu_warning"], 42, "not json or k=v"])
def test_thresholds_must_be_a_dictionary(thresholds):
    assert problems(thresholds) == ["阈值必须是字典 / thresholds must be a dictionary"]


def _tasks(name):
    return yaml.safe_load((ROLE / "tasks" / name).read_text(encoding="utf-8"))


def test_first_task_of_the_role_checks_thresholds_on_the_control_node():
    assert _tasks("main.yml")[0]["ansible.builtin.import_tasks"] == "thresholds.yml"
    (first,) = _tasks("thresholds.yml")
    assert "ansible.builtin.assert" in first
    assert first["delegate_to"] == "localhost"
    assert "gxtax.ops.threshold_problems" in first["vars"]["__gxtax_inspection_threshold_problems"]
    assert "gxtax_inspection_thresholds" in first["vars"]["__gxtax_inspection_threshold_problems"]
    assert "join" in first["ansible.builtin.assert"]["fail_msg"]


def test_argument_spec_documents_every_threshold_key_as_a_number():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    option = spec["argument_specs"]["main"]["options"]["gxtax_inspection_thresholds"]
    assert option["type"] == "dict"
    keys = option["options"]
    assert set(keys) == set(DEFAULT_THRESHOLDS)
    for key, sub in keys.items():
        assert sub["type"] == "float", key
        assert str(DEFAULT_THRESHOLDS[key]) in sub["description"], key


def test_thresholds_entry_point_is_documented():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    assert list(spec["argument_specs"]["thresholds"]["options"]) == ["gxtax_inspection_thresholds"]


def test_role_defaults_cover_every_argument():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    options = spec["argument_specs"]["main"]["options"]
    assert set(options) == set(defaults)
    for name, option in options.items():
        assert option["default"] == defaults[name], name
