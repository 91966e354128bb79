"""Server life-cycle operations of the WebLogic protocol double (a double, not WebLogic).

Routes of ServerLifeCycleRuntimeMBean as Oracle's RESTful Domain Runtime Reference documents
them; Admin or Operator may invoke them:
- POST domainRuntime/serverLifeCycleRuntimes/{name}/shutdown {timeout, ignoreSessions}
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverlifecycleruntimes-name-shutdown-x-operations-2.html
- POST .../{name}/forceShutdown and POST .../{name}/start (start goes through Node Manager)
  https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/runtime/ServerLifeCycleRuntimeMBean.html
- GET .../serverLifeCycleRuntimes[/{name}] re-registered here so that each read of a server's
  state moves a transition on by one step (runtime.py renders the same JSON).

Transitions: shutdown → SHUTTING_DOWN for `steps` reads → SHUTDOWN; start → STARTING for `steps`
reads → RUNNING. A server in `never_returns` stays STARTING (or ends in the state given, e.g.
FAILED_NOT_RESTARTABLE) after a start: the managed server that does not come back.

    control = lifecycle.install(double.router)
    control.steps = 2
    control.never_returns["ms2"] = "FAILED_NOT_RESTARTABLE"   # or "STARTING"
    control.transitions   # [(server, state), ...] in the order they happened
"""

from __future__ import annotations

from tests.weblogic_double import runtime
from tests.weblogic_double.server import READ_ROLES, DoubleError, Request, Router

OPERATORS = {"Admin", "Operator"}
LIFECYCLE = r"domainRuntime/serverLifeCycleRuntimes/(?P<server>[^/]+)"


class LifecycleControl:
    """Extra state of the double's life cycle (kept here, not in Domain)."""

    def __init__(self, steps: int = 2):
        self.steps = steps
        self.never_returns: dict[str, str] = {}
        self.pending: dict[str, list[str]] = {}     # server -> states still to pass through
        self.transitions: list[tuple[str, str]] = []
        self.shutdown_args: dict[str, dict] = {}
        self._task = 0

    # -- state machine (called under domain.lock) -------------------------------
    def _set(self, domain, name: str, state: str) -> None:
        domain.set_state(name, state)
        self.transitions.append((name, state))

    def advance(self, domain, name: str) -> None:
        queue = self.pending.get(name)
        if queue:
            self._set(domain, name, queue.pop(0))

    def _task_body(self, name: str, operation: str) -> dict:
        self._task += 1
        return {"identity": ["serverLifeCycleRuntimes", name, "tasks", "_%d_%s" % (self._task, operation)],
                "name": "_%d_%s" % (self._task, operation), "operation": operation, "serverName": name,
                "running": True, "taskStatus": "TASK IN PROGRESS", "progress": "processing"}

    def _server(self, request: Request):
        name = request.params["server"]
        server = request.domain.servers.get(name)
        if server is None:
            raise DoubleError(404, "Not Found: no server named %s." % name)
        return server

    # -- routes -----------------------------------------------------------------
    def shutdown(self, request: Request, force: bool = False):
        server = self._server(request)
        if server.state == "SHUTDOWN":
            raise DoubleError(400, "Server %s is already in the SHUTDOWN state." % server.name)
        if not force:
            args = request.json()
            self.shutdown_args[server.name] = {"timeout": args.get("timeout"),
                                               "ignoreSessions": args.get("ignoreSessions")}
        self._set(request.domain, server.name, "SHUTTING_DOWN" if not force else "SHUTDOWN")
        self.pending[server.name] = ["SHUTTING_DOWN"] * (self.steps - 1) + ["SHUTDOWN"] if not force else []
        return 202, self._task_body(server.name, "forceShutdown" if force else "shutdown")

    def force_shutdown(self, request: Request):
        return self.shutdown(request, force=True)

    def start(self, request: Request):
        server = self._server(request)
        if server.admin:
            raise DoubleError(400, "The Administration Server %s cannot be started through its own "
                                   "ServerLifeCycleRuntime." % server.name)
        if server.state not in ("SHUTDOWN", "FAILED", "FAILED_NOT_RESTARTABLE", "UNKNOWN"):
            raise DoubleError(400, "Server %s cannot be started from the %s state."
                              % (server.name, server.state))
        self._set(request.domain, server.name, "STARTING")
        final = self.never_returns.get(server.name)
        if final is None:
            self.pending[server.name] = ["STARTING"] * (self.steps - 1) + ["RUNNING"]
        else:  # Node Manager tries, the server never comes back
            self.pending[server.name] = ["STARTING"] * (self.steps - 1) + [final]
        return 202, self._task_body(server.name, "start")

    def read_one(self, request: Request):
        name = request.params["server"]
        if name in request.domain.servers:
            self.advance(request.domain, name)
        return runtime.lifecycle_one(request)

    def read_all(self, request: Request):
        for name in list(self.pending):
            self.advance(request.domain, name)
        return runtime.lifecycle_collection(request)


def install(router: Router, steps: int = 2) -> LifecycleControl:
    control = LifecycleControl(steps)
    router.register("POST", LIFECYCLE + r"/shutdown", control.shutdown, OPERATORS)
    router.register("POST", LIFECYCLE + r"/forceShutdown", control.force_shutdown, OPERATORS)
    router.register("POST", LIFECYCLE + r"/start", control.start, OPERATORS)
    router.register("GET", r"domainRuntime/serverLifeCycleRuntimes", control.read_all, READ_ROLES)
    router.register("GET", LIFECYCLE, control.read_one, READ_ROLES)
    return control
