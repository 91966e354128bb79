# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Life cycle of one managed server through the Admin Server's RESTful Management API.

Everything goes through ServerLifeCycleRuntimeMBean, which lives on the Admin Server and so
answers also for a server that is down (Oracle, Java API Reference:
https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/runtime/ServerLifeCycleRuntimeMBean.html):

- state: GET domainRuntime/serverLifeCycleRuntimes/{name}
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverlifecycleruntimes-name-get.html
- graceful shutdown(timeout, ignoreSessions): POST .../{name}/shutdown
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverlifecycleruntimes-name-shutdown-x-operations-2.html
- forceShutdown and start: POST .../{name}/forceShutdown, POST .../{name}/start; start asks the
  server's Node Manager, which must be configured on its machine (same MBean page).
- health: GET domainRuntime/serverRuntimes/{name} (overallHealthState), only while it runs.

The operations are sent with `Prefer: respond-async` (documented on the shutdown page above):
WebLogic would otherwise hold the request for up to 300 s; we poll `state` ourselves instead, so
each wait has its own timeout and the states seen on the way end up in the result.

Plain logic fed a client, a clock and a sleep: unit-tested over the protocol double. Runs on the
control node, kept valid Python 3.7 like the other module_utils.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    WeblogicError,
    app_state,
    compact,
    rest_path,
)

STATES = ("running", "shutdown", "restarted")
# States from which only a start helps; FAILED_NOT_RESTARTABLE means Node Manager gave up.
DOWN = ("SHUTDOWN", "FAILED", "FAILED_NOT_RESTARTABLE", "FAILED_RESTARTING", "UNKNOWN")
# Waiting for RUNNING stops at once in these: nothing will bring the server up by itself.
HOPELESS = ("FAILED_NOT_RESTARTABLE", "FAILED")
ASYNC = {"Prefer": "respond-async"}


class LifecycleError(Exception):
    """A step that did not end as it should: message is one Chinese + English sentence."""

    def __init__(self, message, kind="lifecycle", states=None):
        super(LifecycleError, self).__init__(message)
        self.message = message
        self.kind = kind
        self.states = list(states or [])

    def to_dict(self):
        return {"kind": self.kind, "message": self.message, "states": self.states}


def server_state(client, name):
    """The life-cycle state (RUNNING, SHUTDOWN, STARTING, ...) of a configured server."""
    body = client.get(rest_path("domainRuntime", "serverLifeCycleRuntimes", name),
                      params=compact(fields="name,state"), role="Monitor")
    return str(body.get("state") or "UNKNOWN").upper()


def server_health(client, name):
    """overallHealthState (else healthState) of a running server, as HEALTH_OK, ...; None if not
    readable (a server without runtime MBeans answers 404)."""
    try:
        body = client.get(rest_path("domainRuntime", "serverRuntimes", name),
                          params=compact(fields="name,state,healthState,overallHealthState"), role="Monitor")
    except WeblogicError as exc:
        if exc.kind == "not_found":
            return None
        raise
    health = body.get("overallHealthState") or body.get("healthState") or {}
    state = health.get("state") if isinstance(health, dict) else health
    return ("HEALTH_" + str(state).upper()) if state and not str(state).upper().startswith("HEALTH_") \
        else (str(state).upper() if state else None)


def plan(wanted, current):
    """The operations that take a server from `current` to `wanted`, in order."""
    if wanted not in STATES:
        raise ValueError("state must be one of %s" % ", ".join(STATES))
    down = current in DOWN or current == "SHUTTING_DOWN"
    if wanted == "running":
        return [] if current == "RUNNING" else (["start"] if down else ["wait"])
    if wanted == "shutdown":
        if current == "SHUTDOWN":
            return []
        return ["wait_down"] if current == "SHUTTING_DOWN" else ["shutdown"]
    return ["start"] if current in DOWN else ["shutdown", "start"]


def shutdown(client, name, graceful=True, timeout=0, ignore_sessions=False):
    """Ask for a graceful shutdown (in-flight work may finish for `timeout` s, 0 = no limit) or a
    forced one; returns at once, `wait_for` follows it."""
    if graceful:
        body = {"timeout": int(timeout), "ignoreSessions": bool(ignore_sessions)}
        client.request("POST", rest_path("domainRuntime", "serverLifeCycleRuntimes", name, "shutdown"),
                       body=body, role="Operator", headers=ASYNC)
    else:
        client.request("POST", rest_path("domainRuntime", "serverLifeCycleRuntimes", name, "forceShutdown"),
                       body={}, role="Operator", headers=ASYNC)


def start(client, name):
    """Ask the server's Node Manager to start it; returns at once."""
    client.request("POST", rest_path("domainRuntime", "serverLifeCycleRuntimes", name, "start"),
                   body={}, role="Operator", headers=ASYNC)


