# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application availability (INSP-17) and listener reachability (INSP-02) probes.

Each check has three steps so the grading is testable on plain data:
normalise one configured entry (a bad entry becomes an error record, never an
exception), probe it (network I/O: urllib / socket, returning a plain "raw"
dict), and evaluate spec + raw into one record of the shared format.

Used by control-node modules (url_check, tcp_port_check), but kept valid on
Python 3.7 like everything else, because a delegated localhost may run any
python3 the inventory names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import math
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from urllib import request as _request
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit, urlunsplit

from ansible_collections.gxtax.ops.plugins.module_utils.records import grade, make_record

URL_REQUIREMENT = "INSP-17"
TCP_REQUIREMENT = "INSP-02"

# Enough body to find a marker text on any entry page; a media download must
# not be pulled whole just to be inspected.
MAX_BODY_BYTES = 1 << 20
USER_AGENT = "gxtax-ops-inspection/0.1"

URL_DEFAULTS = {"timeout": 10.0, "warn_ms": 3000.0, "crit_ms": 8000.0, "expect_status": [200],
                "follow_redirects": False}

URL_ADVICE = {
    "refused": ("检查WebLogic受管服务器和应用部署状态（控制台或REST接口）、前端负载均衡/反向代理，"
                "在应用主机上用 ss -lntp 确认端口监听，并检查防火墙策略",
                "用户无法访问该应用，相关业务中断"),
    "timeout": ("检查WebLogic线程是否阻塞（STUCK线程、线程堆栈）、数据库长时间运行的SQL和锁等待，"
                "以及网络链路和负载均衡状态",
                "页面无响应，用户无法办理业务"),
    "dns": ("检查该域名在DNS或控制节点 /etc/hosts 中的解析记录",
            "用户无法通过域名访问该应用"),
    "tls": ("检查服务器证书是否过期、证书链是否完整、证书域名是否与访问地址一致；"
            "内网自签证书请通过 ca_path 指定签发CA",
            "浏览器提示证书错误，用户无法正常访问，且存在被中间人攻击的风险"),
    "connect": ("检查控制节点到应用地址的网络路由和防火墙，确认应用主机在线",
                "用户无法访问该应用，相关业务中断"),
    "protocol": ("检查应用端口上运行的是否为预期的HTTP服务，查看WebLogic和前端代理日志中的异常",
                 "应用返回异常响应，用户无法正常访问"),
    "status": ("查看应用日志和WebLogic服务器日志中的异常堆栈，确认应用部署状态为Active，"
               "检查前端代理的转发配置",
               "应用返回错误页面，用户无法正常办理业务"),
    "text": ("页面已返回但内容不符合预期：检查是否跳转到错误页或维护页，核对应用版本和部署内容",
             "用户看到错误或不完整的页面，业务无法正常使用"),
    "slow": ("检查应用服务器CPU、内存和JVM GC情况，数据库TOP SQL和锁等待，以及网络带宽和延迟",
             "页面响应慢，用户办理业务等待时间长，高峰期可能超时"),
    "config": ("核对巡检配置 gxtax_inspection_urls 中该条目的 url、expect_status 和阈值",
               "该应用未被巡检，故障无法被及时发现"),
}

TCP_DIRECTION = ("检查数据库监听进程是否运行（lsnrctl status）及 listener.ora 中的地址和端口，"
                 "检查主机防火墙（firewalld/iptables）和控制节点到数据库的网络链路")
TCP_CONSEQUENCE = "应用无法连接数据库，业务中断"
TCP_CONFIG = ("核对巡检配置 gxtax_inspection_listeners 中该条目的 host 和 port",
              "该数据库监听未被巡检，故障无法被及时发现")

ERROR_TEXT = {
    "refused": "连接被拒绝（端口未监听或服务未启动）",
    "timeout": "超时未响应",
    "dns": "主机名无法解析",
    "tls": "TLS证书校验失败",
    "connect": "网络连接失败",
    "protocol": "响应不符合HTTP协议",
}


def _fmt(number):
    """1500.0 -> '1500', 2.25 -> '2.25' for Chinese sentences."""
    return ("%.2f" % number).rstrip("0").rstrip(".")


def _number(value, what):
    """A finite number from int, float or numeric string; ValueError naming `what` otherwise."""
    if isinstance(value, bool):
        raise ValueError("%s 必须是数字" % what)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s 必须是数字，而不是 %r" % (what, value)) from None
    if not math.isfinite(number):
        raise ValueError("%s 必须是有限数字" % what)
    return number


# ------------------------------------------------------------------ URLs


