# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""INSP-10: grade a WebLogic domain from what its RESTful Management API returned.

Pure functions over the snapshot weblogic_rest.inspection_snapshot() reads (the JSON of
serverLifeCycleRuntimes, serverRuntimes, JVMRuntime, threadPoolRuntime,
JDBCDataSourceRuntimeMBeans, the domainConfig data sources and deployments, and
getCurrentState per application and server): snapshot in, records and plain figures out.
A part that could not be read, or lacks a field, gives an error record for its items only;
a server that is not running gets its state record and `skipped` records for the rest.

Runs on the control node; kept valid on Python 3.7 like the rest of module_utils.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.gxtax.ops.plugins.module_utils.records import SEVERITY, grade, make_record
from ansible_collections.gxtax.ops.plugins.module_utils.thresholds import is_number as _is_number
from ansible_collections.gxtax.ops.plugins.module_utils.thresholds import key_problem
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    DOWN_STATES,
    expand_targets,
    identity_name,
    is_error,
)

REQUIREMENT = "INSP-10"

# Thresholds and why (docs/weblogic.md has the same table for operators).
DEFAULT_THRESHOLDS = {
    # Heap after the last GC sits well below 85 % on a healthy server; above it the JVM
    # collects ever more often, and near 95 % it spends its time in full GCs before an
    # OutOfMemoryError. A point sample may catch the heap just before a collection, hence
    # warning first, not critical.
    "heap_warning": 85, "heap_critical": 95,
    # A stuck thread has worked on one request longer than StuckThreadMaxTime (600 s by
    # default): even one is a request that will not finish. Five mean the cause is systematic
    # (a database lock, a dead external service) and the server will soon mark itself unhealthy.
    "stuck_threads_warning": 1, "stuck_threads_critical": 5,
    # Hogging threads are held far longer than the pool's usual request time; a few come and go
    # under load, many at once are the stuck threads of the next minutes.
    "hogging_threads_warning": 5, "hogging_threads_critical": 20,
    # User requests waiting for a free execute thread: a short queue is load, a long one means
    # the pool cannot keep up and users wait.
    "pending_requests_warning": 10, "pending_requests_critical": 50,
    # Active connections against maxCapacity: from 80 % a burst can exhaust the pool, from 95 %
    # requests already wait for connections.
    "datasource_warning": 80, "datasource_critical": 95,
    # Any request waiting for a connection is a user waiting; ten at once is an exhausted pool.
    "datasource_waiting_warning": 1, "datasource_waiting_critical": 10,
}
PERCENT_KEYS = ("heap", "datasource")

# ServerLifeCycleRuntime states (MBean reference: ServerLifeCycleRuntimeMBean.getState): RUNNING is
# ok, those below a warning, any other (SHUTDOWN, FAILED..., FORCE_SHUTTING_DOWN) critical.
RUNNING = "RUNNING"
# Up but not serving users: planned (ADMIN, STANDBY) or in transition.
NOT_SERVING_STATES = ("ADMIN", "STANDBY", "STARTING", "RESUMING", "SUSPENDING", "FORCE_SUSPENDING",
                      "SHUTTING_DOWN", "SHUTDOWN_PENDING", "SHUTDOWN_IN_PROCESS")

# weblogic.health.HealthState: REST shows the state as ok/warn/critical/failed/overloaded;
# the MBean constants are HEALTH_OK... and, in JMX, the integers 0-4.
HEALTH_NAMES = {"ok": "HEALTH_OK", "warn": "HEALTH_WARN", "warning": "HEALTH_WARN",
                "critical": "HEALTH_CRITICAL", "failed": "HEALTH_FAILED",
                "overloaded": "HEALTH_OVERLOADED", "unknown": "HEALTH_UNKNOWN"}
HEALTH_INTS = {0: "HEALTH_OK", 1: "HEALTH_WARN", 2: "HEALTH_CRITICAL", 3: "HEALTH_FAILED",
               4: "HEALTH_OVERLOADED"}
