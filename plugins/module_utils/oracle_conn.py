# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching Oracle for the inspection: connect (thin, thick, automatic fallback), why a
connection failed, statements with a time limit, and the watchdog that bounds the whole run.

The driver is handed in (the `oracledb` module, or a fake with the same names in tests), and so
are the checks (`oracle_checks`): nothing here imports either.

Runs on the control node only (gxtax.ops.oracle_health is delegated to localhost), but keeps to
Python 3.7 syntax so that vermin passes whether or not the Makefile lists it as controller code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time

from ansible_collections.gxtax.ops.plugins.module_utils.oracle_errors import CAUSES, THICK_CAUSES
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record, worst

REQUIREMENT = "INSP-02"
LOGIN_ITEM = "数据库连接与登录"
MASK = "********"

# Check name -> (requirement, Chinese item) of the records written here (skipped, unfinished),
# used when the checks module does not name them itself (REQUIREMENT_IDS, CHECK_ITEMS).
CHECK_LABELS = {
    "instance": ("INSP-02", "数据库实例状态"),
    "tablespaces": ("INSP-03", "表空间使用率"),
    "sessions": ("INSP-04", "会话数使用率"),
    "processes": ("INSP-05", "进程数使用率"),
    "locks": ("INSP-06", "锁情况"),
    "long_sql": ("INSP-07", "长时间执行的SQL"),
    "jobs": ("INSP-08", "定时任务状态"),
    "data_jobs": ("INSP-18", "数据抽取与加工任务"),
    "asm": ("INSP-09", "ASM磁盘组使用率"),
    "rman_backups": ("INSP-12", "RMAN备份"),
    "recovery_area": ("INSP-12", "快速恢复区使用率"),
    "alert_log": ("INSP-02", "告警日志ORA错误"),
}

# A statement needs at least this much of the module's time to be worth starting; the module
# keeps ANSWER_MARGIN_S of its time to write the answer.
MIN_STATEMENT_MS = 200
ANSWER_MARGIN_S = 0.3

SKIP_UNREACHABLE = "数据库无法连接，未检查（database unreachable, not checked）。"
SKIP_UNDESCRIBED = "数据库基本信息未取得，未检查（database not described, not checked）。"
SKIP_DEADLINE = "模块时限已到，未检查（module timeout reached, not checked）。"

_CODE = re.compile(r"\b(ORA|DPY|DPI|TNS)-(\d{4,5})\b")
_SIMILAR = re.compile(r"Similar to ORA-(\d+)")


def _norm(prefix, number):
    return "%s-%0*d" % (prefix, 5 if prefix in ("ORA", "TNS") else 4, int(number))


def error_codes(exc, message=None):
    """Every DPY-/ORA-/DPI- code an error carries, outermost first.

    Thin mode wraps causes: `DPY-6005 ... DPY-3001 ...`, `DPY-6000 ... (Similar to ORA-12514)`,
    so the message is searched as well as the error object's full_code and code.
    """
    codes = []
    arg = exc.args[0] if getattr(exc, "args", None) else None
    full = getattr(arg, "full_code", None)
    if isinstance(full, str) and _CODE.match(full):
        codes.append(_norm(*_CODE.match(full).groups()))
    number = getattr(arg, "code", 0)
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        codes.append(_norm("ORA", number))
    text = str(exc) if message is None else message
    codes.extend(_norm(p, n) for p, n in _CODE.findall(text))
    codes.extend(_norm("ORA", n) for n in _SIMILAR.findall(text))
    seen = []
    for code in codes:
        if code not in seen:
            seen.append(code)
    return seen


