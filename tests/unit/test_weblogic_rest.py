"""The WebLogic REST client: URLs, headers, error sentences, multipart bodies and the INSP-10
reads, over recorded answers (tests/unit/fixtures/weblogic/) instead of a network."""

import copy
import email.parser
import email.policy
import http.client
import json
import pathlib
import socket
import ssl
from urllib.error import URLError

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import weblogic_rest as wr
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import WeblogicClient, WeblogicError
from tests.weblogic_double.recorded import Recorded, RecordedClient

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "weblogic"
PASSWORD = "Recorded-pw-2e9b"


def domain():
    return json.loads((FIXTURES / "publicity_domain.json").read_text(encoding="utf-8"))


def errors():
    return json.loads((FIXTURES / "error_bodies.json").read_text(encoding="utf-8"))


def failing(answer, method="GET", path="domainRuntime/serverLifeCycleRuntimes", **kwargs):
    """The WeblogicError a request raises when the server gives `answer`."""
    client = RecordedClient({"%s %s" % (method, path): answer}, password=PASSWORD, **kwargs)
    with pytest.raises(WeblogicError) as caught:
        client.request(method, path, body={} if method == "POST" else None)
    assert PASSWORD not in caught.value.message
    return caught.value


# ------------------------------------------------------------------ URLs and queries


@pytest.mark.parametrize("url, base", [
    ("https://wls-admin:7002", "https://wls-admin:7002"),
    ("https://wls-admin:7002/", "https://wls-admin:7002"),
    ("http://192.0.2.21:7001/management/weblogic/latest", "http://192.0.2.21:7001"),
    ("https://proxy.example/wls/management", "https://proxy.example/wls"),
    ("https://[2001:db8::21]:7002", "https://[2001:db8::21]:7002"),
])
def test_base_url(url, base):
    assert WeblogicClient(url, "monitor", "x").base_url == base


@pytest.mark.parametrize("url, words", [
    ("", "url 为空"),
    ("ftp://wls-admin:7002", "http:// 或 https://"),
    ("wls-admin:7002", "http:// 或 https://"),
    ("https://monitor:secret@wls-admin:7002", "不能包含用户名或密码"),
    ("https://wls-admin:99999", "无法解析"),
])
def test_unusable_url_is_a_config_error(url, words):
    with pytest.raises(WeblogicError) as caught:
        WeblogicClient(url, "monitor", "x")
    assert caught.value.kind == "config" and words in caught.value.message
    assert "secret" not in caught.value.message


def test_timeout_must_be_positive():
    with pytest.raises(WeblogicError) as caught:
        WeblogicClient("https://wls-admin:7002", "monitor", "x", timeout=0)
    assert caught.value.kind == "config"


def test_missing_ca_file_is_a_config_error(tmp_path):
    with pytest.raises(WeblogicError) as caught:
        WeblogicClient("https://wls-admin:7002", "monitor", "x", ca_path=str(tmp_path / "none.pem"))
    assert caught.value.kind == "config" and "ca_path" in caught.value.message


def test_query_and_path_encoding():
    assert wr.encode_query({"links": "none", "fields": ["name", "state"], "skip": None, "flag": True}) == \
        "links=none&fields=name,state&flag=true"
    assert wr.rest_path("domainRuntime", "serverRuntimes", "ms 1", "app#v2") == \
        "domainRuntime/serverRuntimes/ms%201/app%23v2"
    assert wr.compact(("name",)) == {"links": "none", "fields": ("name",)}
    assert wr.compact(exclude_fields=["links"], links=None) == {"excludeFields": ["links"]}


def test_every_request_sends_json_accept_basic_auth_and_x_requested_by():
    client = RecordedClient({"GET domainRuntime/serverRuntimes": {"items": []},
                             "POST domainRuntime/x": {}, "DELETE edit/y": {}}, user="monitor")
    assert client.items("domainRuntime/serverRuntimes", ("name", "state")) == []
    client.post("domainRuntime/x", {"a": 1})
    client.delete("edit/y")
    for method, _path, _query, headers, body in client.sent:
        assert headers["Accept"] == "application/json"
        assert headers["X-requested-by"] == "gxtax-ops"
        # monitor:Recorded-pw-2e9b
        assert headers["Authorization"] == "Basic bW9uaXRvcjpSZWNvcmRlZC1wdy0yZTli"
        if method == "POST":
            assert headers["Content-type"] == "application/json" and json.loads(body) == {"a": 1}
    assert client.sent[0][2] == "links=none&fields=name,state"