HEALTH_STATUS = {"HEALTH_OK": "ok", "HEALTH_WARN": "warning", "HEALTH_OVERLOADED": "warning",
                 "HEALTH_CRITICAL": "critical", "HEALTH_FAILED": "critical"}

# AppRuntimeStateRuntimeMBean states.
APP_OK = ("STATE_ACTIVE", "STATE_RETIRED")  # RETIRED: the old version of a production redeployment
APP_CRITICAL = ("STATE_FAILED", "STATE_PREPARED", "STATE_NEW")
APP_WARNING = ("STATE_ADMIN", "STATE_UPDATE_PENDING")

NOT_INSPECTED = "WebLogic 运行状态未被巡检，故障无法被及时发现"
ERROR_DIRECTION = {
    "config": "核对 gxtax_weblogic_url（如 https://wls-admin:7002）、ca_path 和 timeout 的配置",
    "unreachable": "检查控制节点到管理服务器的网络和防火墙，确认管理服务器进程已启动并监听该端口；"
                   "如仅个别受管服务器超时，检查该服务器是否挂起（线程转储）",
    "tls": "检查管理服务器证书的有效期、证书链和域名；内网自签证书请通过 ca_path 指定签发 CA",
    "unauthorized": "核对巡检账号 gxtax_weblogic_user 和 Ansible Vault 中的密码，确认账号未被锁定",
    "forbidden": "在 WebLogic 安全域中把巡检账号加入 Monitors 组（Monitor 角色）",
    "not_found": "核对 gxtax_weblogic_url 是否指向管理服务器；WebLogic 12.2.1 以下版本（如 10.3.6）"
                 "没有该 REST 接口，需改用 WLST 巡检",
}
ERROR_DIRECTION_DEFAULT = ("查看管理服务器日志中该 REST 请求的错误，确认域已启用 RESTful 管理服务"
                           "（RestfulManagementServices）")


# ------------------------------------------------------------------ thresholds


def _threshold_override(key, value):
    """(value, None) for a usable override, (None, sentence) for one that is refused."""
    if isinstance(value, str):  # -e key=value and templating give text
        try:
            value = float(value)
        except ValueError:
            pass
    problem = key_problem(key, value, DEFAULT_THRESHOLDS, PERCENT_KEYS)
    return (None, problem) if problem else (value, None)


def merge_thresholds(overrides):
    """(thresholds, problems): the defaults with the usable overrides on top, and a Chinese /
    English sentence for each override that was refused (its default stays in force)."""
    merged = dict(DEFAULT_THRESHOLDS)
    problems = []
    if overrides in (None, ""):
        return merged, problems
    if not isinstance(overrides, dict):
        return merged, ["阈值必须是字典 / thresholds must be a dictionary"]
    accepted = {}
    for key in sorted(overrides, key=str):
        value, problem = _threshold_override(key, overrides[key])
        if problem:
            problems.append(problem)
        else:
            accepted[key] = value
    candidate = dict(merged, **accepted)
    for key in sorted(k for k in DEFAULT_THRESHOLDS if k.endswith("_warning")):
        high = key[:-len("_warning")] + "_critical"
        low_value, high_value = candidate[key], candidate[high]
        if low_value is not None and high_value is not None and low_value > high_value:
            problems.append("告警阈值 %s (%s) 高于严重阈值 %s (%s) / warning threshold %s is above critical "
                            "threshold %s" % (key, low_value, high, high_value, key, high))
            accepted.pop(key, None)
            accepted.pop(high, None)
    merged.update(accepted)
    return merged, problems


def _levels(thresholds, kind):
    return thresholds[kind + "_warning"], thresholds[kind + "_critical"]


def _threshold_value(thresholds, kind):
    warning, critical = _levels(thresholds, kind)
    return {"warning": warning, "critical": critical}


# ------------------------------------------------------------------ small helpers


def _fmt(number):
    return ("%.1f" % number).rstrip("0").rstrip(".")


def _mib(value):
    return "%d MiB" % round(value / 1048576.0)


def _error_text(part):
    return part["error"]["message"] if is_error(part) else str(part)


def _record(item, host, status, **fields):
    return make_record(REQUIREMENT, item, host, status, **fields)


