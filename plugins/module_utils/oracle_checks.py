# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Oracle health checks (INSP-02..09, 12, 18): run the catalogue's SQL, grade the rows into records.

No database driver here: every query goes through an ``execute(sql, binds)`` callable
that returns ``(columns, rows)`` and raises ``QueryError`` with the driver's code. The
module gxtax.ops.oracle_health passes a real cursor's; the unit tests pass recorded rows.
Each check is independent: a query that fails becomes that check's ``error`` record (naming
the missing grant for ORA-00942/ORA-01031) and the other checks still run.

SEC-02: no row leaves as-is. SQL text passes through sql_redact.redact, alert messages
through redact_message, and queries never select application tables or job PL/SQL.
Runs on the control node only.
"""

from __future__ import annotations

import re
from collections import Counter

from ansible_collections.gxtax.ops.plugins.module_utils.oracle_sql import (
    DESCRIBE,
    ROOT_NAME,
    SYSDBA_ONLY,
    grant_name,
    referenced_objects,
    statements_for,
    variant,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import grade, make_record, worst
from ansible_collections.gxtax.ops.plugins.module_utils.sql_redact import redact, redact_message
from ansible_collections.gxtax.ops.plugins.module_utils.thresholds import is_number as _is_number
from ansible_collections.gxtax.ops.plugins.module_utils.thresholds import validate as validate_threshold_pairs

__all__ = [
    "CHECKS", "DEFAULT_OPTIONS", "DEFAULT_THRESHOLDS", "QueryError", "StatementError",
    "describe_database", "error_record", "run_checks", "statements_for",
    "validate_options", "validate_thresholds",
]

CHECKS = ("instance", "tablespaces", "sessions", "processes", "locks", "long_sql", "jobs", "data_jobs",
          "asm", "rman_backups", "recovery_area", "alert_log")

# Recovery area: archived logs and RMAN backups land there (INSP-12). Alert log: instance
# health beyond the login (INSP-02).
REQUIREMENT_IDS = {
    "instance": "INSP-02", "tablespaces": "INSP-03", "sessions": "INSP-04", "processes": "INSP-05",
    "locks": "INSP-06", "long_sql": "INSP-07", "jobs": "INSP-08", "data_jobs": "INSP-18",
    "asm": "INSP-09", "rman_backups": "INSP-12", "recovery_area": "INSP-12", "alert_log": "INSP-02",
}
# The item of a check's error record when the whole check cannot run.
CHECK_ITEMS = {
    "instance": "数据库实例状态", "tablespaces": "表空间使用率", "sessions": "会话数使用率",
    "processes": "进程数使用率", "locks": "锁情况", "long_sql": "长时间执行的SQL", "jobs": "定时任务状态",
    "data_jobs": "数据抽取与加工任务", "asm": "ASM磁盘组使用率", "rman_backups": "RMAN备份",
    "recovery_area": "快速恢复区使用率", "alert_log": "告警日志ORA错误",
}

# <kind>_warning / <kind>_critical; a value at or above a threshold gets its status, None
# switches the level off. The contract's "超过 N" is taken as "at or above N" throughout,
# as for host metrics.
DEFAULT_THRESHOLDS = {
    "tablespace_warning": 85, "tablespace_critical": 90,          # contract: > 85% abnormal, < 90% normal
    "sessions_warning": 80, "sessions_critical": 90,              # contract: > 80% of `sessions`
    "processes_warning": 90, "processes_critical": 95,            # contract: > 90% of `processes`
    "locks_warning": 20, "locks_critical": None,                  # contract: > 20 locks -> alert
    "blocked_seconds_warning": 60, "blocked_seconds_critical": 300,   # longest wait behind a blocker
    "active_sql_seconds_warning": 600, "active_sql_seconds_critical": 3600,  # one call running (s)
    "sql_seconds_per_exec_warning": 60, "sql_seconds_per_exec_critical": 600,  # cursor cache average
    "data_job_hours_warning": 26, "data_job_hours_critical": 50,  # daily job: one missed run / two
    "data_job_duration_ratio_warning": 2.0, "data_job_duration_ratio_critical": None,  # x own average
    "asm_warning": 90, "asm_critical": 95,                        # contract: > 90% abnormal
    "rman_db_hours_warning": 26, "rman_db_hours_critical": 50,    # daily full/incremental backup
    "rman_archivelog_hours_warning": 13, "rman_archivelog_hours_critical": 26,
    "recovery_area_warning": 80, "recovery_area_critical": 90,    # full FRA stops archiving
    "alert_log_errors_warning": 1, "alert_log_errors_critical": None,  # ORA- messages in the window
}
PERCENT_THRESHOLDS = ("tablespace", "sessions", "processes", "asm", "recovery_area")

# Oracle-maintained accounts whose SQL is the database's own, not the platforms'.
ORACLE_USERS = (
    "SYS", "SYSTEM", "DBSNMP", "SYSMAN", "AUDSYS", "XDB", "MDSYS", "CTXSYS", "ORDSYS", "WMSYS",
    "OJVMSYS", "GSMADMIN_INTERNAL", "ORACLE_OCM", "DVSYS", "LBACSYS", "APPQOSSYS", "EXFSYS",
    "OLAPSYS", "OUTLN", "DBSFWUSER", "GGSYS", "REMOTE_SCHEDULER_AGENT",
)

DEFAULT_OPTIONS = {
    "lock_ignore_types": ["AE", "PS", "TO"],  # held by every session (AE) or internal: not contention
    "long_sql_top": 10,                       # contract: 前十名
    "long_sql_ignore_users": list(ORACLE_USERS),
    "sql_text_chars": 300,                    # enough to recognise a statement in a report row
    "job_hours": 24,                          # window for failed scheduler runs (daily inspection)
    "data_jobs": [],                          # [{"owner", "name_like" | "what_like", "kind", ...}]
    "data_job_runs": 8,                       # newest run + up to 7 before it for the average
    "data_job_min_runs": 3,                   # earlier successful runs needed to judge a duration
    "data_job_days": 14,                      # history read for data jobs
    "rman_failure_hours": 24,
    "rman_required": False,                   # True: no RMAN history at all is critical
    "alert_log_hours": 24,
    "alert_log_ignore_codes": [],
    "sysdba": False,                          # connected AS SYSDBA: 11.2 alert log via x$dbgalertext
}
DATA_JOB_KINDS = ("抽取", "加工")

# Alert-log errors that mean damage or an outage in progress, whatever their number.
CRITICAL_ALERT_CODES = (
    "ORA-00600", "ORA-07445", "ORA-04031", "ORA-01578", "ORA-00257", "ORA-19809", "ORA-01114",
    "ORA-27072", "ORA-00353", "ORA-01653", "ORA-01654",
)

# Driver codes that mean "took too long": the connection layer sets call_timeout.
TIMEOUT_CODES = ("DPY-4024", "DPI-1067", "ORA-03156", "ORA-01013")
GRANT_CODES = ("ORA-00942", "ORA-01031")
DISCONNECT_CODES = ("DPY-4011", "DPY-1001", "DPI-1080", "ORA-03113", "ORA-03114", "ORA-03135")
GRANT_SCRIPTS = "files/oracle/create_monitor_user.sql（CDB 公共用户用 create_monitor_user_cdb.sql）"

GIB = 1024.0 ** 3


class QueryError(Exception):
    """A failed query: code like ORA-00942 or DPY-4024, and the driver's message."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class StatementError(QueryError):
    """A QueryError that knows which of our statements failed (to name the missing grant)."""

    def __init__(self, error, name, sql):
        super().__init__(error.code, error.message)
        self.name = name
        self.sql = sql


