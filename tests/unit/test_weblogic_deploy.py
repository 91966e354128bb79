"""Pure logic of REL-09 deployment (plugins/module_utils/weblogic_deploy.py): the idempotence
decision, notes, targets, diff, error sentences, and the edit session over a fake client
(cancelEdit after any failure). The HTTP side runs against the protocol double in
tests/integration/test_weblogic_app.py."""

import hashlib

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import weblogic_deploy as wd
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import WeblogicError

SHA_A = "a" * 64
SHA_B = "b" * 64


def view(checksum=SHA_A, version="1.0", states=None, targets=("gxtax-cluster",), source_path="/u01/a.war"):
    return {"targets": sorted(targets), "checksum": checksum, "version": version, "source_path": source_path,
            "states": states if states is not None else {"ms1": wd.ACTIVE, "ms2": wd.ACTIVE}}


def want(state="present", **kw):
    return dict({"name": "gxtax-web", "state": state, "targets": ["gxtax-cluster"]}, **kw)


# ------------------------------------------------------------------ notes and checksums


def test_notes_round_trip_and_foreign_notes():
    assert wd.parse_notes(wd.make_notes(SHA_A, "2.3.1")) == (SHA_A, "2.3.1")
    assert wd.parse_notes(wd.make_notes(None, None)) == (None, None)
    assert wd.parse_notes("deployed by hand") == (None, None)
    assert wd.parse_notes(None) == (None, None)


def test_sha256_file(tmp_path):
    archive = tmp_path / "a.war"
    archive.write_bytes(b"PK\x03\x04 war")
    assert wd.sha256_file(str(archive), block=3) == hashlib.sha256(b"PK\x03\x04 war").hexdigest()


def test_current_view_reads_notes_targets_and_version():
    app = {"name": "x", "targets": [{"identity": ["clusters", "c1"]}, {"identity": ["servers", "ms9"]}],
           "sourcePath": "/p.war", "notes": wd.make_notes(SHA_B, ""), "versionIdentifier": "v7"}
    got = wd.current_view(app, {"ms9": "STATE_ACTIVE"})
    assert got == {"targets": ["c1", "ms9"], "checksum": SHA_B, "version": "v7", "source_path": "/p.war",
                   "states": {"ms9": "STATE_ACTIVE"}}
    assert wd.current_view(None, {}) is None


def test_target_refs_classifies_and_rejects_unknown():
    refs = wd.target_refs(["c1", "ms3"], ["ms1", "ms3"], ["c1"])
    assert refs == [{"identity": ["clusters", "c1"]}, {"identity": ["servers", "ms3"]}]
    with pytest.raises(wd.DeployError) as exc:
        wd.target_refs(["typo"], ["ms1"], ["c1"])
    assert exc.value.kind == "targets" and "typo" in exc.value.message


# ------------------------------------------------------------------ the decision


@pytest.mark.parametrize(("current", "desired", "action"), [
    (None, want(checksum=SHA_A), "deploy"),
    (view(), want(checksum=SHA_A, version="1.0"), "none"),           # same archive: idempotent
    (view(), want(checksum=SHA_A), "none"),                           # no version asked
    (view(), want(checksum=SHA_B, version="1.0"), "redeploy"),        # new archive
    (view(), want(checksum=SHA_A, version="1.1"), "redeploy"),        # new version
    (view(), want(source_path="/u01/a.war"), "none"),
    (view(), want(source_path="/u01/b.war"), "redeploy"),
    (view(states={"ms1": wd.ACTIVE, "ms2": "STATE_PREPARED"}), want(checksum=SHA_A), "start"),
    (view(), want("redeployed", checksum=SHA_A), "redeploy"),
    (view(), want("absent"), "undeploy"),
    (None, want("absent"), "none"),
    (view(), want("stopped"), "stop"),
    (view(states={"ms1": "STATE_PREPARED", "ms2": "STATE_PREPARED"}), want("stopped"), "none"),
    (view(states={"ms1": "STATE_PREPARED", "ms2": "STATE_PREPARED"}), want("started"), "start"),
    (view(), want("started"), "none"),
    (view(), want(checksum=SHA_A, targets=[]), "none"),               # targets omitted: kept
])
def test_decide(current, desired, action):
    assert wd.decide(current, desired)[0] == action


@pytest.mark.parametrize("state", ["started", "stopped"])
def test_start_or_stop_of_missing_application_is_an_error(state):
    with pytest.raises(wd.DeployError) as exc:
        wd.decide(None, want(state))
    assert exc.value.kind == "not_deployed" and "gxtax-web" in exc.value.message


def test_changed_targets_are_refused_not_moved():
    with pytest.raises(wd.DeployError) as exc:
        wd.decide(view(), want(checksum=SHA_A, targets=["ms1"]))
    assert exc.value.kind == "targets"
    assert "gxtax-cluster" in exc.value.message and "ms1" in exc.value.message


def test_diff_views():
    before = view(states={"ms1": "STATE_PREPARED", "ms2": "STATE_PREPARED"})
    desired = dict(want(checksum=SHA_B, version="2.0"), servers=["ms1", "ms2"])
    after = wd.predicted(before, desired, "redeploy")
    assert wd.diff_view(before)["state"] == "stopped"
    got = wd.diff_view(after)
    assert got["state"] == "active" and got["version"] == "2.0" and got["checksum"] == SHA_B
    assert wd.diff_view(wd.predicted(before, desired, "undeploy")) == {"state": "absent"}
    assert wd.diff_view(view(states={"ms1": wd.ACTIVE, "ms2": "STATE_FAILED"}))["state"] == "partial"