def test_paths_are_relative_to_latest_unless_absolute():
    client = RecordedClient({"GET /management/lifecycle/latest": {"version": "x"}})
    assert client.get("/management/lifecycle/latest") == {"version": "x"}
    assert client._url("domainRuntime", None) == "https://wls-admin.example:7002/management/weblogic/latest/domainRuntime"


def test_empty_body_is_an_empty_dict_and_request_keeps_status_and_headers():
    accepted = Recorded(202, raw=b"", headers={"Location": "/x"})
    client = RecordedClient({"POST edit/changeManager/startEdit": accepted})
    response = client.request("POST", "edit/changeManager/startEdit")
    assert (response.status, response.body, response.headers["Location"]) == (202, {}, "/x")


def test_items_needs_an_items_list():
    client = RecordedClient({"GET domainConfig/servers": {"name": "x"}})
    with pytest.raises(WeblogicError) as caught:
        client.items("domainConfig/servers")
    assert caught.value.kind == "protocol" and "items" in caught.value.message


# ------------------------------------------------------------------ error sentences


def test_401_says_wrong_user_or_password_and_names_the_user_only():
    error = failing(Recorded(401, raw=b"<html>Error 401--Unauthorized</html>"))
    assert (error.kind, error.status) == ("unauthorized", 401)
    assert "用户 monitor" in error.message and "用户名或密码错误" in error.message
    assert "wrong user name or password" in error.message


@pytest.mark.parametrize("method, path, role", [
    ("GET", "domainRuntime/serverRuntimes", "Monitor 角色（Operator、Deployer、Admin 亦可）"),
    ("POST", "domainRuntime/appRuntimeStateRuntime/getCurrentState", "Monitor 角色"),
    ("POST", "edit/appDeployments", "Deployer 角色（或 Admin）"),
    ("POST", "domainRuntime/deploymentManager/appDeploymentRuntimes/gsgs-web/redeploy", "Deployer 角色"),
    ("DELETE", "edit/appDeployments/gsgs-web", "Deployer 角色"),
    ("POST", "domainRuntime/serverLifeCycleRuntimes/ms1/start", "Operator 角色（或 Admin）"),
    ("POST", "edit/changeManager/startEdit", "Admin 角色"),
    ("POST", "edit/servers/ms1", "Admin 角色"),
])
def test_403_names_the_role_the_request_needs(method, path, role):
    error = failing(Recorded(403, {"status": 403, "detail": "Forbidden"}), method, path)
    assert error.kind == "forbidden" and "HTTP 403" in error.message
    assert role in error.message and "%s %s" % (method, path) in error.message


def test_explicit_role_overrides_the_guess():
    client = RecordedClient({"POST edit/changeManager/startEdit": Recorded(403)})
    with pytest.raises(WeblogicError) as caught:
        client.post("edit/changeManager/startEdit", role="Deployer")
    assert "Deployer 角色" in caught.value.message


def test_404_points_at_the_url_or_an_older_weblogic_and_wlst():
    error = failing(Recorded(404, raw=errors()["html_404"].encode()))
    assert error.kind == "not_found" and error.detail is None
    for words in ("HTTP 404", "12.2.1", "10.3.6", "WLST", "https://wls-admin.example:7002"):
        assert words in error.message


@pytest.mark.parametrize("body, status, kind, detail", [
    ("error_12214_400", 400, "bad_request", "Invalid value for appid"),
    ("error_12214_500", 500, "server_error", "weblogic.management.ManagementException: Activation failed"),
    ("error_12210_messages", 400, "bad_request", "The edit lock is owned by another session"),
])
def test_400_and_500_carry_weblogics_own_message(body, status, kind, detail):
    error = failing(Recorded(status, errors()[body]), "POST", "domainRuntime/x")
    assert (error.kind, error.status) == (kind, status)
    assert detail in error.detail and detail in error.message


def test_unexpected_status_and_scrubbed_password():
    error = failing(Recorded(302, raw=b"", headers={"Location": "https://sso.example/login"}))
    assert error.kind == "http" and "HTTP 302" in error.message
    error = failing(Recorded(502, {"detail": "upstream said: password %s rejected" % PASSWORD}))
    assert error.kind == "server_error" and "HTTP 502" in error.message
    assert "********" in error.message and PASSWORD not in error.detail