# ---------------------------------------------------------------- advice (排查方向, 导致问题)

# Where the contract words them (tablespaces, locks, SQL, jobs, ASM), its wording comes first.
ADVICE = {
    "instance": ("检查实例告警日志和 v$instance、v$database 状态，确认实例已正常打开（alter database open）、"
                 "未处于受限模式或挂起状态",
                 "数据库无法正常提供服务，业务系统无法连接或写入数据"),
    "pdb": ("检查该PDB的告警日志与 pdb_plug_in_violations，打开PDB（alter pluggable database ... open）"
            "并保存状态（save state）",
            "该PDB上的业务系统无法连接或写入数据"),
    "tablespace": ("检查表空间是否需要添加数据文件；核对数据文件的自动扩展上限（dba_data_files），"
                   "清理或归档历史数据",
                   "数据库无法正常插入，使用数据"),
    "temp": ("检查表空间是否需要添加数据文件（临时文件）；用 v$tempseg_usage 找出占用临时段的大排序SQL",
             "数据库无法正常插入，使用数据：排序和哈希连接因临时空间不足失败（ORA-01652）"),
    "undo": ("检查表空间是否需要添加数据文件；用 v$transaction、v$undostat 检查长事务和 undo_retention 设置",
             "数据库无法正常插入，使用数据：事务因UNDO空间不足失败（ORA-30036），长查询报 ORA-01555"),
    "sessions": ("按 machine、program 统计 v$session，检查应用连接池的最大连接数和连接泄漏，"
                 "必要时调大 sessions 参数",
                 "会话数达到上限后新连接被拒绝（ORA-00018），业务系统无法访问数据库"),
    "processes": ("按 machine、program 统计 v$session 和 v$process，检查连接池配置和连接泄漏，"
                  "必要时调大 processes 参数（需重启实例）",
                  "进程数达到上限后新连接失败（ORA-00020），业务系统无法访问数据库"),
    "locks": ("系统中可能存在正常的锁，数量大于 20 的情况，比如 AE，需要调整脚本过滤"
              "（lock_ignore_types）；其余按 v$lock、v$session 找出持锁会话及其未提交的事务",
              "数据库中对应表的数据不可用，导致服务异常"),
    "blocking": ("根据阻塞关系找到阻塞源会话，联系对应应用确认其事务是否未提交或卡住，"
                 "必要时经确认后由DBA终止该会话（alter system kill session）",
                 "数据库中对应表的数据不可用，导致服务异常：被阻塞的会话持续等待，应用线程堆积"),
    "long_sql": ("查看数据库 sql 运行时间的前十条；按 sql_id 查看执行计划（dbms_xplan.display_cursor），"
                 "检查是否被锁阻塞、缺少索引或统计信息过旧",
                 "线程阻塞，影响正常数据运行"),
    "jobs": ("查看数据库定时任务：dba_scheduler_job_run_details 的 errors、additional_info 给出失败原因，"
             "修复后手工运行一次并确认下次执行时间",
             "影响业务：定时任务未成功执行，依赖其结果的数据和功能不完整"),
    "data_jobs": ("查看数据库定时任务：检查该抽取/加工任务的调度配置和运行日志，"
                  "确认源库连接、数据量变化和锁等待，修复后补跑并核对结果数据",
                  "影响业务：数据抽取或加工未按时完成，平台数据缺失或滞后"),
    "asm": ("检查是否需要添加磁盘空间；清理过期归档和备份，"
            "核对 required_mirror_free_mb（磁盘故障后恢复冗余所需空间）",
            "磁盘组剩余空间紧张，影响数据库正常使用"),
    "rman": ("查看RMAN日志（v$rman_output 或备份脚本日志）中的错误，检查备份目标的空间和可用性，"
             "修复后手工补做备份并验证可恢复（restore validate）",
             "备份缺失或失效，发生故障时无法按要求恢复数据"),
    "recovery_area": ("检查归档日志和备份是否按保留策略删除（RMAN delete obsolete），"
                      "必要时调大 db_recovery_file_dest_size 或扩容",
                      "快速恢复区写满后归档失败，数据库挂起（ORA-00257），业务中断"),
    "alert_log": ("登录数据库主机查看告警日志（adrci show alert）和对应的 trace 文件，"
                  "按错误码查阅 MOS 文档处理；ORA-00600/07445 需收集 incident 提交 Oracle 支持",
                  "内部错误、空间或资源问题持续存在，可能导致会话失败、实例宕机或数据损坏"),
}


# ---------------------------------------------------------------- validation

def validate_thresholds(thresholds):
    """Error messages (Chinese / English) for impossible thresholds; [] if all is well."""
    return validate_threshold_pairs(thresholds, DEFAULT_THRESHOLDS, PERCENT_THRESHOLDS)


def _string_list_problem(key, value):
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        return "选项 %s 必须是字符串列表 / option %s must be a list of strings" % (key, key)
    if any("," in v for v in value):
        return "选项 %s 的元素不能含逗号 / items of option %s must not contain commas" % (key, key)
    return None


def _data_job_problems(index, spec):
    where = "data_jobs[%d]" % index
    if not isinstance(spec, dict):
        return ["%s 必须是字典 / %s must be a dictionary" % (where, where)]
    problems = []
    known = {"owner", "name_like", "what_like", "kind", "container", "hours_warning", "hours_critical"}
    unknown = sorted(str(k) for k in spec if k not in known)
    if unknown:
        problems.append("%s 含未知键 %s / unknown keys %s (known: %s)"
                        % (where, ", ".join(unknown), ", ".join(unknown), ", ".join(sorted(known))))
    if not (isinstance(spec.get("owner"), str) and spec["owner"]):
        problems.append("%s 缺少 owner / %s needs owner (the job's schema)" % (where, where))
    patterns = [k for k in ("name_like", "what_like") if isinstance(spec.get(k), str) and spec[k]]
    if len(patterns) != 1:
        problems.append("%s 需要且只能有 name_like（调度任务名）或 what_like（DBMS_JOB）之一 / "
                        "%s needs exactly one of name_like and what_like" % (where, where))
    if spec.get("kind") not in DATA_JOB_KINDS:
        problems.append("%s 的 kind 必须是 %s / %s kind must be one of %s"
                        % (where, "、".join(DATA_JOB_KINDS), where, ", ".join(DATA_JOB_KINDS)))
    for key in ("hours_warning", "hours_critical"):
        if spec.get(key) is not None and not (_is_number(spec[key]) and spec[key] >= 0):
            problems.append("%s 的 %s 必须是非负数字 / %s %s must be a non-negative number"
                            % (where, key, where, key))
    return problems


_IGNORE_CODE = re.compile(r"^(ORA-)?\d{1,5}$", re.IGNORECASE)


def _option_problems(key, value):
    if key in ("lock_ignore_types", "long_sql_ignore_users", "alert_log_ignore_codes"):
        problem = _string_list_problem(key, value)
        if not problem and key == "alert_log_ignore_codes" and not all(_IGNORE_CODE.match(v) for v in value):
            problem = ("选项 alert_log_ignore_codes 的元素必须形如 ORA-03136 / "
                       "items of option alert_log_ignore_codes must look like ORA-03136")
        return [problem] if problem else []
    if key in ("rman_required", "sysdba"):
        return [] if isinstance(value, bool) else [
            "选项 %s 必须是布尔值 / option %s must be a boolean" % (key, key)]
    if key == "data_jobs":
        if not isinstance(value, (list, tuple)):
            return ["选项 data_jobs 必须是列表 / option data_jobs must be a list"]
        return [p for index, spec in enumerate(value) for p in _data_job_problems(index, spec)]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return []
    return ["选项 %s 必须是正整数 / option %s must be a positive integer, got %r" % (key, key, value)]