def _error_record(item, host, part_or_reason, kind=None, what=None):
    """An error record for an item whose data could not be read (or was incomplete)."""
    if is_error(part_or_reason):
        kind = part_or_reason["error"].get("kind")
        reason = part_or_reason["error"]["message"]
    else:
        reason = str(part_or_reason)
    detail = "%s未能检查：%s" % (what or item, reason)
    return _record(item, host, "error", detail=detail,
                   direction=ERROR_DIRECTION.get(kind, ERROR_DIRECTION_DEFAULT),
                   consequence=NOT_INSPECTED)


def _skipped(item, host, server, state):
    return _record(item, host, "skipped", value=None,
                   detail="服务器 %s 当前状态为 %s，没有运行时数据，本项未检查。" % (server, state))


def _worse(first, second):
    return first if SEVERITY[first] <= SEVERITY[second] else second


def _number_field(raw, field):
    """The numeric field, or raise KeyError naming it (missing or not a number)."""
    value = raw.get(field) if isinstance(raw, dict) else None
    if not _is_number(value):
        raise KeyError(field)
    return value


def health_name(value):
    """HEALTH_OK ... from the REST object, a string in either spelling, or an integer."""
    if isinstance(value, dict):
        value = value.get("state")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return HEALTH_INTS.get(value, "HEALTH_UNKNOWN")
    text = str(value).strip()
    if text.upper().startswith("HEALTH_"):
        return text.upper()
    return HEALTH_NAMES.get(text.lower(), "HEALTH_UNKNOWN")


def _health_parts(value):
    """(subsystem, symptoms text) of a HealthState object, for the detail sentence."""
    if not isinstance(value, dict):
        return None, ""
    subsystem = value.get("subsystemName") or None
    texts = []
    for symptom in value.get("symptoms") or []:
        if isinstance(symptom, dict):
            text = symptom.get("info") or symptom.get("type")
            if text:
                texts.append(str(text))
    for reason in value.get("reasonCode") or []:
        texts.append(str(reason))
    return subsystem, "；".join(texts[:3])


# ------------------------------------------------------------------ servers


def _server_state_record(name, state, host):
    item = "WebLogic 服务器 %s 状态" % name
    if state == RUNNING:
        return _record(item, host, "ok", value=state, threshold=RUNNING,
                       detail="服务器 %s 处于 RUNNING 状态。" % name)
    if state in NOT_SERVING_STATES:
        return _record(item, host, "warning", value=state, threshold=RUNNING,
                       detail="服务器 %s 处于 %s 状态，不处理普通业务请求。" % (name, state),
                       direction="确认是否为计划内维护；ADMIN/STANDBY 状态可在控制台恢复(Resume)为 RUNNING，"
                                 "并查看服务器日志中进入该状态的原因",
                       consequence="该服务器不处理用户请求，集群处理能力下降")
    return _record(item, host, "critical", value=state, threshold=RUNNING,
                   detail="服务器 %s 处于 %s 状态，未在运行。" % (name, state),
                   direction="在控制台或节点管理器(Node Manager)查看该服务器状态，检查服务器日志和标准输出中"
                             "停止或启动失败的原因（端口冲突、内存不足、数据源不可用等），处理后重新启动",
                   consequence="该服务器不处理业务请求，集群容量下降；如为唯一服务器则业务中断")


