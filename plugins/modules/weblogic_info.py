#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: weblogic_info
short_description: Read a WebLogic domain's health through the RESTful Management API (INSP-10)
version_added: 0.1.0
description:
  - Reads, from the Admin Server's RESTful Management API (C(/management/weblogic/latest), WebLogic
    12.2.1 and later, 14.1), the state of every configured server (also those shut down), the
    overall health of each running server, its JVM heap, its execute-thread pool (stuck and hogging
    threads, pending user requests), its JDBC data sources (state, active connections against the
    configured C(maxCapacity), requests waiting for a connection) and the state of each deployed
    application on each server it targets.
  - Returns the figures and one inspection record per item (requirement C(INSP-10)) in the record
    format every gxtax.ops check yields (C(schemas/inspection-record.schema.json)), with 排查方向
    (direction) and 导致问题 (consequence) on every abnormal record.
  - A server that is not running gets its state record (C(critical) for C(SHUTDOWN) or C(FAILED))
    and C(skipped) records for its heap, threads, data sources and applications.
  - The task does not fail when WebLogic cannot be read. An unreachable Admin Server, a TLS
    failure, a wrong password (401), a user without the Monitor role (403) or a WebLogic without
    this REST API (404, e.g. 10.3.6, which needs WLST) gives one C(error) record that says so; a
    single part that fails (one server's JVM, a missing field) gives an C(error) record for that
    item only and the others are still graded.
  - The password is sent only to the Admin Server (environment proxies are ignored, redirects are
    not followed) and appears in no record, result or message.
  - Runs on the control node (C(delegate_to=localhost)); read-only, check mode runs it the same.
options:
  url:
    description:
      - The Admin Server, C(https://host:port) or C(http://host:port), e.g. C(https://wls-admin:7002).
      - Empty gives an C(error) record saying that the URL is not configured.
    type: str
    required: true
  user:
    description: A WebLogic user in the Monitor role (any of Monitor, Operator, Deployer, Admin reads).
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait for each request. Requests to managed servers pass through the Admin Server,
        so a hung managed server costs at most this long once, not once per request.
    type: float
    default: 30
  host:
    description: Inventory host name put into the records (the C(weblogic_admin) host).
    type: str
    default: localhost
  thresholds:
    description:
      - Overrides of the default thresholds; C(null) switches a level off. Keys, defaults and reasons
        in C(docs/weblogic.md). An unknown key or impossible value gives an C(error) record naming it,
        and that check uses its default.
      - C(heap_warning) / C(heap_critical) (85 / 95, % of C(heapSizeMax)),
        C(stuck_threads_warning) / C(stuck_threads_critical) (1 / 5),
        C(hogging_threads_warning) / C(hogging_threads_critical) (5 / 20),
        C(pending_requests_warning) / C(pending_requests_critical) (10 / 50),
        C(datasource_warning) / C(datasource_critical) (80 / 95, % of C(maxCapacity)),
        C(datasource_waiting_warning) / C(datasource_waiting_critical) (1 / 10 waiting requests).
    type: dict
    default: {}
notes:
  - Standard library only (urllib); needs nothing installed on the control node.
  - Application states come from the C(getCurrentState) operation of C(appRuntimeStateRuntime), a
    POST that the Monitor role may invoke; the request carries C(X-Requested-By).
extends_documentation_fragment:
  - gxtax.ops.weblogic
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.url_check
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: INSP-10 | Read the WebLogic domain of this Admin Server
  gxtax.ops.weblogic_info:
    url: "{{ gxtax_weblogic_url }}"
    user: "{{ gxtax_weblogic_user }}"
    password: "{{ gxtax_weblogic_password }}"
    ca_path: /etc/pki/gxtax/ca.pem
    host: "{{ inventory_hostname }}"
    thresholds:
      heap_warning: 80
      datasource_critical: 90
  delegate_to: localhost
  no_log: true
  register: wls

- name: Hand the records to the inspection report
  gxtax.ops.record:
    records: "{{ wls.records }}"
"""

RETURN = r"""
records:
  description: Inspection records (requirement C(INSP-10)) in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-10
      item: WebLogic ms1 卡住线程(stuck)
      host: pub-wls-admin
      status: warning
      value: 2
      unit: 个
      threshold: {warning: 1, critical: 5}
      detail: 服务器 ms1 有 2 个卡住线程（执行线程共 40 个）。
      direction: 检查线程转储(thread dump)中卡住线程的调用栈，排查慢SQL或外部接口超时
      consequence: 请求堆积，应用响应变慢直至不可用
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: warning
url:
  description: The Admin Server URL as shown in records (no user information).
  returned: always
  type: str
servers:
  description: Every configured server.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Server name., type: str}
    state: {description: Life-cycle state (RUNNING, SHUTDOWN, ADMIN, FAILED, ...)., type: str}
    health: {description: "Overall health (HEALTH_OK, HEALTH_WARN, ...); null when not running.", type: str}
    cluster: {description: Cluster name, or null., type: str}
    running: {description: Whether the server has runtime data., type: bool}
jvm:
  description: Heap of each running server.
  returned: always
  type: list
  elements: dict
  contains:
    server: {description: Server name., type: str}
    heap_used_bytes: {description: heapSizeCurrent - heapFreeCurrent., type: int}
    heap_current_bytes: {description: heapSizeCurrent., type: int}
    heap_free_bytes: {description: heapFreeCurrent., type: int}
    heap_max_bytes: {description: heapSizeMax., type: int}
    heap_used_percent: {description: Used heap in % of heapSizeMax., type: float}
threads:
  description: Execute-thread pool of each running server.
  returned: always
  type: list
  elements: dict
  contains:
    server: {description: Server name., type: str}
    stuck: {description: stuckThreadCount., type: int}
    hogging: {description: hoggingThreadCount., type: int}
    pending_user_requests: {description: pendingUserRequestCount., type: int}
    total: {description: executeThreadTotalCount., type: int}
    idle: {description: executeThreadIdleCount., type: int}
    queue_length: {description: queueLength., type: int}
datasources:
  description: Each data source on each running server.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Data source name., type: str}
    jndi: {description: First JNDI name, or null., type: str}
    server: {description: Server name., type: str}
    state: {description: Running, Suspended, Overloaded, Shutdown, ..., type: str}
    active: {description: activeConnectionsCurrentCount., type: int}
    curr_capacity: {description: currCapacity., type: int}
    max_capacity: {description: maxCapacity from the domain configuration., type: int}
    waiting: {description: waitingForConnectionCurrentCount., type: int}
    used_percent: {description: active in % of max_capacity., type: float}