def split_url(url):
    """(url without userinfo, username, password, display url).

    The display url has userinfo, query and fragment removed (SEC-02): a
    query string may hold tokens, and it is what every record shows.
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    username = password = None
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        name, _sep, secret = userinfo.partition(":")
        username, password = unquote(name), (unquote(secret) if _sep else None)
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    display = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
    return bare, username, password, display


def safe_url(url):
    """The url as records and results may show it: no userinfo, query or fragment."""
    try:
        return split_url(url)[3]
    except ValueError:  # urlsplit refuses some malformed netlocs; show nothing of them
        return "（无法解析的URL）"


def _statuses(value):
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError("expect_status 不能为空")
    statuses = []
    for item in values:
        number = _number(item, "expect_status")
        if number != int(number) or not 100 <= number <= 599:
            raise ValueError("expect_status %r 不是 100-599 之间的HTTP状态码" % (item,))
        statuses.append(int(number))
    return sorted(set(statuses))


def normalize_url_spec(entry, defaults=None, host="localhost"):
    """(spec, problem): the entry with defaults applied, or a Chinese reason it cannot run.

    spec always has the keys records need (label, display, record_host), so
    even a bad entry yields a well-formed error record.
    """
    merged = dict(URL_DEFAULTS)
    merged.update(dict((k, v) for k, v in (defaults or {}).items() if v is not None))
    if not isinstance(entry, dict):
        spec = {"label": "（配置错误的条目）", "display": "", "name": None, "record_host": host}
        return spec, "条目必须是包含 url 的字典，而不是 %s" % type(entry).__name__
    url = entry.get("url")
    display = safe_url(url) if isinstance(url, str) and url else ""
    name = str(entry["name"]) if entry.get("name") else None
    spec = {"url": url, "display": display, "name": name,
            "label": name or display or "（未填写url）",
            "record_host": str(entry.get("record_host") or host)}
    try:
        _fill_url_spec(spec, entry, merged)
    except ValueError as exc:
        return spec, str(exc)
    return spec, None


def _fill_url_spec(spec, entry, merged):
    """Check the entry and complete spec; ValueError with the Chinese reason otherwise."""
    url = spec["url"]
    if not isinstance(url, str) or not url:
        raise ValueError("未填写 url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port outside 0-65535
    except ValueError as exc:
        raise ValueError("url 无法解析：%s" % exc) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url 必须是 http:// 或 https:// 开头的完整地址")
    spec["timeout"] = _number(entry.get("timeout", merged["timeout"]), "timeout")
    if spec["timeout"] <= 0:
        raise ValueError("timeout 必须大于 0")
    for key in ("warn_ms", "crit_ms"):  # null disables that level
        value = entry.get(key, merged[key])
        spec[key] = None if value is None else _number(value, key)
    warn, crit = spec["warn_ms"], spec["crit_ms"]
    if warn is not None and crit is not None and warn > crit:
        raise ValueError("warn_ms（%s）不能大于 crit_ms（%s）" % (_fmt(warn), _fmt(crit)))
    spec["expect_status"] = _statuses(entry.get("expect_status", merged["expect_status"]))
    follow = entry.get("follow_redirects", merged["follow_redirects"])
    spec["follow_redirects"] = str(follow).lower() in ("true", "yes", "1", "on")
    text = entry.get("expect_text")
    spec["expect_text"] = str(text) if text not in (None, "") else None


class _NoRedirect(_request.HTTPRedirectHandler):
    """Report a 3xx as it is: a redirect to a login or error page is a finding."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _ssl_context(validate_certs, ca_path):
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_path or None)


class _BasicOnChallenge(_request.BaseHandler):
    """Answer one 401 Basic challenge (any realm) with the given credentials, never preemptively."""

    def __init__(self, username, password):
        token = ("%s:%s" % (username, password)).encode("utf-8")
        self.header = "Basic " + base64.b64encode(token).decode("ascii")

    def http_error_401(self, req, fp, code, msg, headers):
        if req.get_header("Authorization") or "basic" not in (headers.get("WWW-Authenticate") or "").lower():
            return None
        req.add_unredirected_header("Authorization", self.header)
        return self.parent.open(req, timeout=req.timeout)


def build_opener(follow_redirects, validate_certs=True, ca_path=None, username=None, password=None):
    """An opener that ignores *_proxy from the environment (ProxyHandler({})).

    Inspection measures the service itself; through a proxy a dead
    application could look alive (a cached page) and response times would be
    the proxy's. Credentials are sent only in answer to a 401 challenge.
    """
    handlers = [_request.ProxyHandler({}),
                _request.HTTPSHandler(context=_ssl_context(validate_certs, ca_path))]
    if not follow_redirects:
        handlers.append(_NoRedirect())
    if username is not None:
        handlers.append(_BasicOnChallenge(username, password or ""))
    return _request.build_opener(*handlers)


