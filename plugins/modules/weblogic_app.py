#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: weblogic_app
short_description: Deploy, redeploy, start, stop, undeploy a WebLogic application over REST (REL-09)
version_added: 0.1.0
description:
  - Brings one application of a WebLogic 12.2.1+/14.1 domain to the requested state through the
    Admin Server's RESTful Management API (C(/management/weblogic/latest)).
  - Configuration changes (deploy, redeploy, undeploy) run in one explicit edit session
    (C(startEdit), the change, C(activate)); any failure after C(startEdit) cancels the session
    (C(cancelEdit)) so no lock or half-made change is left behind. C(started) and C(stopped) are
    runtime operations and need no edit session.
  - After the change the module polls the deployment progress object until it completes and then
    checks C(STATE_ACTIVE) (or, for C(stopped), C(STATE_PREPARED)) on every server the deployment
    targets (clusters are expanded to their members), within O(timeout).
  - Idempotent. The SHA-256 of an uploaded archive and the version are kept in the deployment's
    C(notes) attribute; the same archive (and version) again reports C(changed=false). With
    O(source_path) the source path and version are compared instead.
  - Errors are one Chinese + English sentence - Admin Server unreachable, wrong password (401), a
    user without the Deployer role (403), the edit lock held by another user (named), activation
    failed (WebLogic's message), deployment failed or timed out. The password never appears.
  - WebLogic 10.3.6 has no such API; use the WLST path for it.
  - Runs on the control node (C(delegate_to=localhost)).
options:
  user:
    description: A WebLogic user in the Deployer role (or Admin).
    type: str
    required: true
  name:
    description: The deployment's name in WebLogic.
    type: str
    required: true
  src:
    description: Archive (war, ear) on the control node, uploaded to the Admin Server (multipart).
    type: path
  source_path:
    description: Archive already on the Admin Server's host. Mutually exclusive with O(src).
    type: str
  targets:
    description:
      - Servers or clusters to deploy to (names; each must exist in the domain). Needed for a first
        deployment; when given for an existing deployment they must equal its targets (this module
        does not move a deployment, undeploy it first).
    type: list
    elements: str
    default: []
  state:
    description:
      - C(present) deployed and active (deploys, or redeploys when the archive's checksum, the
        source path or the version differs, or starts it when it is not active everywhere);
        C(absent) undeployed; C(started) / C(stopped) an existing deployment started or stopped;
        C(redeployed) redeployed every time.
    type: str
    choices: [present, absent, started, stopped, redeployed]
    default: present
  version:
    description:
      - Archive version (C(archiveVersion)) for a production redeployment; a different version redeploys.
    type: str
  plan:
    description: Deployment plan path on the Admin Server (C(planPath)).
    type: str
  timeout:
    description: Seconds to wait for the deployment to finish and be active on every target.
    type: float
    default: 300
notes:
  - Check mode reads only (GET and getCurrentState) and reports the action and the diff.
  - Diff mode shows targets, version, checksum and per-server state before and after.
extends_documentation_fragment:
  - gxtax.ops.weblogic
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: REL-09 | Deploy the publicity web application on the cluster
  gxtax.ops.weblogic_app:
    url: "{{ gxtax_weblogic_url }}"
    user: "{{ gxtax_weblogic_deploy_user }}"
    password: "{{ gxtax_weblogic_deploy_password }}"
    name: gxtax-web
    src: /srv/release/gxtax-web-2.3.1.war
    version: 2.3.1
    targets: [gxtax-cluster]
    timeout: 600
  delegate_to: localhost

- name: REL-09 | Stop an application
  gxtax.ops.weblogic_app:
    url: "{{ gxtax_weblogic_url }}"
    user: "{{ gxtax_weblogic_deploy_user }}"
    password: "{{ gxtax_weblogic_deploy_password }}"
    name: gxtax-api
    state: stopped
  delegate_to: localhost
"""

RETURN = r"""
action:
  description: What was (or, in check mode, would be) done - none, deploy, redeploy, undeploy, start, stop.
  returned: success
  type: str
reason:
  description: Why that action (Chinese / English).
  returned: success
  type: str
name:
  description: The deployment's name.
  returned: always
  type: str
checksum:
  description: SHA-256 of O(src), when given.
  returned: success
  type: str
states:
  description: Application state per target server after the run ({server - state}).
  returned: success
  type: dict
before:
  description: Targets, version, checksum and state before.
  returned: success
  type: dict
after:
  description: Targets, version, checksum and state after (predicted in check mode).
  returned: success
  type: dict
steps:
  description: Edit-session steps taken (startEdit, activate, cancelEdit).
  returned: when something changed
  type: list
  elements: str
error:
  description:
    - On failure, kind (unreachable, unauthorized, forbidden, locked, activation, failed, timeout, ...),
      status and message.
  returned: failure
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_deploy import run, sha256_file
from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    WeblogicClient,
    WeblogicError,
    connection_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **connection_argument_spec(),
            name=dict(type="str", required=True),
            src=dict(type="path"),
            source_path=dict(type="str"),
            targets=dict(type="list", elements="str", default=[]),
            state=dict(type="str", default="present",
                       choices=["present", "absent", "started", "stopped", "redeployed"]),
            version=dict(type="str"),
            plan=dict(type="str"),
            timeout=dict(type="float", default=300.0),
        ),
        mutually_exclusive=[("src", "source_path")],
        required_if=[("state", "redeployed", ("src", "source_path"), True)],
        supports_check_mode=True,
    )
    p = module.params
    desired = dict((k, p[k]) for k in ("name", "src", "source_path", "targets", "state", "version",
                                       "plan", "timeout"))
    if p["state"] == "present" and not (p["src"] or p["source_path"]):
        module.fail_json(msg="state=present 需要 src 或 source_path / state=present needs src or source_path",
                         name=p["name"])
    try:
        if p["src"]:
            desired["checksum"] = sha256_file(p["src"])
    except OSError as exc:
        module.fail_json(msg="无法读取归档 %s（%s） / cannot read the archive %s (%s)"
                         % (p["src"], exc.strerror, p["src"], exc.strerror), name=p["name"])
    try:
        # Each request may take as long as an upload; the deployment wait is `timeout` overall.
        client = WeblogicClient(p["url"], p["user"], p["password"], validate_certs=p["validate_certs"],
                                ca_path=p["ca_path"], timeout=max(30.0, min(p["timeout"], 600.0)))
        result = run(client, desired, check_mode=module.check_mode)
    except WeblogicError as exc:
        module.fail_json(msg=exc.message, error=exc.to_dict(), name=p["name"])
    result["checksum"] = desired.get("checksum")
    if module._diff:
        result["diff"] = {"before": result["before"], "after": result["after"]}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
