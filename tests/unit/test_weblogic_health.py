"""INSP-10 grading of a WebLogic domain, over the recorded answers of a 12.2.1.4 Admin Server
(tests/unit/fixtures/weblogic/publicity_domain.json) changed case by case: every branch of
servers, health, heap, threads, data sources, applications, thresholds and failed reads."""

import json
import pathlib
import socket
from urllib.error import URLError

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import weblogic_health as wh
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import inspection_snapshot
from tests.weblogic_double.recorded import Recorded, RecordedClient

ROOT = pathlib.Path(__file__).parents[2]
FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "weblogic"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)  # compiled once: the tests grade many domains
URL = "http://wls-admin.example:7001"  # plain HTTP: no CA bundle to load per test
HOST = "pub-wls-admin"
SERVERS = ("AdminServer", "pub_ms1", "pub_ms2")


def domain():
    return json.loads((FIXTURES / "publicity_domain.json").read_text(encoding="utf-8"))


def item_of(answers, key, name):
    return next(i for i in answers[key]["items"] if i["name"] == name)


def run(change=None, thresholds=None):
    """Grade the fixture domain after change(answers); every record checked against the schema."""
    answers = domain()
    if change:
        change(answers)
    result = wh.evaluate(inspection_snapshot(RecordedClient(answers, url=URL)), HOST, thresholds)
    items = [r["item"] for r in result["records"]]
    assert len(items) == len(set(items)), items
    for record in result["records"]:
        VALIDATOR.validate(record)
        assert record["host"] == HOST and record["requirement_id"] == "INSP-10"
        if record["status"] in ("warning", "critical", "error"):
            assert record["direction"] and record["consequence"]
    return result, {r["item"]: r for r in result["records"]}


def statuses(records):
    return {item: record["status"] for item, record in records.items()}


# ------------------------------------------------------------------ a healthy domain


def test_healthy_domain_is_all_ok_with_one_record_per_item():
    result, records = run()
    expected = set()
    for name in SERVERS:
        expected |= {"WebLogic 服务器 %s 状态" % name, "WebLogic 服务器 %s 健康状态" % name,
                     "WebLogic %s 堆内存使用率" % name, "WebLogic %s 卡住线程(stuck)" % name,
                     "WebLogic %s 占用线程(hogging)" % name, "WebLogic %s 等待处理的请求" % name}
    for server in ("pub_ms1", "pub_ms2"):
        expected |= {"数据源 jdbc/gsgsDS@%s 连接使用率" % server, "应用 gsgs-web@%s 状态" % server,
                     "数据源 jdbc/gsgsReportDS@%s 连接使用率" % server}
    expected.add("应用 gsgs-admin@pub_ms1 状态")
    assert set(records) == expected
    assert set(statuses(records).values()) == {"ok"}
    assert [s["name"] for s in result["servers"]] == list(SERVERS)
    for server in result["servers"]:
        assert (server["state"], server["health"], server["running"]) == ("RUNNING", "HEALTH_OK", True)
    assert result["servers"][1]["cluster"] == "pub_cluster" and result["servers"][0]["cluster"] is None


def test_figures_are_computed_from_the_runtime_fields():
    result, records = run()
    jvm = {j["server"]: j for j in result["jvm"]}
    # pub_ms1: (3221225472 - 1503238553) / 4294967296 = 40.0 %
    assert jvm["pub_ms1"]["heap_used_percent"] == 40.0
    assert jvm["pub_ms1"]["heap_used_bytes"] == 3221225472 - 1503238553
    assert records["WebLogic pub_ms1 堆内存使用率"]["value"] == 40.0
    assert records["WebLogic pub_ms1 堆内存使用率"]["threshold"] == {"warning": 85, "critical": 95}
    assert "最大 4096 MiB" in records["WebLogic pub_ms1 堆内存使用率"]["detail"]
    threads = {t["server"]: t for t in result["threads"]}
    assert threads["pub_ms1"]["hogging"] == 1 and threads["pub_ms2"]["pending_user_requests"] == 2
    assert threads["pub_ms1"]["total"] == 64
    datasources = {(d["name"], d["server"]): d for d in result["datasources"]}
    assert datasources[("gsgsDS", "pub_ms1")]["used_percent"] == round(17 * 100 / 80, 1)
    assert datasources[("gsgsDS", "pub_ms1")]["max_capacity"] == 80
    assert datasources[("gsgsReportDS", "pub_ms2")]["jndi"] == "jdbc/gsgsReportDS"
    assert {(a["name"], a["target"], a["state"]) for a in result["applications"]} == {
        ("gsgs-web", "pub_ms1", "STATE_ACTIVE"), ("gsgs-web", "pub_ms2", "STATE_ACTIVE"),
        ("gsgs-admin", "pub_ms1", "STATE_ACTIVE")}


