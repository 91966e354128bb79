#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: weblogic_server
short_description: Start, shut down or restart a WebLogic managed server through the RESTful Management API
version_added: 0.1.0
description:
  - Changes the life-cycle state of one managed server through the Admin Server's RESTful Management API
    (C(/management/weblogic/latest/domainRuntime/serverLifeCycleRuntimes/<name>), WebLogic 12.2.1 and
    later, 14.1) and waits until the server has reached it, polling its C(state).
  - C(shutdown) is graceful by default (in-flight work and, unless O(ignore_sessions), HTTP sessions
    may finish for O(shutdown_timeout) seconds); C(start) goes through the server's Node Manager,
    which must be configured on its machine.
  - Idempotent, C(running) on a RUNNING server and C(shutdown) on a SHUTDOWN server change nothing;
    C(restarted) always restarts. Check mode reports what would change without asking WebLogic to
    change anything.
  - Fails with one sentence naming the server when it does not reach the state in O(wait_timeout)
    seconds, or at once when Node Manager gives up (C(FAILED_NOT_RESTARTABLE)); the states seen on
    the way are returned.
  - The user needs the Operator (or Admin) role. The password is sent only to the Admin Server and
    appears in no result or message.
  - Runs on the control node (C(delegate_to=localhost)). WebLogic 10.3.6 has no such API; use the
    WLST scripts in C(files/wlst/) (the C(gxtax.ops.weblogic_rolling_restart) role chooses by
    C(gxtax_weblogic_api)).
extends_documentation_fragment:
  - gxtax.ops.weblogic
author: gxtax-ops contributors
options:
  user:
    description: A user in the Operator or Admin role.
    type: str
    required: true
  timeout:
    description: Seconds to wait for each REST request.
    type: float
    default: 30
  name:
    description: The managed server.
    type: str
    required: true
  state:
    description: C(running), C(shutdown), or C(restarted) (shut down, then started).
    type: str
    choices: [running, shutdown, restarted]
    default: running
  graceful:
    description: Graceful shutdown; false forces it (C(forceShutdown)), dropping in-flight work.
    type: bool
    default: true
  shutdown_timeout:
    description:
      - Seconds WebLogic lets in-flight work finish before it forces the shutdown; 0 waits without limit.
    type: int
    default: 120
  ignore_sessions:
    description: Drop pending HTTP sessions at once instead of waiting for them during a graceful shutdown.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the server to reach SHUTDOWN or RUNNING after each step (a graceful
        shutdown gets O(shutdown_timeout) on top).
    type: float
    default: 600
  wait_healthy:
    description:
      - After the server is RUNNING, also wait (up to O(wait_timeout)) until its overallHealthState is
        C(HEALTH_OK) and every application of O(apps) is C(STATE_ACTIVE) on it; fail naming what is not.
      - Also checked, without changing anything, when the server already runs.
    type: bool
    default: false
  apps:
    description: Applications that must be C(STATE_ACTIVE) on the server (implies O(wait_healthy)).
    type: list
    elements: str
    default: []
  poll_interval:
    description: Seconds between two reads of the state.
    type: float
    default: 2
notes:
  - "Oracle: ServerLifeCycleRuntimeMBean
    U(https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/runtime/ServerLifeCycleRuntimeMBean.html),
    shutdown(timeout, ignoreSessions)
    U(https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverlifecycleruntimes-name-shutdown-x-operations-2.html)."
"""

EXAMPLES = r"""
- name: REL-09 | Restart ms1 gracefully
  gxtax.ops.weblogic_server:
    url: "{{ gxtax_weblogic_url }}"
    user: "{{ gxtax_weblogic_operator_user }}"
    password: "{{ gxtax_weblogic_operator_password }}"
    name: ms1
    state: restarted
    shutdown_timeout: 300
  delegate_to: localhost
  no_log: true

- name: REL-09 | Make sure ms2 runs
  gxtax.ops.weblogic_server:
    url: https://wls-admin:7002
    user: operator
    password: "{{ vault_operator_password }}"
    name: ms2
    state: running
  delegate_to: localhost
"""

RETURN = r"""
name:
  description: The server.
  returned: always
  type: str
previous_state:
  description: Its state before the task (RUNNING, SHUTDOWN, ...).
  returned: success
  type: str
state:
  description: Its state after the task (before it, in check mode).
  returned: success
  type: str
actions:
  description:
    - The steps taken (or, in check mode, that would be), C(shutdown), C(start), C(wait), C(wait_down).
  returned: success
  type: list
  elements: str
states:
  description: Every state seen, in order, without repeats.
  returned: always
  type: list
  elements: str
health:
  description: overallHealthState when the server ends RUNNING (HEALTH_OK, ...), else null.
  returned: success
  type: str
app_states:
  description: State of each application of O(apps) on the server (STATE_ACTIVE, ...).
  returned: success
  type: dict
error:
  description: What went wrong (kind, message); on failure only.
  returned: failed
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_lifecycle import LifecycleError, ensure
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    WeblogicClient,
    WeblogicError,
    connection_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **connection_argument_spec(),
            timeout=dict(type="float", default=30.0),
            name=dict(type="str", required=True),
            state=dict(type="str", default="running", choices=["running", "shutdown", "restarted"]),
            graceful=dict(type="bool", default=True),
            shutdown_timeout=dict(type="int", default=120),
            ignore_sessions=dict(type="bool", default=False),
            wait_timeout=dict(type="float", default=600.0),
            wait_healthy=dict(type="bool", default=False),
            apps=dict(type="list", elements="str", default=[]),
            poll_interval=dict(type="float", default=2.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        client = WeblogicClient(p["url"], p["user"], p["password"], validate_certs=p["validate_certs"],
                                ca_path=p["ca_path"], timeout=p["timeout"])
        result = ensure(client, p["name"], p["state"], graceful=p["graceful"],
                        shutdown_timeout=p["shutdown_timeout"], ignore_sessions=p["ignore_sessions"],
                        wait_timeout=p["wait_timeout"], check_mode=module.check_mode,
                        interval=p["poll_interval"], apps=p["apps"], wait_healthy=p["wait_healthy"])
    except LifecycleError as exc:
        module.fail_json(msg=exc.message, name=p["name"], states=exc.states, error=exc.to_dict(),
                         changed=True)
    except WeblogicError as exc:
        module.fail_json(msg="服务器 %s：%s" % (p["name"], exc.message), name=p["name"], states=[],
                         error=exc.to_dict(), changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
