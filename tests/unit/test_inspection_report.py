"""Inspection report building and rendering, from plain records."""

import json
import pathlib
import re

import jsonschema

from ansible_collections.gxtax.ops.plugins.module_utils.inspection_html import render_html, threshold_text
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import (
    build_report,
    conclusion,
    render_summary,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

SCHEMA = json.loads((pathlib.Path(__file__).parents[2] / "schemas" / "inspection-record.schema.json")
                    .read_text(encoding="utf-8"))
META = {"run_id": "20261127T083000-abcdef", "started": "2026-11-27T08:30:00",
        "ended": "2026-11-27T08:31:00", "inventory": "inventories/production"}


def _ok(host, req="INSP-01", item="CPU使用率"):
    return make_record(req, item, host, "ok", 12.0, "%", {"warning": 80, "critical": 90}, "正常。")


def _bad(host, status="critical", item="文件系统 /u01 空间使用率"):
    return make_record("INSP-01", item, host, status, 95.0, "%", {"warning": 80, "critical": 90},
                       "使用率超过阈值。", direction="清理过期日志或扩容", consequence="写满后业务中断")


HOSTS = {"db01": {"state": "ok", "platforms": ["publicity"], "message": ""},
         "wls01": {"state": "ok", "platforms": ["publicity"], "message": ""}}


def test_abnormal_records_come_first():
    report = build_report([_ok("db01"), _bad("wls01", "warning"), _bad("db01")], HOSTS, META)
    assert [r["status"] for r in report["records"]] == ["critical", "warning", "ok"]
    assert report["overall_status"] == "critical"
    assert report["counts"]["critical"] == 1 and report["counts"]["ok"] == 1


def test_conclusion_all_normal_uses_contract_wording():
    text = conclusion([_ok("db01"), _ok("wls01")], HOSTS)
    assert text.startswith("通过本次巡检，")
    assert "服务器CPU利用率、内存使用率、磁盘空间利用率、I/O使用率均正常" in text


def test_conclusion_names_abnormal_items_and_missing_hosts():
    hosts = dict(HOSTS, app03={"state": "unreachable", "platforms": [], "message": "timeout"})
    text = conclusion([_ok("db01"), _bad("wls01")], hosts)
    assert text.startswith("本次巡检发现异常")
    assert "wls01 文件系统 /u01 空间使用率" in text
    assert "1台主机未完成巡检（app03）" in text


def test_unreachable_host_without_records_is_listed():
    hosts = dict(HOSTS, app03={"state": "unreachable", "platforms": ["avrecord"], "message": "no route"})
    report = build_report([_ok("db01")], hosts, META)
    assert report["platforms"]["avrecord"] == ["app03"]
    page = render_html(report)
    assert "app03" in page and "无法连接" in page


def test_html_is_self_contained_and_escaped():
    record = _bad("db01", item="表空间 <script>alert(1)</script>")
    page = render_html(build_report([record], HOSTS, META))
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"(src|href)\s*=|@import|url\(|https?://", page)
    assert '<html lang="zh-CN">' in page and "巡检结论" in page and "排查方向" in page


def test_report_records_validate_and_summary_counts():
    report = build_report([_ok("db01"), _bad("wls01")], HOSTS, META)
    for record in report["records"]:
        jsonschema.validate(record, SCHEMA)
    summary = render_summary(report)
    assert "严重 1" in summary and "正常 1" in summary and "总体状态: 严重" in summary


def test_no_records_is_an_error_report_not_a_clean_one():
    report = build_report([], {"db01": {"state": "failed", "platforms": [], "message": "x"}}, META)
    assert report["overall_status"] == "error"
    assert "未完成巡检" in report["conclusion"]


def _info(host, field, value):
    return make_record("INSP-14", "基本信息 " + field, host, "ok", value)


def test_basic_information_is_a_sheet_not_a_check():
    records = [_ok("db01"), _info("db01", "操作系统", "Kylin V10"), _info("db01", "IP地址", "192.0.2.11")]
    report = build_report(records, HOSTS, META)
    assert report["counts"]["ok"] == 1  # the two INSP-14 records are not counted as checks
    page = render_html(report)
    assert "<th>基本信息</th>" in page and "Kylin V10" in page and "192.0.2.11" in page