# ------------------------------------------------------------------ server states


def shut_down(name, state="SHUTDOWN"):
    def change(answers):
        item_of(answers, "GET domainRuntime/serverLifeCycleRuntimes", name)["state"] = state
        answers["GET domainRuntime/serverRuntimes"]["items"] = [
            i for i in answers["GET domainRuntime/serverRuntimes"]["items"] if i["name"] != name]
    return change


@pytest.mark.parametrize("state", ["SHUTDOWN", "FAILED", "FAILED_NOT_RESTARTABLE"])
def test_a_server_that_is_down_is_critical_and_its_runtime_items_skipped(state):
    _result, records = run(shut_down("pub_ms2", state))
    record = records["WebLogic 服务器 pub_ms2 状态"]
    assert (record["status"], record["value"]) == ("critical", state)
    assert "Node Manager" in record["direction"] and "集群容量下降" in record["consequence"]
    skipped = [item for item, r in records.items() if r["status"] == "skipped"]
    assert sorted(skipped) == sorted([
        "WebLogic pub_ms2 堆内存使用率", "WebLogic pub_ms2 卡住线程(stuck)",
        "WebLogic pub_ms2 占用线程(hogging)", "WebLogic pub_ms2 等待处理的请求",
        "数据源 jdbc/gsgsDS@pub_ms2 连接使用率",
        "数据源 jdbc/gsgsReportDS@pub_ms2 连接使用率", "应用 gsgs-web@pub_ms2 状态"])
    assert "WebLogic 服务器 pub_ms2 健康状态" not in records
    assert all(records[item]["detail"].startswith("服务器 pub_ms2 当前状态为 %s" % state) for item in skipped)
    others = [r["status"] for item, r in records.items() if "pub_ms2" not in item]
    assert set(others) == {"ok"}


@pytest.mark.parametrize("state", ["ADMIN", "STANDBY", "RESUMING"])
def test_a_server_up_but_not_serving_is_a_warning_and_still_inspected(state):
    def change(answers):
        item_of(answers, "GET domainRuntime/serverLifeCycleRuntimes", "pub_ms1")["state"] = state
        item_of(answers, "GET domainRuntime/serverRuntimes", "pub_ms1")["state"] = state
    _result, records = run(change)
    assert records["WebLogic 服务器 pub_ms1 状态"]["status"] == "warning"
    assert "Resume" in records["WebLogic 服务器 pub_ms1 状态"]["direction"]
    assert records["WebLogic pub_ms1 堆内存使用率"]["status"] == "ok"


# ------------------------------------------------------------------ health


def health(value, field="overallHealthState"):
    def change(answers):
        item_of(answers, "GET domainRuntime/serverRuntimes", "pub_ms1")[field] = value
    return change