def validate_options(options):
    """Error messages (Chinese / English) for unusable options; [] if all is well."""
    if not isinstance(options, dict):
        return ["选项必须是字典 / options must be a dictionary"]
    problems = []
    for key in sorted(options, key=str):
        if key not in DEFAULT_OPTIONS:
            problems.append("未知选项 %s / unknown option %s (known: %s)"
                            % (key, key, ", ".join(sorted(DEFAULT_OPTIONS))))
        else:
            problems.extend(_option_problems(key, options[key]))
    return problems


# ---------------------------------------------------------------- errors

def _first_line(text, limit=200):
    lines = str(text or "").strip().splitlines()
    return redact_message(lines[0] if lines else "", limit)


def _explain_grant(code, sql):
    views = referenced_objects(sql or "")
    if not views:
        return ("权限不足（%s）" % code, "以DBA身份执行 %s" % GRANT_SCRIPTS)
    if any(v in SYSDBA_ONLY for v in views):
        return ("读取 %s 需要以 SYSDBA 连接（%s）" % ("、".join(views), code),
                "以 mode: sysdba 连接，或在数据库主机上直接检查告警日志")
    grants = [grant_name(v) for v in views]
    what = grants[0] if len(grants) == 1 else "%s（至少其一）" % "、".join(grants)
    return ("缺少 SELECT ON %s 权限（%s）" % (what, code),
            "以DBA身份执行 %s，或补充授权：GRANT SELECT ON %s TO <监控用户>;"
            % (GRANT_SCRIPTS, grants[0] if len(grants) == 1 else "<上述对象>"))


# (codes, reason, direction) for errors whose cause the code alone tells.
_KNOWN_CAUSES = (
    (TIMEOUT_CODES, "查询超时",
     "检查数据库负载和该视图的数据量（如 v$diag_alert_ext 读取大告警日志较慢），或调大 query_timeout"),
    (DISCONNECT_CODES, "与数据库的连接中断", "检查数据库实例、监听和网络是否正常，稍后重新巡检"),
)


def explain(error):
    """(reason, direction) in Chinese for a QueryError; names the grant for ORA-00942/01031."""
    code = (error.code or "").upper()
    if code in GRANT_CODES:
        return _explain_grant(code, getattr(error, "sql", None))
    for codes, reason, direction in _KNOWN_CAUSES:
        if code in codes:
            return "%s（%s）" % (reason, code), direction
    if code == "ORA-00904":
        return ("视图列与数据库版本不符（%s：%s）" % (code, _first_line(error.message)),
                "核对数据库版本，按 docs/oracle.md 的版本矩阵手工执行该检查的SQL并反馈")
    return ("查询失败（%s：%s）" % (code or "未知错误", _first_line(error.message)),
            "按错误码排查，手工执行 docs/oracle.md 中该检查的SQL复核")


def error_record(check, host, error, item=None):
    """The error record of a check (or one part of it, given item) that could not run."""
    item = item or CHECK_ITEMS[check]
    if isinstance(error, QueryError):
        reason, direction = explain(error)
        code = error.code
    else:  # a bug or an unexpected row shape: still one record, never a crashed run
        reason, direction = ("内部错误（%s）" % type(error).__name__,
                             "请将该错误反馈给 gxtax-ops 维护者，并手工复核该项")
        code = None
    return make_record(REQUIREMENT_IDS[check], item, host, "error", code, None, None,
                       "%s无法检查：%s。" % (item, reason), direction,
                       "该项无法检查，%s方面的异常无法被巡检发现" % CHECK_ITEMS[check])


# ---------------------------------------------------------------- plumbing

def _number(value):
    """A driver number (int, float, Decimal, numeric string) as int/float; None stays None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    number = float(str(value).strip())
    return int(number) if number.is_integer() else number


def _fmt(number):
    """90.0 -> '90', 1.25 -> '1.25' for Chinese sentences."""
    if number is None:
        return "-"
    return ("%.2f" % number).rstrip("0").rstrip(".")


def _size(num_bytes):
    num_bytes = float(num_bytes or 0)
    for unit, factor in (("TiB", 1024.0 ** 4), ("GiB", GIB), ("MiB", 1024.0 ** 2)):
        if abs(num_bytes) >= factor:
            return "%s %s" % (_fmt(round(num_bytes / factor, 2)), unit)
    return "%s KiB" % _fmt(round(num_bytes / 1024.0, 2))


def _pct(part, whole):
    return round(100.0 * part / whole, 1)


def _query(execute, statement, binds=None):
    """Rows of one statement as dicts with lower-case keys; QueryError -> StatementError."""
    name, sql = statement
    try:
        columns, rows = execute(sql, dict(binds or {}))
    except StatementError:
        raise
    except QueryError as error:
        raise StatementError(error, name, sql) from None
    keys = [str(c).lower() for c in columns]
    if any(len(row) != len(keys) for row in rows):
        raise ValueError("%s: rows do not match their %d columns" % (name, len(keys)))
    return [dict(zip(keys, row)) for row in rows]  # noqa: B905 - lengths checked above


class _Run:
    """What every check needs: the statements of this database, thresholds, options, names."""

    def __init__(self, execute, database, thresholds, host, options):
        self.execute = execute
        self.database = database
        self.thresholds = thresholds
        self.host = host
        self.options = options
        self.variant = variant(database)
        self.statements = {}
        for statements in statements_for(database, sysdba=bool(options.get("sysdba"))).values():
            self.statements.update(dict(statements))
        self.containers = {1: ROOT_NAME}
        for pdb in database.get("pdbs") or []:
            self.containers[_number(pdb.get("con_id"))] = pdb.get("name")

    def rows(self, name, binds=None):
        return _query(self.execute, (name, self.statements[name]), binds)

    def where(self, row):
        """'PDB1 ' for a row of another container seen from the root, '' otherwise."""
        if self.variant != "root":
            return ""
        con_id = _number(row.get("con_id"))
        if not con_id:
            return ""
        return "%s " % (self.containers.get(con_id) or "CON_ID %s" % con_id)

    def is_seed(self, row):
        con_id = _number(row.get("con_id"))
        return self.variant == "root" and (self.containers.get(con_id) == "PDB$SEED" or con_id == 2)

    def pair(self, kind):
        return self.thresholds.get(kind + "_warning"), self.thresholds.get(kind + "_critical")

    def record(self, check, item, status, value=None, unit=None, threshold=None, detail="", advice=None):
        direction = consequence = None
        if status in ("warning", "critical", "error"):
            direction, consequence = ADVICE[advice or check]
        return make_record(REQUIREMENT_IDS[check], item, self.host, status, value, unit, threshold,
                           detail, direction, consequence)

    def graded(self, check, item, value, unit, kind, what, advice=None):
        """Record of a higher-is-worse value against the <kind>_warning/_critical pair."""
        warning, critical = self.pair(kind)
        status = grade(value, warning, critical)
        suffix = unit if unit == "%" else (" " + unit if unit else "")
        if status == "error":  # grade() of a missing value
            verdict = "未取得数值，无法评估"
        elif status == "critical":
            verdict = "已达到严重阈值 %s%s" % (_fmt(critical), suffix)
        elif status == "warning":
            verdict = "已达到告警阈值 %s%s" % (_fmt(warning), suffix)
        elif warning is not None or critical is not None:
            verdict = "低于告警阈值 %s%s，正常" % (_fmt(warning if warning is not None else critical), suffix)
        else:
            verdict = "未设置阈值，不评估"
        return self.record(check, item, status, value, unit, {"warning": warning, "critical": critical},
                           "%s，%s。" % (what, verdict), advice)


def _guarded(run, check, item, function):
    """function()'s records, or one error record for item when its query fails."""
    try:
        return function()
    except QueryError as error:
        return [error_record(check, run.host, error, item)]


