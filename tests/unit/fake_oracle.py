"""A fake `oracledb` for the Oracle tests and the bench: no Oracle server can run here.

Errors are the driver's own: oracledb 26.1's exception classes built by its error factory
(`oracledb.errors._create_exception`, `_Error`), so codes, classes and message layout are
what a real connection raises. Connections and cursors are doubles that record what they
were asked and answer from a responder: responder(sql, binds) -> (columns, rows), or raises.
"""

import threading

import oracledb
from oracledb import errors as _errors


def ora(code, text, cls=oracledb.DatabaseError):
    """An ORA- error as the database sends it (code set, message 'ORA-NNNNN: text')."""
    return cls(_errors._Error("ORA-%05d: %s" % (code, text), code=code))


def dpy(number, cause=None, context=None, **args):
    """A DPY- error as python-oracledb raises it, optionally wrapping another error's message."""
    return _errors._create_exception(number, context_error_message=context, cause=cause, **args)


def connection_failed(context):
    """Thin mode's DPY-6005 around a socket error or an inner driver error."""
    if isinstance(context, Exception):
        return dpy(_errors.ERR_CONNECTION_FAILED, cause=context, connection_id="dGVzdA==")
    return dpy(_errors.ERR_CONNECTION_FAILED, context=context, connection_id="dGVzdA==")


# The failures a connect can meet, thin (DPY-) and thick (ORA-, DPI-) alike.
ERRORS = {
    "refused": lambda: connection_failed("[Errno 111] Connection refused"),
    "tcp_timeout": lambda: connection_failed("timed out"),
    "no_route": lambda: connection_failed("[Errno 113] No route to host"),
    "dns": lambda: connection_failed("[Errno -2] Name or service not known"),
    "thin_12514": lambda: connection_failed(
        dpy(_errors.ERR_LISTENER_REFUSED_CONNECTION, error_code=12514)),
    "nne": lambda: connection_failed(dpy(_errors.ERR_FEATURE_NOT_SUPPORTED,
                                         feature="Native Network Encryption and Data Integrity",
                                         driver_type="thick")),
    "dpy3010": lambda: dpy(_errors.ERR_SERVER_VERSION_NOT_SUPPORTED),
    "dpy3015": lambda: dpy(_errors.ERR_UNSUPPORTED_VERIFIER_TYPE, verifier_type=0x939),
    "dpy4011": lambda: dpy(_errors.ERR_CONNECTION_CLOSED),
    "dpy4000": lambda: dpy(_errors.ERR_TNS_ENTRY_NOT_FOUND, name="GSGS", file_name="/etc/tns/tnsnames.ora"),
    "dpy4001": lambda: dpy(_errors.ERR_NO_CREDENTIALS),
    "dpi1047": lambda: oracledb.DatabaseError(_errors._Error(
        'DPI-1047: Cannot locate a 64-bit Oracle Client library: "libclntsh.so: cannot open shared '
        'object file: No such file or directory"')),
    "ora01017": lambda: ora(1017, "invalid username/password; logon denied"),
    "ora28000": lambda: ora(28000, "The account is locked."),
    "ora28001": lambda: ora(28001, "the password has expired"),
    "ora01045": lambda: ora(1045, "user MON lacks CREATE SESSION privilege; logon denied"),
    "ora01031": lambda: ora(1031, "insufficient privileges"),
    "ora12541": lambda: ora(12541, "TNS:no listener"),
    "ora12514": lambda: ora(12514, "TNS:listener does not currently know of service requested in "
                                   "connect descriptor"),
    "ora12170": lambda: ora(12170, "TNS:Connect timeout occurred"),
    "ora12545": lambda: ora(12545, "Connect failed because target host or object does not exist"),
    "ora12154": lambda: ora(12154, "TNS:could not resolve the connect identifier specified"),
    "ora01034": lambda: ora(1034, "ORACLE not available"),
    "ora12528": lambda: ora(12528, "TNS:listener: all appropriate instances are blocking new connections"),
    "ora12519": lambda: ora(12519, "TNS:no appropriate service handler found"),
    "ora12345": lambda: ora(12345, "something no one has seen"),
}


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn
        self.description = None
        self._rows = []
        self.closed = False

    def execute(self, sql, binds=None):
        self.conn.statements.append({"sql": sql, "binds": binds, "call_timeout": self.conn.call_timeout})
        answer = self.conn.responder(sql, binds)
        if isinstance(answer, Exception):
            raise answer
        columns, rows = answer
        self.description = [(c, None, None, None, None, None, True) for c in columns] if columns else None
        self._rows = list(rows)

    def fetchall(self):
        return list(self._rows)

    def close(self):
        self.closed = True
        self.conn.cursors_closed += 1


class FakeConnection:
    def __init__(self, responder=None):
        self.responder = responder or (lambda sql, binds: ([], []))
        self.call_timeout = 0
        self.statements = []
        self.cursors_closed = 0
        self.closed = False

    def cursor(self):
        return FakeCursor(self)

    def close(self):
        self.closed = True


class FakeDriver:
    """The names of `oracledb` that oracle_conn uses, with scripted outcomes.

    thin / thick: an exception to raise, a FakeConnection to return, or a threading.Event to
    block on (a listener that accepts TCP and never answers). init: exception for
    init_oracle_client, or None when the client library loads.
    """

    Error = oracledb.Error
    AUTH_MODE_DEFAULT = oracledb.AUTH_MODE_DEFAULT
    AUTH_MODE_SYSDBA = oracledb.AUTH_MODE_SYSDBA

    def __init__(self, thin=None, thick=None, init=None):
        self.thin = thin if thin is not None else FakeConnection()
        self.thick = thick if thick is not None else FakeConnection()
        self.init = init
        self.thick_loaded = False
        self.calls = []

    def init_oracle_client(self, **kwargs):
        self.calls.append(("init_oracle_client", kwargs))
        if self.init is not None:
            raise self.init
        self.thick_loaded = True

    def connect(self, **kwargs):
        mode = "thick" if self.thick_loaded else "thin"
        self.calls.append(("connect", mode, kwargs))
        outcome = self.thick if self.thick_loaded else self.thin
        if isinstance(outcome, threading.Event):
            outcome.wait()  # hangs like a silent listener until the test lets it go
            raise ora(3113, "end-of-file on communication channel")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def recorded_responder(path, statement_name):
    """responder over recorded rows: {"statements": {name: {"columns", "rows"} | {"error": {code, message}}}}.

    statement_name(sql) -> the name a statement is recorded under (oracle_sql's tag). A statement
    with no recording fails as a missing view would (ORA-00942), so a gap shows as an error record.
    """
    import json

    with open(path, encoding="utf-8") as handle:
        statements = json.load(handle)["statements"]

    def respond(sql, binds):
        entry = statements.get(statement_name(sql))
        if entry is None:
            return ora(942, "table or view does not exist")
        if "error" in entry:
            code, message = entry["error"]["code"], entry["error"]["message"]
            if code.startswith("ORA-"):
                return ora(int(code[4:]), message.split(": ", 1)[-1])
            return oracledb.DatabaseError(_errors._Error(message))
        return entry["columns"], [tuple(row) for row in entry["rows"]]

    return respond


def within(seconds, function, *args, **kwargs):
    """function(*args, **kwargs), run in a helper thread: a test of the watchdog must fail, not
    hang, when the watchdog is broken. Re-raises what function raised (SystemExit included)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test's thread
            outcome["error"] = exc

    helper = threading.Thread(target=target, daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        raise AssertionError("did not return within %s s: the watchdog did not fire" % seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
