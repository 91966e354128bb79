"""Read endpoints of the WebLogic protocol double (domain runtime and domain configuration).

Each route renders the double's Domain as the JSON the documented endpoint returns. Paths and
roles follow Oracle's "RESTful Domain Runtime Reference" and "RESTful Domain Configuration
Reference" (list of the 12.2.1 domain runtime resources:
https://docs.oracle.com/cd/E72987_01/wls/WLRDR/toc.htm); field names follow the runtime MBean
reference cited at each route. This is a double: it answers what the inspection and its tests
need, not everything WebLogic offers.
"""

from __future__ import annotations

from tests.weblogic_double.domain import DOWN_STATES
from tests.weblogic_double.server import READ_ROLES, DoubleError, Request, Router

NAME = r"(?P<{}>[^/]+)"
SERVER_RUNTIME = r"domainRuntime/serverRuntimes/" + NAME.format("server")

# weblogic.health.HealthState as the REST entity shows it: state in lower case
# (entity reference: https://docs.oracle.com/middleware/12211/wls/WLROM/entities.htm).
_HEALTH_JSON = {"HEALTH_OK": "ok", "HEALTH_WARN": "warn", "HEALTH_CRITICAL": "critical",
                "HEALTH_FAILED": "failed", "HEALTH_OVERLOADED": "overloaded"}


def _ref(kind: str, name: str) -> dict:
    """A bean reference as the REST JSON mapping writes it."""
    return {"identity": [kind, name]}


def _health(state: str, subsystem: str | None = None, symptoms=()) -> dict:
    return {"state": _HEALTH_JSON.get(state, "unknown"), "subsystemName": subsystem, "partitionName": None,
            "symptoms": [{"severity": "HIGH" if state != "HEALTH_WARN" else "MEDIUM", "info": text,
                          "instanceId": subsystem or "", "type": "unknown"} for text in symptoms]}


def _running(request: Request, name: str):
    """The running server of that name; 404 as WebLogic answers for a server without runtime."""
    server = request.domain.servers.get(name)
    if server is None or server.state in DOWN_STATES:
        raise DoubleError(404, "Not Found: no server runtime named %s." % name)
    return server


# ------------------------------------------------------------------ version root


def version_root(request: Request):
    # GET /management/weblogic/{version}
    # https://docs.oracle.com/cd/E72987_01/wls/WLRSR/resources.htm (versions and `latest`)
    return 200, {"version": request.domain.version, "isLatest": True, "lifecycle": "active"}


# ------------------------------------------------------------------ life cycle of every configured server


def _lifecycle_json(server) -> dict:
    return {"identity": ["serverLifeCycleRuntimes", server.name], "name": server.name,
            "type": "ServerLifeCycleRuntime", "state": server.state, "nodeManagerRestartCount": 0}


def lifecycle_collection(request: Request):
    # GET domainRuntime/serverLifeCycleRuntimes: every configured server, running or not.
    # https://docs.oracle.com/en/middleware/standalone/weblogic-server/15.1.1/wlrdr/op-management-weblogic-version-domainruntime-serverlifecycleruntimes-get.html
    return 200, {"items": [_lifecycle_json(s) for s in request.domain.servers.values()]}


def lifecycle_one(request: Request):
    # GET domainRuntime/serverLifeCycleRuntimes/{name}
    # https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverlifecycleruntimes-name-get.html
    server = request.domain.servers.get(request.params["server"])
    if server is None:
        raise DoubleError(404, "Not Found: no server named %s." % request.params["server"])
    return 200, _lifecycle_json(server)


# ------------------------------------------------------------------ runtimes of running servers


def _server_runtime_json(domain, server) -> dict:
    health = _health(server.health, server.health_subsystem, server.symptoms)
    return {"identity": ["serverRuntimes", server.name], "name": server.name, "type": "ServerRuntime",
            "state": server.state, "healthState": health, "overallHealthState": health,
            "adminServer": server.admin, "listenAddress": "127.0.0.1", "listenPort": server.listen_port,
            "activationTime": server.activation_time, "restartRequired": False,
            "weblogicVersion": "WebLogic Server %s (double)" % domain.version,
            "openSocketsCurrentCount": 3}


