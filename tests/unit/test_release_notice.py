"""REL-06: the release notice follows the contract's template line by line. The expected
skeleton is read from the Chinese original, not written down here."""

import datetime as dt
import pathlib
import re

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import release_notice as rn
from ansible_collections.gxtax.ops.plugins.module_utils.tax_calendar import CalendarError

ROOT = pathlib.Path(__file__).parents[2]
# The Chinese original lives in shared/spec beside the checkout (the CI clone has a copy there);
# docs/calendar.md quotes the notice verbatim so the test still has the contract's text without it.
ORIGINALS = [ROOT / "docs" / "procurement-requirements.zh.txt",
             ROOT.parent / "shared" / "spec" / "procurement-requirements.zh.txt",
             pathlib.Path("/work/shared/spec/procurement-requirements.zh.txt")]
DOC = ROOT / "docs" / "calendar.md"


def _original():
    return next((p for p in ORIGINALS if p.exists()), None)


def _from_original(path):
    """The non-empty lines of the contract's notice, from its title to the next heading."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    start = lines.index("【系统应用系统补丁升级通知】")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("4）"))
    return [line for line in lines[start:end] if line]


def _from_doc():
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- contract-notice-begin -->")
    end = lines.index("<!-- contract-notice-end -->")
    return [line for line in lines[start + 1:end] if line.strip() and not line.startswith("```")]


def _template():
    path = _original()
    return _from_original(path) if path else _from_doc()


def test_the_doc_quotes_the_contract_verbatim():
    path = _original()
    if path is None:
        pytest.skip("the Chinese original is not beside this checkout; the doc's quote is used alone")
    assert _from_doc() == _from_original(path)


def _pattern(line):
    """A template line with its 20XX / XX placeholders as digit groups."""
    return re.compile("^" + re.escape(line).replace("20XX", r"(20\d\d)").replace("XX", r"(\d\d)") + "$")


def _parts(template):
    scope_at = template.index("补丁升级范围：") + 1
    notes_at = template.index("补丁说明：") + 1
    return template[scope_at], [re.sub(r"^\d+、", "", line) for line in template[notes_at:]]


def test_the_notice_matches_the_contract_line_by_line():
    template = _template()
    scope, notes = _parts(template)
    text = rn.release_notice(dt.datetime(2026, 10, 27, 19, 0), "2026-10-27T21:30", scope, notes=notes)
    lines = text.split("\n")
    assert len(lines) == len(template)
    for made, wanted in zip(lines, template, strict=True):
        if "XX" in wanted and "X.XX" not in wanted:
            match = _pattern(wanted).match(made)
            assert match, (made, wanted)
            assert match.groups() == ("2026", "10", "27", "19", "00", "10", "27", "21", "30")
        else:
            assert made == wanted


def test_the_default_impacts_are_the_contracts():
    template = _template()
    business = next(line for line in template if line.startswith("业务影响："))
    user = next(line for line in template if line.startswith("用户影响："))
    text = rn.release_notice("2026-10-27T19:00", "2026-10-27T21:00", "系统应用", notes=["x"])
    assert business in text.split("\n") and user in text.split("\n")
    assert rn.TITLE == template[0]


def test_numbers_are_zero_padded_and_the_end_may_be_another_day():
    text = rn.release_notice("2027-01-05T09:05", dt.datetime(2027, 1, 6, 0, 30), "系统应用", notes="a")
    assert text.split("\n")[1] == "补丁升级时间：2027 年 01 月 05 日 09:05 至 01 月 06 日 00:30"


def test_scope_and_notes_as_lists_or_lines_and_numbering_once():
    text = rn.release_notice("2026-10-27T19:00", "2026-10-27T21:00",
                             scope=["行政执法信息公示平台", "执法音像记录信息管理平台"],
                             business_impact="无需停机；", user_impact="无影响；",
                             notes="1、修复查询超时。\n\n2. 调整导出格式。\n新增审计日志。")
    lines = text.split("\n")
    assert lines[2:5] == ["补丁升级范围：", "行政执法信息公示平台", "执法音像记录信息管理平台"]
    assert lines[5:7] == ["业务影响：无需停机；", "用户影响：无影响；"]
    assert lines[7:] == ["补丁说明：", "1、修复查询超时。", "2、调整导出格式。", "3、新增审计日志。"]
    assert text.count("\n") == len(lines) - 1


def test_a_note_starting_with_a_version_keeps_it():
    text = rn.release_notice("2026-10-27T19:00", "2026-10-27T21:00", "系统应用",
                             notes=["1.0.2.06 版本遗留问题。", "2、1.0.2.07 修复。", "3) 10 项优化。"])
    assert text.split("\n")[-3:] == ["1、1.0.2.06 版本遗留问题。", "2、1.0.2.07 修复。", "3、10 项优化。"]
    assert not text.endswith("\n")


def test_an_aware_start_is_written_in_beijing_time():
    text = rn.release_notice("2026-10-27T11:00:00+00:00", "2026-10-27T13:00:00Z", "系统应用", notes=["x"])
    assert "2026 年 10 月 27 日 19:00 至 10 月 27 日 21:00" in text


@pytest.mark.parametrize("kwargs,message", [
    ({"start": "2026-10-27T21:00", "end": "2026-10-27T19:00"}, "晚于"),
    ({"start": "2026-10-27T19:00", "end": "2026-10-27T19:00"}, "晚于"),
    ({"notes": []}, "补丁说明"),
    ({"notes": ["  ", ""]}, "补丁说明"),
    ({"scope": ""}, "补丁升级范围"),
    ({"notes": [1, 2]}, "notes"),
    ({"start": "2026-10-27"}, "start"),
])
def test_bad_input_names_the_rule(kwargs, message):
    args = {"start": "2026-10-27T19:00", "end": "2026-10-27T21:00", "scope": "系统应用", "notes": ["x"]}
    args.update(kwargs)
    with pytest.raises(CalendarError, match=message):
        rn.release_notice(**args)


def test_the_end_may_be_a_length_in_minutes():
    assert rn.upgrade_time("2026-11-25T21:30:00", 150) == "2026 年 11 月 25 日 21:30 至 11 月 26 日 00:00"
    later = rn.upgrade_time("2026-11-25T19:00:00", "2026-11-25T21:00:00")
    assert rn.upgrade_time("2026-11-25T19:00:00", 120) == later
