# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of Oracle WebLogic Server's RESTful Management API (12.2.1+ and 14.1).

Every WebLogic module of the collection (weblogic_info now; deployment and the rolling
restart later) talks to the Admin Server through WeblogicClient, so authentication, TLS,
the X-Requested-By header, error sentences and the secrecy of the password are decided
once, here. Standard library only (urllib): the control node needs nothing installed.

Protocol as documented by Oracle in "Administering Oracle WebLogic Server with RESTful
Management Services" (https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrur/using.html)
and "Send Requests" (https://docs.oracle.com/en/middleware/standalone/weblogic-server/15.1.1/wlrdr/send-requests.html):
resources under /management/weblogic/<version>/, JSON bodies, HTTP Basic authentication of a
user in the Admin, Deployer, Operator or Monitor role, and an X-Requested-By header that POST
and DELETE must carry (protection against cross-site request forgery).

Runs on the control node only (delegate_to: localhost), but stays valid Python 3.7 like the
other module_utils, so any python3 the inventory names for localhost can run it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import socket
import ssl
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from urllib import request as _request
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

BASE_PATH = "/management/weblogic/latest"
# X-Requested-By is required on POST and DELETE and ignored on GET; sending it on every
# request keeps one code path. The value only names the client in the server's logs.
REQUESTED_BY = "gxtax-ops"
USER_AGENT = "gxtax-ops-weblogic/0.1"
# Collections of a big domain stay far below this; a runaway body must not fill the memory.
MAX_BODY_BYTES = 16 << 20
# Enough of an error body to find WebLogic's message in it.
MAX_ERROR_BYTES = 64 << 10
# Requests to managed servers go through the Admin Server one round trip each; a few at a
# time keep a domain of many servers quick without loading the Admin Server.
PARALLEL = 4

KINDS = ("config", "unreachable", "tls", "unauthorized", "forbidden", "not_found",
         "bad_request", "server_error", "http", "protocol")

# Roles named in 403 sentences (Oracle: "Accessing REST Resources" in using.html above:
# any of the four roles reads, Admin writes, a Deployer deploys, an Operator starts servers).
ROLE_TEXT = {
    "Monitor": ("Monitor 角色（Operator、Deployer、Admin 亦可）",
                "the Monitor role (or Operator, Deployer, Admin)"),
    "Deployer": ("Deployer 角色（或 Admin）", "the Deployer role (or Admin)"),
    "Operator": ("Operator 角色（或 Admin）", "the Operator role (or Admin)"),
    "Admin": ("Admin 角色", "the Admin role"),
}
# Path segments of deployment resources: the Deployer role may change these.
_DEPLOY_SEGMENTS = frozenset((
    "appDeployments", "libraries", "deploymentManager", "deploymentProgressObjects",
    "appDeploymentRuntimes", "libDeploymentRuntimes",
))
_LIFECYCLE_ACTIONS = frozenset((
    "start", "startInAdmin", "startInStandby", "shutdown", "forceShutdown", "suspend",
    "forceSuspend", "resume", "restartSSLChannels",
))


def connection_argument_spec():
    """The Admin Server connection options every WebLogic module takes (documented by the
    gxtax.ops.weblogic doc fragment)."""
    return dict(
        url=dict(type="str", required=True),
        user=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
    )


class WeblogicError(Exception):
    """A request that did not succeed, as one Chinese + English sentence.

    kind is one of KINDS, status the HTTP status (None without an answer), message the
    sentence shown to operators (never the password), detail WebLogic's own message.
    """

    def __init__(self, kind, status, message, detail=None, method=None, path=None, reason=None):
        super(WeblogicError, self).__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.detail = detail
        self.method = method
        self.path = path
        self.reason = reason  # unreachable: refused | timeout | dns | connect

    def to_dict(self):
        """Plain data for snapshots and module results."""
        return {"kind": self.kind, "status": self.status, "message": self.message,
                "reason": self.reason}


class Response(object):
    """Status, headers and decoded JSON body of a successful request (202 + Location for
    asynchronous operations, which the deployment work needs)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


# ------------------------------------------------------------------ small pure helpers


def segment(name):
    """One path segment: WebLogic names may hold spaces, '#' (versioned apps) or '/'."""
    return quote(str(name), safe="")


def rest_path(*parts):
    """'domainRuntime', 'serverRuntimes', 'ms 1' -> 'domainRuntime/serverRuntimes/ms%201'."""
    return "/".join(segment(p) for p in parts)


def compact(fields=None, exclude_fields=None, links="none"):
    """Query parameters that keep a response small: no links, only the fields asked for.

    Oracle's reference documents fields, excludeFields, links and excludeLinks on every GET
    (e.g. https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverruntimes-get.html).
    """
    params = {}
    if links is not None:
        params["links"] = links
    if fields:
        params["fields"] = fields
    if exclude_fields:
        params["excludeFields"] = exclude_fields
    return params


def encode_query(params):
    """Query string; list values become WebLogic's comma-separated lists, None is left out."""
    pairs = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        pairs.append((key, text))
    return urlencode(pairs, safe=",")


def required_role(method, path):
    """The least WebLogic role a request needs, for the 403 sentence."""
    method = method.upper()
    if method in ("GET", "OPTIONS", "HEAD"):
        return "Monitor"
    segments = [s for s in path.split("?")[0].split("/") if s]
    last = segments[-1] if segments else ""
    # Read-only operations invoked by POST (getCurrentState, isAdminMode, ...).
    if ("domainRuntime" in segments or "serverRuntime" in segments) and last.startswith(("get", "is")):
        return "Monitor"
    lifecycle = any(s in ("serverLifeCycleRuntimes", "serverRuntimes") for s in segments)
    if lifecycle and last in _LIFECYCLE_ACTIONS:
        return "Operator"
    if any(s in _DEPLOY_SEGMENTS for s in segments):
        return "Deployer"
    return "Admin"


def error_detail(raw):
    """WebLogic's message from an error body: `detail` (12.2.1.3+), the details of
    `wls:errorsDetails`, or the `messages` list of earlier releases."""
    if not raw:
        return None
    try:
        body = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        # An HTML error page (a proxy, or a release without this API) says nothing useful.
        return None if not text or text.lstrip().startswith("<") else " ".join(text.split())[:300]
    if not isinstance(body, dict):
        return None
    found = []
    if isinstance(body.get("detail"), str) and body["detail"].strip():
        found.append(body["detail"].strip())
    for key in ("wls:errorsDetails", "errorsDetails"):
        for entry in body.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("detail"), str) \
                    and entry["detail"].strip() not in found:
                found.append(entry["detail"].strip())
    for entry in body.get("messages") or []:
        if isinstance(entry, dict) and isinstance(entry.get("message"), str):
            found.append(entry["message"].strip())
    return "；".join(found)[:500] or None