def server_runtime_collection(request: Request):
    # GET domainRuntime/serverRuntimes: running servers only, monitored from the Admin Server.
    # https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverruntimes-get.html
    return 200, {"items": [_server_runtime_json(request.domain, s) for s in request.domain.running_servers()]}


def server_runtime_one(request: Request):
    # GET domainRuntime/serverRuntimes/{name} (same reference book, one instance)
    return 200, _server_runtime_json(request.domain, _running(request, request.params["server"]))


def jvm_runtime(request: Request):
    # GET domainRuntime/serverRuntimes/{name}/JVMRuntime
    # Fields: JVMRuntimeMBean (heapSizeCurrent, heapFreeCurrent, heapSizeMax, heapFreePercent),
    # https://docs.oracle.com/cd/E92951_01/wls/WLAPI/weblogic/management/runtime/JVMRuntimeMBean.html
    server = _running(request, request.params["server"])
    return 200, {"identity": ["serverRuntimes", server.name, "JVMRuntime"], "name": server.name,
                 "type": "JVMRuntime", "heapSizeCurrent": server.heap_current,
                 "heapFreeCurrent": server.heap_free, "heapSizeMax": server.heap_max,
                 "heapFreePercent": int(server.heap_free * 100 / server.heap_max),
                 "javaVersion": "1.8.0_401", "javaVendor": "Oracle Corporation", "OSName": "Linux",
                 "uptime": 86_400_000}


def thread_pool_runtime(request: Request):
    # GET domainRuntime/serverRuntimes/{name}/threadPoolRuntime
    # View page (server runtime tree): https://docs.oracle.com/en/middleware/standalone/weblogic-server/
    # 15.1.1/wlrsr/op-management-weblogic-version-serverruntime-threadpoolruntime-get.html
    # Fields: ThreadPoolRuntimeMBean (hoggingThreadCount, stuckThreadCount, pendingUserRequestCount,
    # executeThreadTotalCount), https://docs.oracle.com/cd/E80149_01/wls/WLAPI/weblogic/management/runtime/ThreadPoolRuntimeMBean.html
    server = _running(request, request.params["server"])
    pool = server.threads
    state = "HEALTH_OK" if pool.stuck == 0 else "HEALTH_WARN" if pool.stuck < pool.total else "HEALTH_FAILED"
    return 200, {"identity": ["serverRuntimes", server.name, "threadPoolRuntime"],
                 "name": "ThreadPoolRuntime", "type": "ThreadPoolRuntime",
                 "executeThreadTotalCount": pool.total, "executeThreadIdleCount": pool.idle,
                 "hoggingThreadCount": pool.hogging, "stuckThreadCount": pool.stuck,
                 "pendingUserRequestCount": pool.pending, "queueLength": pool.queue,
                 "standbyThreadCount": pool.standby, "completedRequestCount": pool.completed,
                 "throughput": 41.5, "overloadRejectedRequestsCount": 0,
                 "sharedCapacityForWorkManagers": 65536, "suspended": False,
                 "healthState": _health(state, "threadpool" if pool.stuck else None)}


def _datasource_runtime_json(datasource, runtime) -> dict:
    return {"identity": ["JDBCDataSourceRuntimeMBeans", datasource.name], "name": datasource.name,
            "type": "JDBCOracleDataSourceRuntime", "state": runtime.state,
            "enabled": runtime.state != "Shutdown", "activeConnectionsCurrentCount": runtime.active,
            "activeConnectionsHighCount": runtime.active_high,
            "activeConnectionsAverageCount": max(runtime.active - 1, 0),
            "currCapacity": runtime.curr_capacity,
            "currCapacityHighCount": max(runtime.curr_capacity, runtime.active_high),
            "numAvailable": max(runtime.curr_capacity - runtime.active, 0), "numUnavailable": runtime.active,
            "waitingForConnectionCurrentCount": runtime.waiting,
            "waitingForConnectionHighCount": runtime.waiting_high, "leakedConnectionCount": runtime.leaked,
            "failuresToReconnectCount": 0, "connectionDelayTime": 35, "deploymentState": 2,
            "versionJDBCDriver": "oracle.jdbc.OracleDriver", "databaseProductName": "Oracle"}