@pytest.mark.parametrize("value, name, status", [
    ({"state": "warn", "subsystemName": "threadpool", "partitionName": None,
      "symptoms": [{"severity": "MEDIUM", "info": "2 stuck threads", "instanceId": "threadpool",
                    "type": "x"}]},
     "HEALTH_WARN", "warning"),
    ({"state": "overloaded", "subsystemName": "WorkManager", "symptoms": []}, "HEALTH_OVERLOADED", "warning"),
    ({"state": "critical", "subsystemName": "JDBC", "symptoms": []}, "HEALTH_CRITICAL", "critical"),
    ({"state": "failed", "subsystemName": "JMS", "symptoms": []}, "HEALTH_FAILED", "critical"),
    ("HEALTH_WARN", "HEALTH_WARN", "warning"),
    (0, "HEALTH_OK", "ok"),
    (3, "HEALTH_FAILED", "critical"),
    ({"state": "unknown"}, "HEALTH_UNKNOWN", "warning"),
])
def test_health_states(value, name, status):
    _result, records = run(health(value))
    record = records["WebLogic 服务器 pub_ms1 健康状态"]
    assert (record["value"], record["status"]) == (name, status)
    if isinstance(value, dict) and value.get("subsystemName"):
        assert "子系统 %s" % value["subsystemName"] in record["detail"]
    if name == "HEALTH_WARN" and isinstance(value, dict):
        assert "2 stuck threads" in record["detail"]


def test_health_falls_back_to_healthstate_and_is_an_error_without_either():
    def only_health_state(answers):
        item = item_of(answers, "GET domainRuntime/serverRuntimes", "pub_ms1")
        del item["overallHealthState"]
        item["healthState"] = {"state": "warn", "subsystemName": None, "symptoms": []}
    _result, records = run(only_health_state)
    assert records["WebLogic 服务器 pub_ms1 健康状态"]["status"] == "warning"

    def neither(answers):
        item = item_of(answers, "GET domainRuntime/serverRuntimes", "pub_ms1")
        del item["overallHealthState"], item["healthState"]
    _result, records = run(neither)
    assert records["WebLogic 服务器 pub_ms1 健康状态"]["status"] == "error"
    assert records["WebLogic pub_ms1 堆内存使用率"]["status"] == "ok"


# ------------------------------------------------------------------ heap


def heap(free=None, current=None, maximum=None, drop=None):
    def change(answers):
        jvm = answers["GET domainRuntime/serverRuntimes/pub_ms1/JVMRuntime"]
        for key, value in (("heapFreeCurrent", free), ("heapSizeCurrent", current), ("heapSizeMax", maximum)):
            if value is not None:
                jvm[key] = value
        if drop:
            del jvm[drop]
    return change


@pytest.mark.parametrize("used_percent, status", [(84.9, "ok"), (85, "warning"), (94.9, "warning"),
                                                  (95, "critical"), (99.5, "critical")])
def test_heap_grades_used_against_max(used_percent, status):
    maximum = 4 << 30
    _result, records = run(heap(free=maximum - int(maximum * used_percent / 100) + 0, current=maximum))
    record = records["WebLogic pub_ms1 堆内存使用率"]
    assert record["status"] == status and record["value"] == pytest.approx(used_percent, abs=0.05)
    if status != "ok":
        assert "heap dump" in record["direction"] and "OutOfMemoryError" in record["consequence"]


@pytest.mark.parametrize("change, words", [
    (heap(drop="heapSizeMax"), "heapSizeMax"),
    (heap(drop="heapFreeCurrent"), "heapFreeCurrent"),
    (heap(maximum=0), "heapSizeMax 为 0"),
    (heap(free="lots"), "heapFreeCurrent"),
])
def test_incomplete_jvm_answer_is_an_error_for_the_heap_only(change, words):
    _result, records = run(change)
    record = records["WebLogic pub_ms1 堆内存使用率"]
    assert record["status"] == "error" and words in record["detail"]
    assert records["WebLogic pub_ms1 卡住线程(stuck)"]["status"] == "ok"


# ------------------------------------------------------------------ threads


def threads(**fields):
    def change(answers):
        answers["GET domainRuntime/serverRuntimes/pub_ms1/threadPoolRuntime"].update(fields)
    return change