def identity_name(reference):
    """('servers', 'ms1') from a WebLogic reference {'identity': [..., 'servers', 'ms1']}.

    The JSON mapping of bean references is an identity path; some releases start it with
    'domain', so only its last two elements are read."""
    if isinstance(reference, dict):
        reference = reference.get("identity")
    if isinstance(reference, (list, tuple)) and len(reference) >= 2:
        return str(reference[-2]), str(reference[-1])
    return None, None


def cluster_members(server_config):
    """{cluster: [servers]} from the items of domainConfig/servers (fields name, cluster)."""
    members = {}
    for item in server_config or []:
        kind, cluster = identity_name(item.get("cluster"))
        if kind == "clusters" and item.get("name"):
            members.setdefault(cluster, []).append(str(item["name"]))
    return members


def expand_targets(targets, server_config):
    """Server names a deployment's targets stand for: servers as they are, clusters as their
    members (in the order of domainConfig/servers). Unknown kinds are left out."""
    members = cluster_members(server_config)
    servers = []
    for target in targets or []:
        kind, name = identity_name(target)
        names = [name] if kind == "servers" else members.get(name, []) if kind == "clusters" else []
        for server in names:
            if server not in servers:
                servers.append(server)
    return servers


def display_url(url):
    """scheme://host:port[/path] without user information, query or fragment (SEC-02)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    except ValueError:
        return "（无法解析的URL）"


def _base_url(url):
    """The Admin Server's root URL; a pasted .../management/... suffix is dropped."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("未配置 WebLogic 管理服务器地址（url 为空） / no WebLogic Admin Server url given")
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError outside 0-65535
    except ValueError as exc:
        raise ValueError("url 无法解析（%s） / url cannot be parsed (%s)" % (exc, exc)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url 必须是 http:// 或 https:// 开头的管理服务器地址，例如 https://wls-admin:7002 / "
                         "url must be the Admin Server's http:// or https:// address, e.g. https://wls-admin:7002")
    if "@" in parts.netloc:
        raise ValueError("url 中不能包含用户名或密码，请使用 user 和 password 参数 / "
                         "url must not carry user or password: use the user and password options")
    path = parts.path.split("/management", 1)[0].rstrip("/")
    netloc = parts.hostname if ":" not in parts.hostname else "[%s]" % parts.hostname
    if port:
        netloc = "%s:%d" % (netloc, port)
    return urlunsplit((parts.scheme, netloc, path, "", ""))


