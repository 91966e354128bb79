"""INSP-17 URL checks and INSP-02 listener checks: entry validation and grading on plain data."""

import http.client
import json
import pathlib
import socket
import ssl
import threading
from urllib.error import URLError

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import probes

ROOT = pathlib.Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))


def valid(*records):
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records[0] if len(records) == 1 else records


def spec(**entry):
    entry.setdefault("url", "http://app.example:7001/gsgs/")
    result, problem = probes.normalize_url_spec(entry, host="pub-wls01")
    assert problem is None, problem
    return result


def raw(status=200, elapsed_ms=120.0, **extra):
    result = {"status": status, "elapsed_ms": elapsed_ms, "bytes": 512, "truncated": False,
              "text_found": None, "location": None, "error_kind": None, "error": None}
    result.update(extra)
    return result


def failed(kind, message="boom"):
    return raw(status=None, elapsed_ms=None, bytes=0, error_kind=kind, error=message)


# ------------------------------------------------------------------ URL display (SEC-02)


@pytest.mark.parametrize("url, shown", [
    ("http://ops:s3cret@app.example:7001/gsgs/index.do?token=abc#top", "http://app.example:7001/gsgs/index.do"),
    ("https://app.example", "https://app.example/"),
    ("http://[2001:db8::1]:8080/x?y=1", "http://[2001:db8::1]:8080/x"),
    ("http://user@app.example/a", "http://app.example/a"),
])
def test_safe_url_drops_userinfo_query_and_fragment(url, shown):
    assert probes.safe_url(url) == shown


def test_split_url_returns_the_credentials_separately():
    bare, user, password, display = probes.split_url("http://ops%40gx:p%3Ass@app.example/a?q=1")
    assert (user, password) == ("ops@gx", "p:ss")
    assert bare == "http://app.example/a?q=1"
    assert display == "http://app.example/a"


def test_safe_url_of_an_unparsable_url_shows_nothing_of_it():
    assert "secret" not in probes.safe_url("http://[secret/")


# ------------------------------------------------------------------ entry validation


def test_defaults_apply_and_entry_values_win():
    entry = {"url": "http://a.example/", "warn_ms": "1500", "expect_status": 302}
    s, problem = probes.normalize_url_spec(entry, defaults={"timeout": 5.0, "crit_ms": None}, host="h1")
    assert problem is None
    assert (s["timeout"], s["warn_ms"], s["crit_ms"]) == (5.0, 1500.0, probes.URL_DEFAULTS["crit_ms"])
    assert s["expect_status"] == [302]
    assert s["record_host"] == "h1" and s["follow_redirects"] is False and s["expect_text"] is None


def test_record_host_name_and_list_of_statuses():
    s = spec(name="公示平台首页", record_host="pub-wls02", expect_status=[302, "200", 200],
             follow_redirects="yes", expect_text="公示")
    assert s["label"] == "公示平台首页" and s["record_host"] == "pub-wls02"
    assert s["expect_status"] == [200, 302] and s["follow_redirects"] is True and s["expect_text"] == "公示"


def test_null_threshold_disables_that_level():
    s = spec(warn_ms=None)
    assert s["warn_ms"] is None and s["crit_ms"] == probes.URL_DEFAULTS["crit_ms"]


@pytest.mark.parametrize("entry, reason", [
    ("http://bare.example/", "字典"),
    ({"name": "无地址"}, "未填写 url"),
    ({"url": "ftp://files.example/"}, "http://"),
    ({"url": "http:///nohost"}, "http://"),
    ({"url": "http://a.example:99999/"}, "无法解析"),
    ({"url": "http://a.example/", "timeout": 0}, "timeout"),
    ({"url": "http://a.example/", "timeout": "soon"}, "timeout"),
    ({"url": "http://a.example/", "warn_ms": 9000, "crit_ms": 3000}, "warn_ms"),
    ({"url": "http://a.example/", "expect_status": 99}, "expect_status"),
    ({"url": "http://a.example/", "expect_status": []}, "expect_status"),
    ({"url": "http://a.example/", "expect_status": "ok"}, "expect_status"),
    ({"url": "http://a.example/", "crit_ms": float("inf")}, "crit_ms"),
    ({"url": "http://a.example/", "warn_ms": True}, "warn_ms"),
])
def test_bad_entries_give_a_reason_and_an_error_record(entry, reason):
    s, problem = probes.normalize_url_spec(entry, host="h1")
    assert problem and reason in problem
    record = valid(probes.config_error_url(s, problem))
    assert record["status"] == "error" and record["host"] == "h1"
    assert record["requirement_id"] == "INSP-17" and record["item"].startswith("应用访问 ")
    assert problem in record["detail"] and record["threshold"] is None