@pytest.mark.parametrize("count, status", [(0, "ok"), (1, "warning"), (4, "warning"), (5, "critical"),
                                           (12, "critical")])
def test_stuck_threads(count, status):
    _result, records = run(threads(stuckThreadCount=count))
    record = records["WebLogic pub_ms1 卡住线程(stuck)"]
    assert (record["status"], record["value"], record["unit"]) == (status, count, "个")
    if status != "ok":
        assert record["direction"] == "检查线程转储(thread dump)中卡住线程的调用栈，排查慢SQL或外部接口超时"
        assert record["consequence"] == "请求堆积，应用响应变慢直至不可用"
        assert "执行线程共 64 个" in record["detail"]


@pytest.mark.parametrize("field, item, values", [
    ("hoggingThreadCount", "WebLogic pub_ms1 占用线程(hogging)",
     [(4, "ok"), (5, "warning"), (20, "critical")]),
    ("pendingUserRequestCount", "WebLogic pub_ms1 等待处理的请求",
     [(9, "ok"), (10, "warning"), (50, "critical")]),
])
def test_hogging_threads_and_pending_requests(field, item, values):
    for count, status in values:
        _result, records = run(threads(**{field: count}))
        assert records[item]["status"] == status, (field, count)


def test_missing_thread_field_and_unreadable_thread_pool():
    def drop(answers):
        del answers["GET domainRuntime/serverRuntimes/pub_ms1/threadPoolRuntime"]["stuckThreadCount"]
    result, records = run(drop)
    assert records["WebLogic pub_ms1 卡住线程(stuck)"]["status"] == "error"
    assert records["WebLogic pub_ms1 占用线程(hogging)"]["status"] == "ok"
    assert {t["server"]: t for t in result["threads"]}["pub_ms1"]["stuck"] is None

    def refuse(answers):
        key = "GET domainRuntime/serverRuntimes/pub_ms1/threadPoolRuntime"
        answers[key] = Recorded(500, {"detail": "boom"})
    _result, records = run(refuse)
    for suffix in ("卡住线程(stuck)", "占用线程(hogging)", "等待处理的请求"):
        record = records["WebLogic pub_ms1 %s" % suffix]
        assert record["status"] == "error" and "HTTP 500" in record["detail"] and "boom" in record["detail"]
    assert records["WebLogic pub_ms2 卡住线程(stuck)"]["status"] == "ok"


def test_one_runtime_404_is_an_error_for_that_item_and_the_rest_goes_on():
    def gone(answers):
        del answers["GET domainRuntime/serverRuntimes/pub_ms2/JVMRuntime"]
    _result, records = run(gone)
    record = records["WebLogic pub_ms2 堆内存使用率"]
    assert record["status"] == "error" and "HTTP 404" in record["detail"] and "WLST" in record["direction"]
    assert [item for item, r in records.items() if r["status"] != "ok"] == ["WebLogic pub_ms2 堆内存使用率"]


def test_a_managed_server_that_does_not_answer_in_time():
    def hang(answers):
        answers["GET domainRuntime/serverRuntimes/pub_ms2/JVMRuntime"] = URLError(socket.timeout("timed out"))
    _result, records = run(hang)
    bad = sorted(item for item, r in records.items() if r["status"] == "error")
    assert bad == sorted(["WebLogic pub_ms2 堆内存使用率", "WebLogic pub_ms2 卡住线程(stuck)",
                          "WebLogic pub_ms2 占用线程(hogging)", "WebLogic pub_ms2 等待处理的请求",
                          "数据源（全部）@pub_ms2 连接使用率"])
    assert "线程转储" in records["WebLogic pub_ms2 堆内存使用率"]["direction"]
    assert "30 秒内未响应" in records["WebLogic pub_ms2 堆内存使用率"]["detail"]


# ------------------------------------------------------------------ data sources


def datasource(server="pub_ms1", name="gsgsDS", **fields):
    def change(answers):
        key = "GET domainRuntime/serverRuntimes/%s/JDBCServiceRuntime/JDBCDataSourceRuntimeMBeans" % server
        item_of(answers, key, name).update(fields)
    return change