def _health_record(name, runtime, host):
    item = "WebLogic 服务器 %s 健康状态" % name
    raw = runtime.get("overallHealthState") or runtime.get("healthState")
    health = health_name(raw)
    if health is None:
        return _error_record(item, host, "serverRuntimes 应答缺少 overallHealthState/healthState 字段 / "
                             "the serverRuntimes answer has no health state",
                             what="服务器 %s 健康状态" % name)
    subsystem, symptoms = _health_parts(raw)
    status = HEALTH_STATUS.get(health, "warning")
    where = "（子系统 %s%s）" % (subsystem, "：" + symptoms if symptoms else "") if subsystem else \
        ("（%s）" % symptoms if symptoms else "")
    if status == "ok":
        return _record(item, host, "ok", value=health, threshold="HEALTH_OK",
                       detail="服务器 %s 自检健康状态为 %s。" % (name, health))
    if status == "warning":
        return _record(item, host, "warning", value=health, threshold="HEALTH_OK",
                       detail="服务器 %s 自检健康状态为 %s%s。" % (name, health, where),
                       direction="查看控制台“监视-健康状况”中报告问题的子系统和服务器日志，"
                                 "检查线程池（卡住/占用线程）、JVM 堆内存和 JDBC 数据源",
                       consequence="服务器存在故障风险，可能出现响应变慢或部分请求失败")
    return _record(item, host, "critical", value=health, threshold="HEALTH_OK",
                   detail="服务器 %s 自检健康状态为 %s%s。" % (name, health, where),
                   direction="立即查看报告故障的子系统和服务器日志中的错误，必要时取线程转储后重启该服务器",
                   consequence="服务器子系统故障，部分或全部业务请求失败")


# ------------------------------------------------------------------ JVM and threads


def _jvm(name, raw, host, thresholds):
    """(record, figures) for the heap of one running server."""
    item = "WebLogic %s 堆内存使用率" % name
    if is_error(raw):
        return _error_record(item, host, raw), None
    try:
        current = _number_field(raw, "heapSizeCurrent")
        free = _number_field(raw, "heapFreeCurrent")
        maximum = _number_field(raw, "heapSizeMax")
    except KeyError as exc:
        return _error_record(item, host, "JVMRuntime 应答缺少字段 %s / the JVMRuntime answer lacks %s"
                             % (exc.args[0], exc.args[0])), None
    if maximum <= 0:
        return _error_record(item, host, "JVMRuntime 的 heapSizeMax 为 %s / heapSizeMax is %s"
                             % (maximum, maximum)), None
    used = max(current - free, 0)
    percent = round(used * 100.0 / maximum, 1)
    figures = {"server": name, "heap_used_bytes": used, "heap_current_bytes": current,
               "heap_free_bytes": free, "heap_max_bytes": maximum, "heap_used_percent": percent}
    warning, critical = _levels(thresholds, "heap")
    status = grade(percent, warning, critical)
    detail = "服务器 %s 堆内存已用 %s（当前堆 %s，最大 %s），使用率 %s%%。" % (
        name, _mib(used), _mib(current), _mib(maximum), _fmt(percent))
    extra = {}
    if status != "ok":
        extra = {"direction": "检查 GC 日志中 Full GC 的频率和耗时，"
                              "分析堆转储(heap dump)排查内存泄漏或大对象，必要时调整 -Xmx",
                 "consequence": "频繁 Full GC 使应用响应变慢，严重时出现 OutOfMemoryError，服务器不可用"}
    return _record(item, host, status, value=percent, unit="%",
                   threshold=_threshold_value(thresholds, "heap"), detail=detail, **extra), figures


THREAD_CHECKS = (
    # (field, threshold kind, item suffix, words, direction, consequence)
    ("stuckThreadCount", "stuck_threads", "卡住线程(stuck)", "卡住线程",
     "检查线程转储(thread dump)中卡住线程的调用栈，排查慢SQL或外部接口超时",
     "请求堆积，应用响应变慢直至不可用"),
    ("hoggingThreadCount", "hogging_threads", "占用线程(hogging)", "长时间占用的线程",
     "通过线程转储查看这些线程正在处理的请求，排查慢SQL、数据库锁等待和外部接口调用",
     "长时间占用的线程可能转为卡住线程，可用线程减少，响应变慢"),
    ("pendingUserRequestCount", "pending_requests", "等待处理的请求", "等待执行线程的用户请求",
     "检查线程池是否被卡住/占用线程耗尽、请求量是否突增，以及后端数据库的响应时间",
     "用户请求排队等待，响应变慢，严重时请求超时"),
)