def classify_error(exc):
    """(kind, message) for an exception from urllib or socket; kinds as in ERROR_TEXT."""
    reason = exc.reason if isinstance(exc, URLError) and not isinstance(exc, HTTPError) else exc
    if not isinstance(reason, BaseException):  # URLError("unknown url type: ..."), a plain text
        reason = exc
    if isinstance(reason, ssl.SSLError) or isinstance(reason, ssl.CertificateError):
        kind = "tls"
    elif isinstance(reason, socket.timeout) or "timed out" in str(reason):
        kind = "timeout"
    elif isinstance(reason, socket.gaierror):
        kind = "dns"
    elif isinstance(reason, ConnectionRefusedError):
        kind = "refused"
    elif isinstance(reason, HTTPException):  # includes RemoteDisconnected, also an OSError
        kind = "protocol"
    elif isinstance(reason, (OSError, URLError)):
        kind = "connect"
    else:
        kind = "protocol"
    return kind, "%s: %s" % (type(reason).__name__, reason)


def contains_text(body, text, declared_charset=None):
    """Whether body (bytes) holds text in the declared charset, UTF-8 or GB18030.

    Matching bytes avoids decoding a page that may be cut at MAX_BODY_BYTES
    in the middle of a character; GB18030 covers GBK/GB2312 pages that do
    not declare their charset.
    """
    for charset in (declared_charset, "utf-8", "gb18030"):
        if not charset:
            continue
        try:
            if text.encode(charset) in body:
                return True
        except (LookupError, UnicodeEncodeError):
            continue
    return False


def fetch(spec, validate_certs=True, ca_path=None, username=None, password=None, clock=time.monotonic):
    """GET spec['url'] and return the raw result (never raises).

    raw: status, elapsed_ms (request until body read, at most MAX_BODY_BYTES),
    bytes, truncated, text_found (None without expect_text), location (display
    form), error_kind and error. The body itself is never returned.
    """
    raw = {"status": None, "elapsed_ms": None, "bytes": 0, "truncated": False, "text_found": None,
           "location": None, "error_kind": None, "error": None}
    bare, url_user, url_password, _display = split_url(spec["url"])
    if username is None and url_user is not None:
        username, password = url_user, url_password
    opener = build_opener(spec["follow_redirects"], validate_certs, ca_path, username, password)
    # the scheme was checked to be http or https in normalize_url_spec
    request = _request.Request(bare, headers={"User-Agent": USER_AGENT})  # noqa: S310
    start = clock()
    try:
        try:
            response = opener.open(request, timeout=spec["timeout"])
        except HTTPError as exc:  # 4xx/5xx and unfollowed 3xx: still an answer to grade
            response = exc
        with response:
            body = response.read(MAX_BODY_BYTES + 1)
            raw["elapsed_ms"] = round((clock() - start) * 1000.0, 1)
            raw["status"] = response.getcode()
            headers = response.headers
    except Exception as exc:  # any failure of one URL is that URL's finding
        raw["error_kind"], message = classify_error(exc)
        raw["error"] = message.replace(spec["url"], safe_url(spec["url"])).replace(bare, safe_url(bare))
        return raw
    raw["truncated"] = len(body) > MAX_BODY_BYTES
    body = body[:MAX_BODY_BYTES]
    raw["bytes"] = len(body)
    location = headers.get("Location") if headers is not None else None
    if location:
        raw["location"] = safe_url(location)
    if spec.get("expect_text"):
        declared = headers.get_content_charset() if headers is not None else None
        raw["text_found"] = contains_text(body, spec["expect_text"], declared)
    return raw


def _url_record(spec, status, value, detail, advice_key):
    direction, consequence = URL_ADVICE[advice_key] if status != "ok" else (None, None)
    threshold = {"warning": spec.get("warn_ms"), "critical": spec.get("crit_ms")}
    if threshold["warning"] is None and threshold["critical"] is None:
        threshold = None
    return make_record(URL_REQUIREMENT, "应用访问 %s" % spec["label"], spec["record_host"], status,
                       value, "ms", threshold, detail, direction, consequence)