@pytest.mark.parametrize("active, waiting, status", [
    (63, 0, "ok"), (64, 0, "warning"), (75, 0, "warning"), (76, 0, "critical"),
    (10, 1, "warning"), (10, 10, "critical"), (77, 4, "critical"),
])
def test_datasource_usage_against_max_capacity_and_waiters(active, waiting, status):
    _result, records = run(datasource(activeConnectionsCurrentCount=active,
                                      waitingForConnectionCurrentCount=waiting))
    record = records["数据源 jdbc/gsgsDS@pub_ms1 连接使用率"]
    assert record["status"] == status and record["value"] == round(active * 100 / 80, 1)
    assert record["threshold"] == {"warning": 80, "critical": 95,
                                   "waiting_warning": 1, "waiting_critical": 10}
    assert "等待连接的请求 %d 个" % waiting in record["detail"]
    if status != "ok":
        assert "maxCapacity" in record["direction"] and "连接池耗尽" in record["consequence"]


def test_datasource_at_96_percent_with_waiters_is_critical():
    _result, records = run(datasource(activeConnectionsCurrentCount=77, currCapacity=80,
                                      waitingForConnectionCurrentCount=6))
    record = records["数据源 jdbc/gsgsDS@pub_ms1 连接使用率"]
    assert (record["status"], record["value"]) == ("critical", 96.2)


@pytest.mark.parametrize("state, status", [("Suspended", "critical"), ("Shutdown", "critical"),
                                           ("Unhealthy", "critical"), ("Overloaded", "warning")])
def test_datasource_not_running(state, status):
    _result, records = run(datasource(state=state))
    record = records["数据源 jdbc/gsgsDS@pub_ms1 连接使用率"]
    assert record["status"] == status and "数据源状态为 %s" % state in record["detail"]
    assert "Resume" in record["direction"]


def test_datasource_errors():
    def drop(answers):
        key = "GET domainRuntime/serverRuntimes/pub_ms1/JDBCServiceRuntime/JDBCDataSourceRuntimeMBeans"
        del item_of(answers, key, "gsgsDS")["waitingForConnectionCurrentCount"]
    _result, records = run(drop)
    assert records["数据源 jdbc/gsgsDS@pub_ms1 连接使用率"]["status"] == "error"
    assert records["数据源 jdbc/gsgsReportDS@pub_ms1 连接使用率"]["status"] == "ok"

    def no_config(answers):
        answers["GET domainConfig/JDBCSystemResources"] = Recorded(403, {"detail": "Forbidden"})
    _result, records = run(no_config)
    record = records["数据源 gsgsDS@pub_ms1 连接使用率"]  # no JNDI name known without the configuration
    assert record["status"] == "error" and "HTTP 403" in record["detail"]
    assert "Monitors" in record["direction"]

    def no_pool(answers):
        del answers["GET domainConfig/JDBCSystemResources/gsgsDS/JDBCResource/JDBCConnectionPoolParams"]
    _result, records = run(no_pool)
    assert records["数据源 jdbc/gsgsDS@pub_ms1 连接使用率"]["status"] == "error"
    assert records["数据源 jdbc/gsgsReportDS@pub_ms1 连接使用率"]["status"] == "ok"


def test_datasource_targeted_but_not_deployed_is_critical():
    def missing(answers):
        key = "GET domainRuntime/serverRuntimes/pub_ms2/JDBCServiceRuntime/JDBCDataSourceRuntimeMBeans"
        answers[key]["items"] = [i for i in answers[key]["items"] if i["name"] != "gsgsReportDS"]
    _result, records = run(missing)
    record = records["数据源 jdbc/gsgsReportDS@pub_ms2 连接使用率"]
    assert record["status"] == "critical" and "没有它的运行实例" in record["detail"]


# ------------------------------------------------------------------ applications