# ---------------------------------------------------------------- describe

def version_tuple(version):
    numbers = [int(n) for n in re.findall(r"\d+", str(version or ""))][:5]
    return tuple(numbers + [0] * (5 - len(numbers)))


def describe_database(execute):
    """Version, role, open mode, CDB/PDB and ASM use of the database execute talks to.

    QueryError (as StatementError) from the instance and database queries propagates: without
    them nothing else can be chosen. Later, optional facts degrade to None.
    """
    instance = _query(execute, DESCRIBE["instance"])[0]
    version = str(instance.get("version") or "")
    numbers = version_tuple(version)
    if numbers[0] >= 18:
        try:
            version = _query(execute, DESCRIBE["instance_version_full"])[0].get("version_full") or version
            numbers = version_tuple(version)
        except QueryError:
            pass  # the release alone (19.0.0.0.0) still selects the right SQL
    if numbers[0] < 12:
        database = _query(execute, DESCRIBE["database_11g"])[0]
        cdb, con_name, con_id = False, None, None
    else:
        database = _query(execute, DESCRIBE["database"])[0]
        cdb = str(database.get("cdb") or "").upper() == "YES"
        con_name = database.get("con_name") if cdb else None
        con_id = _number(database.get("con_id")) if cdb else None
    result = {
        "version": version, "version_tuple": numbers,
        "db_name": database.get("db_name"), "instance_name": instance.get("instance_name"),
        "role": database.get("database_role"), "open_mode": database.get("open_mode"),
        "log_mode": database.get("log_mode"), "cdb": cdb, "con_name": con_name, "con_id": con_id,
        "instance_status": instance.get("status"), "database_status": instance.get("database_status"),
        "logins": instance.get("logins"), "uptime_hours": _number(instance.get("uptime_hours")),
        "pdbs": [], "uses_asm": None, "describe_errors": {},
    }
    if cdb:
        try:
            result["pdbs"] = [{"con_id": _number(p["con_id"]), "name": p["name"], "open_mode": p["open_mode"],
                               "restricted": p.get("restricted")} for p in _query(execute, DESCRIBE["pdbs"])]
        except StatementError as error:
            result["pdbs"] = None
            result["describe_errors"]["pdbs"] = {"code": error.code, "message": error.message,
                                                 "statement": error.name}
        own = [p for p in result["pdbs"] or [] if con_name and p["name"] == con_name]
        if own and con_name != ROOT_NAME:  # a PDB's own open mode, not its CDB's
            result["open_mode"] = own[0]["open_mode"]
    try:
        result["uses_asm"] = (_number(_query(execute, DESCRIBE["asm_count"])[0].get("diskgroups")) or 0) > 0
    except StatementError as error:
        result["describe_errors"]["asm_count"] = {"code": error.code, "message": error.message,
                                                  "statement": error.name}
    return result


# ---------------------------------------------------------------- INSP-02 instance

def _check_instance(run):
    db = run.database
    status, role = db.get("instance_status") or "", db.get("role") or ""
    open_mode = db.get("open_mode") or ""
    kind = ("PDB %s" % db.get("con_name")) if run.variant == "pdb" else (
        "CDB根容器" if run.variant == "root" else "非CDB")
    what = "实例 %s（数据库 %s，版本 %s，%s，%s），状态 %s，打开模式 %s" % (
        db.get("instance_name") or "-", db.get("db_name") or "-", db.get("version") or "-", role or "-",
        kind, status or "-", open_mode or "-")
    problems = []
    standby_mounted = role.endswith("STANDBY") and status == "MOUNTED"
    if status != "OPEN" and not standby_mounted:
        problems.append("实例未打开")
    if (db.get("database_status") or "ACTIVE") != "ACTIVE":
        problems.append("数据库状态为 %s" % db.get("database_status"))
    if (db.get("logins") or "ALLOWED") != "ALLOWED":
        problems.append("实例处于受限登录模式（%s）" % db.get("logins"))
    if role == "PRIMARY" and status == "OPEN" and open_mode != "READ WRITE":
        problems.append("主库未以读写模式打开")
    if problems:
        detail = "%s：%s。" % (what, "；".join(dict.fromkeys(problems)))
        records = [run.record("instance", "数据库实例状态", "critical", status, None, "OPEN", detail)]
    else:
        records = [run.record("instance", "数据库实例状态", "ok", status, None, "OPEN",
                              "%s，登录成功，监听已注册该服务。" % what)]
    if run.variant == "root":
        records.extend(_pdb_records(run))
    return records


def _pdb_records(run):
    db = run.database
    if db.get("pdbs") is None:
        error = db.get("describe_errors", {}).get("pdbs") or {"code": None, "message": "未知原因"}
        failed = StatementError(QueryError(error["code"], error["message"]), "pdbs", DESCRIBE["pdbs"][1])
        return [error_record("instance", run.host, failed, "PDB打开状态")]
    records = []
    for pdb in db["pdbs"]:
        if pdb["name"] == "PDB$SEED":
            continue
        item = "PDB %s 打开状态" % pdb["name"]
        mode, restricted = pdb.get("open_mode") or "", (pdb.get("restricted") or "NO") == "YES"
        if mode == "READ WRITE" and not restricted:
            records.append(run.record("instance", item, "ok", mode, None, "READ WRITE",
                                      "PDB %s 以 READ WRITE 模式打开。" % pdb["name"]))
            continue
        status = "warning" if mode == "READ ONLY" and not restricted else "critical"
        why = ("以受限模式（RESTRICTED）打开，普通用户无法连接" if restricted
               else "打开模式为 %s" % (mode or "-"))
        records.append(run.record("instance", item, status, mode, None, "READ WRITE",
                                  "PDB %s %s。" % (pdb["name"], why), advice="pdb"))
    return records


# ---------------------------------------------------------------- INSP-03 tablespaces

def _tablespace_record(run, row, label, kind_advice, extra=""):
    name = row.get("tablespace_name")
    item = "%s%s %s 使用率" % (run.where(row), label, name)
    used, capacity = _number(row.get("used_bytes")) or 0, _number(row.get("max_bytes")) or 0
    status_text = (row.get("ts_status") or "ONLINE").upper()
    if status_text in ("READ ONLY", "OFFLINE"):
        return run.record("tablespaces", item, "skipped", None, "%",
                          detail="%s %s 处于 %s 状态，不再写入，不评估使用率。" % (label, name, status_text))
    if capacity <= 0:
        return run.record("tablespaces", item, "skipped", None, "%",
                          detail="%s %s 未报告容量，不评估。" % (label, name))
    pct = _pct(used, capacity)
    what = "%s %s 已用 %s%%（已用 %s / 可扩展至 %s%s）" % (
        label, name, _fmt(pct), _size(used), _size(capacity), extra)
    return run.graded("tablespaces", item, pct, "%", "tablespace", what, advice=kind_advice)


def _permanent_tablespaces(run):
    try:
        rows, note = run.rows("tablespace_metrics"), ""
    except QueryError as first:
        try:
            rows = run.rows("tablespace_files")
        except QueryError:
            raise first from None
        note = "；使用率视图不可用（%s），按数据文件计算" % first.code
    return [_tablespace_record(run, row, "表空间", "tablespace", note)
            for row in rows if not run.is_seed(row)]


