"""State of the WebLogic domain behind the protocol double.

Plain data a test sets up and changes (a server shut down, stuck threads, a full data source,
a failed application); the routes in runtime.py render it as the JSON Oracle's REST API
returns. All access goes through `Domain.lock`, because the double serves each request in its
own thread and later routes (deployment, rolling restart) change state from timers.

Names follow the WebLogic MBeans they stand for: ServerLifeCycleRuntimeMBean (state),
ServerRuntimeMBean (health), JVMRuntimeMBean, ThreadPoolRuntimeMBean,
JDBCDataSourceRuntimeMBean, JDBCConnectionPoolParamsBean, AppRuntimeStateRuntimeMBean.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MIB = 1 << 20

SERVER_STATES = ("RUNNING", "SHUTDOWN", "ADMIN", "STANDBY", "STARTING", "SHUTTING_DOWN", "RESUMING",
                 "SUSPENDING", "FAILED", "FAILED_NOT_RESTARTABLE", "UNKNOWN")
# States in which a server has no runtime MBeans, so domainRuntime/serverRuntimes omits it.
DOWN_STATES = ("SHUTDOWN", "FAILED", "FAILED_NOT_RESTARTABLE", "UNKNOWN", "STARTING")
HEALTH_STATES = ("HEALTH_OK", "HEALTH_WARN", "HEALTH_CRITICAL", "HEALTH_OVERLOADED", "HEALTH_FAILED")
DATASOURCE_STATES = ("Running", "Suspended", "Shutdown", "Overloaded", "Unhealthy", "Unknown")
APP_STATES = ("STATE_NEW", "STATE_FAILED", "STATE_RETIRED", "STATE_PREPARED", "STATE_ADMIN",
              "STATE_UPDATE_PENDING", "STATE_ACTIVE")
# getCurrentState on a cluster answers the most advanced state among its members.
_APP_ORDER = {state: rank for rank, state in enumerate(APP_STATES)}


@dataclass
class ThreadPool:
    total: int = 40
    idle: int = 32
    hogging: int = 0
    stuck: int = 0
    pending: int = 0
    queue: int = 0
    standby: int = 6
    completed: int = 1_284_311


@dataclass
class Server:
    name: str
    listen_port: int
    cluster: str | None = None
    admin: bool = False
    state: str = "RUNNING"
    health: str = "HEALTH_OK"
    health_subsystem: str | None = None
    symptoms: list[str] = field(default_factory=list)
    heap_max: int = 2048 * MIB
    heap_current: int = 1536 * MIB
    heap_free: int = 896 * MIB
    threads: ThreadPool = field(default_factory=ThreadPool)
    activation_time: int = 1_767_225_600_000  # ms since the epoch, as WebLogic reports it


@dataclass
class DataSourceRuntime:
    state: str = "Running"
    active: int = 4
    curr_capacity: int = 10
    waiting: int = 0
    active_high: int = 12
    waiting_high: int = 0
    leaked: int = 0


@dataclass
class DataSource:
    name: str
    jndi_names: list[str]
    targets: list[tuple[str, str]]
    max_capacity: int = 50
    min_capacity: int = 5
    initial_capacity: int = 5
    runtimes: dict[str, DataSourceRuntime] = field(default_factory=dict)


@dataclass
class Application:
    name: str
    targets: list[tuple[str, str]]
    module_type: str = "war"
    source_path: str = ""
    states: dict[str, str] = field(default_factory=dict)  # server -> state; absent = STATE_ACTIVE


class Domain:
    """One WebLogic domain: servers, clusters, data sources and applications."""

    def __init__(self, name: str = "gxtax_domain", version: str = "14.1.1.0.0"):
        self.name = name
        self.version = version
        self.lock = threading.RLock()
        self.servers: dict[str, Server] = {}
        self.datasources: dict[str, DataSource] = {}
        self.applications: dict[str, Application] = {}

    # -- building -------------------------------------------------------------
    def add_server(self, name: str, listen_port: int, cluster: str | None = None, admin: bool = False,
                   **values) -> Server:
        with self.lock:
            self.servers[name] = Server(name=name, listen_port=listen_port, cluster=cluster, admin=admin,
                                        **values)
            return self.servers[name]

    def add_datasource(self, name: str, jndi: str, targets, **values) -> DataSource:
        with self.lock:
            self.datasources[name] = DataSource(name=name, jndi_names=[jndi], targets=list(targets), **values)
            return self.datasources[name]

    def add_application(self, name: str, targets, **values) -> Application:
        with self.lock:
            self.applications[name] = Application(name=name, targets=list(targets), **values)
            return self.applications[name]

    @classmethod
    def sample(cls) -> Domain:
        """A healthy domain like the publicity platform's: an Admin Server and two managed
        servers in a cluster, one Oracle data source and two applications on the cluster."""
        domain = cls()
        domain.add_server("AdminServer", 7001, admin=True, heap_max=1024 * MIB, heap_current=768 * MIB,
                          heap_free=512 * MIB, threads=ThreadPool(total=12, idle=10))
        domain.add_server("ms1", 7003, cluster="gxtax-cluster")
        domain.add_server("ms2", 7003, cluster="gxtax-cluster", heap_current=1280 * MIB, heap_free=700 * MIB)
        domain.add_datasource("gxtaxDS", "jdbc/gxtaxDS", [("clusters", "gxtax-cluster")])
        domain.add_application("gxtax-web", [("clusters", "gxtax-cluster")],
                               source_path="/u01/deploy/gxtax-web.war")
        domain.add_application("gxtax-api", [("clusters", "gxtax-cluster")],
                               source_path="/u01/deploy/gxtax-api.war")
        return domain

    # -- reading --------------------------------------------------------------
    def server(self, name: str) -> Server:
        return self.servers[name]

    def is_running(self, name: str) -> bool:
        server = self.servers.get(name)
        return server is not None and server.state not in DOWN_STATES

    def running_servers(self) -> list[Server]:
        return [s for s in self.servers.values() if s.state not in DOWN_STATES]

    def clusters(self) -> dict[str, list[str]]:
        members: dict[str, list[str]] = {}
        for server in self.servers.values():
            if server.cluster:
                members.setdefault(server.cluster, []).append(server.name)
        return members

    def servers_of(self, targets) -> list[str]:
        """Server names that targets (('servers'|'clusters', name) pairs) stand for."""
        names: list[str] = []
        clusters = self.clusters()
        for kind, name in targets:
            for server in ([name] if kind == "servers" else clusters.get(name, [])):
                if server not in names:
                    names.append(server)
        return names

    def datasource_runtime(self, datasource: DataSource, server: str) -> DataSourceRuntime | None:
        """The data source's runtime on a running server it targets (created on first use)."""
        if not self.is_running(server) or server not in self.servers_of(datasource.targets):
            return None
        return datasource.runtimes.setdefault(server, DataSourceRuntime())

    def app_state(self, app: Application, target: str) -> str:
        """getCurrentState(appid, target) for a server or a cluster."""
        servers = self.servers_of([("clusters", target)]) if target in self.clusters() else [target]
        states = []
        for server in servers:
            if server not in self.servers_of(app.targets):
                continue
            states.append(app.states.get(server, "STATE_ACTIVE") if self.is_running(server) else "STATE_NEW")
        if not states:
            return "STATE_NEW"
        return max(states, key=lambda s: _APP_ORDER.get(s, 0))

    # -- changing -------------------------------------------------------------
    def set_state(self, name: str, state: str) -> None:
        if state not in SERVER_STATES:
            raise ValueError(f"unknown server state {state}")
        with self.lock:
            self.servers[name].state = state
            if state in DOWN_STATES:  # runtime MBeans vanish with the JVM
                for datasource in self.datasources.values():
                    datasource.runtimes.pop(name, None)
