"""Release report building and rendering (REL-09, REL-08, SEC-03), from plain data."""

import copy
import json
import pathlib
import re

import jsonschema
import pytest
from referencing import Registry, Resource

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record
from ansible_collections.gxtax.ops.plugins.module_utils.release_html import render_html
from ansible_collections.gxtax.ops.plugins.module_utils.release_report import (
    HIDDEN,
    build_report,
    index_meta,
    is_step_name,
    render_summary,
    scrub,
)

SCHEMAS = pathlib.Path(__file__).parents[2] / "schemas"
REPORT_SCHEMA = json.loads((SCHEMAS / "release-report.schema.json").read_text(encoding="utf-8"))
RECORD_SCHEMA = json.loads((SCHEMAS / "inspection-record.schema.json").read_text(encoding="utf-8"))
REGISTRY = Registry().with_resource(RECORD_SCHEMA["$id"], Resource.from_contents(RECORD_SCHEMA))
SECRET = "Sentinel-rel-4b1d-not-for-reports"
META = {"run_id": "20261127T190000-abcdef", "operator": "zhangsan", "inventory": "inventories/production",
        "started": "2026-11-27T19:00:00", "ended": "2026-11-27T19:20:00"}
HOSTS = {"wls01": {"state": "ok", "message": "", "failures": 0}}
RELEASE = {"version": "1.0.2.06", "package": "1.0.2_06.tar.gz", "package_name": "1.0.2_06",
           "environment": "production", "kind": "patch", "approval": "审批-118",
           "checksums": {"publicity.war": "0cc175b9c0f1b6a831c399e269772661"}}


def _validate(report):
    jsonschema.Draft202012Validator(REPORT_SCHEMA, registry=REGISTRY).validate(report)


def _step(task, status="ok", changed=False, host="wls01", msg="", minute=1, **extra):
    return dict({"play": "发布", "host": host, "task": task, "status": status, "changed": changed, "msg": msg,
                 "started": "2026-11-27T19:%02d:00.000" % minute,
                 "ended": "2026-11-27T19:%02d:02.500" % minute}, **extra)


def _origin(task="REL-09 | 验证", host="wls01"):
    return {"host": host, "task": task, "time": "2026-11-27T19:10:00"}


ROLLBACK = ({"type": "rollback", "from": "1.0.2.06", "to": "1.0.2.05", "reason": "首页返回 500",
             "outcome": "succeeded"}, _origin("REL-09 | 回退"))
REFUSAL = ({"type": "refused", "reason": "征期内仅允许紧急补丁", "next_allowed": "2026-12-16T18:00"},
           _origin("REL-04 | 检查发布窗口"))
VERIFIED = ({"type": "verification", "environment": "production", "passed": True, "checks": ["首页"]},
            _origin())


def _report(steps=None, events=(), records=(), release=(RELEASE,), hosts=None):
    steps = [_step("REL-07 | 部署应用", changed=True)] if steps is None else steps
    report = build_report(META, steps, list(release), list(events), list(records),
                          copy.deepcopy(HOSTS if hosts is None else hosts))
    _validate(report)
    return report


def test_successful_release_reports_success_and_index_contract():
    report = _report(events=[VERIFIED])
    assert report["outcome"] == "succeeded" and report["outcome_zh"] == "成功"
    assert report["conclusion"].startswith("版本 1.0.2.06 已在生产环境发布成功")
    assert report["steps"][0]["seconds"] == 2.5 and report["steps"][0]["requirement_id"] == "REL-07"
    meta = index_meta(report)
    assert {k: meta[k] for k in ("version", "package", "environment", "outcome")} == {
        "version": "1.0.2.06", "package": "1.0.2_06.tar.gz", "environment": "production",
        "outcome": "succeeded"}
    assert meta["title"] == report["title"] == "版本发布报告 1.0.2.06（生产环境）"
    assert render_summary(report).splitlines()[0].startswith("【成功】")


def test_rollback_is_the_outcome_and_shouted_everywhere():
    report = _report(steps=[_step("REL-07 | 部署应用", changed=True), _step("REL-09 | 验证", "rescued")],
                     events=[ROLLBACK])
    assert report["outcome"] == "rolled_back"
    page = render_html(report)
    assert page.count('id="rollback-banner"') == 1
    # The banner comes before the title: the first thing a reader sees.
    assert page.index('id="rollback-banner"') < page.index("<h1>")
    assert "从 1.0.2.06 回退到 1.0.2.05" in page
    first = render_summary(report).splitlines()[0]
    assert first.startswith("【已回退】")