def test_sections_without_records_say_not_configured():
    report = build_report([_ok("db01")], HOSTS, META)
    by_title = {s["title"]: s for s in report["sections"]}
    assert by_title["主机与操作系统"]["configured"] is True
    assert by_title["数据库（Oracle）"]["configured"] is False
    page = render_html(report)
    assert page.count("<td>未配置") == 3  # Oracle, WebLogic, application


def test_unreachable_host_makes_an_all_ok_run_an_error():
    hosts = dict(HOSTS, app03={"state": "unreachable", "platforms": [], "message": "x"})
    assert build_report([_ok("db01")], hosts, META)["overall_status"] == "error"
    assert build_report([_ok("db01")], HOSTS, META)["overall_status"] == "ok"


def test_threshold_text():
    assert threshold_text({"warning": 80, "critical": 90}) == "警告≥80 / 严重≥90"
    assert threshold_text({"warning": None, "critical": 90}) == "严重≥90"
    assert threshold_text({"expect_status": 200}) == "expect_status: 200"
    assert threshold_text(None) == ""


def test_html_names_every_host_under_its_platform():
    hosts = {"db01": {"state": "ok", "platforms": ["publicity"], "message": ""},
             "nas01": {"state": "ok", "platforms": ["avrecord"], "message": ""}}
    page = render_html(build_report([_ok("db01"), _bad("nas01")], hosts, META))
    publicity = page.index("平台：publicity")
    avrecord = page.index("平台：avrecord")
    assert avrecord < page.index("<h4>nas01") < publicity < page.index("<h4>db01")


def test_within_a_host_the_checks_keep_their_order_and_booleans_read_in_chinese():
    records = [_ok("db01", item="CPU使用率"), _ok("db01", item="内存使用率"),
               make_record("INSP-01", "监听端口 22", "db01", "critical", False, None, "LISTEN", "未监听。",
                           direction="检查 sshd", consequence="无法登录"),
               _info("db01", "主机名", "db01"), _info("db01", "IP地址", "192.0.2.11")]
    report = build_report(records, HOSTS, META)
    assert [r["item"] for r in report["records"]] == ["监听端口 22", "CPU使用率", "内存使用率",
                                                      "基本信息 主机名", "基本信息 IP地址"]
    page = render_html(report)
    assert "<td>否<td>LISTEN" in page and "False" not in page
    assert page.index("<td>主机名<td>db01") < page.index("<td>IP地址<td>192.0.2.11")


def test_a_hardening_report_concludes_per_clause_and_shows_only_its_sections():
    records = [_ok("db01", "DJBH-8.1.4.1-a", "身份鉴别·口令复杂度"),
               make_record("DJBH-8.1.4.3-a", "安全审计·审计服务", "db01", "critical",
                           detail="auditd 未运行。", direction="启用 auditd", consequence="无审计记录"),
               _ok("wls01", "DJBH-8.1.4.3-c", "安全审计·日志保存")]
    report = build_report(records, HOSTS, {"kind": "hardening", "title": "等保2.0三级安全基线合规报告"})
    assert report["conclusion"].startswith("本次检查发现异常")
    assert "身份鉴别各项符合基线" in report["conclusion"]
    assert "安全审计存在1项异常（db01 安全审计·审计服务）" in report["conclusion"]
    assert [s["title"] for s in report["sections"]] == ["身份鉴别（8.1.4.1）", "安全审计（8.1.4.3）"]
    assert report["sections"][1]["status"] == "critical"


def test_an_inspection_still_lists_unconfigured_sections_but_not_other_kinds_ones():
    report = build_report([_ok("db01")], HOSTS, {"kind": "inspection"})
    titles = [s["title"] for s in report["sections"]]
    assert titles == ["主机与操作系统", "数据库（Oracle）", "中间件（WebLogic）", "应用可用性与存储"]
    assert [s["configured"] for s in report["sections"]] == [True, False, False, False]