@pytest.mark.parametrize("exc, reason, words", [
    (URLError(ConnectionRefusedError(111, "Connection refused")), "refused", "连接被拒绝"),
    (URLError(socket.timeout("timed out")), "timeout", "秒内未响应"),
    (TimeoutError("The read operation timed out"), "timeout", "within 30 s"),
    (URLError(socket.gaierror(-2, "Name or service not known")), "dns", "主机名无法解析"),
    (URLError(OSError(113, "No route to host")), "connect", "No route to host"),
])
def test_unreachable_admin_server(exc, reason, words):
    error = failing(exc)
    assert (error.kind, error.reason, error.status) == ("unreachable", reason, None)
    assert words in error.message and "wls-admin.example:7002" in error.message


def test_tls_failure_mentions_the_certificate_and_ca_path():
    cert_error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert_error.verify_message = "self-signed certificate"
    error = failing(URLError(cert_error))
    assert error.kind == "tls" and "self-signed certificate" in error.message and "ca_path" in error.message


def test_non_http_and_non_json_answers_are_protocol_errors():
    error = failing(http.client.RemoteDisconnected("Remote end closed connection without response"))
    assert error.kind == "protocol" and "http/https" in error.message
    error = failing(Recorded(200, raw=b"<html>console</html>"))
    assert error.kind == "protocol" and "JSON" in error.message


def test_error_detail_shapes():
    samples = errors()
    assert wr.error_detail(json.dumps(samples["error_12214_400"]).encode()).startswith("Invalid value")
    assert "edit lock" in wr.error_detail(json.dumps(samples["error_12210_messages"]).encode())
    assert wr.error_detail(samples["html_404"].encode()) is None
    assert wr.error_detail(b"plain   text\nreason") == "plain text reason"
    assert wr.error_detail(b"") is None and wr.error_detail(b"[1, 2]") is None


def test_redirects_are_not_followed():
    handler = wr._NoRedirect()
    assert handler.redirect_request(None, None, 302, "Found", {}, "https://elsewhere.example/") is None


# ------------------------------------------------------------------ multipart uploads


def test_multipart_body_streams_fields_and_files(tmp_path):
    archive = tmp_path / "gsgs-web.war"
    archive.write_bytes(bytes(range(256)) * 300)
    body = wr._MultipartBody({"model": {"name": "gsgs-web", "targets": ["pub_cluster"]}, "note": "v2"},
                             {"sourcePath": str(archive), "planPath": ("plan.xml", b"<plan/>", "text/xml")})
    chunks = []
    while True:
        chunk = body.read(1000)
        if not chunk:
            break
        chunks.append(chunk)
    body.close()
    raw = b"".join(chunks)
    assert len(raw) == body.length
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + body.content_type.encode() + b"\r\n\r\n" + raw)
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    model = json.loads(parts["model"].get_payload(decode=True))
    assert model == {"name": "gsgs-web", "targets": ["pub_cluster"]}
    assert parts["model"].get_content_type() == "application/json"
    assert parts["note"].get_payload(decode=True) == b"v2"
    assert parts["sourcePath"].get_filename() == "gsgs-web.war"
    assert parts["sourcePath"].get_payload(decode=True) == archive.read_bytes()
    assert parts["planPath"].get_payload(decode=True) == b"<plan/>"


def test_post_multipart_sends_the_stream_with_its_length(tmp_path):
    archive = tmp_path / "a.war"
    archive.write_bytes(b"PK" + b"x" * 5000)

    class Capture(RecordedClient):
        def _open(self, req):
            self.captured = (req.get_header("Content-type"), int(req.get_header("Content-length")),
                             req.data.read(1 << 20))
            return super()._open(req)

    client = Capture({"POST edit/appDeployments": Recorded(201, {"ok": True})})
    answer = client.post_multipart("edit/appDeployments", {"model": {"name": "a"}},
                                   {"sourcePath": str(archive)})
    assert answer == {"ok": True}
    ctype, length, data = client.captured
    assert ctype.startswith("multipart/form-data; boundary=") and length == len(data)
    assert b"PK" + b"x" * 5000 in data


# ------------------------------------------------------------------ pure helpers


def test_targets_expand_to_servers_in_configuration_order():
    config = domain()["GET domainConfig/servers"]["items"]
    assert wr.cluster_members(config) == {"pub_cluster": ["pub_ms1", "pub_ms2"]}
    targets = [{"identity": ["servers", "pub_ms2"]}, {"identity": ["domain", "clusters", "pub_cluster"]},
               {"identity": ["jmsServers", "jms1"]}, {"identity": ["clusters", "nope"]}, "junk"]
    assert wr.expand_targets(targets, config) == ["pub_ms2", "pub_ms1"]
    assert wr.identity_name({"identity": ["x"]}) == (None, None)


def test_display_url_hides_user_information():
    assert wr.display_url("https://u:p@wls:7002/wls/?a=1#x") == "https://wls:7002/wls"


