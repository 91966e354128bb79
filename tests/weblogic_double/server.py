"""HTTP side of the WebLogic protocol double: a loopback server that answers like the
Admin Server's RESTful Management API, for tests. It is a double, not WebLogic.

What it reproduces, as Oracle documents it:
- resources under /management/weblogic/<version>/ with `latest` as a version
  ("Send Requests": https://docs.oracle.com/en/middleware/standalone/weblogic-server/15.1.1/wlrdr/send-requests.html);
- HTTP Basic authentication, and the four global roles Admin, Deployer, Operator and Monitor,
  each route admitting the roles its Oracle reference page lists ("Accessing REST Resources":
  https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrur/using.html);
  an authenticated user in none of them gets 403;
- the X-Requested-By header, required on POST and DELETE (400 without it; send-requests.html);
- the `links`, `fields` and `excludeFields` query parameters every GET accepts, `fields` and
  `excludeFields` being mutually exclusive (e.g. https://docs.oracle.com/en/middleware/standalone/
  weblogic-server/14.1.1.0/wlrdr/op-management-weblogic-version-domainruntime-serverruntimes-get.html);
- collections as {"items": [...]} and a `links` array on every resource unless links=none.

Routes live in a Router: `double.router.register(method, path_regex, handler, roles=...)`, the
regex matched against the path after /management/weblogic/<version>/. runtime.py registers the
read endpoints; the deployment work adds its own the same way. Failures are injected with
`double.inject(...)`; `double.requests` records what clients sent (never the password).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.weblogic_double.domain import Domain

ROLES = ("Admin", "Deployer", "Operator", "Monitor")
READ_ROLES = frozenset(ROLES)
ROOT = re.compile(r"^/management/weblogic/(?P<version>latest|\d+(?:\.\d+)*)(?:/(?P<rest>.*))?$")
# What WebLogic's servlet container answers for a path it has no resource for (e.g. 10.3.6,
# whose REST interface has none of these resources).
HTML_404 = (b"<html><head><title>Error 404--Not Found</title></head>"
            b"<body><h2>Error 404--Not Found</h2></body></html>")
HTML_401 = (b"<html><head><title>Error 401--Unauthorized</title></head>"
            b"<body><h2>Error 401--Unauthorized</h2></body></html>")
HTML = "text/html; charset=UTF-8"

DEFAULT_USERS = {
    "weblogic": ("Admin-pw-4f1c", {"Admin"}),
    "deployer": ("Deployer-pw-9a2e", {"Deployer"}),
    "operator": ("Operator-pw-3b7d", {"Operator"}),
    "monitor": ("Monitor-pw-6c5a", {"Monitor"}),
    "nobody": ("Nobody-pw-1d8f", set()),
}


class DoubleError(Exception):
    """Raised by a route: answered as WebLogic's JSON error body with this status."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Request:
    method: str
    path: str                      # after /management/weblogic/<version>/
    params: dict[str, str]         # named groups of the route's regex, URL-decoded
    query: dict[str, str]
    headers: dict[str, str]
    user: str
    roles: set[str]
    raw_body: bytes
    domain: Domain
    double: WeblogicDouble
    base_url: str

    def json(self):
        if not self.raw_body:
            return {}
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except ValueError:
            raise DoubleError(400, "The request body is not valid JSON.") from None

    def multipart(self) -> dict[str, dict]:
        """name -> {'filename', 'content_type', 'data'} of a multipart/form-data body."""
        ctype = self.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise DoubleError(400, "Expected a multipart/form-data body.")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + self.raw_body)
        parts = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            parts[name] = {"filename": part.get_filename(), "content_type": part.get_content_type(),
                           "data": part.get_payload(decode=True) or b""}
        return parts


@dataclass
class Route:
    method: str
    regex: re.Pattern
    handler: object
    roles: frozenset