# ------------------------------------------------------------------ grading


def test_fast_answer_is_ok_with_its_response_time():
    record = valid(probes.evaluate_url(spec(name="公示平台首页"), raw(elapsed_ms=123.4)))
    assert record["status"] == "ok" and record["value"] == 123.4 and record["unit"] == "ms"
    assert record["item"] == "应用访问 公示平台首页" and record["host"] == "pub-wls01"
    assert record["threshold"] == {"warning": 3000.0, "critical": 8000.0}
    assert "http://app.example:7001/gsgs/" in record["detail"] and "正常" in record["detail"]
    assert record["direction"] is None and record["consequence"] is None


def test_item_falls_back_to_the_display_url():
    record = valid(probes.evaluate_url(spec(url="http://u:pw@app.example/x?t=1"), raw()))
    assert record["item"] == "应用访问 http://app.example/x"
    assert "pw" not in json.dumps(record) and "t=1" not in json.dumps(record)


@pytest.mark.parametrize("elapsed, status", [(2999.9, "ok"), (3000.0, "warning"), (7999.0, "warning"),
                                             (8000.0, "critical"), (20000.0, "critical")])
def test_slow_answers_grade_against_warn_and_crit(elapsed, status):
    record = valid(probes.evaluate_url(spec(), raw(elapsed_ms=elapsed)))
    assert record["status"] == status and record["value"] == elapsed
    if status != "ok":
        assert record["direction"] == probes.URL_ADVICE["slow"][0]
        assert "阈值" in record["detail"]


def test_no_thresholds_means_ok_without_grading():
    record = valid(probes.evaluate_url(spec(warn_ms=None, crit_ms=None), raw(elapsed_ms=99999.0)))
    assert record["status"] == "ok" and record["threshold"] is None and "未设置" in record["detail"]


def test_unexpected_status_is_critical():
    record = valid(probes.evaluate_url(spec(), raw(status=500, elapsed_ms=40.0)))
    assert record["status"] == "critical" and record["value"] == 40.0
    assert "HTTP 500" in record["detail"] and "200" in record["detail"]
    assert (record["direction"], record["consequence"]) == probes.URL_ADVICE["status"]


def test_expected_non_200_status_is_ok():
    record = valid(probes.evaluate_url(spec(expect_status=[200, 302]), raw(status=302)))
    assert record["status"] == "ok"


def test_unfollowed_redirect_shows_where_it_points():
    record = valid(probes.evaluate_url(spec(), raw(status=302, location="http://sso.example/login")))
    assert record["status"] == "critical" and "http://sso.example/login" in record["detail"]


def test_missing_text_is_critical_and_says_which_text():
    record = valid(probes.evaluate_url(spec(expect_text="行政执法信息公示"), raw(text_found=False)))
    assert record["status"] == "critical" and "行政执法信息公示" in record["detail"]
    assert (record["direction"], record["consequence"]) == probes.URL_ADVICE["text"]
    assert "KiB" not in record["detail"]


def test_missing_text_in_a_truncated_body_says_how_much_was_read():
    record = valid(probes.evaluate_url(spec(expect_text="x"), raw(text_found=False, truncated=True)))
    assert "前 1024 KiB" in record["detail"]


def test_found_text_is_ok():
    record = valid(probes.evaluate_url(spec(expect_text="公示"), raw(text_found=True)))
    assert record["status"] == "ok"