def _threads(name, raw, host, thresholds):
    """(records, figures) for the execute-thread pool of one running server."""
    records = []
    if is_error(raw):
        return [_error_record("WebLogic %s %s" % (name, c[2]), host, raw) for c in THREAD_CHECKS], None
    figures = {"server": name}
    for field in ("executeThreadTotalCount", "executeThreadIdleCount", "queueLength"):
        figures[field] = raw.get(field) if _is_number(raw.get(field)) else None
    for field, kind, suffix, words, direction, consequence in THREAD_CHECKS:
        item = "WebLogic %s %s" % (name, suffix)
        try:
            count = int(_number_field(raw, field))
        except KeyError:
            records.append(_error_record(item, host, "threadPoolRuntime 应答缺少字段 %s / "
                                         "the threadPoolRuntime answer lacks %s" % (field, field)))
            figures[field] = None
            continue
        figures[field] = count
        warning, critical = _levels(thresholds, kind)
        status = grade(count, warning, critical)
        total = figures["executeThreadTotalCount"]
        detail = "服务器 %s 有 %d 个%s%s。" % (name, count, words,
                                           "（执行线程共 %d 个）" % total if total is not None else "")
        extra = {"direction": direction, "consequence": consequence} if status != "ok" else {}
        records.append(_record(item, host, status, value=count, unit="个",
                               threshold=_threshold_value(thresholds, kind), detail=detail, **extra))
    names = {"stuckThreadCount": "stuck", "hoggingThreadCount": "hogging",
             "pendingUserRequestCount": "pending_user_requests", "executeThreadTotalCount": "total",
             "executeThreadIdleCount": "idle", "queueLength": "queue_length"}
    return records, dict((names.get(k, k), v) for k, v in figures.items())


# ------------------------------------------------------------------ data sources


def _jdbc_index(jdbc):
    """{name: {'jndi', 'max_capacity', 'targets', 'problem'}} from the configured data sources."""
    index = {}
    for entry in jdbc if isinstance(jdbc, list) else []:
        name = entry.get("name")
        pool, params = entry.get("pool"), entry.get("params")
        info = {"targets": entry.get("targets") or [], "jndi": None, "max_capacity": None, "problem": None}
        if isinstance(params, dict) and not is_error(params):
            names = params.get("JNDINames") or []
            info["jndi"] = str(names[0]) if isinstance(names, list) and names else None
        if is_error(pool):
            info["problem"] = pool
        elif _is_number((pool or {}).get("maxCapacity")):
            info["max_capacity"] = pool["maxCapacity"]
        else:
            info["problem"] = "JDBCConnectionPoolParams 应答缺少字段 maxCapacity / lacks maxCapacity"
        index[name] = info
    return index


def _datasource(server, raw, config, host, thresholds, jdbc_problem=None):
    """(record, figures) for one data source on one running server."""
    name = str(raw.get("name"))
    label = (config or {}).get("jndi") or name
    item = "数据源 %s@%s 连接使用率" % (label, server)
    state = raw.get("state")
    try:
        active = int(_number_field(raw, "activeConnectionsCurrentCount"))
        waiting = int(_number_field(raw, "waitingForConnectionCurrentCount"))
    except KeyError as exc:
        return _error_record(item, host, "JDBCDataSourceRuntimeMBeans 应答缺少字段 %s / lacks %s"
                             % (exc.args[0], exc.args[0])), None
    capacity = raw.get("currCapacity") if _is_number(raw.get("currCapacity")) else None
    figures = {"name": name, "jndi": (config or {}).get("jndi"), "server": server, "state": state,
               "active": active, "curr_capacity": capacity, "waiting": waiting,
               "max_capacity": None, "used_percent": None}
    if config is None or config.get("max_capacity") is None:
        reason = (config or {}).get("problem") or jdbc_problem or \
            "域配置中没有该数据源（JDBCSystemResources），无法得知最大连接数 / no configured maxCapacity"
        return _error_record(item, host, reason, what="数据源 %s@%s 连接使用率" % (label, server)), figures
    maximum = config["max_capacity"]
    percent = round(active * 100.0 / maximum, 1) if maximum > 0 else 100.0
    figures.update(max_capacity=maximum, used_percent=percent)
    warning, critical = _levels(thresholds, "datasource")
    wait_warning, wait_critical = _levels(thresholds, "datasource_waiting")
    status = _worse(grade(percent, warning, critical), grade(waiting, wait_warning, wait_critical))
    threshold = dict(_threshold_value(thresholds, "datasource"),
                     waiting_warning=wait_warning, waiting_critical=wait_critical)
    detail = ("数据源 %s 在服务器 %s 上活动连接 %d 个，最大容量 %d，使用率 %s%%，"
              "当前池容量 %s，等待连接的请求 %d 个" % (label, server, active, maximum, _fmt(percent),
                                            capacity if capacity is not None else "未知", waiting))
    if state not in (None, "Running"):
        status = "critical" if state != "Overloaded" else _worse(status, "warning")
        detail += "，数据源状态为 %s" % state
        direction = ("查看数据源状态和服务器日志中的连接错误，检查数据库实例、监听及数据库账号是否可用，"
                     "恢复后在控制台对数据源执行恢复(Resume)或重置(Reset)")
        consequence = "应用无法从该数据源获取连接，访问数据库的业务报错或超时"
    else:
        direction = ("检查数据库会话和慢SQL、应用是否未释放连接（连接泄漏，可启用非活动连接超时排查），"
                     "评估是否需要调大最大容量(maxCapacity)并同步调整数据库 processes/sessions")
        consequence = "连接池耗尽后应用获取连接需排队或失败，业务操作报错或超时"
    extra = {"direction": direction, "consequence": consequence} if status != "ok" else {}
    return _record(item, host, status, value=percent, unit="%", threshold=threshold,
                   detail=detail + "。", **extra), figures


