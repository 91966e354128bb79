"""plugins/module_utils/weblogic_lifecycle.py over the WebLogic protocol double
(tests/weblogic_double/lifecycle.py) on 127.0.0.1: transitions, idempotence, check mode,
timeouts and a server that never comes back. No real sleeping: the clock is fake."""

import os

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import weblogic_lifecycle as lc
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import WeblogicClient, WeblogicError
from tests.weblogic_double import Domain, WeblogicDouble, lifecycle


class Clock:
    """A clock that moves only when the code sleeps."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def double():
    try:
        server = WeblogicDouble(domain=Domain.sample()).start()
    except OSError as exc:
        if os.environ.get("CI"):
            pytest.fail("cannot listen on 127.0.0.1: %s" % exc)
        pytest.skip("cannot listen on 127.0.0.1: %s" % exc)
    server.control = lifecycle.install(server.router, steps=3)
    yield server
    server.stop()


def client(double, user="operator"):
    return WeblogicClient(double.url, user, double.users[user][0], timeout=5)


def ensure(double, name, state, user="operator", **kwargs):
    clock = Clock()
    kwargs.setdefault("wait_timeout", 60)
    return lc.ensure(client(double, user), name, state, clock=clock, sleep=clock.sleep, **kwargs)


@pytest.mark.parametrize("wanted,current,actions", [
    ("running", "RUNNING", []), ("running", "SHUTDOWN", ["start"]), ("running", "FAILED", ["start"]),
    ("running", "STARTING", ["wait"]), ("running", "SHUTTING_DOWN", ["start"]),
    ("shutdown", "SHUTDOWN", []), ("shutdown", "RUNNING", ["shutdown"]),
    ("shutdown", "SHUTTING_DOWN", ["wait_down"]), ("restarted", "RUNNING", ["shutdown", "start"]),
    ("restarted", "SHUTDOWN", ["start"]),
])
def test_plan(wanted, current, actions):
    assert lc.plan(wanted, current) == actions


def test_plan_refuses_an_unknown_state():
    with pytest.raises(ValueError):
        lc.plan("paused", "RUNNING")


def test_restart_passes_through_every_state(double):
    result = ensure(double, "ms1", "restarted", shutdown_timeout=90, ignore_sessions=True)
    assert result["changed"] is True
    assert result["states"] == ["RUNNING", "SHUTTING_DOWN", "SHUTDOWN", "STARTING", "RUNNING"]
    assert result["state"] == "RUNNING" and result["health"] == "HEALTH_OK"
    assert double.control.shutdown_args["ms1"] == {"timeout": 90, "ignoreSessions": True}
    posts = [r.path.rsplit("/", 1)[1] for r in double.requests if r.method == "POST"]
    assert posts == ["shutdown", "start"]
    assert all(r.requested_by for r in double.requests if r.method == "POST")


def test_running_on_a_running_server_changes_nothing(double):
    result = ensure(double, "ms1", "running")
    assert result["changed"] is False and result["actions"] == [] and result["health"] == "HEALTH_OK"
    assert not [r for r in double.requests if r.method == "POST"]


def test_shutdown_then_again_is_idempotent(double):
    first = ensure(double, "ms2", "shutdown", graceful=False)
    assert first["changed"] and first["state"] == "SHUTDOWN" and first["health"] is None
    assert double.requests_to("POST", r"forceShutdown$")
    second = ensure(double, "ms2", "shutdown")
    assert second["changed"] is False and second["state"] == "SHUTDOWN"


def test_start_a_stopped_server(double):
    double.domain.set_state("ms2", "SHUTDOWN")
    result = ensure(double, "ms2", "running")
    assert result["changed"] and result["states"] == ["SHUTDOWN", "STARTING", "RUNNING"]


def test_check_mode_asks_nothing_to_change(double):
    result = ensure(double, "ms1", "restarted", check_mode=True)
    assert result["changed"] is True and result["actions"] == ["shutdown", "start"]
    assert result["state"] == "RUNNING"
    assert not [r for r in double.requests if r.method == "POST"]
    assert double.domain.server("ms1").state == "RUNNING"


def test_a_server_that_never_comes_back_times_out(double):
    double.control.never_returns["ms2"] = "STARTING"
    with pytest.raises(lc.LifecycleError) as failed:
        ensure(double, "ms2", "restarted", wait_timeout=30)
    assert failed.value.kind == "timeout"
    assert "ms2" in failed.value.message and "30" in failed.value.message
    assert failed.value.states[-1] == "STARTING"


def test_a_server_node_manager_gives_up_on_fails_at_once(double):
    double.control.never_returns["ms2"] = "FAILED_NOT_RESTARTABLE"
    with pytest.raises(lc.LifecycleError) as failed:
        ensure(double, "ms2", "restarted", wait_timeout=100000)
    assert failed.value.kind == "failed" and "FAILED_NOT_RESTARTABLE" in failed.value.message
    assert failed.value.to_dict()["states"][-1] == "FAILED_NOT_RESTARTABLE"


def test_a_monitor_may_not_restart(double):
    with pytest.raises(WeblogicError) as refused:
        ensure(double, "ms1", "restarted", user="monitor")
    assert refused.value.kind == "forbidden" and "Operator" in refused.value.message
    assert double.domain.server("ms1").state == "RUNNING"


def test_unknown_server_is_not_found(double):
    with pytest.raises(WeblogicError) as missing:
        ensure(double, "ms9", "running")
    assert missing.value.kind == "not_found"


def test_health_reads_overall_health(double):
    double.domain.server("ms1").health = "HEALTH_WARN"
    assert lc.server_health(client(double), "ms1") == "HEALTH_WARN"
    double.domain.set_state("ms1", "SHUTDOWN")
    assert lc.server_health(client(double), "ms1") is None


def test_restart_waits_for_health_and_applications(double):
    result = ensure(double, "ms1", "restarted", apps=["gxtax-web", "gxtax-api"])
    assert result["app_states"] == {"gxtax-web": "STATE_ACTIVE", "gxtax-api": "STATE_ACTIVE"}
    assert result["health"] == "HEALTH_OK"
    assert len(double.requests_to("POST", r"getCurrentState$")) == 2


def test_an_application_that_stays_failed_names_itself(double):
    double.domain.applications["gxtax-api"].states["ms1"] = "STATE_FAILED"
    with pytest.raises(lc.LifecycleError) as failed:
        ensure(double, "ms1", "running", apps=["gxtax-web", "gxtax-api"], wait_timeout=20)
    assert failed.value.kind == "not_ready"
    assert "gxtax-api" in failed.value.message and "STATE_FAILED" in failed.value.message
    assert "gxtax-web" not in failed.value.message


def test_an_unhealthy_server_is_not_ready(double):
    double.domain.server("ms1").health = "HEALTH_CRITICAL"
    with pytest.raises(lc.LifecycleError) as failed:
        ensure(double, "ms1", "running", wait_healthy=True, wait_timeout=10)
    assert "HEALTH_CRITICAL" in failed.value.message
    assert ensure(double, "ms1", "running")["health"] == "HEALTH_CRITICAL"  # without the wait: reported only


def test_an_error_after_the_shutdown_was_sent_is_a_change_not_a_plain_rest_error(double):
    """Once the server was told to shut down, a later REST failure must not read as
    'nothing changed': it is a LifecycleError (the module reports changed=true)."""
    double.inject("POST", r".*/serverLifeCycleRuntimes/ms1/start", 500, "Node Manager unreachable.")
    with pytest.raises(lc.LifecycleError) as raised:
        ensure(double, "ms1", "restarted")
    assert "服务器 ms1" in raised.value.message and "Node Manager unreachable" in raised.value.message
    assert "SHUTDOWN" in raised.value.states


def test_an_error_before_anything_was_sent_stays_a_rest_error(double):
    double.inject("GET", r".*/serverLifeCycleRuntimes/ms1", 500, "Broken.")
    with pytest.raises(WeblogicError):
        ensure(double, "ms1", "restarted")