@pytest.mark.parametrize("kind, words", [("refused", "连接被拒绝"), ("dns", "无法解析"), ("tls", "证书"),
                                         ("connect", "网络连接失败"), ("protocol", "HTTP协议")])
def test_connection_failures_are_critical_without_a_value(kind, words):
    record = valid(probes.evaluate_url(spec(), failed(kind)))
    assert record["status"] == "critical" and record["value"] is None
    assert words in record["detail"]
    assert (record["direction"], record["consequence"]) == probes.URL_ADVICE[kind]


def test_timeout_says_how_long_it_waited():
    record = valid(probes.evaluate_url(spec(timeout=7), failed("timeout")))
    assert record["status"] == "critical" and "7 秒" in record["detail"] and "超时" in record["detail"]


def test_unknown_error_kind_still_gives_a_complete_record():
    record = valid(probes.evaluate_url(spec(), failed("weird")))
    assert record["status"] == "critical" and record["direction"] == probes.URL_ADVICE["connect"][0]


# ------------------------------------------------------------------ helpers of fetch()


@pytest.mark.parametrize("exc, kind", [
    (URLError(ConnectionRefusedError(111, "Connection refused")), "refused"),
    (URLError(socket.timeout("timed out")), "timeout"),
    (socket.timeout("timed out"), "timeout"),
    (URLError(socket.gaierror(-2, "Name or service not known")), "dns"),
    (URLError(ssl.SSLCertVerificationError(1, "certificate verify failed")), "tls"),
    (http.client.RemoteDisconnected("Remote end closed connection"), "protocol"),
    (http.client.BadStatusLine("garbage"), "protocol"),
    (URLError(OSError(113, "No route to host")), "connect"),
    (URLError("unknown url type: gopher"), "connect"),
    (ValueError("odd"), "protocol"),
])
def test_classify_error(exc, kind):
    found, message = probes.classify_error(exc)
    assert found == kind and message


@pytest.mark.parametrize("body, charset, found", [
    ("<title>行政执法信息公示平台</title>".encode(), None, True),
    ("<title>行政执法信息公示平台</title>".encode("gb18030"), None, True),
    ("<title>行政执法信息公示平台</title>".encode("gb18030"), "gbk", True),
    ("<title>维护中</title>".encode(), "utf-8", False),
    ("行政执法信息公示".encode(), "no-such-charset", True),
])
def test_contains_text_in_declared_utf8_or_gb18030(body, charset, found):
    assert probes.contains_text(body, "执法信息公示", charset) is found


def test_check_urls_checks_each_url_once_and_never_fetches_bad_entries():
    calls = []
    lock = threading.Lock()

    def fetcher(s):
        with lock:
            calls.append(s["url"])
        return raw(status=500 if "down" in s["url"] else 200)

    entries = [{"url": "http://a.example/", "record_host": "w1"}, {"url": "http://down.example/"},
               {"url": "http://a.example/", "record_host": "w2"}, {"url": "gopher://x/"}, 42]
    for parallel in (1, 4):
        calls.clear()
        records, results = probes.check_urls(entries, host="ctl", fetcher=fetcher, parallel=parallel)
        valid(*records)
        assert sorted(calls) == ["http://a.example/", "http://down.example/"]
        assert [r["status"] for r in records] == ["ok", "critical", "error", "error"]
        assert [r["host"] for r in records] == ["w1", "ctl", "ctl", "ctl"]
        assert [r["url"] for r in results] == ["http://a.example/", "http://down.example/", "gopher://x/", ""]
        assert results[2]["error"] and results[0]["status"] == 200 and results[1]["status"] == 500


def test_check_urls_with_nothing_to_check():
    assert probes.check_urls([], fetcher=lambda s: pytest.fail("fetched")) == ([], [])


# ------------------------------------------------------------------ TCP listeners


def target(**entry):
    entry.setdefault("host", "192.0.2.11")
    entry.setdefault("port", 1521)
    result, problem = probes.normalize_tcp_target(entry, host="ctl")
    assert problem is None, problem
    return result