# ------------------------------------------------------------------ multipart bodies


class _MultipartBody(object):
    """A multipart/form-data body read in blocks, so a large archive is streamed from its file
    instead of held in memory (the deployment upload to edit/appDeployments)."""

    def __init__(self, fields, files):
        self.boundary = "gxtax-%s" % uuid.uuid4().hex
        self._chunks = []  # bytes, or (path, size)
        for name, value in (fields or {}).items():
            if isinstance(value, (dict, list)):
                data, ctype = json.dumps(value).encode("utf-8"), "application/json"
            else:
                data, ctype = str(value).encode("utf-8"), "text/plain; charset=utf-8"
            self._chunks.append(self._head(name, None, ctype) + data + b"\r\n")
        for name, spec in (files or {}).items():
            filename, source, ctype = self._file_spec(spec)
            self._chunks.append(self._head(name, filename, ctype))
            if isinstance(source, bytes):
                self._chunks.append(source)
            else:
                self._chunks.append((source, os.path.getsize(source)))
            self._chunks.append(b"\r\n")
        self._chunks.append(("--%s--\r\n" % self.boundary).encode("ascii"))
        self.length = sum(c[1] if isinstance(c, tuple) else len(c) for c in self._chunks)
        self._index = 0
        self._handle = None
        self._pending = b""

    @staticmethod
    def _file_spec(spec):
        if isinstance(spec, (tuple, list)):
            filename, source = spec[0], spec[1]
            ctype = spec[2] if len(spec) > 2 else "application/octet-stream"
        else:
            filename, source, ctype = os.path.basename(str(spec)), str(spec), "application/octet-stream"
        return filename, source, ctype

    def _head(self, name, filename, ctype):
        disposition = 'form-data; name="%s"' % name.replace('"', "%22")
        if filename is not None:
            disposition += '; filename="%s"' % str(filename).replace('"', "%22")
        return ("--%s\r\nContent-Disposition: %s\r\nContent-Type: %s\r\n\r\n"
                % (self.boundary, disposition, ctype)).encode("utf-8")

    @property
    def content_type(self):
        return "multipart/form-data; boundary=%s" % self.boundary

    def read(self, size=-1):
        size = 1 << 16 if size is None or size < 0 else size
        out = self._pending
        while len(out) < size and self._index < len(self._chunks):
            chunk = self._chunks[self._index]
            if isinstance(chunk, bytes):
                out += chunk
                self._index += 1
                continue
            if self._handle is None:
                self._handle = open(chunk[0], "rb")  # closed when exhausted, or by close()
            data = self._handle.read(size - len(out))
            if data:
                out += data
            else:
                self._handle.close()
                self._handle = None
                self._index += 1
        self._pending = out[size:]
        return out[:size]

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


# ------------------------------------------------------------------ the client