def _temp_tablespaces(run):
    return [_tablespace_record(run, row, "临时表空间", "temp")
            for row in run.rows("temp_usage") if not run.is_seed(row)]


def _undo_tablespaces(run):
    records = []
    for row in run.rows("undo_usage"):
        if run.is_seed(row):
            continue
        extra = "，另有已过期可重用 %s 计为空闲" % _size(_number(row.get("expired_bytes")))
        records.append(_tablespace_record(run, row, "UNDO表空间", "undo", extra))
    return records


def _check_tablespaces(run):
    return (_guarded(run, "tablespaces", "表空间使用率", lambda: _permanent_tablespaces(run))
            + _guarded(run, "tablespaces", "临时表空间使用率", lambda: _temp_tablespaces(run))
            + _guarded(run, "tablespaces", "UNDO表空间使用率", lambda: _undo_tablespaces(run)))


# ---------------------------------------------------------------- INSP-04/05 sessions and processes

def _resource_check(run, check, statement, parameter):
    item = CHECK_ITEMS[check]
    rows = run.rows(statement)
    if not rows:
        return [run.record(check, item, "skipped", None, "%",
                           detail="v$resource_limit 未返回 %s 行，不评估。" % parameter)]
    row = rows[0]
    current, peak = _number(row.get("current_utilization")) or 0, _number(row.get("max_utilization"))
    limit_text = str(row.get("limit_value") or "").strip()  # e.g. '      1524' or ' UNLIMITED'
    if not limit_text.isdigit() or int(limit_text) <= 0:
        return [run.record(check, item, "skipped", None, "%",
                           detail="当前 %s 个，%s 参数上限为 %s，不评估使用率。"
                           % (current, parameter, limit_text or "空"))]
    limit = int(limit_text)
    pct = _pct(current, limit)
    what = "当前 %s 个（历史最高 %s），%s 参数 %s，使用率 %s%%" % (
        current, "-" if peak is None else peak, parameter, limit, _fmt(pct))
    return [run.graded(check, item, pct, "%", check, what)]


def _check_sessions(run):
    return _resource_check(run, "sessions", "session_limit", "sessions")


def _check_processes(run):
    return _resource_check(run, "processes", "process_limit", "processes")


# ---------------------------------------------------------------- INSP-06 locks

def _lock_count(run):
    ignore = [t.upper() for t in run.options["lock_ignore_types"]]
    rows = run.rows("lock_count", {"ignore_types": ",".join(ignore)})
    per_type = [(str(r.get("lock_type")), _number(r.get("held")) or 0) for r in rows]
    total = sum(n for _, n in per_type)
    types = "、".join("%s %d" % (t, n) for t, n in per_type[:8]) or "无"
    what = "用户会话持有锁 %d 个（%s；已排除正常锁类型 %s）" % (total, types, "、".join(ignore) or "无")
    return [run.graded("locks", "用户会话锁数量", total, "个", "locks", what)]


def _session_id(sid, serial):
    """SID,SERIAL# as alter system kill session takes it."""
    return "%s,%s" % (sid, serial) if serial is not None else "%s" % sid


def _session_label(sid, serial, user):
    return "%s(%s)" % (_session_id(sid, serial), user or "后台进程")


def _chains(rows):
    """{root blocker sid: [waiter rows]} following blockers that wait themselves (cycles: deadlock)."""
    by_waiter = {_number(r["waiter_sid"]): r for r in rows}
    chains, cycles = {}, set()
    for row in rows:
        seen, sid = [], _number(row["waiter_sid"])
        while sid in by_waiter and sid not in seen:
            seen.append(sid)
            sid = _number(by_waiter[sid].get("blocker_sid"))
        if sid in seen:  # a cycle: name it by its smallest session
            cycle = seen[seen.index(sid):]
            sid = min(cycle)
            cycles.add(sid)
        chains.setdefault(sid, []).append(row)
    return chains, cycles


def _blocking(run):
    rows = [r for r in run.rows("blocked_sessions") if r.get("blocker_sid") is not None]
    if not rows:
        return [run.record("locks", "锁阻塞", "ok", 0, "个", None, "当前没有会话被阻塞。")]
    chains, cycles = _chains(rows)
    records = []
    for root in sorted(chains, key=lambda s: (s is None, s)):
        waiters = chains[root]
        about = next((r for r in rows if _number(r.get("blocker_sid")) == root), waiters[0])
        longest = max(waiters, key=lambda r: _number(r.get("wait_seconds")) or 0)
        wait = _number(longest.get("wait_seconds")) or 0
        if about.get("blocker_user") is None and about.get("blocker_status") is None:
            who = "会话 %s（位于实例 %s，本实例看不到其详情）" % (root, about.get("blocker_instance") or "-")
        else:
            who = "会话 %s（用户 %s，主机 %s，程序 %s，状态 %s，当前调用已 %s 秒）" % (
                _session_id(root, about.get("blocker_serial")),
                about.get("blocker_user") or "-", about.get("blocker_machine") or "-",
                about.get("blocker_program") or "-", about.get("blocker_status") or "-",
                _fmt(_number(about.get("blocker_call_seconds"))))
        edges = "，".join("%s 阻塞 %s" % (r.get("blocker_sid"), _session_label(
            r["waiter_sid"], r.get("waiter_serial"), r.get("waiter_user"))) for r in waiters[:10])
        more = "等" if len(waiters) > 10 else ""
        cycle = "，存在循环等待（死锁）" if root in cycles else ""
        what = "%s阻塞 %d 个会话，最长已等待 %s 秒（%s）%s；阻塞关系：%s%s" % (
            who, len(waiters), _fmt(wait), longest.get("event") or "-", cycle, edges, more)
        item = "%s锁阻塞（阻塞源会话 %s）" % (run.where(about), root)
        record = run.graded("locks", item, wait, "秒", "blocked_seconds", what, advice="blocking")
        if root in cycles and record["status"] == "ok":
            # Oracle breaks a deadlock within seconds (ORA-00060); one still seen is worth a look.
            record = run.record("locks", item, "warning", wait, "秒", record["threshold"],
                                "%s，虽未达到等待阈值，但死锁仍在，说明应用在反复相互等待。" % what,
                                advice="blocking")
        records.append(record)
    return records


def _check_locks(run):
    return (_guarded(run, "locks", "用户会话锁数量", lambda: _lock_count(run))
            + _guarded(run, "locks", "锁阻塞", lambda: _blocking(run)))


# ---------------------------------------------------------------- INSP-07 long-running SQL

def _sql_binds(run):
    return {"ignore_users": ",".join(u.upper() for u in run.options["long_sql_ignore_users"]),
            "top": run.options["long_sql_top"]}


def _text(run, row):
    return redact(row.get("sql_text"), run.options["sql_text_chars"]) or "（SQL文本已不在共享池中）"


def _active_sql(run):
    rows = run.rows("active_sql", _sql_binds(run))
    if not rows:
        return [run.record("long_sql", "运行中的SQL", "ok", 0, "秒", None, "当前没有正在执行的用户SQL。")]
    records = []
    for rank, row in enumerate(rows, 1):
        seconds = _number(row.get("seconds")) or 0
        blocked = "，被会话 %s 阻塞" % row["blocker_sid"] if row.get("blocker_sid") is not None else ""
        what = "会话 %s（主机 %s）执行 sql_id %s 已 %s 秒（等待事件 %s%s）：%s" % (
            _session_label(row.get("sid"), row.get("serial"), row.get("username")), row.get("machine") or "-",
            row.get("sql_id") or "-", _fmt(seconds), row.get("event") or "-", blocked, _text(run, row))
        item = "%s运行时间最长的SQL 第%d名" % (run.where(row), rank)
        records.append(run.graded("long_sql", item, seconds, "秒", "active_sql_seconds", what))
    return records