@pytest.mark.parametrize("events, steps", [
    ([VERIFIED], None),
    ([REFUSAL], [_step("REL-04 | 检查发布窗口")]),
    ([], [_step("REL-07 | 部署应用", "failed", msg="boom")]),
])
def test_no_rollback_banner_without_a_rollback_event(events, steps):
    report = _report(steps=steps, events=events)
    assert report["outcome"] != "rolled_back"
    assert 'id="rollback-banner"' not in render_html(report)
    assert "已回退" not in render_summary(report)


def test_refusal_without_any_change_is_refused_and_names_no_failed_step():
    steps = [_step("REL-04 | 检查发布窗口"), _step("REL-04 | 停止发布", "failed", msg="发布被拒绝", minute=2)]
    report = _report(steps=steps, events=[REFUSAL])
    assert report["outcome"] == "refused" and report["outcome_zh"] == "已拒绝（未做任何变更）"
    assert report["failed_step"] is None
    assert "征期内仅允许紧急补丁" in report["conclusion"] and "2026-12-16T18:00" in report["conclusion"]
    assert render_summary(report).startswith("【已拒绝（未做任何变更）】")


def test_refusal_after_a_change_is_not_reported_as_no_change():
    steps = [_step("REL-04 | 检查发布窗口"), _step("REL-07 | 部署应用", changed=True, minute=2)]
    report = _report(steps=steps, events=[REFUSAL])
    assert report["outcome"] == "failed"
    assert "已有步骤做出变更" in report["conclusion"] and "REL-07 | 部署应用@wls01" in report["conclusion"]


def test_failed_step_is_named_in_conclusion_summary_and_json():
    steps = [_step("REL-07 | 部署应用", changed=True),
             _step("REL-07 | 执行数据库脚本", "failed", msg="ORA-00942")]
    report = _report(steps=steps, hosts={"wls01": {"state": "failed", "message": "x", "failures": 1}})
    assert report["outcome"] == "failed"
    assert report["failed_step"]["task"] == "REL-07 | 执行数据库脚本"
    assert "步骤“REL-07 | 执行数据库脚本”在主机 wls01 失败：ORA-00942" in report["conclusion"]
    assert "失败步骤: REL-07 | 执行数据库脚本 @ wls01" in render_summary(report)
    assert '<tr class="critical">' in render_html(report)


def test_failure_a_rescue_handled_or_ignored_does_not_fail_the_release():
    steps = [_step("REL-09 | 验证", "failed", msg="retry"), _step("REL-09 | 清理", "ignored", minute=2)]
    report = _report(steps=steps, events=[VERIFIED],
                     hosts={"wls01": {"state": "failed", "message": "x", "failures": 0}})
    assert [s["status"] for s in report["steps"]] == ["rescued", "ignored"]
    assert report["outcome"] == "succeeded"
    assert report["hosts"]["wls01"]["state"] == "ok"


def test_unreachable_host_fails_the_release():
    report = _report(steps=[_step("REL-07 | 部署应用", "unreachable", host="wls02", msg="timed out")],
                     hosts={"wls02": {"state": "unreachable", "message": "超时", "failures": 0}})
    assert report["outcome"] == "failed" and "wls02 无法连接" in report["conclusion"]


def test_no_steps_is_a_failure_not_a_success():
    report = _report(steps=[])
    assert report["outcome"] == "failed" and "未执行任何发布步骤" in report["conclusion"]


def test_failed_db_script_and_failed_verification_fail_the_release_with_redacted_error():
    events = [({"type": "db_script", "script": "001.sql", "outcome": "failed", "rows": 3, "seconds": 0.4,
                "error": "ORA-00001: unique constraint violated for value '450100199001011234'"}, _origin()),
              ({"type": "verification", "environment": "production", "passed": False,
                "checks": [{"item": "登录", "passed": False, "detail": "500"}]}, _origin())]
    report = _report(events=events)
    assert report["outcome"] == "failed"
    script = report["db_scripts"][0]
    assert script["outcome"] == "failed" and "ORA-00001" in script["error"]
    assert "450100199001011234" not in json.dumps(report, ensure_ascii=False)
    assert "数据库脚本 001.sql 执行失败" in report["conclusion"]
    assert "生产环境发布后验证未通过" in report["conclusion"]