def app_state(app, server, state):
    def change(answers):
        answers["getCurrentState"][app][server] = state
    return change


@pytest.mark.parametrize("state, status, words", [
    ("STATE_FAILED", "critical", "部署或启动失败"),
    ("STATE_PREPARED", "critical", "已部署但未启动"),
    ("STATE_NEW", "critical", "已部署但未启动"),
    ("STATE_ADMIN", "warning", "未处于 STATE_ACTIVE"),
    ("STATE_UPDATE_PENDING", "warning", "未处于 STATE_ACTIVE"),
    ("STATE_RETIRED", "ok", "退役"),
])
def test_application_states(state, status, words):
    _result, records = run(app_state("gsgs-web", "pub_ms2", state))
    record = records["应用 gsgs-web@pub_ms2 状态"]
    assert (record["status"], record["value"]) == (status, state) and words in record["detail"]
    assert records["应用 gsgs-web@pub_ms1 状态"]["status"] == "ok"


def test_application_state_errors():
    _result, records = run(app_state("gsgs-admin", "pub_ms1", Recorded(500, {"detail": "no such module"})))
    record = records["应用 gsgs-admin@pub_ms1 状态"]
    assert record["status"] == "error" and "no such module" in record["detail"]

    def unknown(answers):
        del answers["getCurrentState"]["gsgs-admin"]
    _result, records = run(unknown)
    assert records["应用 gsgs-admin@pub_ms1 状态"]["status"] == "error"

    def unreadable(answers):
        answers["GET domainConfig/appDeployments"] = Recorded(403, {"detail": "Forbidden"})
    _result, records = run(unreadable)
    assert records["WebLogic 应用部署列表"]["status"] == "error"
    assert not [item for item in records if item.startswith("应用 ")]


def test_application_without_targets_is_a_warning():
    def untargeted(answers):
        item_of(answers, "GET domainConfig/appDeployments", "gsgs-admin")["targets"] = [
            {"identity": ["clusters", "gone_cluster"]}]
    _result, records = run(untargeted)
    record = records["应用 gsgs-admin 部署目标"]
    assert record["status"] == "warning" and "clusters/gone_cluster" in record["detail"]


def test_unreadable_server_configuration_leaves_cluster_targets_unknown():
    def refuse(answers):
        answers["GET domainConfig/servers"] = Recorded(500, {"detail": "config tree busy"})
    result, records = run(refuse)
    record = records["应用 gsgs-web 部署目标"]
    assert record["status"] == "error" and "config tree busy" in record["detail"]
    # A server target needs no cluster list; data sources on the cluster are still graded.
    assert records["应用 gsgs-admin@pub_ms1 状态"]["status"] == "ok"
    assert records["数据源 jdbc/gsgsDS@pub_ms1 连接使用率"]["status"] == "ok"
    assert all(s["cluster"] is None for s in result["servers"])


# ------------------------------------------------------------------ the Admin Server cannot be read


@pytest.mark.parametrize("answer, kind, words", [
    (URLError(ConnectionRefusedError(111, "refused")), "unreachable", "连接被拒绝"),
    (Recorded(401, raw=b"<html>401</html>"), "unauthorized", "用户名或密码错误"),
    (Recorded(403, {"detail": "Forbidden"}), "forbidden", "Monitor 角色"),
    (Recorded(404, raw=b"<html>404</html>"), "not_found", "WLST"),
])
def test_unreadable_admin_server_gives_one_error_record(answer, kind, words):
    def refuse(answers):
        answers["GET domainRuntime/serverLifeCycleRuntimes"] = answer
    result, records = run(refuse)
    assert list(records) == ["WebLogic 管理服务器 REST 接口"]
    record = records["WebLogic 管理服务器 REST 接口"]
    assert record["status"] == "error" and words in record["detail"]
    assert record["direction"] == wh.ERROR_DIRECTION[kind]
    assert record["consequence"] == wh.NOT_INSPECTED
    assert result["servers"] == []