def wait_for(client, name, wanted, timeout, interval=2.0, clock=time.monotonic, sleep=time.sleep, seen=None):
    """Poll the state until it is `wanted`; the states seen (without repeats) go to `seen`.
    Raises LifecycleError on timeout, or at once when the server failed for good."""
    seen = seen if seen is not None else []
    deadline = clock() + float(timeout)
    while True:
        state = server_state(client, name)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == wanted:
            return seen
        if wanted == "RUNNING" and state in HOPELESS:
            raise LifecycleError(
                "服务器 %s 启动失败，状态为 %s / server %s failed to start (state %s); see its log and "
                "the Node Manager log" % (name, state, name, state), "failed", seen)
        if clock() >= deadline:
            raise LifecycleError(
                "服务器 %s 在 %s 秒内未达到 %s 状态（当前 %s） / server %s did not reach %s within %s s "
                "(state %s)" % (name, _num(timeout), wanted, state, name, wanted, _num(timeout), state),
                "timeout", seen)
        sleep(interval)


def serving_problems(client, name, apps):
    """(health, {app: state}, problems) of a RUNNING server: health must be HEALTH_OK and each
    app STATE_ACTIVE on it (getCurrentState, see weblogic_rest.app_state)."""
    health = server_health(client, name)
    states = {}
    problems = []
    if health != "HEALTH_OK":
        problems.append("健康状态为 %s / health is %s" % (health, health))
    for app in apps or ():
        states[app] = app_state(client, app, name)
        if states[app] != "STATE_ACTIVE":
            problems.append("应用 %s 状态为 %s / application %s is %s" % (app, states[app], app, states[app]))
    return health, states, problems


def wait_serving(client, name, apps, timeout, interval=2.0, clock=time.monotonic, sleep=time.sleep):
    """Poll until the server is healthy and every app is active on it; (health, states) or
    LifecycleError naming what is still wrong after `timeout` seconds."""
    deadline = clock() + float(timeout)
    while True:
        health, states, problems = serving_problems(client, name, apps)
        if not problems:
            return health, states
        if clock() >= deadline:
            raise LifecycleError("服务器 %s 已运行但 %s 秒内未就绪：%s / server %s is RUNNING but not ready"
                                 % (name, _num(timeout), "；".join(problems), name), "not_ready", ["RUNNING"])
        sleep(interval)


def _num(value):
    return int(value) if float(value).is_integer() else value


def _carry_out(client, name, actions, graceful, shutdown_timeout, ignore_sessions, down_wait,
               wait_timeout, interval, clock, sleep, seen):
    """Send the planned operations and wait for each. A REST failure after WebLogic accepted
    a shutdown or start is a LifecycleError: the run did change the server."""
    sent = []
    try:
        for action in actions:
            if action == "shutdown":
                shutdown(client, name, graceful, shutdown_timeout, ignore_sessions)
                sent.append(action)
                wait_for(client, name, "SHUTDOWN", down_wait, interval, clock, sleep, seen)
            elif action == "wait_down":
                wait_for(client, name, "SHUTDOWN", down_wait, interval, clock, sleep, seen)
            elif action == "start":
                start(client, name)
                sent.append(action)
                wait_for(client, name, "RUNNING", wait_timeout, interval, clock, sleep, seen)
            else:  # "wait": already on its way up (STARTING, RESUMING, ...)
                wait_for(client, name, "RUNNING", wait_timeout, interval, clock, sleep, seen)
    except WeblogicError as exc:
        if not sent:
            raise
        raise LifecycleError("服务器 %s：%s" % (name, exc.message), kind=exc.kind, states=seen) from None


def ensure(client, name, wanted, graceful=True, shutdown_timeout=0, ignore_sessions=False,
           wait_timeout=600, check_mode=False, interval=2.0, clock=time.monotonic, sleep=time.sleep,
           apps=None, wait_healthy=False):
    """Bring `name` to `wanted` (running, shutdown, restarted) and report what happened:
    {changed, name, previous_state, state, actions, states, health, app_states}. With
    `wait_healthy` or `apps`, a server that should run must also be HEALTH_OK with each app
    STATE_ACTIVE on it (waited for up to wait_timeout). Raises WeblogicError or LifecycleError
    (with the states seen so far)."""
    previous = server_state(client, name)
    actions = plan(wanted, previous)
    result = {"name": name, "previous_state": previous, "state": previous, "actions": actions,
              "states": [previous], "health": None, "app_states": {},
              "changed": any(a in ("start", "shutdown") for a in actions)}
    ready = bool(wait_healthy or apps)
    if check_mode or not actions:
        if previous == "RUNNING":
            result["health"], result["app_states"], problems = serving_problems(client, name, apps)
            if problems and ready and not check_mode:
                result["health"], result["app_states"] = wait_serving(
                    client, name, apps, wait_timeout, interval, clock, sleep)
        return result
    seen = result["states"]
    # A graceful shutdown may take shutdown_timeout before WebLogic forces it; give the poll that
    # much on top of the ordinary wait.
    down_wait = float(wait_timeout) + (float(shutdown_timeout) if graceful else 0.0)
    _carry_out(client, name, actions, graceful, shutdown_timeout, ignore_sessions, down_wait,
               wait_timeout, interval, clock, sleep, seen)
    result["state"] = seen[-1]
    if result["state"] == "RUNNING":
        if ready:
            result["health"], result["app_states"] = wait_serving(
                client, name, apps, wait_timeout, interval, clock, sleep)
        else:
            result["health"] = server_health(client, name)
    return result