def test_verification_without_a_verdict_counts_as_not_passed():
    report = _report(events=[({"type": "verification", "environment": "production"}, _origin())])
    assert report["verifications"][0]["passed"] is False and report["outcome"] == "failed"
    assert any("缺少 passed" in p for p in report["problems"])


def test_records_are_graded_and_malformed_ones_become_errors():
    good = make_record("INSP-17", "首页可访问", "wls01", "warning", 2.5, "s", {"warning": 2}, "响应较慢。",
                       direction="检查应用负载", consequence="用户等待时间长")
    report = _report(records=[(good, _origin())], events=[VERIFIED])
    assert report["outcome"] == "succeeded" and report["record_status"] == "warning"
    assert "需关注" in report["conclusion"] and report["counts"]["warning"] == 1
    report = _report(records=[({"item": "no id"}, _origin())])
    assert report["records"][0]["status"] == "error" and report["outcome"] == "failed"


def test_unknown_event_type_is_a_problem_not_a_crash():
    report = _report(events=[({"type": "party"}, _origin()), ("text", _origin())])
    assert len(report["problems"]) == 2 and "party" in report["problems"][0]
    assert "报告数据问题" in render_html(report)


def test_secret_named_keys_are_hidden_at_any_depth():
    release = dict(RELEASE, deploy_token=SECRET, extra={"nested": {"DB_Password": SECRET}})
    event = ({"type": "db_script", "script": "a.sql", "outcome": "ok", "db_secret": SECRET}, _origin())
    steps = [_step("REL-09 | 登录", msg=SECRET, hidden=True), _step("REL-07 | 部署应用", changed=True)]
    report = _report(steps=steps, events=[event, VERIFIED], release=[release])
    written = json.dumps(report, ensure_ascii=False) + render_html(report) + render_summary(report)
    assert SECRET not in written
    assert report["steps"][0]["msg"] == HIDDEN and report["release"]["other"]["deploy_token"] == HIDDEN
    assert scrub({"a": [{"api_TOKEN": 1, "b": 2}]}) == {"a": [{"api_TOKEN": HIDDEN, "b": 2}]}


def test_html_escapes_everything_and_loads_nothing_external():
    release = dict(RELEASE, notice="【系统应用系统补丁升级通知】\n补丁说明：<script>alert(1)</script>",
                   approval='"><img src=x onerror=alert(1)>')
    steps = [_step("REL-07 | <b>部署</b>", msg="<script>x</script>", changed=True, items=2)]
    page = render_html(_report(steps=steps, release=[release], events=[VERIFIED]))
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Only our own markup has tags (user text is escaped): none of them loads anything.
    assert not re.search(r"<[^>]*\b(src|href)\s*=|https?://|@import|<link", page)
    assert "【系统应用系统补丁升级通知】\n补丁说明" in page  # the notice keeps its lines (REL-06)
    assert "（2 项）" in page


def test_release_meta_merges_later_tasks_and_collects_environments():
    parts = [dict(RELEASE, environment="preproduction", window_check={"allowed": True, "reason": "非征期"}),
             {"environment": "production", "checksums": {"db.sql": {"SHA256": "ab" * 32}}}]
    report = _report(release=parts, events=[VERIFIED])
    release = report["release"]
    assert release["environments"] == ["preproduction", "production"]
    assert release["environment"] == "production"
    assert release["checksums"] == {"publicity.war": {"md5": "0cc175b9c0f1b6a831c399e269772661"},
                                    "db.sql": {"sha256": "ab" * 32}}
    assert release["window_check"] == {"allowed": True, "reason": "非征期", "next_allowed": None}
    assert report["title"] == "版本发布报告 1.0.2.06（预生产环境、生产环境）"
    assert "在发布窗口内" in render_html(report)


def test_schema_rejects_a_rollback_outcome_without_a_rollback():
    report = _report(events=[ROLLBACK])
    broken = dict(report, rollbacks=[])
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken)
    with pytest.raises(jsonschema.ValidationError):
        _validate(dict(report, steps=[dict(report["steps"][0], hidden=True, msg=SECRET)]))


def test_step_names_need_a_rel_tag():
    assert is_step_name("REL-04 | 检查发布窗口")
    assert not is_step_name("INSP-01 | 主机") and not is_step_name("Deploy REL-04") and not is_step_name(None)