def test_an_empty_server_list_is_an_error():
    def empty(answers):
        answers["GET domainRuntime/serverLifeCycleRuntimes"] = {"items": []}
    _result, records = run(empty)
    assert records["WebLogic 管理服务器 REST 接口"]["status"] == "error"
    assert "服务器列表为空" in records["WebLogic 管理服务器 REST 接口"]["detail"]


def test_unreadable_runtime_list_is_an_error_per_server_health():
    def refuse(answers):
        answers["GET domainRuntime/serverRuntimes"] = Recorded(500, {"detail": "boom"})
    _result, records = run(refuse)
    for name in SERVERS:
        assert records["WebLogic 服务器 %s 状态" % name]["status"] == "ok"
        assert records["WebLogic 服务器 %s 健康状态" % name]["status"] == "error"
    assert not [item for item in records if "堆内存" in item or "数据源" in item]
    # Application states come from the Admin Server's getCurrentState, which does not need the list.
    assert [r["status"] for item, r in records.items() if item.startswith("应用 ")] == ["ok"] * 3


def test_config_error_from_the_module_path():
    snapshot = {"url": "ftp://x", "lifecycle": {"error": {"kind": "config", "message": "url 必须是 http:// 或 https://"}}}
    records = wh.evaluate(snapshot, HOST)["records"]
    assert records[0]["direction"] == wh.ERROR_DIRECTION["config"]
    VALIDATOR.validate(records[0])


# ------------------------------------------------------------------ thresholds


def test_threshold_overrides_apply():
    result, records = run(threads(stuckThreadCount=2),
                          thresholds={"stuck_threads_warning": 3, "heap_warning": "30"})
    assert result["thresholds"]["stuck_threads_warning"] == 3 and result["thresholds"]["heap_warning"] == 30.0
    assert records["WebLogic pub_ms1 卡住线程(stuck)"]["status"] == "ok"
    assert records["WebLogic pub_ms1 堆内存使用率"]["status"] == "warning"  # 40 % >= 30 %
    assert "WebLogic 巡检阈值配置" not in records


def test_null_switches_a_level_off():
    _result, records = run(threads(stuckThreadCount=9), thresholds={"stuck_threads_critical": None})
    assert records["WebLogic pub_ms1 卡住线程(stuck)"]["status"] == "warning"


@pytest.mark.parametrize("overrides, words, kept", [
    ({"stuck_warning": 1}, "未知阈值 stuck_warning", None),
    ({"heap_warning": 120}, "0 到 100", ("heap_warning", 85)),
    ({"hogging_threads_warning": -1}, "不能为负数", ("hogging_threads_warning", 5)),
    ({"datasource_warning": "many"}, "必须是数字", ("datasource_warning", 80)),
    ({"heap_warning": 96}, "高于严重阈值", ("heap_warning", 85)),
    ({"pending_requests_warning": True}, "必须是数字", ("pending_requests_warning", 10)),
])
def test_refused_overrides_give_an_error_record_and_keep_the_default(overrides, words, kept):
    result, records = run(thresholds=overrides)
    record = records["WebLogic 巡检阈值配置"]
    assert record["status"] == "error" and words in record["detail"]
    if kept:
        assert result["thresholds"][kept[0]] == kept[1]
    others = [r["status"] for item, r in records.items() if item != "WebLogic 巡检阈值配置"]
    assert set(others) == {"ok"}


def test_thresholds_must_be_a_dictionary():
    merged, problems = wh.merge_thresholds(["heap_warning"])
    assert merged == wh.DEFAULT_THRESHOLDS
    assert problems == ["阈值必须是字典 / thresholds must be a dictionary"]
    assert wh.merge_thresholds(None) == (wh.DEFAULT_THRESHOLDS, [])


def test_every_default_pair_is_ordered():
    for key, value in wh.DEFAULT_THRESHOLDS.items():
        if key.endswith("_warning"):
            assert value <= wh.DEFAULT_THRESHOLDS[key[:-len("_warning")] + "_critical"], key