def test_error_sentences_are_bilingual_and_specific():
    lock = wd.lock_message("weblogic", "deployer")
    assert "编辑锁" in lock and "held by user weblogic" in lock
    assert "ClassNotFound" in wd.activation_message("ClassNotFound") and "激活" in wd.activation_message("x")
    assert "180" in wd.timeout_message("app", 180, "STATE_RUNNING")
    assert "未完成" in wd.timeout_message("a", 1, "s")
    assert "部署失败" in wd.failed_message("app", "boom") and "boom" in wd.failed_message("app", "boom")


# ------------------------------------------------------------------ the edit session over a fake client


class FakeClient:
    """Records calls; `fail` maps a path suffix to the WeblogicError it raises."""

    user = "deployer"

    def __init__(self, manager=None, fail=None):
        self.calls = []
        self.manager = manager or {"locked": False, "lockOwner": None}
        self.fail = fail or {}

    def _maybe_fail(self, method, path):
        self.calls.append((method, path))
        for suffix, error in self.fail.items():
            if path.endswith(suffix):
                raise error

    def get(self, path, params=None, role=None):
        self._maybe_fail("GET", path)
        return self.manager

    def post(self, path, body=None, params=None, role=None, headers=None):
        self._maybe_fail("POST", path)
        return {}

    def delete(self, path, params=None, role=None):
        self._maybe_fail("DELETE", path)
        return {}


def test_failed_activation_cancels_the_edit_session():
    failure = WeblogicError("bad_request", 400, "x", detail="Deployment failed: boom")
    client = FakeClient(fail={"activate": failure})
    deployer = wd.Deployer(client, "gxtax-web")
    with pytest.raises(wd.DeployError) as exc:
        deployer.undeploy()
    assert exc.value.kind == "activation" and "boom" in exc.value.message
    assert [c for c in client.calls if c[0] != "GET"][-1] == ("POST", "edit/changeManager/cancelEdit")
    assert deployer.log == ["startEdit", "cancelEdit"]


def test_failed_change_cancels_and_keeps_the_first_error():
    client = FakeClient(fail={"appDeployments/gxtax-web": WeblogicError("forbidden", 403, "needs Deployer"),
                              "cancelEdit": WeblogicError("server_error", 500, "also broken")})
    deployer = wd.Deployer(client, "gxtax-web")
    with pytest.raises(WeblogicError) as exc:
        deployer.undeploy()
    assert exc.value.kind == "forbidden"
    assert ("POST", "edit/changeManager/cancelEdit") in client.calls
    assert ("POST", "edit/changeManager/activate") not in client.calls


def test_lock_of_another_user_stops_before_start_edit():
    client = FakeClient(manager={"locked": True, "lockOwner": "weblogic"})
    with pytest.raises(wd.DeployError) as exc:
        wd.Deployer(client, "gxtax-web").undeploy()
    assert exc.value.kind == "locked" and "weblogic" in exc.value.message
    assert all(c[0] == "GET" for c in client.calls)


def test_own_lock_is_reused():
    client = FakeClient(manager={"locked": True, "lockOwner": "deployer"})
    wd.Deployer(client, "gxtax-web").undeploy()
    assert ("POST", "edit/changeManager/activate") in client.calls


def test_wait_times_out_on_a_running_progress_object():
    now = [0.0]
    client = FakeClient(manager={"name": "ADTR-1", "state": "STATE_RUNNING"})
    deployer = wd.Deployer(client, "gxtax-web", timeout=5, sleep=lambda s: now.__setitem__(0, now[0] + s),
                           clock=lambda: now[0])
    with pytest.raises(wd.DeployError) as exc:
        deployer.wait([{"name": "ADTR-1", "state": "STATE_RUNNING"}], [])
    assert exc.value.kind == "timeout" and "STATE_RUNNING" in exc.value.message
    assert now[0] >= 5


def test_wait_reports_a_failed_deployment_with_its_messages():
    client = FakeClient(manager={"name": "ADTR-1", "state": "STATE_FAILED",
                                 "messages": ["ClassNotFound: Foo"]})
    deployer = wd.Deployer(client, "gxtax-web", timeout=5, sleep=lambda s: None)
    with pytest.raises(wd.DeployError) as exc:
        deployer.wait([{"name": "ADTR-1", "state": "STATE_RUNNING"}], [])
    assert exc.value.kind == "failed" and "ClassNotFound: Foo" in exc.value.message


def test_lock_taken_between_read_and_start_edit_names_the_owner():
    class Racing(FakeClient):
        def get(self, path, params=None, role=None):
            self.calls.append(("GET", path))
            seen = sum(1 for c in self.calls if c == ("GET", path))
            return {"locked": seen > 1, "lockOwner": "weblogic" if seen > 1 else None}

    client = Racing(fail={"startEdit": WeblogicError("bad_request", 400, "x", detail="owned by weblogic")})
    with pytest.raises(wd.DeployError) as exc:
        wd.Deployer(client, "gxtax-web").undeploy()
    assert exc.value.kind == "locked" and "weblogic" in exc.value.message
    assert ("POST", "edit/changeManager/cancelEdit") not in client.calls  # never had the session