def evaluate_url(spec, raw):
    """One INSP-17 record from a normalised spec and the raw fetch result."""
    # a bare URL gets a space before the Chinese text that follows it
    where = "%s（%s）" % (spec["label"], spec["display"]) if spec.get("name") else spec["label"] + " "
    if raw.get("error_kind"):
        kind = raw["error_kind"]
        if kind == "timeout":
            detail = "%s在 %s 秒内未响应（超时）。" % (where, _fmt(spec["timeout"]))
        else:
            detail = "%s无法访问：%s。" % (where, ERROR_TEXT.get(kind, "请求失败"))
        return _url_record(spec, "critical", None, detail, kind if kind in URL_ADVICE else "connect")
    elapsed = raw["elapsed_ms"]
    answered = "%s返回 HTTP %d，响应时间 %s ms" % (where, raw["status"], _fmt(elapsed))
    if raw["status"] not in spec["expect_status"]:
        jump = "（跳转至 %s）" % raw["location"] if raw.get("location") else ""
        detail = "%s返回 HTTP %d%s，不是预期的 %s。" % (
            where, raw["status"], jump, "/".join(str(s) for s in spec["expect_status"]))
        return _url_record(spec, "critical", elapsed, detail, "status")
    if spec.get("expect_text") and not raw.get("text_found"):
        scope = "前 %d KiB " % (MAX_BODY_BYTES // 1024) if raw.get("truncated") else ""
        shown = spec["expect_text"][:40]
        detail = "%s，但页面%s不包含预期文本“%s”。" % (answered, scope, shown)
        return _url_record(spec, "critical", elapsed, detail, "text")
    status = grade(elapsed, spec.get("warn_ms"), spec.get("crit_ms"))
    if status == "critical":
        verdict = "已达到严重阈值 %s ms" % _fmt(spec["crit_ms"])
    elif status == "warning":
        verdict = "已达到告警阈值 %s ms" % _fmt(spec["warn_ms"])
    elif spec.get("warn_ms") is not None or spec.get("crit_ms") is not None:
        limit = spec["warn_ms"] if spec.get("warn_ms") is not None else spec["crit_ms"]
        verdict = "低于告警阈值 %s ms，正常" % _fmt(limit)
    else:
        verdict = "未设置响应时间阈值，访问正常"
    return _url_record(spec, status, elapsed, "%s，%s。" % (answered, verdict), "slow")


def config_error_url(spec, problem):
    spec = dict(spec, warn_ms=None, crit_ms=None)  # thresholds of a broken entry mean nothing
    return _url_record(spec, "error", None, "%s 的巡检配置有误，未检查：%s。" % (spec["label"], problem),
                       "config")


def url_result(spec, raw, problem=None):
    """The per-URL entry of the module's `results` (display url only, never the body)."""
    result = {"name": spec.get("name"), "url": spec["display"], "record_host": spec["record_host"]}
    if problem:
        result.update({"status": None, "elapsed_ms": None, "bytes": 0, "error": problem})
        return result
    result.update({"status": raw["status"], "elapsed_ms": raw["elapsed_ms"], "bytes": raw["bytes"],
                   "truncated": raw["truncated"], "text_found": raw["text_found"],
                   "location": raw["location"], "error": raw["error"]})
    return result


def _unique(entries, key):
    """Entries in order, each key once (the first declaration wins)."""
    seen = set()
    kept = []
    for entry in entries:
        k = key(entry)
        if k is not None and k in seen:
            continue
        seen.add(k)
        kept.append(entry)
    return kept


def _url_key(entry):
    return entry.get("url") if isinstance(entry, dict) and isinstance(entry.get("url"), str) else None


def _run_all(items, probe, parallel):
    workers = max(1, min(int(parallel or 1), len(items) or 1))
    if workers == 1:
        return [probe(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(probe, items))


def check_urls(entries, defaults=None, host="localhost", fetcher=None, parallel=4):
    """(records, results) for a list of URL entries; a URL listed twice is checked once.

    fetcher(spec) -> raw; defaults to fetch() with its defaults.
    """
    fetcher = fetcher or fetch
    prepared = [normalize_url_spec(e, defaults, host) for e in _unique(entries or [], _url_key)]

    def probe(pair):
        spec, problem = pair
        if problem:
            return config_error_url(spec, problem), url_result(spec, None, problem)
        raw = fetcher(spec)
        return evaluate_url(spec, raw), url_result(spec, raw)

    done = _run_all(prepared, probe, parallel)
    return [d[0] for d in done], [d[1] for d in done]


# ------------------------------------------------------------------ TCP


def endpoint(address, port):
    return "[%s]:%s" % (address, port) if ":" in str(address) else "%s:%s" % (address, port)


def normalize_tcp_target(entry, host="localhost"):
    """(target, problem) like normalize_url_spec."""
    if not isinstance(entry, dict):
        target = {"host": "?", "port": "?", "name": None, "record_host": host}
        return target, "条目必须是包含 host 和 port 的字典，而不是 %s" % type(entry).__name__
    address = entry.get("host")
    target = {"host": str(address) if address else "?", "port": entry.get("port", "?"),
              "name": str(entry["name"]) if entry.get("name") else None}
    target["record_host"] = str(entry.get("record_host") or host)
    if not address:
        return target, "未填写 host"
    try:
        port = _number(entry.get("port"), "port")
    except ValueError as exc:
        return target, str(exc)
    if port != int(port) or not 1 <= port <= 65535:
        return target, "port %r 不是 1-65535 之间的端口号" % (entry.get("port"),)
    target["port"] = int(port)
    return target, None


def connect(target, timeout, clock=time.monotonic):
    """Open and close one TCP connection; raw: connected, elapsed_ms, error_kind, error."""
    start = clock()
    try:
        sock = socket.create_connection((target["host"], target["port"]), timeout=timeout)
    except Exception as exc:  # every failure is this target's finding
        kind, message = classify_error(exc)
        return {"connected": False, "elapsed_ms": None, "error_kind": kind, "error": message}
    elapsed = round((clock() - start) * 1000.0, 1)
    sock.close()
    return {"connected": True, "elapsed_ms": elapsed, "error_kind": None, "error": None}


def _tcp_threshold(timeout):
    return "%s 秒内可建立TCP连接" % _fmt(timeout)


def _tcp_item(target):
    return "数据库监听端口 %s 可达性" % endpoint(target["host"], target["port"])


def evaluate_tcp(target, raw, timeout):
    """One INSP-02 record from a normalised target and the raw connect result."""
    where = endpoint(target["host"], target["port"])
    where = "%s（%s）" % (target["name"], where) if target.get("name") else where + " "
    if raw["connected"]:
        return make_record(TCP_REQUIREMENT, _tcp_item(target), target["record_host"], "ok",
                           raw["elapsed_ms"], "ms", _tcp_threshold(timeout),
                           "%sTCP连接成功，耗时 %s ms。" % (where, _fmt(raw["elapsed_ms"])))
    kind = raw.get("error_kind") or "connect"
    if kind == "timeout":
        why = "%s 秒内未建立连接（超时）" % _fmt(timeout)
    else:
        why = ERROR_TEXT.get(kind, "连接失败")
    direction = TCP_DIRECTION
    if kind == "dns":
        direction = "检查主机名解析（DNS或控制节点 /etc/hosts），" + TCP_DIRECTION
    return make_record(TCP_REQUIREMENT, _tcp_item(target), target["record_host"], "critical", None, "ms",
                       _tcp_threshold(timeout), "%sTCP连接失败：%s。" % (where, why),
                       direction, TCP_CONSEQUENCE)


def config_error_tcp(target, problem):
    direction, consequence = TCP_CONFIG
    return make_record(TCP_REQUIREMENT, _tcp_item(target), target["record_host"], "error", None, "ms",
                       None, "该监听检查的配置有误，未检查：%s。" % problem, direction, consequence)


def _tcp_key(entry):
    if isinstance(entry, dict) and entry.get("host") and entry.get("port") is not None:
        return (str(entry["host"]), str(entry["port"]))
    return None


def check_tcp(entries, timeout=3.0, host="localhost", connector=None, parallel=8):
    """(records, results) for a list of TCP targets; a host:port listed twice is checked once.

    connector(target, timeout) -> raw; defaults to connect().
    """
    connector = connector or connect
    prepared = [normalize_tcp_target(e, host) for e in _unique(entries or [], _tcp_key)]
    try:
        timeout = _number(timeout, "timeout")
        bad_timeout = None if timeout > 0 else "timeout 必须大于 0"
    except ValueError as exc:
        bad_timeout = str(exc)

    def probe(pair):
        target, problem = pair
        problem = problem or bad_timeout
        result = {"host": target["host"], "port": target["port"], "name": target["name"],
                  "record_host": target["record_host"]}
        if problem:
            result.update({"connected": False, "elapsed_ms": None, "error": problem})
            return config_error_tcp(target, problem), result
        raw = connector(target, timeout)
        result.update({"connected": raw["connected"], "elapsed_ms": raw["elapsed_ms"], "error": raw["error"]})
        return evaluate_tcp(target, raw, timeout), result

    done = _run_all(prepared, probe, parallel)
    return [d[0] for d in done], [d[1] for d in done]