applications:
  description: Each deployed application on each server its targets stand for.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Application (deployment) name., type: str}
    target: {description: Server name., type: str}
    state: {description: "STATE_ACTIVE, STATE_FAILED, ...; null when not read.", type: str}
thresholds:
  description: The thresholds applied (defaults with the accepted overrides).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_health import evaluate
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    WeblogicClient,
    WeblogicError,
    connection_argument_spec,
    display_url,
    inspection_snapshot,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **connection_argument_spec(),
            timeout=dict(type="float", default=30.0),
            host=dict(type="str", default="localhost"),
            thresholds=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    url = display_url(p["url"] or "")
    try:
        client = WeblogicClient(p["url"], p["user"], p["password"], validate_certs=p["validate_certs"],
                                ca_path=p["ca_path"], timeout=p["timeout"])
        result = evaluate(inspection_snapshot(client), p["host"], p["thresholds"])
    except WeblogicError as exc:  # configuration problems (url, ca_path, timeout)
        result = evaluate({"url": url, "lifecycle": {"error": exc.to_dict()}}, p["host"], p["thresholds"])
    except Exception as exc:  # noqa: BLE001 - a defect must not turn the record into a hidden (no_log) failure
        message = "读取或判定 WebLogic 数据时出错（%s: %s） / reading or grading the domain failed" % (
            type(exc).__name__, exc)
        if p["password"]:
            message = message.replace(p["password"], "********")
        result = evaluate({"url": url, "lifecycle": {"error": {"kind": "protocol", "message": message}}},
                          p["host"], p["thresholds"])
    records = result.pop("records")
    module.exit_json(changed=False, records=records, status=worst(records), url=url, **result)


if __name__ == "__main__":
    main()
