# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the statements of release scripts on one connection (REL-07, REL-09), and say what happened.

Statements run in order, one at a time, each under the driver's call_timeout. Every statement's
outcome, rows affected and seconds are kept. The first error stops the script: its open
transaction is rolled back and the rest of it does not run; with stop_on_error (the default)
the later scripts do not run either. A script that runs to its end is committed.

Oracle commits DDL by itself, before and after the statement: a rollback after a failure undoes
only the DML since the last DDL (or COMMIT). Results say so for every failed script
(`committed_through`) instead of pretending everything was undone.

A CREATE of a PL/SQL unit or view that compiles with errors succeeds in Oracle with a warning
(DPY-7000 in python-oracledb): here it is a failure, with the compilation errors read from
ALL_ERRORS, because an invalid package is a failed release.

SEC-02: results carry statements only as redacted summaries (sql_script.summary) and driver
messages only through sql_redact.redact_message; passwords are scrubbed.

The driver is handed in (python-oracledb's connection and its Error class, or the test fake).
Runs on the control node only (Python 3.11).
"""

from __future__ import annotations

import os
import re
import time

from ansible_collections.gxtax.ops.plugins.module_utils.oracle_conn import (  # noqa: F401 - re-exported
    ConnectFailure, Scrubber, connect, connection_argument_spec, error_codes, run_with_deadline, split_dsn,
    summary)
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_errors import CAUSES
from ansible_collections.gxtax.ops.plugins.module_utils.sql_redact import redact_message
from ansible_collections.gxtax.ops.plugins.module_utils.sql_script import commits

MESSAGE_CHARS = 300
MAX_LOGGED = 1000          # statements listed per script; more are counted (a data script can
                           # hold 100 000 INSERTs), the failed one is always listed
MAX_COMPILE_ERRORS = 5
MODULE_NAME = "gxtax.ops.oracle_script"   # v$session.module, so a DBA sees who runs what

COMPILE_ERRORS_SQL = (
    "SELECT /* gxtax:script_compile_errors */ line, position, text FROM all_errors "
    "WHERE owner = NVL(:owner, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')) "
    "AND name = :name AND type = :type AND attribute = 'ERROR' ORDER BY sequence")

# ------------------------------------------------------------------ connection options

def connection_settings(params, connect_timeout):
    """(settings for oracle_conn.connect, scrubber, secrets) from the module's parameters.

    A DSN written user/password@connect_string gives the user and password when the options do not.
    """
    dsn_user, dsn_password, dsn = split_dsn(params["dsn"])
    password = params["password"] if params["password"] is not None else dsn_password
    secrets = [s for s in (password, dsn_password, params["wallet_password"]) if s]
    scrub = Scrubber(secrets)
    settings = dict(
        dsn=dsn, user=params["user"] or dsn_user, password=password, mode=params["mode"],
        client_lib_dir=params["client_lib_dir"], config_dir=params["config_dir"],
        wallet_location=params["wallet_location"], wallet_password=params["wallet_password"],
        connect_timeout=connect_timeout, target=scrub(dsn))
    return settings, scrub, secrets


def open_connection(driver, settings, scrub, seconds):
    """{"connection", "mode", "fallback_from"} (oracle_conn.connect) within `seconds`; raises
    ConnectFailure, with cause "watchdog" when the login did not finish in time (a listener that
    accepts TCP and never answers): the blocked attempt is left to a daemon thread."""
    box = {}

    def work():
        try:
            box["opened"] = connect(driver, settings, scrub)
        except ConnectFailure as failure:
            box["failure"] = failure
        except Exception as exc:  # noqa: BLE001 - the module must answer, whatever the driver did
            box["failure"] = ConnectFailure("other", (), scrub("%s: %s" % (type(exc).__name__, exc)))

    if not run_with_deadline(work, seconds):
        raise ConnectFailure("watchdog", (), "")
    if "failure" in box:
        raise box["failure"]
    return box["opened"]


def connect_sentence(failure, target, seconds):
    """Why no script ran, in one line: Chinese, then English and the codes."""
    info = CAUSES.get(failure.cause, CAUSES["other"])
    codes = ", ".join(failure.codes[:2])
    detail = summary(failure.message, 200) if failure.message else codes  # the message names its codes
    return "无法连接数据库 %s（%s）：%s，未执行任何脚本 / cannot connect: %s%s" % (
        target, info["stage"], info["zh"].replace("<timeout>", "%g" % seconds), info["en"],
        "; " + detail if detail else "")


# ------------------------------------------------------------------ what an error means

_AGAIN = "核对该脚本是否已在本库执行过（查询相关对象和数据）；确认已执行过则不要重复执行，否则修正脚本"
_MISSING = "确认依赖的前序脚本已执行、对象属主正确（必要时加 schema 前缀或 ALTER SESSION SET CURRENT_SCHEMA）"
_SYNTAX = ("在预生产库用 SQL*Plus 单独执行该语句核对语法；本模块以 ; 或单独一行的 / 拆分语句，"
           "PL/SQL 块必须以单独一行的 / 结束")
_CONVERSION = ("避免字符与数字、日期的隐式转换：日期写 TO_DATE('2024-05-01', 'YYYY-MM-DD')，不要依赖会话的 "
               "NLS_DATE_FORMAT（本模块会话的 NLS 设置可能与 SQL*Plus 不同）")
_IN_USE = ("对象正被应用会话使用：在停止应用或业务低峰的发布窗口执行，必要时由 DBA 查看 v$locked_object / "
           "dba_ddl_locks")
_SPACE = "由 DBA 查看表空间使用率并扩容后重新执行（未提交的数据已回滚）"

# (codes, meaning in Chinese, 排查方向); the first code of an error that is listed wins.
_EXPLAINED = (
    (("ORA-00001",), "违反唯一约束：数据已存在", _AGAIN),
    (("ORA-00955", "ORA-01430", "ORA-01408", "ORA-01442", "ORA-01451", "ORA-02260", "ORA-02261",
      "ORA-02264", "ORA-02275", "ORA-00957"),
     "对象、列、索引或约束已存在或已是目标状态：该变更可能已做过", _AGAIN),
    (("ORA-00942",), "表或视图不存在，或当前用户无权访问", _MISSING + "，并确认已授权"),
    (("ORA-04043", "ORA-01418", "ORA-02443", "ORA-02289", "ORA-01432", "ORA-01434"),
     "要修改或删除的对象不存在", _MISSING),
    (("ORA-00904",), "列名或标识符无效", _MISSING + "；核对列名拼写"),
    (("ORA-01031", "ORA-01749", "ORA-01720"), "权限不足",
     "由 DBA 为执行脚本的用户授予所需权限，或改用对象属主执行"),
    (("ORA-01950",), "用户在该表空间上没有配额", "由 DBA 执行 ALTER USER ... QUOTA ... ON <表空间>"),
    (("ORA-00900", "ORA-00907", "ORA-00911", "ORA-00917", "ORA-00921", "ORA-00922", "ORA-00923",
      "ORA-00933", "ORA-00936", "ORA-01735", "ORA-00906", "ORA-00905", "ORA-00902"),
     "SQL 语法错误", _SYNTAX),
    (("ORA-00972",), "标识符过长（12.2 之前最长 30 字节）",
     "缩短对象名或列名；汉字在 AL32UTF8 库中每字占 3 字节"),
    (("ORA-06550",), "PL/SQL 编译错误", "按错误中的行号、列号和 PLS- 错误修正该 PL/SQL 块"),
    (("DPY-4010", "ORA-01008"), "语句中有 :名称 形式的绑定变量，本模块不提供绑定值",
     "SQL*Plus 绑定变量不受支持：改用 PL/SQL 局部变量或直接写入取值"),
    (("DPY-7000",), "PL/SQL 对象或视图创建成功但有编译错误，对象处于无效（INVALID）状态",
     "按列出的编译错误（行、列）修正源码后重新执行；对象已创建为无效状态，DDL 无法回滚"),
    (("ORA-01400",), "不能向非空列插入 NULL", "补全必填列的取值，或核对列的默认值"),
    (("ORA-01407",), "不能把非空列更新为 NULL", "核对更新语句的取值"),
    (("ORA-12899",), "值超过列宽",
     "加大列宽或截短数据；VARCHAR2 默认按字节计，AL32UTF8 库中一个汉字占 3 字节"),
    (("ORA-01438",), "数值超过列的精度", "核对数值或加大 NUMBER 精度"),
    (("ORA-01722", "ORA-01858", "ORA-01861", "ORA-01843", "ORA-01830", "ORA-01840", "ORA-01841",
      "ORA-01847", "ORA-01839"), "数据类型转换失败（数字或日期格式不符）", _CONVERSION),
    (("ORA-02291",), "找不到父键：外键引用的数据不存在", "先插入父表数据，核对脚本中语句的先后顺序"),
    (("ORA-02292", "ORA-02449", "ORA-02266"), "存在引用该数据或表的子记录",
     "先处理子表数据或外键约束，核对语句顺序"),
    (("ORA-01439", "ORA-01440", "ORA-01441"), "列中已有数据，无法修改类型或缩小长度",
     "先迁移或清理该列数据，再修改列定义"),
    (("ORA-14400",), "分区键值没有对应的分区", "先增加对应分区（或 MAXVALUE 分区）再插入"),
    (("ORA-00054", "ORA-04021", "ORA-30006", "ORA-00060"),
     "对象被其他会话锁定或正在使用（或发生死锁）", _IN_USE),
    (("ORA-04068", "ORA-04061", "ORA-04065"), "包的状态已失效（包在被使用时重新编译）", _IN_USE),
    (("ORA-01652", "ORA-01653", "ORA-01654", "ORA-01688", "ORA-01691", "ORA-01658"),
     "表空间空间不足", _SPACE),
    (("ORA-30036",), "UNDO 表空间不足", "分批提交大批量 DML，或由 DBA 扩大 UNDO 表空间"),
    (("ORA-01555",), "快照过旧", "在业务低峰期执行，或由 DBA 调大 undo_retention"),
    (("DPY-4024", "DPI-1067", "ORA-03156", "ORA-01013"), "语句超过时限被中断",
     "评估该语句的耗时（数据量、执行计划、锁等待），在低峰期执行或调大 timeout"),
    (("DPY-4011", "DPY-1001", "ORA-03113", "ORA-03114", "ORA-03135", "ORA-00028", "DPI-1080"),
     "与数据库的连接中断", "检查数据库告警日志和网络；连接断开时数据库会回滚未提交的事务"),
)
_APPLICATION = ("应用程序主动抛出的错误（RAISE_APPLICATION_ERROR）", "查看该存储过程或触发器的业务校验逻辑")
_UNKNOWN = ("未归类的数据库错误",
            "根据错误号查阅 Oracle 错误说明，并在预生产库用 SQL*Plus 单独执行该语句核对")
BROKEN_CODES = _EXPLAINED[-1][0]


def explain(codes):
    """(meaning, direction) in Chinese of an error's codes."""
    for code in codes:
        for listed, meaning, direction in _EXPLAINED:
            if code in listed:
                return meaning, direction
        if code.startswith("ORA-20") and 20000 <= int(code[4:]) <= 20999:
            return _APPLICATION
    return _UNKNOWN


_DRIVER_CODE = re.compile(r"\b(DPY|DPI)-(\d{4})\b")
_KEPT_CODE = re.compile(r"\b(DPY|DPI)_(\d{4})\b")


def redacted(message, limit=MESSAGE_CHARS):
    """sql_redact.redact_message, keeping python-oracledb's DPY-/DPI- codes (it knows ORA-, PLS- ...)."""
    text = redact_message(_DRIVER_CODE.sub(r"\1_\2", message or ""), limit)
    return _KEPT_CODE.sub(r"\1-\2", text)


def _driver_error(exc, statement, scrub):
    """The error entry of a statement the driver refused; literals and secrets out (SEC-02)."""
    text = summary(scrub(str(exc)), 2000)
    codes = error_codes(exc, text)
    code = next((c for c in codes if c.startswith("ORA-")), codes[0] if codes else "DPY-0000")
    meaning, direction = explain([code] + codes)
    error_line = statement["line"] if statement else None
    offset = getattr(exc.args[0], "offset", 0) if exc.args else 0
    # A parse error's offset points into the statement: name the file line it falls on.
    mapped = statement and not statement.get("wrapped") and isinstance(offset, int)
    if mapped and 0 < offset < len(statement["text"]):
        error_line = statement["line"] + statement["text"].count("\n", 0, offset)
    return {"code": code, "codes": codes, "message": redacted(text),
            "meaning": meaning, "direction": direction, "error_line": error_line, "compile_errors": []}


# ------------------------------------------------------------------ running


class _Run:
    def __init__(self, connection, driver_error, timeout_ms, scrub, clock):
        self.connection, self.driver_error = connection, driver_error
        self.timeout_ms, self.scrub, self.clock = timeout_ms, scrub, clock
        self.broken = False

    def cursor_call(self, sql, binds=None, fetch=0):
        """(warning, rowcount, rows) of one call; driver errors propagate."""
        self.connection.call_timeout = self.timeout_ms
        cursor = self.connection.cursor()
        try:
            if binds:
                cursor.execute(sql, binds)
            else:
                cursor.execute(sql)
            rows = cursor.fetchall()[:fetch] if fetch else []
            return getattr(cursor, "warning", None), getattr(cursor, "rowcount", None), rows
        finally:
            try:
                cursor.close()
            except self.driver_error:  # a dead connection shows in the next call
                pass

    def compile_errors(self, statement):
        """[{line, position, text}] of the object a CREATE named, lines counted in the script file."""
        target = statement.get("object")
        if not target:
            return []
        try:
            _warning, _count, rows = self.cursor_call(
                COMPILE_ERRORS_SQL,
                {"owner": target["owner"], "name": target["name"], "type": target["type"]},
                fetch=MAX_COMPILE_ERRORS)
        except self.driver_error as exc:
            return [{"line": None, "position": None,
                     "text": "编译错误详情无法读取（%s）" % redacted(self.scrub(str(exc)), 120)}]
        return [{"line": statement["line"] + int(line) - 1 if line else None, "position": position,
                 "text": redacted(self.scrub(text), 200)} for line, position, text in rows]

    def statement(self, statement):
        """The log entry of one statement, run."""
        start = self.clock()
        entry = _entry(statement, "ok")
        try:
            warning, rowcount, _rows = self.cursor_call(statement["text"])
        except self.driver_error as exc:
            entry.update(outcome="failed", error=_driver_error(exc, statement, self.scrub))
        else:
            if statement["category"] == "dml" and isinstance(rowcount, int) and rowcount >= 0:
                entry["rows"] = rowcount
            if warning is not None and "DPY-7000" in str(getattr(warning, "full_code", "") or warning):
                error = {"code": "DPY-7000", "codes": ["DPY-7000"],
                         "message": "DPY-7000: creation succeeded with compilation errors",
                         "error_line": statement["line"], "compile_errors": self.compile_errors(statement)}
                error["meaning"], error["direction"] = explain(["DPY-7000"])
                if error["compile_errors"] and error["compile_errors"][0]["line"]:
                    error["error_line"] = error["compile_errors"][0]["line"]
                entry.update(outcome="failed", error=error)
        entry["seconds"] = round(self.clock() - start, 3)
        return entry

    def end_transaction(self, failed):
        """committed | rolled_back | rollback_failed, and the error of a failed COMMIT."""
        action = self.connection.rollback if failed else self.connection.commit
        try:
            action()
        except self.driver_error as exc:
            self.broken = self.broken or failed
            if failed:
                return "rollback_failed", None
            return "commit_failed", _driver_error(exc, None, self.scrub)
        return ("rolled_back" if failed else "committed"), None

    def script(self, script):
        start = self.clock()
        try:
            self.connection.module = MODULE_NAME
            self.connection.action = os.path.basename(script["script"])[:32]
        except (AttributeError, self.driver_error):  # only labels for v$session
            pass
        entries, failed = [], None
        statements = script["statements"]
        for index, statement in enumerate(statements):
            entry = self.statement(statement)
            entries.append(entry)
            if entry["outcome"] == "failed":
                failed = entry
                if entry["error"]["code"] in BROKEN_CODES:
                    self.broken = True
                entries.extend(_entry(s, "not_run") for s in statements[index + 1:])
                break
        transaction, commit_error = self.end_transaction(failed is not None)
        result = _script_result(script, entries, self.clock() - start)
        result["transaction"] = transaction
        if failed is not None:
            result.update(outcome="failed", failure=_failure(script, failed, entries, transaction))
        elif commit_error is not None:
            # A failed COMMIT (a deferred constraint, a lost connection) leaves nothing of the
            # transaction: Oracle rolls it back.
            failure = {"statement": None, "line": None, **commit_error}
            failure["meaning"] = "提交失败（可能是延迟约束在提交时被违反）：" + failure["meaning"]
            result.update(outcome="failed", transaction="rolled_back", failure=_finish_failure(
                script, failure, [e for e in entries if commits(e)], "rolled_back"))
        if result["failure"] is not None:
            result["error"] = result["failure"]["sentence"]
        return result


def _entry(statement, outcome):
    return {"number": statement["number"], "line": statement["line"], "verb": statement["verb"],
            "category": statement["category"], "summary": statement["summary"], "outcome": outcome,
            "rows": None, "seconds": None, "error": None}


def _committed_through(entries, transaction):
    """Number of the last statement whose work stays committed after the script's end."""
    if transaction == "committed":
        return entries[-1]["number"] if entries else None
    done = [e for e in entries if e["outcome"] == "ok" and commits(e)]
    return done[-1]["number"] if done else None


def _failure(script, entry, entries, transaction):
    failure = {"statement": entry["number"], "line": entry["line"], "verb": entry["verb"],
               "summary": entry["summary"], **entry["error"]}
    return _finish_failure(script, failure, entries, transaction)


def _finish_failure(script, failure, entries, transaction):
    failure.setdefault("verb", None)
    failure.setdefault("summary", None)
    failure["script"] = script["script"]
    failure["transaction"] = transaction
    failure["committed_through"] = _committed_through(entries, transaction)
    failure["sentence"] = failure_sentence(failure)
    return failure


def failure_sentence(failure):
    """One line, Chinese then English: where it failed, the ORA- message, what stays committed."""
    where = ("第 %s 条语句（第 %s 行，%s）" % (failure["statement"], failure["error_line"], failure["verb"])
             if failure.get("statement") else "提交时")
    where_en = ("statement %s (line %s)" % (failure["statement"], failure["error_line"])
                if failure.get("statement") else "commit")
    kept = failure.get("committed_through")
    if failure["transaction"] == "rollback_failed":
        undo = "回滚未能执行（连接已断开），数据库会在会话结束时回滚未提交的事务"
    else:
        undo = "已回滚未提交的事务"
    if kept:
        undo += "；%s的结果已提交（Oracle 的 DDL 自动提交），无法回滚" % (
            "第 1 条" if kept == 1 else "第 1–%s 条" % kept)
    compile_errors = "；".join("第 %s 行第 %s 列 %s" % (c["line"], c["position"], c["text"])
                               for c in failure.get("compile_errors") or [])
    compile_errors = "；编译错误：" + compile_errors if compile_errors else ""
    return "%s失败：%s（%s）%s。%s。排查方向：%s / %s failed: %s" % (
        where, failure["message"], failure["meaning"], compile_errors, undo, failure["direction"],
        where_en, failure["code"])


def _script_result(script, entries, seconds):
    logged = entries if len(entries) <= MAX_LOGGED else (
        entries[:MAX_LOGGED] + [e for e in entries[MAX_LOGGED:] if e["outcome"] == "failed"])
    return {
        "script": script["script"], "sha256": script.get("sha256"), "outcome": "ok",
        "statements": logged, "statement_count": len(script["statements"]),
        "statements_not_listed": len(entries) - len(logged),
        "rows": sum(e["rows"] for e in entries if e["outcome"] == "ok" and e["rows"] is not None),
        "seconds": round(seconds, 3), "transaction": None, "failure": None, "error": None,
        "notes": list(script.get("notes") or []),
    }


def not_run_result(script, why=None):
    """The result of a script that did not run (an earlier failure, check mode, no connection)."""
    result = _script_result(script, [_entry(s, "not_run") for s in script.get("statements") or []], 0.0)
    result.update(outcome="not_run", seconds=None, rows=None, why_not_run=why)
    return result


def run_scripts(connection, scripts, driver_error, timeout, stop_on_error=True, scrub=None,
                clock=time.monotonic):
    """Run parsed scripts (sql_script.load) in order on connection: {"scripts", "failure", "changed"}.

    timeout is seconds per statement (the driver's call_timeout). failure is the first failed
    script's failure (script, statement, line, error_line, code, message, meaning, direction,
    compile_errors, transaction, committed_through, sentence) or None.
    """
    run = _Run(connection, driver_error, int(timeout * 1000), scrub or Scrubber(), clock)
    results, first = [], None
    for script in scripts:
        if first is not None and (stop_on_error or run.broken):
            why = ("连接已中断（connection lost）" if run.broken else
                   "前面的脚本 %s 执行失败（an earlier script failed）" % first["script"])
            results.append(not_run_result(script, why))
            continue
        result = run.script(script)
        results.append(result)
        if result["failure"] is not None and first is None:
            first = result["failure"]
    changed = any(e["outcome"] == "ok" for r in results for e in r["statements"])
    return {"scripts": results, "failure": first, "changed": changed}


# ------------------------------------------------------------------ release report


_EVENT_OUTCOME = {"ok": "succeeded", "failed": "failed", "not_run": "skipped"}


def release_events(results):
    """One `db_script` event per script for the release report callback (gxtax.ops.release_report)."""
    events = []
    for result in results:
        failure = result.get("failure")
        events.append({"type": "db_script", "script": result["script"],
                       "outcome": _EVENT_OUTCOME[result["outcome"]], "rows": result["rows"],
                       "seconds": result["seconds"],
                       "error": failure["sentence"] if failure else result.get("why_not_run")})
    return events