def datasource_collection(request: Request):
    # GET domainRuntime/serverRuntimes/{name}/JDBCServiceRuntime/JDBCDataSourceRuntimeMBeans
    # Collection page (server runtime tree): https://docs.oracle.com/cd/F23552_01/weblogic-server/12.2.1.4/wlrsr/
    # api-jdbc-data-source-runtime-jdbc-service-runtime-jdbc-data-source-runtime-mbeans.html
    # Fields: JDBCDataSourceRuntimeMBean, https://docs.oracle.com/cd/E92951_01/wls/WLAPI/weblogic/management/runtime/JDBCDataSourceRuntimeMBean.html
    server = _running(request, request.params["server"])
    items = []
    for datasource in request.domain.datasources.values():
        runtime = request.domain.datasource_runtime(datasource, server.name)
        if runtime is not None:
            items.append(_datasource_runtime_json(datasource, runtime))
    return 200, {"items": items}


def datasource_one(request: Request):
    server = _running(request, request.params["server"])
    datasource = request.domain.datasources.get(request.params["ds"])
    runtime = request.domain.datasource_runtime(datasource, server.name) if datasource else None
    if runtime is None:
        raise DoubleError(404, "Not Found: no data source runtime named %s." % request.params["ds"])
    return 200, _datasource_runtime_json(datasource, runtime)


def get_current_state(request: Request):
    # POST domainRuntime/appRuntimeStateRuntime/getCurrentState {"appid", "target"} -> {"return": state}
    # Roles Admin, Deployer, Monitor, Operator; X-Requested-By required:
    # https://docs.oracle.com/en/middleware/standalone/weblogic-server/15.1.1/wlrdr/op-management-weblogic-version-domainruntime-appruntimestateruntime-getcurrentstate-x-operations-0.html
    # States: AppRuntimeStateRuntimeMBean, https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/runtime/AppRuntimeStateRuntimeMBean.html
    body = request.json()
    if not isinstance(body, dict) or "appid" not in body or "target" not in body:
        raise DoubleError(400, "getCurrentState needs the arguments appid and target.")
    app = request.domain.applications.get(body["appid"])
    if app is None:
        return 200, {"return": None}  # WebLogic knows no state for an unknown application
    return 200, {"return": request.domain.app_state(app, str(body["target"]))}


# ------------------------------------------------------------------ domain configuration


def server_config_collection(request: Request):
    # GET domainConfig/servers (last activated configuration; cluster as a bean reference)
    # RESTful Domain Configuration Reference; every domainConfig page has the layout of e.g.
    # https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdc/
    # op-management-weblogic-version-domainconfig-customresources-name-customresource-get.html
    items = [{"identity": ["servers", s.name], "name": s.name, "type": "Server", "listenPort": s.listen_port,
              "listenAddress": "", "cluster": _ref("clusters", s.cluster) if s.cluster else None}
             for s in request.domain.servers.values()]
    return 200, {"items": items}


def cluster_config_collection(request: Request):
    # GET domainConfig/clusters (same reference book)
    return 200, {"items": [{"identity": ["clusters", name], "name": name, "type": "Cluster",
                            "clusterMessagingMode": "unicast"} for name in request.domain.clusters()]}


def app_deployment_collection(request: Request):
    # GET domainConfig/appDeployments: DomainMBean.getAppDeployments ("the collection of
    # deployable entities in this domain"), targets as bean references.
    items = [{"identity": ["appDeployments", a.name], "name": a.name, "type": "AppDeployment",
              "moduleType": a.module_type, "sourcePath": a.source_path, "versionIdentifier": None,
              "deploymentOrder": 100, "stagingMode": None,
              "targets": [_ref(kind, name) for kind, name in a.targets]}
             for a in request.domain.applications.values()]
    return 200, {"items": items}