class _NoRedirect(_request.HTTPRedirectHandler):
    """The REST API never redirects; following one would send the Basic credentials on."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WeblogicClient(object):
    """One WebLogic domain's Admin Server, through /management/weblogic/latest.

    get(path, params), post(path, body), post_multipart(path, fields, files) and
    delete(path) return the decoded JSON body ({} when empty) or raise WeblogicError;
    request() returns a Response with status and headers as well. Paths are relative to
    /management/weblogic/latest ('domainRuntime/serverRuntimes'), or absolute when they
    start with '/'. role= names the role a 403 sentence asks for when required_role()
    would guess wrong.
    """

    def __init__(self, url, user, password, validate_certs=True, ca_path=None, timeout=30):
        self.user = user or ""
        self._password = password or ""
        self.timeout = float(timeout)
        try:
            self.base_url = _base_url(url)
        except ValueError as exc:
            raise WeblogicError("config", None, str(exc)) from None
        self.url = display_url(self.base_url)
        if self.timeout <= 0:
            raise WeblogicError("config", None, "timeout 必须大于 0 / timeout must be above 0")
        token = base64.b64encode(("%s:%s" % (self.user, self._password)).encode("utf-8")).decode("ascii")
        self._authorization = "Basic " + token
        handlers = [_request.ProxyHandler({}), _NoRedirect()]
        if self.base_url.startswith("https:"):
            handlers.append(_request.HTTPSHandler(context=self._tls_context(validate_certs, ca_path)))
        # Proxies of the environment are ignored: credentials go to the Admin Server only.
        self._opener = _request.build_opener(*handlers)

    @staticmethod
    def _tls_context(validate_certs, ca_path):
        if not validate_certs:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        try:
            if ca_path and os.path.isdir(ca_path):
                return ssl.create_default_context(capath=ca_path)
            return ssl.create_default_context(cafile=ca_path or None)
        except (OSError, ssl.SSLError) as exc:
            raise WeblogicError("config", None, "无法读取 CA 证书 ca_path=%s（%s） / cannot read the CA "
                                "certificates in ca_path=%s (%s)" % (ca_path, exc, ca_path, exc)) from None

    # -- public API ---------------------------------------------------------
    def get(self, path, params=None, role=None):
        return self.request("GET", path, params=params, role=role).body

    def post(self, path, body=None, params=None, role=None, headers=None):
        return self.request("POST", path, params=params, body=body, role=role, headers=headers).body

    def delete(self, path, params=None, role=None):
        return self.request("DELETE", path, params=params, role=role).body

    def post_multipart(self, path, fields, files, params=None, role=None, headers=None):
        """fields: name -> text, or dict/list sent as an application/json part (WebLogic's
        `model` part); files: name -> file path, or (filename, path or bytes[, content type])."""
        multipart = _MultipartBody(fields, files)
        try:
            return self.request("POST", path, params=params, role=role, headers=headers,
                                raw_body=multipart, content_type=multipart.content_type).body
        finally:
            multipart.close()

    def items(self, path, fields=None, role=None):
        """The `items` of a collection, without links and with only the fields given."""
        body = self.get(path, params=compact(fields=fields), role=role)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise self._error("protocol", 200, "GET", path, detail="no items",
                              reason="应答中没有 items 列表 / the answer has no items list")
        return [i for i in items if isinstance(i, dict)]

    def request(self, method, path, params=None, body=None, role=None, headers=None,
                raw_body=None, content_type=None):
        method = method.upper()
        url = self._url(path, params)
        request_headers = {
            "Accept": "application/json",
            "Authorization": self._authorization,
            "X-Requested-By": REQUESTED_BY,
            "User-Agent": USER_AGENT,
        }
        data = None
        if raw_body is not None:
            data = raw_body
            request_headers["Content-Type"] = content_type
            request_headers["Content-Length"] = str(raw_body.length)
        elif body is not None or method == "POST":
            data = json.dumps(body if body is not None else {}).encode("utf-8")
            request_headers["Content-Type"] = "application/json"
        request_headers.update(headers or {})
        req = _request.Request(url, data=data, headers=request_headers, method=method)  # noqa: S310
        return self._send(req, method, path, role)

    # -- internals ----------------------------------------------------------
    def _url(self, path, params):
        path = path if path.startswith("/") else "%s/%s" % (BASE_PATH, path.lstrip("/"))
        query = encode_query(params)
        return self.base_url + path + ("?" + query if query else "")

    def _send(self, req, method, path, role):
        try:
            with self._open(req) as answer:
                raw = answer.read(MAX_BODY_BYTES + 1)
                status, headers = answer.status, dict(answer.headers.items())
        except HTTPError as exc:
            raw = b""
            try:
                raw = exc.read(MAX_ERROR_BYTES)
            except (OSError, HTTPException):
                pass  # the status alone still says what happened
            raise self._http_error(exc.code, method, path, raw, role) from None
        except (URLError, OSError, HTTPException, ValueError) as exc:
            raise self._transport_error(exc, method, path) from None
        if len(raw) > MAX_BODY_BYTES:
            raise self._error("protocol", status, method, path,
                              reason="应答超过 %d MiB / the answer exceeds %d MiB"
                              % (MAX_BODY_BYTES >> 20, MAX_BODY_BYTES >> 20))
        if not raw.strip():
            return Response(status, headers, {})
        try:
            return Response(status, headers, json.loads(raw.decode("utf-8")))
        except ValueError:
            raise self._error("protocol", status, method, path,
                              reason="应答不是 JSON / the answer is not JSON") from None

    def _open(self, req):
        """The one place that touches the network (unit tests replace it)."""
        return self._opener.open(req, timeout=self.timeout)

    def _scrub(self, text):
        if text and len(self._password) >= 4:
            return text.replace(self._password, "********")
        return text

    def _http_error(self, status, method, path, raw, role):
        detail = error_detail(raw)
        if status == 401:
            kind = "unauthorized"
        elif status == 403:
            kind = "forbidden"
        elif status == 404:
            kind = "not_found"
        elif status == 400:
            kind = "bad_request"
        elif 500 <= status < 600:
            kind = "server_error"
        else:
            kind = "http"
        return self._error(kind, status, method, path, detail=detail,
                           role=role or required_role(method, path))

    def _transport_error(self, exc, method, path):
        reason = exc.reason if isinstance(exc, URLError) else exc
        if isinstance(reason, (ssl.SSLError, ssl.CertificateError)):
            text = getattr(reason, "verify_message", None) or getattr(reason, "reason", None) or str(reason)
            return self._error("tls", None, method, path, reason=str(text))
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return self._error("unreachable", None, method, path, reason="timeout")
        if isinstance(reason, ConnectionRefusedError):
            return self._error("unreachable", None, method, path, reason="refused")
        if isinstance(reason, socket.gaierror):
            return self._error("unreachable", None, method, path, reason="dns")
        if isinstance(reason, HTTPException) or isinstance(exc, HTTPException):
            return self._error("protocol", None, method, path,
                               reason="应答不符合 HTTP 协议，检查 url 的 http/https 是否与端口一致 / "
                                      "the answer is not HTTP: check that http/https matches the port")
        return self._error("unreachable", None, method, path, reason="connect", detail=str(reason))

    def _error(self, kind, status, method, path, detail=None, reason=None, role=None):
        where = "%s %s" % (method, path.split("?")[0])
        url = self.url
        detail = self._scrub(detail)
        shown = detail or "无详情 / no detail"
        if kind == "unreachable":
            if reason == "timeout":
                message = ("WebLogic 管理服务器 %s 在 %g 秒内未响应 %s / the WebLogic Admin Server at %s did "
                           "not answer %s within %g s" % (url, self.timeout, where, url, where, self.timeout))
            else:
                why = {"refused": ("连接被拒绝（端口未监听或服务未启动）",
                                   "connection refused (nothing listens on the port)"),
                       "dns": ("主机名无法解析", "the host name does not resolve")}.get(
                           reason, ("网络连接失败（%s）" % shown, "the connection failed (%s)" % shown))
                message = ("无法连接 WebLogic 管理服务器 %s：%s / "
                           "cannot reach the WebLogic Admin Server at %s: %s" % (url, why[0], url, why[1]))
        elif kind == "tls":
            message = ("与 WebLogic 管理服务器 %s 建立 TLS 连接失败（%s），"
                       "请检查服务器证书或通过 ca_path 指定签发 CA / "
                       "the TLS connection to the WebLogic Admin Server at %s failed (%s): "
                       "check its certificate or give the issuing CA in ca_path" % (url, reason, url, reason))
        elif kind == "unauthorized":
            message = ("WebLogic 管理服务器 %s 拒绝了用户 %s 的登录（HTTP 401），用户名或密码错误 / "
                       "the WebLogic Admin Server at %s rejected user %s (HTTP 401): "
                       "wrong user name or password" % (url, self.user, url, self.user))
        elif kind == "forbidden":
            zh, en = ROLE_TEXT.get(role, ROLE_TEXT["Admin"])
            message = ("用户 %s 无权执行 %s（HTTP 403），需要 WebLogic %s / user %s may not %s (HTTP 403): "
                       "it needs %s in WebLogic" % (self.user, where, zh, self.user, where, en))
        elif kind == "not_found":
            message = ("%s 上没有 %s（HTTP 404）：url 有误，"
                       "或 WebLogic 低于 12.2.1 而没有此 REST 接口（10.3.6 请改用 WLST） / "
                       "%s has no %s (HTTP 404): the url is wrong, or WebLogic is older than 12.2.1 "
                       "and lacks this REST API (use WLST for 10.3.6)" % (url, where, url, where))
        elif kind == "bad_request":
            message = ("WebLogic 拒绝了请求 %s（HTTP 400）：%s / WebLogic rejected %s (HTTP 400): %s"
                       % (where, shown, where, shown))
        elif kind == "server_error":
            message = ("WebLogic 执行 %s 时出错（HTTP %s）：%s / WebLogic failed on %s (HTTP %s): %s"
                       % (where, status, shown, where, status, shown))
        elif kind == "protocol":
            message = ("WebLogic 管理服务器 %s 对 %s 的应答无法使用：%s / "
                       "the answer of the WebLogic Admin Server at %s to %s is unusable: %s"
                       % (url, where, reason, url, where, reason))
        else:
            message = ("WebLogic 对 %s 返回了意外的 HTTP %s：%s / WebLogic answered %s with an unexpected "
                       "HTTP %s: %s" % (where, status, shown, where, status, shown))
        return WeblogicError(kind, status, self._scrub(message), detail=detail, method=method,
                             path=path, reason=reason)


# ------------------------------------------------------------------ reads for the inspection (INSP-10)

# Fields asked for, so that answers stay small on a domain with many applications.
LIFECYCLE_FIELDS = ("name", "state")
SERVER_RUNTIME_FIELDS = ("name", "state", "healthState", "overallHealthState", "activationTime",
                         "weblogicVersion", "adminServer")
JVM_FIELDS = ("heapSizeCurrent", "heapFreeCurrent", "heapSizeMax", "heapFreePercent", "javaVersion", "uptime")
THREAD_FIELDS = ("executeThreadTotalCount", "executeThreadIdleCount", "hoggingThreadCount",
                 "stuckThreadCount", "pendingUserRequestCount", "queueLength", "healthState")
DATASOURCE_FIELDS = ("name", "state", "activeConnectionsCurrentCount", "activeConnectionsHighCount",
                     "currCapacity", "waitingForConnectionCurrentCount", "waitingForConnectionHighCount",
                     "numAvailable", "leakedConnectionCount")
# Life-cycle states without runtime data (the server's JVM is not up).
DOWN_STATES = ("SHUTDOWN", "FAILED", "FAILED_NOT_RESTARTABLE", "FAILED_RESTARTING", "FAILED_MIGRATABLE",
               "UNKNOWN", "STARTING")
# Errors that a second identical request would only repeat (no permission, no such API).
POOL_FIELDS = ("maxCapacity", "minCapacity", "initialCapacity")
_REPEATING = ("unauthorized", "forbidden", "not_found", "unreachable", "tls")


def _fetch(call):
    """call() -> its result, or {'error': ...} with the WeblogicError as plain data."""
    try:
        return call()
    except WeblogicError as exc:
        return {"error": exc.to_dict()}


def is_error(part):
    return isinstance(part, dict) and isinstance(part.get("error"), dict) and len(part) == 1


def _server_parts(client, name):
    """JVM, thread pool and data sources of one running server, through the Admin Server."""
    base = ("domainRuntime", "serverRuntimes", name)
    parts = {"jvm": _fetch(lambda: client.get(rest_path(*base + ("JVMRuntime",)), compact(JVM_FIELDS)))}
    first = parts["jvm"]
    # A server that did not answer once (timeout, refused) would make each further request
    # wait as long again: its other parts share the first failure.
    if is_error(first) and first["error"]["kind"] == "unreachable":
        parts["threads"] = parts["datasources"] = first
        return parts
    parts["threads"] = _fetch(lambda: client.get(rest_path(*base + ("threadPoolRuntime",)),
                                                 compact(THREAD_FIELDS)))
    parts["datasources"] = _fetch(lambda: client.items(
        rest_path(*base + ("JDBCServiceRuntime", "JDBCDataSourceRuntimeMBeans")), DATASOURCE_FIELDS))
    return parts


def _jdbc_config(client):
    """Configured data sources with their targets, maxCapacity and JNDI names."""
    resources = _fetch(lambda: client.items("domainConfig/JDBCSystemResources", ("name", "targets")))
    if is_error(resources):
        return resources
    out = []
    for item in resources:
        name = str(item.get("name"))
        base = ("domainConfig", "JDBCSystemResources", name, "JDBCResource")
        out.append({
            "name": name, "targets": item.get("targets") or [],
            "pool": _fetch(lambda b=base: client.get(rest_path(*b + ("JDBCConnectionPoolParams",)),
                                                     compact(POOL_FIELDS))),
            "params": _fetch(lambda b=base: client.get(rest_path(*b + ("JDBCDataSourceParams",)),
                                                       compact(("JNDINames",)))),
        })
    return out


def app_state(client, app, target):
    """Current state of an application on a server or cluster (STATE_ACTIVE, STATE_FAILED, ...):
    the getCurrentState(appid, target) operation of the domain's AppRuntimeStateRuntime, which
    the Monitor role may invoke (Oracle: https://docs.oracle.com/en/middleware/standalone/
    weblogic-server/15.1.1/wlrdr/op-management-weblogic-version-domainruntime-appruntimestateruntime-getcurrentstate-x-operations-0.html).
    """
    body = client.post("domainRuntime/appRuntimeStateRuntime/getCurrentState",
                       {"appid": app, "target": target}, role="Monitor")
    return body.get("return") if isinstance(body, dict) else None


def _app_states(client, deployments, server_config, running):
    """{app: {server: state or error}} for every running server each deployment targets."""
    pairs = []
    for item in deployments:
        for server in expand_targets(item.get("targets"), server_config):
            if server in running:
                pairs.append((str(item.get("name")), server))
    states = {}
    if not pairs:
        return states
    first = _fetch(lambda: app_state(client, *pairs[0]))
    results = [first]
    if is_error(first) and first["error"]["kind"] in _REPEATING:
        results += [first] * (len(pairs) - 1)  # same answer for all: do not ask N times
    else:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            results += list(pool.map(lambda pair: _fetch(lambda: app_state(client, *pair)), pairs[1:]))
    for index, (app, server) in enumerate(pairs):
        states.setdefault(app, {})[server] = results[index]
    return states


def inspection_snapshot(client):
    """Everything INSP-10 grades, as plain data (weblogic_health.evaluate reads it).

    Each part is the JSON WebLogic returned (a collection's items) or {'error': {...}} when
    that request failed; a failed part never stops the others. When even the list of servers
    cannot be read, the snapshot holds that one error and nothing else.
    """
    snapshot = {"url": client.url}
    lifecycle = _fetch(lambda: client.items("domainRuntime/serverLifeCycleRuntimes", LIFECYCLE_FIELDS))
    snapshot["lifecycle"] = lifecycle
    if is_error(lifecycle):
        return snapshot
    snapshot["runtimes"] = _fetch(lambda: client.items("domainRuntime/serverRuntimes", SERVER_RUNTIME_FIELDS))
    snapshot["server_config"] = _fetch(lambda: client.items("domainConfig/servers", ("name", "cluster")))
    running = [] if is_error(snapshot["runtimes"]) else [str(i.get("name")) for i in snapshot["runtimes"]]
    # Without the runtime list, getCurrentState (answered by the Admin Server) still tells
    # the applications' states on the servers the life-cycle list shows up.
    up = running if not is_error(snapshot["runtimes"]) else \
        [str(i.get("name")) for i in lifecycle if i.get("state") not in DOWN_STATES]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        parts = list(pool.map(lambda name: _server_parts(client, name), running))
    snapshot["per_server"] = dict((name, parts[i]) for i, name in enumerate(running))
    snapshot["jdbc"] = _jdbc_config(client)
    deployments = _fetch(lambda: client.items("domainConfig/appDeployments", ("name", "targets")))
    snapshot["deployments"] = deployments
    config = [] if is_error(snapshot["server_config"]) else snapshot["server_config"]
    snapshot["app_states"] = {} if is_error(deployments) else \
        _app_states(client, deployments, config, up)
    return snapshot