def _datasource_records(server, raw, index, server_config, host, thresholds, jdbc_problem=None):
    """Records for the data sources deployed on, or targeted at, one running server."""
    if is_error(raw):
        return [_error_record("数据源（全部）@%s 连接使用率" % server, host, raw,
                              what="服务器 %s 的数据源" % server)], []
    records, figures = [], []
    seen = set()
    for item in raw:
        config = index.get(item.get("name"))
        record, figure = _datasource(server, item, config, host, thresholds, jdbc_problem)
        records.append(record)
        if figure:
            figures.append(figure)
        seen.add(item.get("name"))
    # Targeted at this server but not running on it: the data source failed to deploy.
    for name, info in sorted(index.items(), key=lambda kv: str(kv[0])):
        if name in seen or server not in expand_targets(info["targets"], server_config):
            continue
        label = info["jndi"] or name
        records.append(_record(
            "数据源 %s@%s 连接使用率" % (label, server), host, "critical", value=None,
            detail="数据源 %s 的目标包含服务器 %s，但该服务器上没有它的运行实例（未部署或部署失败）。"
                   % (label, server),
            direction="检查数据源的目标(Targets)配置和服务器日志中该数据源的部署错误（数据库不可达、口令错误等）",
            consequence="依赖该数据源的应用无法访问数据库，相关业务中断"))
        figures.append({"name": name, "jndi": info["jndi"], "server": server, "state": None, "active": None,
                        "curr_capacity": None, "waiting": None, "max_capacity": info["max_capacity"],
                        "used_percent": None})
    return records, figures


# ------------------------------------------------------------------ applications


