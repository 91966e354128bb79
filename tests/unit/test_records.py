"""The one record format: constructor rules and the JSON Schema agree."""

import json
import pathlib

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.records import grade, make_record, worst

SCHEMA = json.loads((pathlib.Path(__file__).parents[2] / "schemas" / "inspection-record.schema.json")
                    .read_text(encoding="utf-8"))


def test_ok_record_validates_against_schema():
    record = make_record("INSP-03", "表空间 USERS 使用率", "db01", "ok", 42.5, "%",
                         {"warning": 85, "critical": 90}, "使用率正常。")
    jsonschema.validate(record, SCHEMA)


def test_abnormal_record_needs_direction_and_consequence():
    with pytest.raises(ValueError, match="direction and consequence"):
        make_record("INSP-03", "表空间 USERS 使用率", "db01", "critical", 95, "%")


def test_schema_rejects_abnormal_record_without_direction():
    record = make_record("INSP-01", "CPU使用率", "h1", "ok", 1, "%")
    record["status"] = "warning"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, SCHEMA)


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        make_record("INSP-01", "CPU使用率", "h1", "fine")


@pytest.mark.parametrize("value,expected", [(79.9, "ok"), (80, "warning"), (89.99, "warning"),
                                            (90, "critical"), (None, "error")])
def test_grade_boundaries(value, expected):
    assert grade(value, 80, 90) == expected


def test_worst_orders_critical_over_error_over_warning():
    statuses = ["ok", "warning", "error", "critical", "skipped"]
    records = [{"status": s} for s in statuses]
    assert worst(records) == "critical"
    assert worst(records[:3]) == "error"
    assert worst([]) == "ok"
    assert worst([{"status": "ok"}, {"status": "skipped"}]) == "ok"
    assert worst([{"status": "skipped"}]) == "skipped"


def test_hardening_control_id_is_a_valid_requirement_id():
    record = make_record("DJBH-8.1.4.1-b", "口令复杂度", "h1", "ok")
    jsonschema.validate(record, SCHEMA)