def _top_elapsed_sql(run):
    rows = run.rows("top_elapsed_sql", _sql_binds(run))
    if not rows:
        return [run.record("long_sql", "累计耗时最长的SQL", "ok", None, "秒/次", None,
                           "共享池中没有业务用户的SQL。")]
    records = []
    for rank, row in enumerate(rows, 1):
        executions = _number(row.get("executions")) or 0
        elapsed = _number(row.get("elapsed_seconds")) or 0
        per_exec = round(elapsed / executions, 2) if executions else elapsed
        what = "sql_id %s（用户 %s）执行 %d 次%s，累计耗时 %s 秒（CPU %s 秒），平均每次 %s 秒：%s" % (
            row.get("sql_id") or "-", row.get("schema_name") or "-", executions,
            "" if executions else "（尚未执行完一次）", _fmt(elapsed),
            _fmt(_number(row.get("cpu_seconds"))), _fmt(per_exec), _text(run, row))
        item = "%s累计耗时最长的SQL 第%d名" % (run.where(row), rank)
        records.append(run.graded("long_sql", item, per_exec, "秒/次", "sql_seconds_per_exec", what))
    return records


def _check_long_sql(run):
    return (_guarded(run, "long_sql", "运行时间最长的SQL", lambda: _active_sql(run))
            + _guarded(run, "long_sql", "累计耗时最长的SQL", lambda: _top_elapsed_sql(run)))


# ---------------------------------------------------------------- INSP-08 jobs

def _ora(code):
    code = _number(code)
    return "ORA-%05d" % code if code else "无错误码"


def _scheduler_failures(run):
    hours = run.options["job_hours"]
    records = []
    for row in run.rows("scheduler_failures", {"hours": hours}):
        name, status = str(row.get("job_name") or ""), row.get("status") or ""
        # Maintenance-window auto tasks are stopped when their window closes: by design.
        if name.startswith("ORA$AT_") and status in ("STOPPED", "SUCCEEDED"):
            continue
        failures = _number(row.get("failures")) or 0
        latest_ok = status == "SUCCEEDED"
        what = "近 %s 小时失败 %d 次，最近一次运行 %s（%s，%s 小时前）" % (
            hours, failures, status or "-", _ora(row.get("error_code")), _fmt(_number(row.get("hours_ago"))))
        what += "，之后已成功运行" if latest_ok else ""
        item = "%s定时任务 %s.%s" % (run.where(row), row.get("owner"), name)
        records.append(run.record("jobs", item, "warning" if latest_ok else "critical", failures, "次",
                                  None, what + "。"))
    return records


def _scheduler_broken(run):
    records = []
    for row in run.rows("scheduler_broken"):
        name = str(row.get("job_name") or "")
        if name.startswith("DBMS_JOB$"):  # 19c runs DBMS_JOB jobs as these: dbms_jobs reports them
            continue
        item = "%s定时任务 %s.%s 状态" % (run.where(row), row.get("owner"), name)
        what = "任务状态为 %s（累计失败 %s 次，最近启动 %s）。" % (
            row.get("state"), _fmt(_number(row.get("failure_count"))), row.get("last_start") or "-")
        records.append(run.record("jobs", item, "critical", row.get("state"), None, None, what))
    return records


def _dbms_jobs(run):
    records = []
    for row in run.rows("dbms_jobs"):
        broken = (row.get("broken") or "N") == "Y"
        failures = _number(row.get("failures")) or 0
        item = "%s定时任务(DBMS_JOB) %s" % (run.where(row), row.get("job"))
        hours = _fmt(_number(row.get("hours_since_success")))
        last = "从未成功"
        if row.get("last_success"):
            last = "上次成功 %s（%s 小时前）" % (row["last_success"], hours)
        what = "DBMS_JOB 任务 %s（用户 %s）%s，连续失败 %d 次，%s。" % (
            row.get("job"), row.get("schema_user") or "-", "已失效（BROKEN）" if broken else "正在重试",
            failures, last)
        records.append(run.record("jobs", item, "critical" if broken else "warning", failures, "次",
                                  None, what))
    return records


def _check_jobs(run):
    records = (_guarded(run, "jobs", "定时任务运行记录", lambda: _scheduler_failures(run))
               + _guarded(run, "jobs", "定时任务状态", lambda: _scheduler_broken(run))
               + _guarded(run, "jobs", "定时任务(DBMS_JOB)", lambda: _dbms_jobs(run)))
    if not records:
        records.append(run.record("jobs", "定时任务状态", "ok", 0, "个", None,
                                  "近 %s 小时所有调度任务均运行成功，没有失效或失败的任务。"
                                  % run.options["job_hours"]))
    return records


# ---------------------------------------------------------------- INSP-18 data jobs

def _job_key(row):
    return (_number(row.get("con_id")) or 0, row.get("owner"), row.get("job_name"))


def _in_container(run, spec, row):
    wanted = spec.get("container")
    return not wanted or run.variant != "root" or run.where(row).strip() == wanted


def _hours_pair(run, spec):
    warning, critical = run.pair("data_job_hours")
    return spec.get("hours_warning", warning), spec.get("hours_critical", critical)


def _grade_hours(hours, pair, problems, missing):
    """Grade hours since the last success; missing says why there is none."""
    if hours is None:
        problems.append(("critical", missing))
        return
    status = grade(hours, *pair)
    if status in ("warning", "critical"):
        limit = pair[1] if status == "critical" else pair[0]
        problems.append((status, "距上次成功已 %s 小时（阈值 %s 小时）" % (_fmt(hours), _fmt(limit))))


def _duration_problem(run, label, seconds, earlier, problems):
    """Compare seconds with the average of earlier successful durations."""
    if seconds is None or len(earlier) < run.options["data_job_min_runs"]:
        return ""
    average = sum(earlier) / len(earlier)
    if average <= 0:
        return ""
    ratio = round(seconds / average, 2)
    status = grade(ratio, *run.pair("data_job_duration_ratio"))
    text = "%s %s 秒，为近 %d 次平均 %s 秒的 %s 倍" % (
        label, _fmt(seconds), len(earlier), _fmt(average), _fmt(ratio))
    if status in ("warning", "critical"):
        problems.append((status, text))
    return text


def _scheduler_data_job(run, spec, job, runs, running):
    kind, days = spec["kind"], run.options["data_job_days"]
    pair = _hours_pair(run, spec)
    problems, facts = [], []
    if (job.get("enabled") or "TRUE").upper() != "TRUE":
        problems.append(("warning", "任务已停用（全量%s期间停用增量任务属正常，完成后请恢复）" % kind))
    if job.get("state") in ("BROKEN", "FAILED"):
        problems.append(("critical", "任务状态为 %s" % job["state"]))
    hours = None
    if runs:
        last = runs[0]
        hours = _number(last.get("hours_since_success"))
        facts.append("最近一次运行 %s（%s 小时前，%s）" % (
            last.get("status"), _fmt(_number(last.get("hours_ago"))),
            "无错误" if last.get("status") == "SUCCEEDED" else _ora(last.get("error_code"))))
        if last.get("status") != "SUCCEEDED":
            problems.append(("critical", "最近一次运行 %s" % last.get("status")))
        earlier = [_number(r.get("duration_seconds")) for r in runs[1:]
                   if r.get("status") == "SUCCEEDED" and r.get("duration_seconds") is not None]
        if last.get("status") == "SUCCEEDED":
            text = _duration_problem(run, "耗时", _number(last.get("duration_seconds")), earlier, problems)
            if text:
                facts.append(text)
        successful = [_number(r.get("duration_seconds")) for r in runs
                      if r.get("status") == "SUCCEEDED" and r.get("duration_seconds") is not None]
        for current in running:
            text = _duration_problem(run, "正在运行已", _number(current.get("elapsed_seconds")), successful,
                                     problems)
            facts.append(text or "正在运行")
    else:
        facts.append("近 %s 天没有运行记录（下次计划 %s）" % (days, job.get("next_run") or "无"))
    _grade_hours(hours, pair, problems, "近 %s 天没有成功运行" % days)
    if hours is not None:
        facts.append("距上次成功 %s 小时" % _fmt(hours))
    item = "%s%s任务 %s.%s" % (run.where(job), kind, job.get("owner"), job.get("job_name"))
    return _data_job_record(run, item, hours, pair, facts, problems)