_CAUSE_CODES = (
    ("thin_unsupported", ("DPY-3010",)),
    ("verifier", ("DPY-3015",)),
    ("client_missing", ("DPI-1047", "DPI-1072")),
    ("locked", ("ORA-28000",)),
    ("credentials", ("ORA-01017", "ORA-01005")),
    ("expired", ("ORA-28001",)),
    ("no_session_privilege", ("ORA-01045",)),
    ("sysdba_denied", ("ORA-01031", "ORA-01994", "ORA-01990")),
    ("service_unknown", ("ORA-12514", "ORA-12505", "ORA-12504")),
    ("instance_unavailable", ("ORA-01033", "ORA-01034", "ORA-01089", "ORA-01090", "ORA-01109",
                              "ORA-12526", "ORA-12527", "ORA-12528")),
    ("no_handler", ("ORA-12516", "ORA-12518", "ORA-12519", "ORA-12520")),
    ("listener_refused", ("ORA-12541",)),
    ("dns", ("ORA-12545",)),
    ("tns_alias", ("ORA-12154", "DPY-4000", "DPY-4026", "DPY-4027")),
    ("unreachable", ("ORA-12170", "ORA-12535", "ORA-12543")),
    ("call_timeout", ("DPY-4024", "DPI-1067", "ORA-03156", "ORA-01013")),
    ("closed", ("DPY-4011", "ORA-03113", "ORA-03135", "ORA-12537", "ORA-12547")),
    ("no_credentials", ("DPY-4001",)),
)

_SOCKET_CAUSES = (
    ("listener_refused", ("connection refused", "[errno 111]")),
    ("dns", ("name or service not known", "temporary failure in name resolution",
             "nodename nor servname", "[errno -2]", "[errno -3]", "[errno -5]")),
    ("unreachable", ("timed out", "no route to host", "network is unreachable", "[errno 113]",
                     "[errno 101]", "[errno 110]")),
)


def classify(codes, message, mode="normal"):
    """The key of CAUSES for a failed connection, from its codes and (scrubbed) message."""
    text = (message or "").lower()
    if ("DPY-3001" in codes and "encryption" in text) or "ORA-12660" in codes:
        return "nne"
    for cause, cause_codes in _CAUSE_CODES:
        if any(code in codes for code in cause_codes):
            if cause == "sysdba_denied" and mode != "sysdba":
                return "no_session_privilege" if "ORA-01045" in codes else "other"
            return cause
    for cause, needles in _SOCKET_CAUSES:
        if any(needle in text for needle in needles):
            return cause
    if "DPY-6005" in codes:
        return "unreachable"
    return "other"


# ------------------------------------------------------------------ secrets

_DSN_CREDENTIALS = re.compile(r"^\s*([^/@()\s]+)/(.*)@([^@]+)$", re.S)
_KEY_SECRET = re.compile(r"(?i)\b((?:wallet_)?password|pwd)\s*=\s*(\"[^\"]*\"|[^&;)\s]+)")
_INLINE_CREDENTIALS = re.compile(r"([^/@()\s\"']+)/[^@\s]*@")


def connection_argument_spec():
    """The connection options of every gxtax.ops Oracle module (oracle_health, oracle_script)."""
    return dict(
        dsn=dict(type="str", required=True),
        user=dict(type="str"),
        password=dict(type="str", no_log=True),
        mode=dict(type="str", choices=["normal", "sysdba"], default="normal"),
        client_lib_dir=dict(type="path"),
        config_dir=dict(type="path"),
        wallet_location=dict(type="path"),
        wallet_password=dict(type="str", no_log=True),
    )


def split_dsn(dsn):
    """(user, password, dsn without them) of a DSN written as user/password@connect_string.

    A descriptor `(DESCRIPTION=...)` or a plain Easy Connect string carries no credentials:
    (None, None, dsn) then.
    """
    text = dsn or ""
    match = _DSN_CREDENTIALS.match(text)
    if not match or text.lstrip().startswith("("):
        return None, None, dsn
    password = match.group(2)
    if len(password) >= 2 and password[0] == password[-1] == '"':
        password = password[1:-1]
    return match.group(1), password, match.group(3).strip()


