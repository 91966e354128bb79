"""The calendar filters by FQCN through real Ansible templating (ansible-core's Templar with
the collection loader, and the `ansible` CLI with the project's ansible.cfg), their errors,
their overrides= keyword and their ansible-doc pages."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gxtax.ops.plugins.filter import calendar as cal_filter

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
FILTERS = cal_filter.FilterModule().filters()
NAMES = ["is_workday", "holiday_name", "holiday_last_day", "tax_filing_deadline", "in_tax_filing_period",
         "release_window_check", "application_lead_ok", "monthly_release_plan", "release_notice"]
OVERRIDES_2027 = {"2027": {"holidays": {d: "国庆节" for d in ("2027-10-01", "2027-10-02", "2027-10-03")},
                           "filing_deadlines": {"2027-10": "2027-10-20"}}}

# Renders expressions with the Templar the way a play does (FQCN through the collection loader)
# and prints {"value": ...} or {"error": ...} per expression as JSON.
RENDER = textwrap.dedent("""
    import json, sys
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar
    init_plugin_loader([sys.argv[1]])
    job = json.load(sys.stdin)
    templar = Templar(loader=DataLoader(), variables=job["vars"])
    out = []
    for expression in job["expressions"]:
        try:
            out.append({"value": templar.template(expression)})
        except Exception as exc:  # the message is what a play would show
            out.append({"error": "%s: %s" % (type(exc).__name__, exc)})
    print(json.dumps(out, ensure_ascii=False))