def _data_job_record(run, item, hours, pair, facts, problems):
    status = worst([{"status": s} for s, _ in problems]) if problems else "ok"
    detail = "，".join(facts)
    if problems:
        detail += "；异常：" + "；".join(text for _, text in problems)
    threshold = {"warning": pair[0], "critical": pair[1],
                 "duration_ratio": run.thresholds.get("data_job_duration_ratio_warning")}
    return run.record("data_jobs", item, status, hours, "小时", threshold, detail + "。")


def _scheduler_data_jobs(run, spec):
    binds = {"owner": spec["owner"].upper(), "name_like": spec["name_like"].upper()}
    jobs = [j for j in run.rows("data_job_list", binds) if _in_container(run, spec, j)]
    runs = run.rows("data_job_runs", dict(binds, days=run.options["data_job_days"],
                                          runs=run.options["data_job_runs"]))
    running = run.rows("data_job_running", binds)
    records = []
    for job in jobs:
        key = _job_key(job)
        mine = sorted((r for r in runs if _job_key(r) == key), key=lambda r: _number(r.get("rn")) or 0)
        records.append(_scheduler_data_job(run, spec, job, mine, [r for r in running if _job_key(r) == key]))
    return records


def _dbms_data_jobs(run, spec):
    binds = {"owner": spec["owner"].upper(), "what_like": spec["what_like"]}
    pair = _hours_pair(run, spec)
    records = []
    for row in run.rows("data_dbms_jobs", binds):
        if not _in_container(run, spec, row):
            continue
        problems, facts = [], []
        if (row.get("broken") or "N") == "Y":
            problems.append(("critical", "任务已失效（BROKEN）"))
        failures = _number(row.get("failures")) or 0
        if failures:
            problems.append(("critical", "连续失败 %d 次" % failures))
        hours = _number(row.get("hours_since_success"))
        _grade_hours(hours, pair, problems, "从未成功运行")
        facts.append("DBMS_JOB 任务 %s（用户 %s）%s" % (
            row.get("job"), row.get("schema_user") or "-",
            "从未成功运行" if hours is None else "距上次成功 %s 小时" % _fmt(hours)))
        if row.get("running_seconds") is not None:
            facts.append("正在运行已 %s 秒" % _fmt(_number(row.get("running_seconds"))))
        item = "%s%s任务(DBMS_JOB) %s" % (run.where(row), spec["kind"], row.get("job"))
        records.append(_data_job_record(run, item, hours, pair, facts, problems))
    return records


def _data_job_spec(run, spec):
    pattern = spec.get("name_like") or spec.get("what_like")
    records = _scheduler_data_jobs(run, spec) if spec.get("name_like") else _dbms_data_jobs(run, spec)
    if records:
        return records
    item = "%s任务 %s.%s" % (spec["kind"], spec["owner"].upper(), pattern)
    return [run.record("data_jobs", item, "critical", None, None, None,
                       "数据库中没有与 %s.%s 匹配的%s任务（任务被删除，或配置的名称有误）。"
                       % (spec["owner"].upper(), pattern, spec["kind"]))]


def _check_data_jobs(run):
    specs = run.options["data_jobs"]
    if not specs:
        return [run.record("data_jobs", CHECK_ITEMS["data_jobs"], "skipped",
                           detail="未配置需检查的抽取/加工任务（data_jobs），不检查。")]
    records = []
    for spec in specs:
        label = "%s任务 %s.%s" % (spec["kind"], spec["owner"].upper(),
                                  spec.get("name_like") or spec.get("what_like"))
        records.extend(_guarded(run, "data_jobs", label, lambda spec=spec: _data_job_spec(run, spec)))
    return records


# ---------------------------------------------------------------- INSP-09 ASM

# Copies ASM keeps of each extent; FLEX and EXTENDED groups default to two.
REDUNDANCY_COPIES = {"EXTERN": 1, "NORMAL": 2, "HIGH": 3, "FLEX": 2, "EXTEND": 2}


def _asm_record(run, row):
    name, redundancy = row.get("name"), (row.get("redundancy") or "EXTERN").upper()
    item = "ASM磁盘组 %s 使用率" % name
    total = _number(row.get("total_mb")) or 0
    if total <= 0:
        return run.record("asm", item, "skipped", None, "%",
                          detail="磁盘组 %s 状态 %s，未报告容量，不评估。" % (name, row.get("state") or "-"))
    free = _number(row.get("free_mb")) or 0
    mirror = _number(row.get("required_mirror_free_mb")) or 0
    copies = REDUNDANCY_COPIES.get(redundancy, 1)
    usable_free = _number(row.get("usable_file_mb"))
    if usable_free is None:  # what ASM would report: (free - mirror reserve) / copies
        usable_free = (free - mirror) / copies
    usable_total = (total - mirror) / copies
    pct = _pct(usable_total - usable_free, usable_total) if usable_total > 0 else 100.0
    what = "磁盘组 %s（%s 冗余）按冗余折算已用 %s%%（可用 usable_file_mb %s，原始空间已用 %s%%，共 %s）" % (
        name, redundancy, _fmt(pct), _size(usable_free * 1024 ** 2), _fmt(_pct(total - free, total)),
        _size(total * 1024 ** 2))
    record = run.graded("asm", item, pct, "%", "asm", what)
    problems = []
    if usable_free < 0:
        problems.append("usable_file_mb 为负，磁盘故障后无法恢复冗余")
    offline = _number(row.get("offline_disks")) or 0
    if offline:
        problems.append("有 %d 块磁盘离线" % offline)
    if problems:
        record = run.record("asm", item, "critical", pct, "%", record["threshold"],
                            "%s：%s。" % (what, "；".join(problems)))
    return record


def _check_asm(run):
    if run.database.get("uses_asm") is False:
        return [run.record("asm", CHECK_ITEMS["asm"], "skipped", detail="数据库未使用ASM，不检查。")]
    rows = run.rows("asm_diskgroups")
    if not rows:
        return [run.record("asm", CHECK_ITEMS["asm"], "skipped",
                           detail="数据库未连接任何ASM磁盘组，不检查。")]
    return [_asm_record(run, row) for row in rows]


# ---------------------------------------------------------------- INSP-12 RMAN and recovery area

DB_BACKUP_TYPES = ("DB FULL", "DB INCR")


def _rman_age(run, item, kind, rows, label):
    best = min(rows, key=lambda r: _number(r.get("hours_since")))
    hours = _number(best.get("hours_since"))
    what = "最近一次成功的%s（%s）结束于 %s，距今 %s 小时" % (
        label, best.get("input_type"), best.get("last_end") or "-", _fmt(hours))
    return run.graded("rman_backups", item, hours, "小时", kind, what, advice="rman")


