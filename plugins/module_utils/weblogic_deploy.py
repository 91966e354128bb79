# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application deployment through WebLogic's RESTful Management API (REL-09).

Plain Python over a WeblogicClient: read what is deployed, decide what to do (pure, unit
tested), then change it in one explicit edit session (startEdit -> change -> activate, and
cancelEdit on any failure after startEdit), wait for the deployment and check STATE_ACTIVE on
every server the deployment targets.

Oracle pages followed:
- edit sessions: "Change Manager Actions"
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/15.1.1/wlrer/api-change-manager-actions.html
  (startEdit, activate, cancelEdit; GET edit/changeManager shows `locked` and `lockOwner`);
  ConfigurationManagerMBean (the Deployer role may run edit sessions):
  https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/mbeanservers/edit/ConfigurationManagerMBean.html
- deploy a file already on the Admin Server (JSON) or upload one (multipart, `model` + `sourcePath`):
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrer/op-management-weblogic-version-edit-appdeployments-x-operations-0.html
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrer/op-management-weblogic-version-edit-appdeployments-x-operations-1.html
  redeploy is the `redeploy` action of edit/appDeployments/{name}, undeploy a DELETE of it;
- deployment progress: domainRuntime/deploymentManager/deploymentProgressObjects/{name}
  (DeploymentProgressObjectMBean: state STATE_DEFERRED/RUNNING/COMPLETED/FAILED, messages);
  start/stop: domainRuntime/deploymentManager/appDeploymentRuntimes/{name}/start|stop
  (same reference book, "Domain Runtime" part: https://docs.oracle.com/cd/E72987_01/wls/WLRDR/toc.htm);
- per-server state: getCurrentState (weblogic_rest.app_state).

Idempotence: the SHA-256 of the uploaded archive and the version are kept in the deployment's
`notes` attribute (every configuration MBean has one; set in the same edit session), as
"gxtax-ops sha256=<hex> version=<v>". The same archive again is `changed: false`. For
source_path (a file already on the Admin Server, which the control node cannot hash) the
source path and version are compared instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import time

from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import (
    WeblogicError, app_state, compact, expand_targets, rest_path)

ROLE = "Deployer"
STATES = ("present", "absent", "started", "stopped", "redeployed")
ACTIVE = "STATE_ACTIVE"
NOTES_RE = re.compile(r"gxtax-ops sha256=(?P<sha>[0-9a-f]{64}|-)(?: version=(?P<version>\S*))?")
PROGRESS_DONE = ("STATE_COMPLETED", "STATE_FAILED")
APP_FIELDS = ("name", "targets", "sourcePath", "planPath", "notes", "versionIdentifier")


class DeployError(WeblogicError):
    """A deployment that did not succeed although every request did (kinds: locked, activation,
    failed, timeout, not_deployed, targets, config)."""


# ------------------------------------------------------------------ pure helpers


def sha256_file(path, block=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_notes(checksum, version):
    return "gxtax-ops sha256=%s version=%s" % (checksum or "-", version or "")


def parse_notes(notes):
    """(checksum, version) kept by make_notes, (None, None) for a deployment made otherwise."""
    found = NOTES_RE.search(notes or "")
    if not found:
        return None, None
    sha = found.group("sha")
    return (None if sha == "-" else sha), (found.group("version") or None)


def target_refs(targets, servers, clusters):
    """['gxtax-cluster', 'ms3'] -> [{'identity': ['clusters', 'gxtax-cluster']}, ...].
    A name the domain does not know raises DeployError (a typo must not deploy nowhere)."""
    refs = []
    for name in targets:
        if name in clusters:
            refs.append({"identity": ["clusters", name]})
        elif name in servers:
            refs.append({"identity": ["servers", name]})
        else:
            raise DeployError("targets", None, "目标 %s 不是本域的服务器或集群 / "
                              "target %s is not a server or cluster of this domain" % (name, name))
    return refs


def current_view(app, states):
    """What is deployed, as plain data for decisions and diffs (None when not deployed)."""
    if app is None:
        return None
    checksum, version = parse_notes(app.get("notes"))
    names = [ref["identity"][-1] for ref in app.get("targets") or []
             if isinstance(ref, dict) and ref.get("identity")]
    return {"targets": sorted(names), "checksum": checksum,
            "version": version or app.get("versionIdentifier") or None,
            "source_path": app.get("sourcePath"), "states": dict(states or {})}


def not_deployed_message(name, state):
    verb = "启动" if state == "started" else "停止"
    return ("应用 %s 未部署，无法%s / application %s is not deployed, so it cannot be %s"
            % (name, verb, name, state))


def targets_message(name, have, want):
    have, want = ",".join(have), ",".join(sorted(want))
    return ("应用 %s 已部署在 %s，与要求的目标 %s 不同；请先卸载(state=absent)再部署 / "
            "application %s is deployed on %s, not on %s: undeploy it (state=absent) first"
            % (name, have, want, name, have, want))


def decide(current, desired):
    """(action, reason): none | deploy | redeploy | undeploy | start | stop.

    desired: state, targets (names), checksum (src) or source_path, version. Raises DeployError
    for what cannot be done safely (start/stop of an application that is not deployed, a
    change of targets, which this module does not do behind the operator's back)."""
    state = desired["state"]
    if state == "absent":
        return ("none", "未部署 / not deployed") if current is None else ("undeploy", "state=absent")
    if current is None:
        if state in ("started", "stopped"):
            raise DeployError("not_deployed", None, not_deployed_message(desired["name"], state))
        return "deploy", "未部署 / not deployed"
    if desired.get("targets") and sorted(desired["targets"]) != current["targets"]:
        raise DeployError("targets", None, targets_message(desired["name"], current["targets"],
                                                           desired["targets"]))
    states = list(current["states"].values())
    all_active = bool(states) and all(s == ACTIVE for s in states)
    if state == "stopped":
        if any(s == ACTIVE for s in states):
            return "stop", "应用处于活动状态 / application is active"
        return "none", "已停止 / already stopped"
    changed = "要求重新部署 / state=redeployed" if state == "redeployed" else \
        _content_change(current, desired) if state == "present" else None
    if changed:
        return "redeploy", changed
    return ("none", "已是所要求的状态 / already as required") if all_active else \
        ("start", "未全部启动 / not active everywhere")


def _content_change(current, desired):
    """Why the archive must be redeployed (version, checksum, source path), else None."""
    if desired.get("version") and desired["version"] != current["version"]:
        return "版本 %s -> %s / version %s -> %s" % (
            current["version"], desired["version"], current["version"], desired["version"])
    if desired.get("checksum") and desired["checksum"] != current["checksum"]:
        return "归档校验和不同 / the archive's SHA-256 differs"
    if desired.get("source_path") and desired["source_path"] != current["source_path"]:
        return "源路径不同 / the source path differs"
    return None


def predicted(current, desired, action):
    """The view after the action, for diff mode and check mode."""
    if action == "undeploy":
        return None
    if action == "none":
        return current
    after = dict(current or {"targets": sorted(desired.get("targets") or []), "source_path": None,
                             "checksum": None, "version": None, "states": {}})
    if action in ("deploy", "redeploy"):
        after["checksum"] = desired.get("checksum") or after.get("checksum")
        after["version"] = desired.get("version") or after.get("version")
        after["source_path"] = desired.get("source_path") or after.get("source_path")
    servers = desired.get("servers") or list((current or {}).get("states") or {})
    after["states"] = dict((s, "STATE_PREPARED" if action == "stop" else ACTIVE) for s in servers)
    return after


def diff_view(view):
    """Before/after text for diff mode: targets, version, checksum, state."""
    if view is None:
        return {"state": "absent"}
    states = view.get("states") or {}
    overall = "active" if states and all(s == ACTIVE for s in states.values()) else \
        "stopped" if states and not any(s == ACTIVE for s in states.values()) else "partial"
    return {"state": overall, "targets": view.get("targets"), "version": view.get("version"),
            "checksum": view.get("checksum"), "states": states}


def lock_message(owner, user):
    return ("WebLogic 的编辑锁被用户 %s 持有，%s 无法开始编辑会话；请等其激活或取消后重试 / "
            "the WebLogic edit lock is held by user %s, so %s cannot start an edit session: "
            "retry after it activates or cancels"
            % (owner, user, owner, user))


def activation_message(detail):
    return "激活部署变更失败：%s / activating the deployment change failed: %s" % (detail, detail)


def failed_message(app, detail):
    return "应用 %s 部署失败：%s / deploying application %s failed: %s" % (app, detail, app, detail)


def timeout_message(app, seconds, state):
    return ("应用 %s 的部署在 %g 秒内未完成（当前 %s） / the deployment of application %s did not finish "
            "within %g s (now %s)" % (app, seconds, state, app, seconds, state))


# ------------------------------------------------------------------ reads


class Deployer(object):
    """The deployment steps over one client; sleep and clock are replaceable for unit tests."""

    def __init__(self, client, name, timeout=300, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.name = name
        self.timeout = float(timeout)
        self.sleep = sleep
        self.clock = clock
        self.log = []  # the steps taken, for the result

    def change_manager(self):
        return self.client.get("edit/changeManager", compact(), role=ROLE)

    def topology(self):
        """(servers, clusters, server_config) of the activated configuration."""
        config = self.client.items("domainConfig/servers", ("name", "cluster"), role=ROLE)
        clusters = self.client.items("domainConfig/clusters", ("name",), role=ROLE)
        return [str(s["name"]) for s in config], [str(c["name"]) for c in clusters], config

    def read_app(self):
        try:
            return self.client.get(rest_path("domainConfig", "appDeployments", self.name),
                                   compact(APP_FIELDS), role=ROLE)
        except WeblogicError as exc:
            if exc.kind == "not_found":
                return None
            raise

    def states(self, app, server_config):
        servers = expand_targets(app.get("targets"), server_config) if app else []
        return dict((s, app_state(self.client, self.name, s)) for s in servers)

    # ------------------------------------------------------------------ changes

    def edit(self, change):
        """startEdit -> change() -> activate; cancelEdit on any failure after startEdit.
        Returns what change() returned (progress objects to wait for)."""
        manager = self.change_manager()
        owner = manager.get("lockOwner")
        if manager.get("locked") and owner and owner != self.client.user:
            raise DeployError("locked", None, lock_message(owner, self.client.user))
        try:
            self.client.post("edit/changeManager/startEdit", {}, role=ROLE)
        except WeblogicError as exc:
            if exc.kind == "bad_request":  # taken between our read and startEdit?
                owner = self.change_manager().get("lockOwner")
                if owner and owner != self.client.user:
                    raise DeployError("locked", exc.status, lock_message(owner, self.client.user)) from None
            raise
        self.log.append("startEdit")
        try:
            result = change()
            try:
                self.client.post("edit/changeManager/activate", {}, role=ROLE)
            except WeblogicError as exc:
                if exc.kind in ("bad_request", "server_error"):
                    raise DeployError("activation", exc.status, activation_message(exc.detail or exc.message),
                                      detail=exc.detail) from None
                raise
            self.log.append("activate")
            return result
        except Exception:
            self._cancel()
            raise

    def _cancel(self):
        try:
            self.client.post("edit/changeManager/cancelEdit", {}, role=ROLE)
            self.log.append("cancelEdit")
        except WeblogicError:
            self.log.append("cancelEdit failed")  # the first failure is the one to report

    def _model(self, refs, desired, source_path=None):
        model = {"name": self.name, "targets": refs}
        if source_path:
            model["sourcePath"] = source_path
        if desired.get("plan"):
            model["planPath"] = desired["plan"]
        if desired.get("version"):
            model["archiveVersion"] = desired["version"]
        return model

    def _send(self, path, model, desired):
        headers = {"Prefer": "respond-async"}
        if desired.get("src"):
            body = self.client.post_multipart(path, {"model": model}, {"sourcePath": desired["src"]},
                                              role=ROLE, headers=headers)
        else:
            body = self.client.post(path, model, role=ROLE, headers=headers)
        return [body] if isinstance(body, dict) and body.get("name") else []

    def _set_notes(self, desired):
        self.client.post(rest_path("edit", "appDeployments", self.name),
                         {"notes": make_notes(desired.get("checksum"), desired.get("version"))}, role=ROLE)

    def deploy(self, refs, desired):
        def change():
            model = self._model(refs, desired, None if desired.get("src") else desired.get("source_path"))
            progress = self._send("edit/appDeployments", model, desired)
            self._set_notes(desired)
            return progress
        return self.edit(change)

    def redeploy(self, refs, desired):
        def change():
            model = self._model(refs, desired, None if desired.get("src") else desired.get("source_path"))
            model.pop("targets")
            progress = self._send(rest_path("edit", "appDeployments", self.name, "redeploy"), model, desired)
            self._set_notes(desired)
            return progress
        return self.edit(change)

    def undeploy(self):
        def change():
            body = self.client.delete(rest_path("edit", "appDeployments", self.name), role=ROLE)
            return [body] if isinstance(body, dict) and body.get("name") else []
        return self.edit(change)

    def runtime_op(self, op):
        """start or stop: runtime operations, no edit session (configuration is unchanged)."""
        body = self.client.post(rest_path("domainRuntime", "deploymentManager", "appDeploymentRuntimes",
                                          self.name, op), {}, role=ROLE, headers={"Prefer": "respond-async"})
        return [body] if isinstance(body, dict) and body.get("name") else []

    # ------------------------------------------------------------------ waiting

    def wait(self, progress, servers, want=ACTIVE):
        """Poll each progress object until it is done, then the state on every server, until
        `timeout` (one deadline for the whole wait). Returns the final {server: state}."""
        deadline = self.clock() + self.timeout
        delay = 0.2
        for first in progress:
            path = rest_path("domainRuntime", "deploymentManager", "deploymentProgressObjects", first["name"])
            item, state = first, first.get("state")
            while state not in PROGRESS_DONE:
                if self.clock() >= deadline:
                    raise DeployError("timeout", None, timeout_message(self.name, self.timeout, state))
                self.sleep(delay)
                delay = min(delay * 2, 2.0)
                item = self.client.get(path, compact(), role=ROLE)
                state = item.get("state")
            if state == "STATE_FAILED":
                detail = "；".join(str(m) for m in item.get("messages") or []) or "STATE_FAILED"
                raise DeployError("failed", None, failed_message(self.name, detail), detail=detail)
        while True:
            states = dict((s, app_state(self.client, self.name, s)) for s in servers)
            if want is None or all(v == want for v in states.values()):
                return states
            if self.clock() >= deadline:
                raise DeployError("timeout", None, timeout_message(
                    self.name, self.timeout, ", ".join("%s=%s" % kv for kv in sorted(states.items()))))
            self.sleep(delay)
            delay = min(delay * 2, 2.0)


def run(client, desired, check_mode=False, sleep=time.sleep, clock=time.monotonic):
    """Bring application desired['name'] to desired['state']; plain-data result for the module."""
    deployer = Deployer(client, desired["name"], desired.get("timeout") or 300, sleep, clock)
    manager = deployer.change_manager()  # 404 here: no REST API (10.3.6) -> WeblogicError not_found
    servers, clusters, config = deployer.topology()
    app = deployer.read_app()
    current = current_view(app, deployer.states(app, config))
    refs = target_refs(desired.get("targets") or [], servers, clusters)
    if app is None and desired["state"] in ("present", "redeployed") and not refs:
        raise DeployError("config", None, "首次部署需要 targets / the first deployment needs targets")
    action, reason = decide(current, desired)
    target_servers = expand_targets(refs or (app or {}).get("targets"), config)
    desired = dict(desired, servers=target_servers)
    result = {"changed": action != "none", "action": action, "reason": reason, "name": desired["name"],
              "before": diff_view(current), "after": diff_view(predicted(current, desired, action)),
              "lock_owner": manager.get("lockOwner")}
    if check_mode or action == "none":
        result["states"] = (current or {}).get("states", {})
        return result
    if action == "deploy":
        progress = deployer.deploy(refs, desired)
    elif action == "redeploy":
        progress = deployer.redeploy(refs, desired)
    elif action == "undeploy":
        progress = deployer.undeploy()
    else:
        progress = deployer.runtime_op(action)
    want = None if action == "undeploy" else ("STATE_PREPARED" if action == "stop" else ACTIVE)
    states = deployer.wait(progress, [] if action == "undeploy" else target_servers, want)
    after = current_view(deployer.read_app(), states) if action != "undeploy" else None
    result.update(after=diff_view(after), states=states, steps=deployer.log)
    return result