""")


def render(expressions, variables=None):
    job = {"expressions": expressions, "vars": variables or {}}
    run = subprocess.run([sys.executable, "-c", RENDER, str(ROOT / "collections")], input=json.dumps(job),
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(run.stdout)


def test_the_filter_module_maps_every_name():
    assert sorted(FILTERS) == sorted(NAMES)


def test_filters_through_the_templar(tmp_path):
    path = tmp_path / "calendar.yml"
    path.write_text('"2027":\n  holidays:\n    "2027-10-01": 国庆节\n', encoding="utf-8")
    got = render([
        "{{ '2026-10' | gxtax.ops.tax_filing_deadline }}",
        "{{ '2026-10-10' | gxtax.ops.is_workday }}",
        "{{ '2025-10-06' | gxtax.ops.holiday_name }}",
        "{{ '2026-10-07' | gxtax.ops.holiday_last_day }}",
        "{{ '2026-10-26' | gxtax.ops.in_tax_filing_period }}",
        "{{ '2026-10-25T18:30' | gxtax.ops.release_window_check('monthly', 'production') }}",
        "{{ '2026-10-22' | gxtax.ops.application_lead_ok('2026-10-26T18:00') }}",
        "{{ '2026-10-23' | gxtax.ops.application_lead_ok('2026-10-26T18:00') }}",
        "{{ '2026-10' | gxtax.ops.monthly_release_plan }}",
        "{{ '2027-10-01' | gxtax.ops.holiday_name(overrides=ov_dict) }}",
        "{{ '2027-10' | gxtax.ops.tax_filing_deadline(overrides=ov_dict) }}",
        "{{ '2027-10-01' | gxtax.ops.holiday_name(overrides=ov_path) }}",
        "{{ '2026-10-03' | gxtax.ops.holiday_name(overrides=none) }}",
        "{{ '2026-11-08' | gxtax.ops.holiday_name is none }}",
        "{{ '2026-10-05T03:00' | gxtax.ops.release_window_check('patch', 'test') }}",
    ], {"ov_dict": OVERRIDES_2027, "ov_path": str(path)})
    values = [g.get("value", g.get("error")) for g in got]
    assert values[0:5] == ["2026-10-26", True, "国庆节、中秋节", True, True]
    window = values[5]
    assert window["allowed"] is False and window["next_allowed"] == "2026-10-27T18:00:00"
    assert window["reason"].startswith(
        "征期（2026-10-01 至 2026-10-26）内仅允许紧急补丁发布，时间 19:00–23:00")
    assert values[6:8] == [True, False]
    assert values[8]["production_start"] == "2026-10-27T18:00:00" and values[8]["test"] == "2026-10-05"
    assert values[9:14] == ["国庆节", "2027-10-20", "国庆节", "国庆节", True]
    assert values[14]["allowed"] is True and values[14]["next_allowed"] == "2026-10-05T03:00:00"


def test_the_notice_through_the_templar():
    (got,) = render(["{{ '2026-10-27T19:00' | gxtax.ops.release_notice('2026-10-27T21:00', "
                     "notes=['1.0.2.06 版本历史遗留的相关问题。', '优化用户体验，修改相关的提示信息。']) }}"])
    lines = got["value"].split("\n")
    assert lines[0] == "【系统应用系统补丁升级通知】"
    assert lines[1] == "补丁升级时间：2026 年 10 月 27 日 19:00 至 10 月 27 日 21:00"
    assert lines[-2:] == ["1、1.0.2.06 版本历史遗留的相关问题。", "2、优化用户体验，修改相关的提示信息。"]


def test_errors_through_the_templar_name_the_filter_and_the_rule():
    got = render([
        "{{ '2027-03-02' | gxtax.ops.is_workday }}",
        "{{ '2026-10-25T18:30' | gxtax.ops.release_window_check('hotfix', 'production') }}",
        "{{ 'soon' | gxtax.ops.application_lead_ok('2026-10-26') }}",
        "{{ '2026-13' | gxtax.ops.tax_filing_deadline }}",
        "{{ '2026-10-27T21:00' | gxtax.ops.release_notice('2026-10-27T19:00', notes=['x']) }}",
        "{{ '2026-10-01' | gxtax.ops.holiday_last_day(overrides={'2026': {'holiday': {}}}) }}",
    ])
    errors = [g.get("error", "") for g in got]
    assert all(e.startswith("AnsibleFilterError") for e in errors), errors
    assert "gxtax.ops.is_workday" in errors[0] and "2027" in errors[0] and "国务院" in errors[0]
    assert "REL-04" in errors[1] and "hotfix" in errors[1]
    assert "REL-03" in errors[2] and "applied" in errors[2]
    assert "tax_filing_deadline" in errors[3] and "YYYY-MM" in errors[3]
    assert "REL-06" in errors[4] and "晚于" in errors[4]
    assert "INSP-16" in errors[5] and "holiday" in errors[5]


def test_the_ansible_cli_with_the_project_config(tmp_path):
    """`ansible localhost -m debug` from the checkout: ansible.cfg makes gxtax.ops resolve."""
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(OVERRIDES_2027, ensure_ascii=False), encoding="utf-8")
    expression = ("{{ {'deadline': '2027-10' | gxtax.ops.tax_filing_deadline(overrides=ov),"
                  " 'last': '2027-10-03' | gxtax.ops.holiday_last_day(overrides=ov)} }}")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_CALLBACKS_ENABLED="")
    run = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "ansible.builtin.debug",
                          "-a", "msg=" + expression, "-e", "gxtax_calendar_overrides=" + str(path),
                          "-e", "ov={{ gxtax_calendar_overrides }}"],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["msg"] == {"deadline": "2027-10-20", "last": True}


# ---------------------------------------------------------------- the Python side of the filters

def test_errors_are_ansible_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"gxtax\.ops\.release_window_check \(REL-04"):
        FILTERS["release_window_check"]("2026-10-25", "monthly", "production")  # no time of day
    with pytest.raises(AnsibleFilterError, match="cannot read"):
        FILTERS["is_workday"]("2026-10-01", overrides="/nonexistent/calendar.yml")


def test_an_override_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "calendar.yml"
    path.write_text('"2027":\n  holidays:\n    "2027-10-01": 国庆节\n', encoding="utf-8")
    assert FILTERS["holiday_name"]("2027-10-01", overrides=str(path)) == "国庆节"
    path.write_text('"2027":\n  holidays:\n    "2027-10-01": 国庆节（新）\n', encoding="utf-8")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))  # a new mtime even on a coarse clock
    assert FILTERS["holiday_name"]("2027-10-01", overrides=str(path)) == "国庆节（新）"


def test_empty_overrides_mean_none():
    for empty in (None, "", {}):
        assert FILTERS["tax_filing_deadline"]("2026-10", overrides=empty) == "2026-10-26"


@pytest.fixture(scope="module")
def docs():
    names = ["gxtax.ops." + n for n in NAMES]
    run = subprocess.run([str(BIN / "ansible-doc"), "--json", "-t", "filter", *names],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("name", NAMES)
def test_every_filter_documents_itself_through_ansible_doc(docs, name):
    doc = docs["gxtax.ops." + name]
    assert doc["doc"]["name"] == name and doc["doc"]["options"]["_input"]["required"]
    assert doc["doc"]["author"] and doc["doc"]["version_added"] == "0.1.0"
    assert doc["examples"] and doc["return"]
    assert "gxtax.ops." + name in doc["examples"]


def test_an_empty_override_setting_means_no_overrides():
    from ansible_collections.gxtax.ops.plugins.filter.calendar import release_window_check  # noqa: PLC0415

    result = release_window_check("2026-11-25T19:00:00", "patch", "production", rules={}, overrides="")
    assert result["allowed"] is True