def _check_rman(run):
    good = run.rows("rman_last_good")
    hours = run.options["rman_failure_hours"]
    bad = run.rows("rman_failures", {"hours": hours})
    if not good and not bad:
        if run.variant == "pdb":
            return [run.record("rman_backups", CHECK_ITEMS["rman_backups"], "skipped",
                               detail="在PDB中看不到CDB级的RMAN备份记录，请在CDB根容器上巡检备份。")]
        if run.options["rman_required"]:
            return [run.record("rman_backups", CHECK_ITEMS["rman_backups"], "critical", None, None, None,
                               "控制文件中没有任何RMAN备份记录。", advice="rman")]
        return [run.record("rman_backups", CHECK_ITEMS["rman_backups"], "skipped",
                           detail="控制文件中没有RMAN备份记录（仅用 expdp 逻辑备份时属正常，"
                                  "见逻辑备份检查）。")]
    records = []
    database = [r for r in good if r.get("input_type") in DB_BACKUP_TYPES]
    if database:
        records.append(_rman_age(run, "RMAN数据库备份时效", "rman_db_hours", database, "数据库备份"))
    else:
        records.append(run.record("rman_backups", "RMAN数据库备份时效", "critical", None, "小时", None,
                                  "控制文件记录中没有成功的数据库全量或增量备份（DB FULL/DB INCR）。",
                                  advice="rman"))
    archived = [r for r in good if r.get("input_type") == "ARCHIVELOG"]
    if archived:
        records.append(_rman_age(run, "RMAN归档日志备份时效", "rman_archivelog_hours", archived,
                                 "归档日志备份"))
    else:
        records.append(run.record("rman_backups", "RMAN归档日志备份时效", "skipped", None, "小时",
                                  detail="没有单独的归档日志备份记录（可能随数据库备份一起备份），不单独评估。"))
    item = "RMAN备份失败（近%s小时）" % hours
    if bad:
        listing = "，".join("%s %s %s" % (r.get("started") or "-", r.get("input_type"), r.get("status"))
                           for r in bad[:5])
        records.append(run.record("rman_backups", item, "warning", len(bad), "次", 0,
                                  "近 %s 小时有 %d 次RMAN备份失败或出错：%s。" % (hours, len(bad), listing),
                                  advice="rman"))
    else:
        records.append(run.record("rman_backups", item, "ok", 0, "次", 0,
                                  "近 %s 小时没有失败的RMAN备份。" % hours))
    return records


def _check_recovery_area(run):
    item = CHECK_ITEMS["recovery_area"]
    rows = [r for r in run.rows("recovery_area")
            if r.get("name") and (_number(r.get("space_limit")) or 0) > 0]
    if not rows:
        return [run.record("recovery_area", item, "skipped", detail="未配置快速恢复区，不检查。")]
    row = rows[0]
    limit, used = _number(row["space_limit"]), _number(row.get("space_used")) or 0
    reclaimable = _number(row.get("space_reclaimable")) or 0
    pct = _pct(used - reclaimable, limit)
    what = "快速恢复区 %s 不可回收部分占 %s%%（已用 %s，其中可回收 %s，上限 %s，文件 %s 个）" % (
        row["name"], _fmt(pct), _size(used), _size(reclaimable), _size(limit),
        _fmt(_number(row.get("number_of_files"))))
    return [run.graded("recovery_area", item, pct, "%", "recovery_area", what)]


# ---------------------------------------------------------------- alert log

_CODE = re.compile(r"\bORA-(\d{1,5})\b")


def _alert_sample(message, code):
    """The message from its first relevant code on, redacted; user-defined errors not at all."""
    number = int(code[4:])
    if 20000 <= number <= 20999:  # RAISE_APPLICATION_ERROR text is the application's: may hold data
        return "%s（应用自定义错误，内容不显示）" % code
    match = re.search(r"\bORA-0*%d\b" % number, message)
    tail = message[match.start():] if match else message
    return redact_message(tail.splitlines()[0] if tail.strip() else tail, 120)


def _check_alert_log(run):
    item = CHECK_ITEMS["alert_log"]
    hours = run.options["alert_log_hours"]
    if "alert_log" not in run.statements:
        return [run.record("alert_log", item, "skipped",
                           detail="11.2 没有 v$diag_alert_ext，读取 x$dbgalertext 需要以 SYSDBA 连接"
                                  "（mode: sysdba），不检查；可在数据库主机上查看告警日志。")]
    ignore = set("ORA-%05d" % int(c.upper().replace("ORA-", ""))
                 for c in run.options["alert_log_ignore_codes"])
    codes, containers, messages, sample = Counter(), Counter(), 0, None
    for row in run.rows("alert_log", {"hours": hours}):
        text = str(row.get("message_text") or "")
        found = ["ORA-%05d" % int(n) for n in _CODE.findall(text)]
        found = [c for c in dict.fromkeys(found) if c not in ignore]
        if not found:
            continue
        messages += 1
        codes.update(found)
        containers[run.where(row).strip() or None] += 1
        sample = sample or _alert_sample(text, found[0])  # rows come newest first
    if not messages:
        return [run.record("alert_log", item, "ok", 0, "条", None,
                           "近 %s 小时告警日志中没有 ORA- 错误。" % hours)]
    listing = "、".join("%s×%d" % (c, n) for c, n in codes.most_common(10))
    where = "、".join("%s %d 条" % (c, n) for c, n in containers.most_common() if c)
    what = "近 %s 小时告警日志中有 %d 条 ORA- 错误%s：%s；最近一条：%s" % (
        hours, messages, "（%s）" % where if where else "", listing, sample)
    record = run.graded("alert_log", item, messages, "条", "alert_log_errors", what)
    fatal = sorted(c for c in codes if c in CRITICAL_ALERT_CODES)
    if fatal:
        record = run.record("alert_log", item, "critical", messages, "条", record["threshold"],
                            "%s；其中 %s 属严重错误。" % (what, "、".join(fatal)))
    return [record]


# ---------------------------------------------------------------- runner

_CHECK_FUNCTIONS = {
    "instance": _check_instance, "tablespaces": _check_tablespaces, "sessions": _check_sessions,
    "processes": _check_processes, "locks": _check_locks, "long_sql": _check_long_sql,
    "jobs": _check_jobs, "data_jobs": _check_data_jobs, "asm": _check_asm,
    "rman_backups": _check_rman, "recovery_area": _check_recovery_area, "alert_log": _check_alert_log,
}


def run_checks(execute, database, checks=None, thresholds=None, host="localhost", options=None):
    """Records of the requested checks (all by default), in CHECKS order.

    thresholds and options are merged over DEFAULT_THRESHOLDS / DEFAULT_OPTIONS; invalid
    ones raise ValueError (the module validates first and fails with the same messages).
    """
    wanted = list(CHECKS if checks is None else checks)
    unknown = sorted(set(wanted) - set(CHECKS))
    if unknown:
        raise ValueError("未知检查项 %s / unknown checks %s (known: %s)"
                         % (", ".join(unknown), ", ".join(unknown), ", ".join(CHECKS)))
    merged_thresholds = dict(DEFAULT_THRESHOLDS, **(thresholds or {}))
    merged_options = dict(DEFAULT_OPTIONS, **(options or {}))
    problems = validate_thresholds(merged_thresholds) + validate_options(merged_options)
    if problems:
        raise ValueError("; ".join(problems))
    run = _Run(execute, database, merged_thresholds, host, merged_options)
    records = []
    for check in CHECKS:
        if check not in wanted:
            continue
        try:
            records.extend(_CHECK_FUNCTIONS[check](run))
        except Exception as error:  # one check's failure (even a bug) must not stop the others
            records.append(error_record(check, host, error))
    return records