def _app_record(app, server, state, host):
    item = "应用 %s@%s 状态" % (app, server)
    if is_error(state):
        return _error_record(item, host, state)
    if not isinstance(state, str) or not state:
        return _error_record(item, host, "getCurrentState 未返回状态 / getCurrentState returned no state")
    if state in APP_OK:
        note = "（生产环境重新部署后退役的旧版本）" if state == "STATE_RETIRED" else ""
        return _record(item, host, "ok", value=state, threshold="STATE_ACTIVE",
                       detail="应用 %s 在服务器 %s 上的状态为 %s%s。" % (app, server, state, note))
    if state == "STATE_FAILED":
        return _record(item, host, "critical", value=state, threshold="STATE_ACTIVE",
                       detail="应用 %s 在服务器 %s 上部署或启动失败（%s）。" % (app, server, state),
                       direction="查看该服务器日志中应用部署/启动失败的异常堆栈，"
                                 "核对部署包及其依赖的数据源和 JNDI 资源，修复后重新启动或重新部署该应用",
                       consequence="该应用在此服务器上不可用，用户访问报错")
    if state in APP_CRITICAL:
        return _record(item, host, "critical", value=state, threshold="STATE_ACTIVE",
                       detail="应用 %s 在服务器 %s 上已部署但未启动（%s）。" % (app, server, state),
                       direction="确认是否为计划内停用；否则在控制台或部署工具中启动该应用，并查看服务器日志中的启动错误",
                       consequence="该应用在此服务器上不处理请求，访问该服务器的用户无法使用业务")
    return _record(item, host, "warning", value=state, threshold="STATE_ACTIVE",
                   detail="应用 %s 在服务器 %s 上的状态为 %s，未处于 STATE_ACTIVE。" % (app, server, state),
                   direction="STATE_ADMIN 表示应用处于管理模式、仅接受管理请求：确认维护是否结束，"
                             "结束后切换为对所有请求提供服务；STATE_UPDATE_PENDING 表示正在更新，稍后复查",
                   consequence="普通用户暂时无法通过该服务器使用此应用")


def _application_records(snapshot, lifecycle_states, running, server_config, host, config_error=None):
    deployments = snapshot.get("deployments")
    if deployments is None:
        return [], []
    if is_error(deployments):
        return [_error_record("WebLogic 应用部署列表", host, deployments, what="应用部署列表")], []
    states = snapshot.get("app_states") or {}
    records, figures = [], []
    for deployment in deployments:
        app = str(deployment.get("name"))
        targets = expand_targets(deployment.get("targets"), server_config)
        for server in targets:
            item = "应用 %s@%s 状态" % (app, server)
            if server not in running:
                records.append(_skipped(item, host, server, lifecycle_states.get(server, "UNKNOWN")))
                figures.append({"name": app, "target": server, "state": None})
                continue
            state = (states.get(app) or {}).get(server)
            if state is None:
                state = {"error": {"kind": "protocol",
                                   "message": "未读取到该应用在此服务器上的状态 / its state was not read"}}
            records.append(_app_record(app, server, state, host))
            figures.append({"name": app, "target": server, "state": None if is_error(state) else state})
        if not targets and config_error is not None and deployment.get("targets"):
            # Cluster members come from domainConfig/servers: unknown, not absent.
            records.append(_error_record("应用 %s 部署目标" % app, host, config_error,
                                         what="应用 %s 的部署目标（集群成员）" % app))
        elif not targets:
            refs = [identity_name(t) for t in deployment.get("targets") or []]
            names = ["%s/%s" % ref for ref in refs if ref[1]]
            records.append(_record("应用 %s 部署目标" % app, host, "warning", value=None,
                                   detail="应用 %s 没有部署到任何服务器或集群%s。"
                                          % (app, "（目标 %s 无法解析）" % "、".join(names) if names else ""),
                                   direction="在控制台核对该应用的部署目标(Targets)和集群成员配置",
                                   consequence="该应用未在任何服务器上运行，用户无法访问"))
    return records, figures


# ------------------------------------------------------------------ the whole domain


def connection_error_record(host, error, url=None):
    """The one record of a domain whose Admin Server could not be read at all."""
    part = error if is_error(error) else {"error": error}
    return _error_record("WebLogic 管理服务器 REST 接口", host, part,
                         what="WebLogic 管理服务器%s" % (" %s " % url if url else ""))


def _runtime_records(name, parts, ctx):
    """Heap, thread and data source records of one running server."""
    host, merged, out = ctx["host"], ctx["thresholds"], ctx["out"]
    missing = {"error": {"kind": "protocol",
                         "message": "未读取该服务器的运行数据 / its runtime data was not read"}}
    record, figures = _jvm(name, parts.get("jvm", missing), host, merged)
    out["records"].append(record)
    if figures:
        out["jvm"].append(figures)
    records, figures = _threads(name, parts.get("threads", missing), host, merged)
    out["records"].extend(records)
    if figures:
        out["threads"].append(figures)
    records, figures = _datasource_records(name, parts.get("datasources", missing), ctx["index"],
                                           ctx["server_config"], host, merged, ctx["jdbc_problem"])
    out["records"].extend(records)
    out["datasources"].extend(figures)