class Scrubber:
    """Removes every secret it knows from a text: passwords, and credentials written into DSNs."""

    def __init__(self, secrets=()):
        # Longest first, so that a secret containing another one is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text):
        text = "" if text is None else str(text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _KEY_SECRET.sub(lambda m: "%s=%s" % (m.group(1), MASK), text)
        return _INLINE_CREDENTIALS.sub(lambda m: "%s/%s@" % (m.group(1), MASK), text)


# ------------------------------------------------------------------ connecting


class ConnectFailure(Exception):
    """The database could not be reached or logged into; cause is a key of CAUSES."""

    def __init__(self, cause, codes, message, fallback=None):
        Exception.__init__(self, "%s %s" % (cause, " ".join(codes)))
        self.cause = cause
        self.codes = list(codes)
        self.message = message      # the driver's message, scrubbed
        self.fallback = fallback    # what the automatic thick fallback did, or None


def first_line(text, limit=300):
    lines = (text or "").strip().splitlines()
    return lines[0][:limit] if lines else ""


def summary(text, limit=400):
    """A driver message on one line: its lines joined, without the help URLs it appends.

    The cause is often on the second line (DPY-6005 ... / [Errno 111] Connection refused).
    """
    lines = [line.strip() for line in (text or "").splitlines()]
    return " / ".join(line for line in lines if line and not line.startswith("Help:"))[:limit]


def _auth_mode(driver, mode):
    if mode == "sysdba":
        return driver.AUTH_MODE_SYSDBA
    return driver.AUTH_MODE_DEFAULT


def _thin_params(driver, settings):
    params = dict(user=settings["user"], password=settings["password"], dsn=settings["dsn"],
                  mode=_auth_mode(driver, settings["mode"]),
                  # A dead host fails after connect_timeout; a retry would spend as much again.
                  tcp_connect_timeout=settings["connect_timeout"], retry_count=0)
    for key in ("config_dir", "wallet_location", "wallet_password"):
        if settings.get(key):
            params[key] = settings[key]
    return params


def _thick_params(driver, settings):
    # Thick mode hands the DSN to the Oracle Client as written: its sqlnet.ora (in config_dir)
    # sets connect timeouts, wallets and encryption, so thin-only parameters are left out.
    return dict(user=settings["user"], password=settings["password"], dsn=settings["dsn"],
                mode=_auth_mode(driver, settings["mode"]))


def _init_thick(driver, settings):
    kwargs = {}
    if settings.get("client_lib_dir"):
        kwargs["lib_dir"] = settings["client_lib_dir"]
    if settings.get("config_dir"):
        kwargs["config_dir"] = settings["config_dir"]
    driver.init_oracle_client(**kwargs)


def _failure(exc, scrub, mode, fallback=None):
    message = scrub(str(exc))
    codes = error_codes(exc, message)
    return ConnectFailure(classify(codes, message, mode), codes, message, fallback)


def connect(driver, settings, scrub):
    """Open the run's one connection: {"connection", "mode": thin|thick, "fallback_from": code|None}.

    Thick mode when client_lib_dir is set. Otherwise thin, and when thin mode cannot serve this
    database (DPY-3010 for 11.2, DPY-3015 for an old password verifier, native network
    encryption) once more in thick mode, if an Oracle Client library loads from the default
    search path. A failed thin attempt does not fix the driver's mode, so the same process can
    still switch. Raises ConnectFailure, its message scrubbed.
    """
    error = driver.Error
    if settings.get("client_lib_dir"):
        try:
            _init_thick(driver, settings)
            connection = driver.connect(**_thick_params(driver, settings))
        except error as exc:
            raise _failure(exc, scrub, settings["mode"]) from None
        return {"connection": connection, "mode": "thick", "fallback_from": None}
    try:
        return {"connection": driver.connect(**_thin_params(driver, settings)),
                "mode": "thin", "fallback_from": None}
    except error as exc:
        thin = _failure(exc, scrub, settings["mode"])
    if thin.cause not in THICK_CAUSES:
        raise thin
    reason = next((c for c in thin.codes if c in ("DPY-3010", "DPY-3015", "DPY-3001", "ORA-12660")),
                  thin.cause)
    try:
        _init_thick(driver, settings)
    except error as exc:
        init = _failure(exc, scrub, settings["mode"])
        thin.fallback = {"from": reason, "connected": False, "cause": init.cause, "codes": init.codes,
                         "message": summary(init.message)}
        raise thin from None
    try:
        connection = driver.connect(**_thick_params(driver, settings))
    except error as exc:
        failure = _failure(exc, scrub, settings["mode"])
        failure.fallback = {"from": reason, "connected": False, "cause": None, "codes": [],
                            "message": ""}
        raise failure from None
    return {"connection": connection, "mode": "thick", "fallback_from": reason}


def fallback_note(fallback):
    """One clause for the record's detail about the automatic thick fallback, or None."""
    if not fallback:
        return None
    if fallback.get("cause"):
        return "自动切换 thick 模式失败：%s（automatic thick fallback failed, %s）" % (
            CAUSES[fallback["cause"]]["zh"], ", ".join(fallback["codes"]) or fallback["cause"])
    return "此错误发生在自动切换到 thick 模式之后（thin 模式失败：%s）" % fallback["from"]


# ------------------------------------------------------------------ statements


def make_execute(connection, driver_error, query_error, query_timeout_ms, deadline, scrub,
                 clock=time.monotonic):
    """execute(sql, binds) -> (columns, rows) for oracle_checks, on the run's one connection.

    Every statement gets call_timeout = the smaller of query_timeout_ms and what is left of the
    module's time, so no statement outlives the module. Driver errors become
    query_error(code, first line of the message, scrubbed); the checks name a missing grant from
    the statement that failed. Column names are returned as the driver gives them (upper case).
    """
    def execute(sql, binds=None):
        left_ms = int((deadline - clock() - ANSWER_MARGIN_S) * 1000)
        budget = min(int(query_timeout_ms), left_ms)
        if budget < MIN_STATEMENT_MS:
            raise query_error("DPY-4024", "模块时限已到，语句未执行（module timeout reached, "
                                          "statement not run）")
        connection.call_timeout = budget
        cursor = connection.cursor()
        try:
            cursor.execute(sql, binds or {})
            columns = [d[0] for d in (cursor.description or [])]
            rows = cursor.fetchall() if cursor.description else []
        except driver_error as exc:
            message = scrub(str(exc))
            codes = error_codes(exc, message)
            code = next((c for c in codes if c.startswith("ORA-")), codes[0] if codes else "DPY-0000")
            raise query_error(code, summary(message)) from None
        finally:
            try:
                cursor.close()
            except driver_error:  # a broken connection fails the next statement, which says so
                pass
        return columns, rows
    return execute


# ------------------------------------------------------------------ records


def failure_record(cause, host, target, timeout, codes=(), user=None, note=None, direction=None):
    """The INSP-02 record of a database that could not be reached, logged into or described."""
    info = CAUSES[cause]
    code = ", ".join(list(codes)[:2]) or None
    seconds = "%g" % timeout
    reason = "%s（%s%s）" % (info["zh"].replace("<timeout>", seconds), info["en"],
                           "; " + code if code and code not in info["en"] else "")
    detail = "数据库 %s %s：%s%s。" % (target, info["stage"], reason, "；" + note if note else "")
    direction = (direction or info["direction"]).replace("<user>", user or "监控用户").replace(
        "<监控用户>", user or "<监控用户>")
    return make_record(REQUIREMENT, LOGIN_ITEM, host, info["status"], value=code,
                       threshold="%s 秒内完成连接和登录" % seconds, detail=detail,
                       direction=direction, consequence=info["consequence"])


def label(check, api=None):
    """(requirement, item) of a check: the checks module's own names first."""
    requirement, item = CHECK_LABELS.get(check, (REQUIREMENT, check))
    requirement = (getattr(api, "REQUIREMENT_IDS", None) or {}).get(check, requirement)
    item = (getattr(api, "CHECK_ITEMS", None) or {}).get(check, item)
    return requirement, item


def skipped_record(check, host, why, api=None):
    requirement, item = label(check, api)
    return make_record(requirement, item, host, "skipped", detail=why)


def unfinished_record(check, host, timeout, api=None):
    requirement, item = label(check, api)
    return make_record(
        requirement, item, host, "error", threshold="%g 秒" % timeout,
        detail=("该检查在模块时限 %g 秒内未完成，已放弃（check did not finish within the module "
                "timeout）。" % timeout),
        direction=("在数据库中查看巡检会话的等待事件（v$session 中 program 为 python 的会话）是否被锁或"
                   "资源等待阻塞；确认后可调大 timeout 和 query_timeout"),
        consequence="该项未能巡检，其中的异常可能未被发现")


def crashed_record(check, host, exc, scrub, api=None):
    requirement, item = label(check, api)
    return make_record(
        requirement, item, host, "error",
        detail="检查程序异常（check crashed: %s: %s）。" % (type(exc).__name__, first_line(scrub(exc), 160)),
        direction="检查控制节点上 gxtax.ops 的版本和该检查的SQL，必要时提交缺陷",
        consequence="该项未能巡检，其中的异常可能未被发现")


# ------------------------------------------------------------------ the run


class Inspection:
    """One database, one connection, the checks one at a time, under one deadline.

    run() is the worker, meant for a daemon thread: a driver call that never returns must not
    keep the module from answering. result() is called once run() finished or the deadline
    passed, and reports what was done, what hung and what was never started.

    settings: dsn, user, password, mode, client_lib_dir, config_dir, wallet_location,
    wallet_password, connect_timeout (s), query_timeout_ms, timeout (s), checks, thresholds,
    options, host, target (the DSN as records show it).
    """

    def __init__(self, driver, api, settings, scrub, clock=time.monotonic):
        self.driver, self.api, self.settings, self.scrub, self.clock = driver, api, settings, scrub, clock
        self.deadline = clock() + settings["timeout"]
        self.lock = threading.Lock()
        self.closed = False
        self.phase = "connect"      # connect -> describe -> check -> done, or failed
        self.current = None         # the check running now
        self.skip_reason = SKIP_UNREACHABLE
        self.records = []
        self.database = None
        self.connection = {"mode": None, "fallback_from": None, "error": None}
        self.timings = {"connect_ms": None, "describe_ms": None, "checks_ms": {}}
        self.remaining = list(settings["checks"])

    def seconds_left(self):
        return self.deadline - self.clock()

    def _ms(self, start):
        return round((self.clock() - start) * 1000.0, 1)

    def _update(self, **values):
        """Set attributes unless result() already closed the run; False when it did."""
        with self.lock:
            if self.closed:
                return False
            for key, value in values.items():
                setattr(self, key, value)
            return True

    def run(self):
        conn = None
        try:
            conn = self._connect()
            # After the deadline the answer is written: a late connection is closed, not used.
            if conn is not None and not self.closed and self._describe(conn):
                self._checks(conn)
        except Exception as exc:  # noqa: BLE001 - the worker must never die without a record
            self._fail("other", (), "%s: %s" % (type(exc).__name__, self.scrub(exc)))
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001,S110 - the answer is complete; a dead link may refuse close
                    pass

    def _fail(self, cause, codes, message, note=None, skip_reason=SKIP_UNREACHABLE, fallback=None,
              direction=None):
        s = self.settings
        record = failure_record(cause, s["host"], s["target"], s["timeout"], codes, s.get("user"), note,
                                direction)
        error = {"cause": cause, "codes": list(codes), "message": summary(message),
                 "fallback": fallback}
        with self.lock:
            if not self.closed:
                self.records.append(record)
                self.connection["error"] = error
                self.phase, self.skip_reason = "failed", skip_reason

    def _connect(self):
        start = self.clock()
        try:
            opened = connect(self.driver, self.settings, self.scrub)
        except ConnectFailure as failure:
            self.timings["connect_ms"] = self._ms(start)
            self._fail(failure.cause, failure.codes, failure.message, fallback_note(failure.fallback),
                       fallback=failure.fallback)
            return None
        self.timings["connect_ms"] = self._ms(start)
        with self.lock:
            self.connection.update(mode=opened["mode"], fallback_from=opened["fallback_from"])
        self._update(phase="describe")
        return opened["connection"]

    def _execute(self, conn):
        return make_execute(conn, self.driver.Error, self.api.QueryError,
                            self.settings["query_timeout_ms"], self.deadline, self.scrub, self.clock)

    def _describe(self, conn):
        start = self.clock()
        try:
            database = self.api.describe_database(self._execute(conn))
        except self.api.QueryError as exc:
            self.timings["describe_ms"] = self._ms(start)
            code = getattr(exc, "code", None) or "DPY-0000"
            message = self.scrub(getattr(exc, "message", None) or exc)
            cause = "describe_privilege" if code in ("ORA-00942", "ORA-01031") else "describe_failed"
            explain = getattr(self.api, "explain", None)
            reason, direction = explain(exc) if explain else (summary(message, 200), None)
            self._fail(cause, [code], message, note=self.scrub(reason), skip_reason=SKIP_UNDESCRIBED,
                       direction=self.scrub(direction) if direction else None)
            return False
        self.timings["describe_ms"] = self._ms(start)
        return self._update(database=database, phase="check")

    def _checks(self, conn):
        s = self.settings
        execute = self._execute(conn)
        for check in list(s["checks"]):
            if self.seconds_left() * 1000 < MIN_STATEMENT_MS + ANSWER_MARGIN_S * 1000:
                return  # result() marks what is left as not started
            if not self._update(current=check):
                return
            start = self.clock()
            try:
                records = self.api.run_checks(execute, self.database, [check], s["thresholds"],
                                              s["host"], s["options"])
            except Exception as exc:  # noqa: BLE001 - one broken check must not stop the others
                records = [crashed_record(check, s["host"], exc, self.scrub, self.api)]
            with self.lock:
                if self.closed:
                    return
                self.timings["checks_ms"][check] = self._ms(start)
                self.records.extend(records)
                self.remaining.remove(check)
                self.current = None
        self._update(phase="done")

    def result(self, finished):
        """Close the run: {records, database, connection, timings, status}."""
        s = self.settings
        with self.lock:
            self.closed = True
            records = list(self.records)
            phase, current, remaining = self.phase, self.current, list(self.remaining)
            connection = dict(self.connection)
            database, skip_reason = self.database, self.skip_reason
        late = {"connect": ("watchdog", SKIP_UNREACHABLE), "describe": ("describe_timeout", SKIP_UNDESCRIBED)}
        if phase in late:  # the worker is still inside the driver
            cause, skip_reason = late[phase]
            records.append(failure_record(cause, s["host"], s["target"], s["timeout"], (), s.get("user")))
            connection["error"] = {"cause": cause, "codes": [], "message": "", "fallback": None}
            phase = "failed"
        if phase == "failed":
            records.extend(skipped_record(c, s["host"], skip_reason, self.api) for c in remaining)
        else:
            for check in remaining:
                records.append(unfinished_record(check, s["host"], s["timeout"], self.api) if check == current
                               else skipped_record(check, s["host"], SKIP_DEADLINE, self.api))
        timings = dict(self.timings, checks_ms=dict(self.timings["checks_ms"]), finished=bool(finished))
        return {"records": records, "database": database or {}, "connection": connection,
                "timings": timings, "status": worst(records)}


def run_with_deadline(target, seconds):
    """Run target() in a daemon thread and wait at most `seconds`; True if it finished.

    A daemon thread, because a driver call blocked in recv() on a silent listener cannot be
    interrupted from Python, and must not keep the process alive once the module answered.
    """
    worker = threading.Thread(target=target, name="gxtax-oracle-inspection", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    return not worker.is_alive()