def test_tcp_target_normalisation():
    t = target(port="1521", name="pub-db01", record_host="pub-db01")
    assert (t["host"], t["port"], t["name"], t["record_host"]) == ("192.0.2.11", 1521, "pub-db01", "pub-db01")
    assert target()["record_host"] == "ctl"


@pytest.mark.parametrize("entry, reason", [
    ({"port": 1521}, "host"), ({"host": "db"}, "port"), ({"host": "db", "port": 0}, "1-65535"),
    ({"host": "db", "port": 70000}, "1-65535"), ({"host": "db", "port": 1521.5}, "1-65535"),
    ({"host": "db", "port": "listener"}, "port"), ("db:1521", "字典"),
])
def test_bad_tcp_targets_are_error_records(entry, reason):
    t, problem = probes.normalize_tcp_target(entry, host="ctl")
    assert problem and reason in problem
    record = valid(probes.config_error_tcp(t, problem))
    assert record["status"] == "error" and record["requirement_id"] == "INSP-02"


def test_listener_reachable_is_ok_with_connect_time():
    answer = {"connected": True, "elapsed_ms": 1.7, "error_kind": None, "error": None}
    record = valid(probes.evaluate_tcp(target(name="pub-db01", record_host="pub-db01"), answer, 3.0))
    assert record["status"] == "ok" and record["value"] == 1.7 and record["host"] == "pub-db01"
    assert record["item"] == "数据库监听端口 192.0.2.11:1521 可达性"
    assert "pub-db01（192.0.2.11:1521）" in record["detail"]


@pytest.mark.parametrize("kind, words", [("refused", "连接被拒绝"), ("timeout", "3 秒内未建立连接"),
                                         ("dns", "无法解析"), ("connect", "网络连接失败")])
def test_listener_unreachable_is_critical_with_direction_and_consequence(kind, words):
    record = valid(probes.evaluate_tcp(target(), {"connected": False, "elapsed_ms": None, "error_kind": kind,
                                                  "error": "x"}, 3.0))
    assert record["status"] == "critical" and record["value"] is None and words in record["detail"]
    assert "lsnrctl status" in record["direction"] and "防火墙" in record["direction"]
    assert record["consequence"] == "应用无法连接数据库，业务中断"
    assert ("DNS" in record["direction"]) is (kind == "dns")


def test_ipv6_endpoint_is_bracketed():
    assert probes.endpoint("2001:db8::5", 1521) == "[2001:db8::5]:1521"
    assert valid(probes.evaluate_tcp(target(host="2001:db8::5"), {"connected": True, "elapsed_ms": 1.0,
                                                                  "error_kind": None, "error": None}, 3.0)
                 )["item"] == "数据库监听端口 [2001:db8::5]:1521 可达性"


def test_check_tcp_dedupes_and_reports_bad_entries():
    seen = []

    def connector(t, timeout):
        seen.append((t["host"], t["port"], timeout))
        ok = t["port"] == 1521
        return {"connected": ok, "elapsed_ms": 2.0 if ok else None, "error_kind": None if ok else "refused",
                "error": None if ok else "refused"}

    entries = [{"host": "db1", "port": 1521}, {"host": "db1", "port": "1521"}, {"host": "db2", "port": 1522},
               {"host": "db3"}]
    records, results = probes.check_tcp(entries, timeout=2.5, host="ctl", connector=connector, parallel=1)
    valid(*records)
    assert sorted(seen) == [("db1", 1521, 2.5), ("db2", 1522, 2.5)]
    assert [r["status"] for r in records] == ["ok", "critical", "error"]
    assert [r["connected"] for r in results] == [True, False, False]


def test_check_tcp_with_an_impossible_timeout_checks_nothing():
    records, _results = probes.check_tcp([{"host": "db1", "port": 1521}], timeout=0,
                                         connector=lambda t, s: pytest.fail("connected"))
    assert valid(*records)["status"] == "error" and "timeout" in records[0]["detail"]