def _skipped_runtime_records(name, state, ctx):
    """The runtime items of a server without runtime data, as skipped records."""
    items = ["WebLogic %s 堆内存使用率" % name] + ["WebLogic %s %s" % (name, c[2]) for c in THREAD_CHECKS]
    for ds_name, info in sorted(ctx["index"].items(), key=lambda kv: str(kv[0])):
        if name in expand_targets(info["targets"], ctx["server_config"]):
            items.append("数据源 %s@%s 连接使用率" % (info["jndi"] or ds_name, name))
    ctx["out"]["records"].extend(_skipped(item, ctx["host"], name, state) for item in items)


def evaluate(snapshot, host, thresholds=None):
    """Records and figures of one domain.

    Returns {'records', 'servers', 'jvm', 'threads', 'datasources', 'applications',
    'thresholds'}; thresholds are the defaults with the usable overrides applied, and each
    refused override is named in an error record.
    """
    merged, problems = merge_thresholds(thresholds)
    out = {"records": [], "servers": [], "jvm": [], "threads": [], "datasources": [],
           "applications": [], "thresholds": merged}
    records = out["records"]
    if problems:
        records.append(_record("WebLogic 巡检阈值配置", host, "error", value=None,
                               detail="以下阈值未被采用，相应检查按默认阈值进行：%s。" % "；".join(problems),
                               direction="修正 gxtax_inspection_weblogic_thresholds 中的上述阈值",
                               consequence="相关检查未按预期阈值判定，异常可能被漏报或误报"))
    lifecycle = snapshot.get("lifecycle")
    if not lifecycle or is_error(lifecycle):
        # A domain has at least its Admin Server: an empty list is as unusable as none.
        empty = "WebLogic 返回的服务器列表为空 / WebLogic listed no servers"
        error = lifecycle or {"error": {"kind": "protocol", "message": empty}}
        records.append(connection_error_record(host, error, snapshot.get("url")))
        return out
    runtimes = snapshot.get("runtimes")
    server_config = snapshot.get("server_config")
    jdbc = snapshot.get("jdbc")
    ctx = {"host": host, "thresholds": merged, "out": out, "index": _jdbc_index(jdbc),
           "server_config": [] if server_config is None or is_error(server_config) else server_config,
           "jdbc_problem": jdbc if is_error(jdbc) else None}
    runtime_by_name = {} if runtimes is None or is_error(runtimes) else \
        dict((str(r.get("name")), r) for r in runtimes)
    states = dict((str(i.get("name")), str(i.get("state") or "UNKNOWN")) for i in lifecycle)
    clusters = dict((str(i.get("name")), identity_name(i.get("cluster"))[1]) for i in ctx["server_config"])
    per_server = snapshot.get("per_server") or {}
    for name in sorted(states):
        state = states[name]
        records.append(_server_state_record(name, state, host))
        runtime = runtime_by_name.get(name)
        server = {"name": name, "state": state, "health": None, "cluster": clusters.get(name),
                  "running": runtime is not None}
        out["servers"].append(server)
        if runtime is None and is_error(runtimes):
            # The list of running servers itself failed: nothing is known of this one's runtime.
            records.append(_error_record("WebLogic 服务器 %s 健康状态" % name, host, runtimes))
        elif runtime is None:
            _skipped_runtime_records(name, state, ctx)
        else:
            health = _health_record(name, runtime, host)
            records.append(health)
            server["health"] = health["value"]
            _runtime_records(name, per_server.get(name) or {}, ctx)
    up = set(runtime_by_name) if not is_error(runtimes) else \
        set(name for name, state in states.items() if state not in DOWN_STATES)
    config_error = server_config if server_config is not None and is_error(server_config) else None
    app_records, figures = _application_records(snapshot, states, up, ctx["server_config"], host,
                                                config_error)
    records.extend(app_records)
    out["applications"] = figures
    return out