class Router:
    """Method + path regex -> handler(request) returning (status, body dict)."""

    def __init__(self):
        self.routes: list[Route] = []

    def register(self, method: str, path_regex: str, handler, roles=None) -> None:
        """roles: who may call it; default the four roles for GET, Admin for anything else."""
        method = method.upper()
        allowed = frozenset(roles) if roles is not None else (READ_ROLES if method == "GET" else {"Admin"})
        self.routes.insert(0, Route(method, re.compile(path_regex + r"\Z"), handler, frozenset(allowed)))

    def match(self, method: str, path: str):
        """(route, match) or (None, methods the path would accept)."""
        methods = set()
        for route in self.routes:
            found = route.regex.match(path)
            if found:
                if route.method == method:
                    return route, found
                methods.add(route.method)
        return None, methods


@dataclass
class Injection:
    method: str
    regex: re.Pattern
    status: int | None
    detail: str
    times: int | None
    delay: float
    hits: int = 0


@dataclass
class Logged:
    method: str
    path: str
    query: dict
    user: str | None
    requested_by: str | None
    content_type: str | None
    status: int = 0
    body: bytes = field(default=b"", repr=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls_context: ssl.SSLContext | None = None
    double: WeblogicDouble

    def finish_request(self, request, client_address):
        # TLS handshakes run in the request's own thread, so a client that gives up on an
        # untrusted certificate never blocks the accept loop.
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # clients that time out or drop TLS are part of the tests


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "WebLogic-double"
    sys_version = ""

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - names fixed by BaseHTTPRequestHandler
        self.server.double.handle(self)

    do_POST = do_DELETE = do_OPTIONS = do_GET  # noqa: N815


class WeblogicDouble:
    """A WebLogic Admin Server double on 127.0.0.1 (random port), HTTP or HTTPS.

        with WeblogicDouble(domain=Domain.sample()) as double:
            double.url               # http://127.0.0.1:PORT
            double.domain.set_state("ms2", "SHUTDOWN")
            double.inject("GET", r"domainRuntime/serverRuntimes/ms1/JVMRuntime", 404)
    """

    def __init__(self, domain: Domain | None = None, users=None, tls: tuple[str, str] | None = None,
                 rest_api: bool = True, install_runtime: bool = True):
        self.domain = domain or Domain.sample()
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.tls = tls
        self.rest_api = rest_api  # False: a WebLogic without this REST API (404 everywhere)
        self.router = Router()
        self.requests: list[Logged] = []
        self._injections: list[Injection] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        if install_runtime:
            from tests.weblogic_double import runtime  # noqa: PLC0415 - runtime imports this module
            runtime.install(self.router)

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> WeblogicDouble:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.double = self
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            httpd.tls_context = context
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="weblogic-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    # -- test controls ------------------------------------------------------
    def inject(self, method: str, path_regex: str, status: int | None = 500,
               detail: str = "Injected failure.", times: int | None = None, delay: float = 0.0) -> Injection:
        """Answer requests matching method + path regex with status (None: only the delay, then
        the normal answer), at most `times` times (None: always), after `delay` seconds."""
        injection = Injection(method.upper(), re.compile(path_regex + r"\Z"), status, detail, times, delay)
        with self._lock:
            self._injections.insert(0, injection)
        return injection

    def clear_injections(self) -> None:
        with self._lock:
            self._injections.clear()

    def requests_to(self, method: str, path_regex: str) -> list[Logged]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method and pattern.search(r.path)]

    # -- serving ------------------------------------------------------------
    def _injection_for(self, method: str, path: str) -> Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.method == method and injection.regex.match(path) and \
                        (injection.times is None or injection.hits < injection.times):
                    injection.hits += 1
                    return injection
        return None

    def _authenticate(self, header: str | None):
        """(user, roles) for valid Basic credentials, else (None, None)."""
        if not header or not header.startswith("Basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        known = self.users.get(user)
        if known is None or known[0] != password:
            return None, None
        return user, set(known[1])

    def handle(self, http: _Handler) -> None:
        split = urlsplit(http.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        user, roles = self._authenticate(http.headers.get("Authorization"))
        entry = Logged(http.command, split.path, query, user, http.headers.get("X-Requested-By"),
                       http.headers.get("Content-Type"))
        with self._lock:
            self.requests.append(entry)
        status, body, ctype, extra = self._answer(http, split.path, query, raw, user, roles)
        entry.status = status
        http.send_response(status)
        http.send_header("Content-Type", ctype)
        http.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            http.send_header(name, value)
        http.end_headers()
        if http.command != "HEAD":
            http.wfile.write(body)

    def _answer(self, http, path, query, raw, user, roles):
        """(status, body bytes, content type, extra headers) for one request."""
        found = ROOT.match(path)
        refused = self._gate(http, found, user, roles)
        if refused:
            return refused
        method, rest = http.command, found.group("rest") or ""
        injection = self._injection_for(method, unquote_path(rest))
        if injection is not None:
            if injection.delay:
                time.sleep(injection.delay)
            if injection.status is not None:
                return self._error(injection.status, injection.detail)
        route, match = self.router.match(method, rest)
        if route is None:
            return self._error(405, "Method %s is not allowed here." % method) if match else \
                self._error(404, "Not Found: %s" % path)
        if not roles & route.roles or ("fields" in query and "excludeFields" in query):
            return self._error(403, "User %s may not %s this resource." % (user, method)) \
                if not roles & route.roles else \
                self._error(400, "'fields' must not be specified if 'excludeFields' is specified.")
        base = "%s://%s" % ("https" if self.tls else "http", http.headers.get("Host", "127.0.0.1"))
        params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        request = Request(method, unquote_path(rest), params, query,
                          {k.lower(): v for k, v in http.headers.items()}, user, roles, raw,
                          self.domain, self, base + path)
        try:
            with self.domain.lock:
                status, body = route.handler(request)
        except DoubleError as exc:
            return self._error(exc.status, exc.detail)
        if method == "GET":  # resources carry links; results of actions are bare
            body = shape(body, query, base + path)
        return status, json.dumps(body).encode("utf-8"), "application/json", ()

    def _gate(self, http, found, user, roles):
        """The answer to a request refused before any route runs, else None."""
        if not found or not self.rest_api:
            return 404, HTML_404, HTML, ()
        if user is None:
            return 401, HTML_401, HTML, (("WWW-Authenticate", 'Basic realm="weblogic"'),)
        if not roles & READ_ROLES:
            return self._error(403, "User %s is not in a role that may use the management REST API." % user)
        if http.command in ("POST", "DELETE") and not http.headers.get("X-Requested-By"):
            return self._error(400, "The X-Requested-By header is required for POST and DELETE requests.")
        return None

    @staticmethod
    def _error(status: int, detail: str):
        titles = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
                  500: "Internal Server Error", 503: "Service Unavailable"}
        body = {"type": "about:blank", "title": titles.get(status, "Error"), "status": status,
                "detail": detail}
        return status, json.dumps(body).encode("utf-8"), "application/json", ()


def unquote_path(path: str) -> str:
    return "/".join(unquote(p) for p in path.split("/"))


# ------------------------------------------------------------------ response shaping


def _links(url: str, parent: bool = True) -> list[dict]:
    links = [{"rel": "self", "href": url}, {"rel": "canonical", "href": url}]
    if parent:
        links.append({"rel": "parent", "href": url.rsplit("/", 1)[0]})
    return links


def _fields(obj: dict, query: dict) -> dict:
    keep = [f for f in query.get("fields", "").split(",") if f] if "fields" in query else None
    drop = {f for f in query.get("excludeFields", "").split(",") if f}
    out = {}
    for key, value in obj.items():
        if key in ("items", "links"):
            out[key] = value
        elif (keep is None or key in keep) and key not in drop:
            out[key] = value
    return out


def shape(body, query: dict, url: str):
    """Apply fields/excludeFields and add links unless links=none, as WebLogic does."""
    if not isinstance(body, dict):
        return body
    with_links = query.get("links", "") != "none"
    out = _fields(body, query)
    if isinstance(body.get("items"), list):
        items = []
        for item in body["items"]:
            shaped = _fields(item, query)
            if with_links and "name" in item:
                shaped["links"] = _links("%s/%s" % (url, quote(str(item["name"]), safe="")), parent=False)
            items.append(shaped)
        out["items"] = items
    if with_links:
        out["links"] = _links(url)
    return out