# ------------------------------------------------------------------ INSP-10 reads


def test_snapshot_reads_every_part_compactly():
    client = RecordedClient(domain())
    snapshot = wr.inspection_snapshot(client)
    assert [i["name"] for i in snapshot["lifecycle"]] == ["AdminServer", "pub_ms1", "pub_ms2"]
    assert set(snapshot["per_server"]) == {"AdminServer", "pub_ms1", "pub_ms2"}
    assert snapshot["per_server"]["pub_ms1"]["jvm"]["heapSizeMax"] == 4294967296
    assert [d["name"] for d in snapshot["jdbc"]] == ["gsgsDS", "gsgsReportDS"]
    assert snapshot["jdbc"][0]["pool"]["maxCapacity"] == 80
    assert snapshot["app_states"] == {"gsgs-web": {"pub_ms1": "STATE_ACTIVE", "pub_ms2": "STATE_ACTIVE"},
                                      "gsgs-admin": {"pub_ms1": "STATE_ACTIVE"}}
    gets = [s for s in client.sent if s[0] == "GET"]
    assert gets and all(query.startswith("links=none") for _m, _p, query, _h, _b in gets)
    assert all("fields=" in query for _m, _p, query, _h, _b in gets)
    posts = [json.loads(s[4]) for s in client.sent if s[0] == "POST"]
    assert sorted((p["appid"], p["target"]) for p in posts) == [
        ("gsgs-admin", "pub_ms1"), ("gsgs-web", "pub_ms1"), ("gsgs-web", "pub_ms2")]


def test_snapshot_stops_at_an_unreadable_server_list():
    answers = domain()
    answers["GET domainRuntime/serverLifeCycleRuntimes"] = URLError(ConnectionRefusedError(111, "refused"))
    client = RecordedClient(answers)
    snapshot = wr.inspection_snapshot(client)
    assert set(snapshot) == {"url", "lifecycle"} and snapshot["lifecycle"]["error"]["kind"] == "unreachable"
    assert len(client.sent) == 1


def test_a_server_that_timed_out_is_asked_once():
    answers = domain()
    answers["GET domainRuntime/serverRuntimes/pub_ms2/JVMRuntime"] = URLError(socket.timeout("timed out"))
    client = RecordedClient(answers)
    parts = wr.inspection_snapshot(client)["per_server"]["pub_ms2"]
    assert parts["jvm"] == parts["threads"] == parts["datasources"]
    assert parts["jvm"]["error"]["reason"] == "timeout"
    asked = [s[1] for s in client.sent if "pub_ms2/" in s[1]]
    assert asked == ["domainRuntime/serverRuntimes/pub_ms2/JVMRuntime"]


def test_a_refused_getcurrentstate_is_not_repeated_for_every_application():
    answers = domain()
    answers["getCurrentState"] = {app: {srv: Recorded(403, {"detail": "no"}) for srv in targets}
                                  for app, targets in answers["getCurrentState"].items()}
    client = RecordedClient(answers)
    states = wr.inspection_snapshot(client)["app_states"]
    assert len([s for s in client.sent if s[0] == "POST"]) == 1
    found = [state for per_app in states.values() for state in per_app.values()]
    assert len(found) == 3 and all(s["error"]["kind"] == "forbidden" for s in found)


def test_shut_down_servers_are_not_asked_for_runtime_data():
    answers = copy.deepcopy(domain())
    answers["GET domainRuntime/serverLifeCycleRuntimes"]["items"][2]["state"] = "SHUTDOWN"
    answers["GET domainRuntime/serverRuntimes"]["items"].pop()
    client = RecordedClient(answers)
    snapshot = wr.inspection_snapshot(client)
    assert "pub_ms2" not in snapshot["per_server"]
    assert snapshot["app_states"] == {"gsgs-web": {"pub_ms1": "STATE_ACTIVE"},
                                      "gsgs-admin": {"pub_ms1": "STATE_ACTIVE"}}
    assert not [s for s in client.sent if "pub_ms2" in s[1] or (s[4] and b"pub_ms2" in s[4])]


def test_app_state_posts_appid_and_target():
    client = RecordedClient({"getCurrentState": {"gsgs-web": {"pub_cluster": "STATE_ADMIN"}}})
    assert wr.app_state(client, "gsgs-web", "pub_cluster") == "STATE_ADMIN"
    assert json.loads(client.sent[0][4]) == {"appid": "gsgs-web", "target": "pub_cluster"}
    assert wr.app_state(client, "unknown", "pub_cluster") is None