def jdbc_resource_collection(request: Request):
    # GET domainConfig/JDBCSystemResources (configured data sources and their targets)
    items = [{"identity": ["JDBCSystemResources", d.name], "name": d.name, "type": "JDBCSystemResource",
              "descriptorFileName": "jdbc/%s-jdbc.xml" % d.name,
              "targets": [_ref(kind, name) for kind, name in d.targets]}
             for d in request.domain.datasources.values()]
    return 200, {"items": items}


def _configured(request: Request):
    datasource = request.domain.datasources.get(request.params["ds"])
    if datasource is None:
        raise DoubleError(404, "Not Found: no JDBC system resource named %s." % request.params["ds"])
    return datasource


def jdbc_pool_params(request: Request):
    # GET domainConfig/JDBCSystemResources/{name}/JDBCResource/JDBCConnectionPoolParams
    # Fields: JDBCConnectionPoolParamsBean (maxCapacity, minCapacity, initialCapacity),
    # https://docs.oracle.com/cd/E92951_01/wls/WLAPI/weblogic/j2ee/descriptor/wl/JDBCConnectionPoolParamsBean.html
    datasource = _configured(request)
    return 200, {"maxCapacity": datasource.max_capacity, "minCapacity": datasource.min_capacity,
                 "initialCapacity": datasource.initial_capacity, "testConnectionsOnReserve": True,
                 "testTableName": "SQL ISVALID", "inactiveConnectionTimeoutSeconds": 0,
                 "connectionReserveTimeoutSeconds": 10, "statementCacheSize": 10}


def jdbc_datasource_params(request: Request):
    # GET domainConfig/JDBCSystemResources/{name}/JDBCResource/JDBCDataSourceParams (JNDINames)
    datasource = _configured(request)
    return 200, {"JNDINames": list(datasource.jndi_names), "globalTransactionsProtocol": "OnePhaseCommit"}


def install(router: Router) -> None:
    """Register the read endpoints on a double's router."""
    reads = READ_ROLES
    router.register("GET", r"", version_root, reads)
    router.register("GET", r"domainRuntime/serverLifeCycleRuntimes", lifecycle_collection, reads)
    router.register("GET", r"domainRuntime/serverLifeCycleRuntimes/" + NAME.format("server"),
                    lifecycle_one, reads)
    router.register("GET", r"domainRuntime/serverRuntimes", server_runtime_collection, reads)
    router.register("GET", SERVER_RUNTIME, server_runtime_one, reads)
    router.register("GET", SERVER_RUNTIME + r"/JVMRuntime", jvm_runtime, reads)
    router.register("GET", SERVER_RUNTIME + r"/threadPoolRuntime", thread_pool_runtime, reads)
    router.register("GET", SERVER_RUNTIME + r"/JDBCServiceRuntime/JDBCDataSourceRuntimeMBeans",
                    datasource_collection, reads)
    router.register("GET", SERVER_RUNTIME + r"/JDBCServiceRuntime/JDBCDataSourceRuntimeMBeans/"
                    + NAME.format("ds"), datasource_one, reads)
    router.register("POST", r"domainRuntime/appRuntimeStateRuntime/getCurrentState", get_current_state, reads)
    router.register("GET", r"domainConfig/servers", server_config_collection, reads)
    router.register("GET", r"domainConfig/clusters", cluster_config_collection, reads)
    router.register("GET", r"domainConfig/appDeployments", app_deployment_collection, reads)
    router.register("GET", r"domainConfig/JDBCSystemResources", jdbc_resource_collection, reads)
    router.register("GET", r"domainConfig/JDBCSystemResources/" + NAME.format("ds") +
                    r"/JDBCResource/JDBCConnectionPoolParams", jdbc_pool_params, reads)
    router.register("GET", r"domainConfig/JDBCSystemResources/" + NAME.format("ds") +
                    r"/JDBCResource/JDBCDataSourceParams", jdbc_datasource_params, reads)
