"""Edit sessions and deployment routes of the WebLogic protocol double (a double, not WebLogic).

    deploy = deploy_routes.install(double.router)   # -> DeployState, the double's extra state
    deploy.delay = 0.3            # seconds a deployment runs after activate
    deploy.stuck.add("gxtax-web") # its deployment never finishes
    deploy.fail["gxtax-web"] = "ClassNotFoundException: ..."   # it ends STATE_FAILED
    deploy.lock_owner = "weblogic"                             # someone else holds the edit lock

Pages followed (each route repeats its own):
- change manager: https://docs.oracle.com/en/middleware/standalone/weblogic-server/15.1.1/wlrer/api-change-manager-actions.html
  (startEdit, activate, cancelEdit; with an explicit edit session, changes wait for activate);
  one edit lock per domain, held by one user (ConfigurationManagerMBean, Deployer may edit:
  https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/mbeanservers/edit/ConfigurationManagerMBean.html);
- deploy / upload and deploy: https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrer/op-management-weblogic-version-edit-appdeployments-x-operations-0.html
  and ...-x-operations-1.html (multipart `model` + `sourcePath`); redeploy action and DELETE of
  edit/appDeployments/{name}; progress objects and start/stop of
  domainRuntime/deploymentManager (https://docs.oracle.com/cd/E72987_01/wls/WLRDR/toc.htm).

Simplification: a production redeployment keeps the deployment's name and changes its
versionIdentifier (WebLogic names the new version "<name>#<version>" and retires the old one).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from dataclasses import dataclass, field

from tests.weblogic_double.domain import Application
from tests.weblogic_double.server import READ_ROLES, DoubleError, Request, Router

DEPLOY_ROLES = {"Admin", "Deployer"}
APP = r"(?P<app>[^/]+)"


@dataclass
class Meta:
    notes: str = ""
    version: str | None = None
    plan: str | None = None
    sha256: str | None = None  # of the last uploaded archive, for tests


@dataclass
class DeployState:
    lock_owner: str | None = None
    pending: list = field(default_factory=list)      # callables run by activate
    progress: dict = field(default_factory=dict)     # name -> progress JSON
    meta: dict = field(default_factory=dict)         # app -> Meta
    delay: float = 0.2
    stuck: set = field(default_factory=set)
    fail: dict = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))


def install(router: Router) -> DeployState:
    state = DeployState()

    def _own_session(request: Request):
        if state.lock_owner != request.user:
            raise DoubleError(400, "No edit session is started by %s; use startEdit." % request.user)

    def _progress(request, app, op, deferred):
        name = "ADTR-%d" % next(state.counter)
        obj = {"name": name, "applicationName": app, "operationType": op,
               "state": "STATE_DEFERRED" if deferred else "STATE_RUNNING", "messages": [],
               "failedTargets": [], "completedTargets": []}
        state.progress[name] = obj
        return obj

    def _finish(request, obj, apply):
        """Complete a progress object after state.delay, unless stuck or failing."""
        app = obj["applicationName"]
        obj["state"] = "STATE_RUNNING"
        if app in state.stuck:
            return

        def done():
            with request.domain.lock:
                if app in state.fail:
                    obj["state"] = "STATE_FAILED"
                    obj["messages"] = [state.fail[app]]
                    application = request.domain.applications.get(app)
                    if application is not None:
                        for server in request.domain.servers_of(application.targets):
                            application.states[server] = "STATE_FAILED"
                    return
                apply()
                obj["state"] = "STATE_COMPLETED"
        timer = threading.Timer(state.delay, done)
        timer.daemon = True
        timer.start()

    # -- change manager ----------------------------------------------------
    def change_manager(request):
        # GET edit/changeManager: locked, lockOwner, hasChanges (Change Manager page above)
        return 200, {"locked": state.lock_owner is not None, "lockOwner": state.lock_owner,
                     "hasChanges": bool(state.pending), "mergeNeeded": False}

    def start_edit(request):
        # POST edit/changeManager/startEdit: the lock is taken, or 400 naming its owner.
        if state.lock_owner and state.lock_owner != request.user:
            raise DoubleError(400, "The edit lock is owned by %s." % state.lock_owner)
        state.lock_owner = request.user
        return 200, {}

    def cancel_edit(request):
        # POST edit/changeManager/cancelEdit: discards pending changes, frees the lock.
        if state.lock_owner and state.lock_owner != request.user:
            raise DoubleError(400, "The edit lock is owned by %s." % state.lock_owner)
        state.pending.clear()
        state.lock_owner = None
        return 200, {}

    def activate(request):
        # POST edit/changeManager/activate: runs the session's changes, frees the lock.
        _own_session(request)
        for change in state.pending:
            change()
        state.pending.clear()
        state.lock_owner = None
        return 200, {}

    # -- configuration changes (in the edit session) ----------------------
    def _model_and_upload(request):
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            parts = request.multipart()
            if "model" not in parts or "sourcePath" not in parts:
                raise DoubleError(400, "An upload needs the parts model and sourcePath.")
            import json  # noqa: PLC0415 - only uploads need it
            model = json.loads(parts["model"]["data"].decode("utf-8"))
            data = parts["sourcePath"]["data"]
            model["sourcePath"] = "servers/AdminServer/upload/%s/app/%s" % (
                model.get("name"), parts["sourcePath"]["filename"])
            return model, hashlib.sha256(data).hexdigest()
        return request.json(), None

    def _targets(request, refs):
        out = []
        for ref in refs or []:
            kind, name = ref["identity"][-2], ref["identity"][-1]
            known = request.domain.clusters() if kind == "clusters" else request.domain.servers
            if kind not in ("clusters", "servers") or name not in known:
                raise DoubleError(400, "Unknown target %s." % name)
            out.append((kind, name))
        return out

    def deploy(request):
        # POST edit/appDeployments (JSON, or multipart upload): deferred until activate.
        _own_session(request)
        model, sha = _model_and_upload(request)
        name = model.get("name")
        if not name or not model.get("sourcePath") or not model.get("targets"):
            raise DoubleError(400, "name, sourcePath and targets are required.")
        if name in request.domain.applications:
            raise DoubleError(400, "An application named %s already exists." % name)
        targets = _targets(request, model["targets"])
        obj = _progress(request, name, "deploy", True)
        meta = state.meta.setdefault(name, Meta())

        def apply_config():
            request.domain.add_application(name, targets, source_path=model["sourcePath"])
            application = request.domain.applications[name]
            for server in request.domain.servers_of(targets):
                application.states[server] = "STATE_PREPARED"
            meta.version, meta.plan, meta.sha256 = model.get("archiveVersion"), model.get("planPath"), sha
            _finish(request, obj, application.states.clear)
        state.pending.append(apply_config)
        return 202, obj

    def redeploy(request):
        # POST edit/appDeployments/{name}/redeploy (JSON, or multipart with a new archive).
        _own_session(request)
        app = request.params["app"]
        application = request.domain.applications.get(app)
        if application is None:
            raise DoubleError(404, "Not Found: no application named %s." % app)
        model, sha = _model_and_upload(request) if request.raw_body else ({}, None)
        obj = _progress(request, app, "redeploy", True)
        meta = state.meta.setdefault(app, Meta())

        def apply_config():
            if model.get("sourcePath"):
                application.source_path = model["sourcePath"]
            meta.version = model.get("archiveVersion") or meta.version
            meta.plan = model.get("planPath") or meta.plan
            meta.sha256 = sha or meta.sha256
            _finish(request, obj, application.states.clear)
        state.pending.append(apply_config)
        return 202, obj

    def update(request):
        # POST edit/appDeployments/{name}: set attributes (only notes here).
        _own_session(request)
        app = request.params["app"]
        body = request.json()
        if app not in request.domain.applications and not any(
                getattr(c, "__name__", "") == "apply_config" for c in state.pending):
            raise DoubleError(404, "Not Found: no application named %s." % app)
        meta = state.meta.setdefault(app, Meta())
        if "notes" in body:
            state.pending.append(lambda: setattr(meta, "notes", str(body["notes"])))
        return 200, {}

    def undeploy(request):
        # DELETE edit/appDeployments/{name}: removed on activate.
        _own_session(request)
        app = request.params["app"]
        if app not in request.domain.applications:
            raise DoubleError(404, "Not Found: no application named %s." % app)
        obj = _progress(request, app, "remove", True)

        def apply_config():
            request.domain.applications.pop(app, None)
            state.meta.pop(app, None)
            obj["state"] = "STATE_COMPLETED"
        state.pending.append(apply_config)
        return 202, obj

    # -- runtime -----------------------------------------------------------
    def runtime_op(request):
        # POST domainRuntime/deploymentManager/appDeploymentRuntimes/{name}/start|stop
        app = request.params["app"]
        application = request.domain.applications.get(app)
        if application is None:
            raise DoubleError(404, "Not Found: no application runtime named %s." % app)
        op = request.params["op"]
        obj = _progress(request, app, op, False)
        servers = request.domain.servers_of(application.targets)
        if op == "start":
            _finish(request, obj, application.states.clear)
        else:
            _finish(request, obj, lambda: application.states.update(
                dict((s, "STATE_PREPARED") for s in servers)))
        return 202, obj

    def progress_one(request):
        # GET domainRuntime/deploymentManager/deploymentProgressObjects/{name}
        obj = state.progress.get(request.params["app"])
        if obj is None:
            raise DoubleError(404, "Not Found: no progress object named %s." % request.params["app"])
        return 200, dict(obj)

    def app_config(request):
        # GET domainConfig/appDeployments/{name} with notes and versionIdentifier.
        application: Application | None = request.domain.applications.get(request.params["app"])
        if application is None:
            raise DoubleError(404, "Not Found: no application named %s." % request.params["app"])
        meta = state.meta.get(application.name, Meta())
        return 200, {"identity": ["appDeployments", application.name], "name": application.name,
                     "type": "AppDeployment", "sourcePath": application.source_path, "planPath": meta.plan,
                     "versionIdentifier": meta.version, "notes": meta.notes,
                     "targets": [{"identity": [k, n]} for k, n in application.targets]}

    router.register("GET", r"edit/changeManager", change_manager, READ_ROLES)
    router.register("POST", r"edit/changeManager/startEdit", start_edit, DEPLOY_ROLES)
    router.register("POST", r"edit/changeManager/cancelEdit", cancel_edit, DEPLOY_ROLES)
    router.register("POST", r"edit/changeManager/activate", activate, DEPLOY_ROLES)
    router.register("POST", r"edit/appDeployments", deploy, DEPLOY_ROLES)
    router.register("POST", r"edit/appDeployments/" + APP, update, DEPLOY_ROLES)
    router.register("POST", r"edit/appDeployments/" + APP + r"/redeploy", redeploy, DEPLOY_ROLES)
    router.register("DELETE", r"edit/appDeployments/" + APP, undeploy, DEPLOY_ROLES)
    router.register("POST", r"domainRuntime/deploymentManager/appDeploymentRuntimes/" + APP
                    + r"/(?P<op>start|stop)", runtime_op, DEPLOY_ROLES)
    router.register("GET", r"domainRuntime/deploymentManager/deploymentProgressObjects/" + APP,
                    progress_one, READ_ROLES)
    router.register("GET", r"domainConfig/appDeployments/" + APP, app_config, READ_ROLES)
    return state
