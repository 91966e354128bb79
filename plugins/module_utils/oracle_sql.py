# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQL of the Oracle health inspection, per check and per database kind.

Four kinds of database get their own statements (``variant``):

- ``11g``: 11.2. No CDB, no ``FETCH FIRST`` (none is used anywhere: top-N is ``ROWNUM``
  over an ordered subquery), no JSON functions, no ``v$diag_alert_ext``.
- ``noncdb``: 12.1 and later without the multitenant option.
- ``root``: the root of a CDB. Dictionary data comes from ``CDB_`` views so every open
  PDB is seen, and each row carries ``con_id``; the caller maps it to a PDB name.
- ``pdb``: connected to a PDB: ``DBA_`` views, the PDB's own data.

Every statement starts with a ``/* gxtax:<name> */`` tag: a DBA who finds it in v$sql knows
what it is, and ``statement_name`` turns text back into the name that recorded fixture rows
are keyed by. Ages are computed in SQL (``SYSDATE - x``, UTC for time-zoned columns), so
the control node's clock and the driver's time-zone handling never enter a figure.
Every column has an alias; Oracle returns them upper case and callers lower-case them.

Runs on the control node only (gxtax.ops.oracle_health); no database driver here.
"""
# S608: the f-strings below assemble SQL from this module's own constants only (view prefixes,
# con_id fragments); every value from configuration travels as a bind variable.
# ruff: noqa: S608

from __future__ import annotations

import re

VARIANTS = ("11g", "noncdb", "root", "pdb")
ROOT_NAME = "CDB$ROOT"
_TAG = re.compile(r"^/\* gxtax:([a-z0-9_]+) \*/")
# Views and fixed tables in our own SQL. The SQL gate checks this against sqlglot's parse.
_OBJECT = re.compile(r"\b((?:g?v\$|x\$|dba_|cdb_)[a-z0-9_$#]+)\b", re.IGNORECASE)
# Fixed tables cannot be granted; only a SYSDBA connection reads them.
SYSDBA_ONLY = ("x$dbgalertext",)


def _stmt(name, sql):
    """(name, tagged sql with whitespace collapsed). Our SQL holds no multi-space literals."""
    return name, "/* gxtax:%s */ %s" % (name, " ".join(sql.split()))


def statement_name(sql):
    """The name a statement was built with, from its tag (None for untagged text)."""
    match = _TAG.match(sql or "")
    return match.group(1) if match else None


def referenced_objects(sql):
    """Lower-case view names a statement reads (v$session, dba_jobs, cdb_tablespaces, x$...)."""
    return sorted(set(m.group(1).lower() for m in _OBJECT.finditer(sql)))


def grant_name(view):
    """The object a grant names for a view: v$session -> SYS.V_$SESSION (V$ names are synonyms)."""
    upper = view.upper()
    if upper.startswith("V$"):
        upper = "V_$" + upper[2:]
    return "SYS." + upper


def variant(database):
    """Which statement set fits database (a describe_database result)."""
    version = tuple(database.get("version_tuple") or (0,))
    if version[0] < 12:
        return "11g"
    if not database.get("cdb"):
        return "noncdb"
    if (database.get("con_name") or ROOT_NAME).upper() == ROOT_NAME:
        return "root"
    return "pdb"


# ---------------------------------------------------------------- describe

# Run in this order by describe_database; the version decides the rest.
DESCRIBE = {
    "instance": _stmt("instance", """
        SELECT i.instance_name AS instance_name, i.version AS version, i.status AS status,
               i.database_status AS database_status, i.logins AS logins,
               ROUND((SYSDATE - i.startup_time) * 24, 1) AS uptime_hours
        FROM v$instance i"""),
    # 18c+: v$instance.version is only the release (19.0.0.0.0); version_full has the RU.
    "instance_version_full": _stmt("instance_version_full", """
        SELECT i.version_full AS version_full FROM v$instance i"""),
    "database_11g": _stmt("database_11g", """
        SELECT d.name AS db_name, d.database_role AS database_role, d.open_mode AS open_mode,
               d.log_mode AS log_mode
        FROM v$database d"""),
    "database": _stmt("database", """
        SELECT d.name AS db_name, d.database_role AS database_role, d.open_mode AS open_mode,
               d.log_mode AS log_mode, d.cdb AS cdb,
               SYS_CONTEXT('USERENV', 'CON_NAME') AS con_name,
               SYS_CONTEXT('USERENV', 'CON_ID') AS con_id
        FROM v$database d"""),
    # In the root: every PDB; in a PDB: itself (its own open mode, not the CDB's).
    "pdbs": _stmt("pdbs", """
        SELECT p.con_id AS con_id, p.name AS name, p.open_mode AS open_mode, p.restricted AS restricted
        FROM v$pdbs p ORDER BY p.con_id"""),
    # A database instance sees the disk groups it uses: none means no ASM.
    "asm_count": _stmt("asm_count", """
        SELECT COUNT(*) AS diskgroups FROM v$asm_diskgroup_stat"""),
}


def describe_statements():
    """[(name, sql)] of every statement describe_database may run."""
    return list(DESCRIBE.values())


# ---------------------------------------------------------------- helpers for CDB-aware text

def _ctx(kind):
    """Template pieces: dictionary prefix, con_id column and join/partition fragments."""
    root = kind == "root"
    return {
        "p": "cdb" if root else "dba",
        # Non-root rows get con_id 0, so rows have one shape everywhere.
        "con": (lambda alias: "%s.con_id" % alias) if root else (lambda alias: "0"),
        "on": (lambda a, b: " AND %s.con_id = %s.con_id" % (a, b)) if root else (lambda a, b: ""),
        "g": (lambda alias: "%s.con_id, " % alias) if root else (lambda alias: ""),
    }


_HOURS_SINCE_TSTZ = ("ROUND((CAST(SYS_EXTRACT_UTC(SYSTIMESTAMP) AS DATE) - "
                     "CAST(SYS_EXTRACT_UTC({col}) AS DATE)) * 24, 2)")
_SECONDS_OF_INTERVAL = ("(EXTRACT(DAY FROM {col}) * 86400 + EXTRACT(HOUR FROM {col}) * 3600 + "
                        "EXTRACT(MINUTE FROM {col}) * 60 + EXTRACT(SECOND FROM {col}))")
# A comma-separated bind as a list: static SQL whatever the list's length.
_NOT_LISTED = "INSTR(',' || {bind} || ',', ',' || {col} || ',') = 0"


def _hours_since_tstz(col):
    return _HOURS_SINCE_TSTZ.format(col=col)


def _seconds(col):
    return _SECONDS_OF_INTERVAL.format(col=col)


def _not_listed(bind, col):
    return _NOT_LISTED.format(bind=bind, col=col)


def _maxbytes(alias):
    """Size a file can reach: maxbytes if it autoextends (and is not already beyond it)."""
    return ("CASE WHEN {a}.autoextensible = 'YES' THEN GREATEST({a}.maxbytes, {a}.bytes) "
            "ELSE {a}.bytes END").format(a=alias)


# ---------------------------------------------------------------- per check

def _tablespaces(kind):
    c = _ctx(kind)
    p = c["p"]
    metrics = _stmt("tablespace_metrics", f"""
        SELECT {c['con']('m')} AS con_id, m.tablespace_name AS tablespace_name, t.status AS ts_status,
               m.used_space * t.block_size AS used_bytes, m.tablespace_size * t.block_size AS max_bytes
        FROM {p}_tablespace_usage_metrics m
        JOIN {p}_tablespaces t ON t.tablespace_name = m.tablespace_name{c['on']('t', 'm')}
        WHERE t.contents = 'PERMANENT'
        ORDER BY 1, 2""")
    # Fallback when the metrics view fails: allocated minus free, against what the files can grow to.
    files = _stmt("tablespace_files", f"""
        SELECT {c['con']('t')} AS con_id, t.tablespace_name AS tablespace_name, t.status AS ts_status,
               f.alloc_bytes - NVL(s.free_bytes, 0) AS used_bytes, f.max_bytes AS max_bytes
        FROM {p}_tablespaces t
        JOIN (SELECT {c['g']('d')}d.tablespace_name AS tablespace_name, SUM(d.bytes) AS alloc_bytes,
                     SUM({_maxbytes('d')}) AS max_bytes
              FROM {p}_data_files d GROUP BY {c['g']('d')}d.tablespace_name) f
          ON f.tablespace_name = t.tablespace_name{c['on']('f', 't')}
        LEFT JOIN (SELECT {c['g']('e')}e.tablespace_name AS tablespace_name, SUM(e.bytes) AS free_bytes
                   FROM {p}_free_space e GROUP BY {c['g']('e')}e.tablespace_name) s
          ON s.tablespace_name = t.tablespace_name{c['on']('s', 't')}
        WHERE t.contents = 'PERMANENT'
        ORDER BY 1, 2""")
    # free_space counts space inside temp segments that is free for reuse, so size - free is
    # what sorts hold now; the capacity is what the temp files can autoextend to.
    temp = _stmt("temp_usage", f"""
        SELECT {c['con']('f')} AS con_id, f.tablespace_name AS tablespace_name,
               f.tablespace_size - NVL(f.free_space, 0) AS used_bytes,
               GREATEST(NVL(x.max_bytes, 0), f.tablespace_size) AS max_bytes
        FROM {p}_temp_free_space f
        LEFT JOIN (SELECT {c['g']('d')}d.tablespace_name AS tablespace_name,
                          SUM({_maxbytes('d')}) AS max_bytes
                   FROM {p}_temp_files d GROUP BY {c['g']('d')}d.tablespace_name) x
          ON x.tablespace_name = f.tablespace_name{c['on']('x', 'f')}
        ORDER BY 1, 2""")
    # EXPIRED undo is free for reuse; ACTIVE and UNEXPIRED count as used (conservative: the
    # latter is reusable only under pressure and at the cost of ORA-01555 for long queries).
    undo = _stmt("undo_usage", f"""
        SELECT {c['con']('t')} AS con_id, t.tablespace_name AS tablespace_name,
               NVL(u.active_bytes, 0) + NVL(u.unexpired_bytes, 0) AS used_bytes,
               NVL(u.expired_bytes, 0) AS expired_bytes, f.max_bytes AS max_bytes
        FROM {p}_tablespaces t
        JOIN (SELECT {c['g']('d')}d.tablespace_name AS tablespace_name, SUM({_maxbytes('d')}) AS max_bytes
              FROM {p}_data_files d GROUP BY {c['g']('d')}d.tablespace_name) f
          ON f.tablespace_name = t.tablespace_name{c['on']('f', 't')}
        LEFT JOIN (SELECT {c['g']('e')}e.tablespace_name AS tablespace_name,
                          SUM(CASE WHEN e.status = 'ACTIVE' THEN e.bytes ELSE 0 END) AS active_bytes,
                          SUM(CASE WHEN e.status = 'UNEXPIRED' THEN e.bytes ELSE 0 END) AS unexpired_bytes,
                          SUM(CASE WHEN e.status = 'EXPIRED' THEN e.bytes ELSE 0 END) AS expired_bytes
                   FROM {p}_undo_extents e GROUP BY {c['g']('e')}e.tablespace_name) u
          ON u.tablespace_name = t.tablespace_name{c['on']('u', 't')}
        WHERE t.contents = 'UNDO'
        ORDER BY 1, 2""")
    return [metrics, files, temp, undo]


def _resource(name, resource):
    return [_stmt(name, f"""
        SELECT r.resource_name AS resource_name, r.current_utilization AS current_utilization,
               r.max_utilization AS max_utilization, r.limit_value AS limit_value
        FROM v$resource_limit r WHERE r.resource_name = '{resource}'""")]


def _locks(kind):
    c = _ctx(kind)
    count = _stmt("lock_count", f"""
        SELECT l.type AS lock_type, COUNT(*) AS held
        FROM v$lock l JOIN v$session s ON s.sid = l.sid
        WHERE s.type = 'USER' AND l.lmode > 0 AND {_not_listed(':ignore_types', 'l.type')}
        GROUP BY l.type ORDER BY 2 DESC""")
    # Who waits on whom. No SQL text: only ids, accounts, programs and times (SEC-02).
    blocked = _stmt("blocked_sessions", f"""
        SELECT * FROM (
          SELECT {c['con']('w')} AS con_id, w.sid AS waiter_sid, w.serial# AS waiter_serial,
                 w.username AS waiter_user, w.event AS event, w.sql_id AS waiter_sql_id,
                 ROUND(w.wait_time_micro / 1000000) AS wait_seconds,
                 w.blocking_instance AS blocker_instance, w.blocking_session AS blocker_sid,
                 b.serial# AS blocker_serial, b.username AS blocker_user, b.machine AS blocker_machine,
                 b.program AS blocker_program, b.status AS blocker_status,
                 b.last_call_et AS blocker_call_seconds, b.sql_id AS blocker_sql_id
          FROM v$session w LEFT JOIN v$session b ON b.sid = w.blocking_session
          WHERE w.blocking_session_status = 'VALID' AND w.state = 'WAITING'
          ORDER BY w.wait_time_micro DESC
        ) WHERE ROWNUM <= 200""")
    return [count, blocked]


def _long_sql(kind):
    c = _ctx(kind)
    active = _stmt("active_sql", f"""
        SELECT * FROM (
          SELECT {c['con']('s')} AS con_id, s.sid AS sid, s.serial# AS serial, s.username AS username,
                 s.machine AS machine, s.sql_id AS sql_id, s.last_call_et AS seconds, s.event AS event,
                 s.blocking_session AS blocker_sid, SUBSTR(q.sql_text, 1, 1000) AS sql_text
          FROM v$session s
          LEFT JOIN v$sql q ON q.sql_id = s.sql_id AND q.child_number = s.sql_child_number{c['on']('q', 's')}
          WHERE s.type = 'USER' AND s.status = 'ACTIVE' AND s.sql_id IS NOT NULL
            AND s.sid <> SYS_CONTEXT('USERENV', 'SID') AND {_not_listed(':ignore_users', 's.username')}
          ORDER BY s.last_call_et DESC
        ) WHERE ROWNUM <= :top""")
    # v$sqlarea: one row per statement (children summed), so no statement fills two places.
    cache = _stmt("top_elapsed_sql", f"""
        SELECT * FROM (
          SELECT {c['con']('a')} AS con_id, a.sql_id AS sql_id, a.parsing_schema_name AS schema_name,
                 a.executions AS executions, ROUND(a.elapsed_time / 1000000, 1) AS elapsed_seconds,
                 ROUND(a.cpu_time / 1000000, 1) AS cpu_seconds, a.buffer_gets AS buffer_gets,
                 SUBSTR(a.sql_text, 1, 1000) AS sql_text
          FROM v$sqlarea a
          WHERE a.parsing_schema_name <> SYS_CONTEXT('USERENV', 'SESSION_USER')
            AND {_not_listed(':ignore_users', 'a.parsing_schema_name')}
          ORDER BY a.elapsed_time DESC
        ) WHERE ROWNUM <= :top""")
    return [active, cache]


def _jobs(kind):
    c = _ctx(kind)
    p = c["p"]
    # Per job with a failed or stopped run in the window: failures, and whether the latest run failed.
    failures = _stmt("scheduler_failures", f"""
        SELECT * FROM (
          SELECT con_id, owner, job_name, status, error_code, hours_ago, failures FROM (
            SELECT {c['con']('d')} AS con_id, d.owner AS owner, d.job_name AS job_name, d.status AS status,
                   d.error# AS error_code, {_hours_since_tstz('d.log_date')} AS hours_ago,
                   SUM(CASE WHEN d.status <> 'SUCCEEDED' THEN 1 ELSE 0 END)
                     OVER (PARTITION BY {c['g']('d')}d.owner, d.job_name) AS failures,
                   ROW_NUMBER() OVER (PARTITION BY {c['g']('d')}d.owner, d.job_name
                                      ORDER BY d.log_date DESC) AS rn
            FROM {p}_scheduler_job_run_details d
            WHERE d.log_date > SYSTIMESTAMP - NUMTODSINTERVAL(:hours, 'HOUR')
          ) WHERE rn = 1 AND failures > 0
          ORDER BY failures DESC
        ) WHERE ROWNUM <= 200""")
    broken = _stmt("scheduler_broken", f"""
        SELECT {c['con']('j')} AS con_id, j.owner AS owner, j.job_name AS job_name, j.state AS state,
               j.enabled AS enabled, j.failure_count AS failure_count,
               TO_CHAR(j.last_start_date, 'YYYY-MM-DD HH24:MI') AS last_start
        FROM {p}_scheduler_jobs j
        WHERE j.state IN ('BROKEN', 'FAILED')
        ORDER BY 1, 2, 3""")
    # DBMS_JOB: failures resets to 0 on success, so > 0 means failing now. The job's
    # PL/SQL (what) is never selected: it can hold literals.
    dbms = _stmt("dbms_jobs", f"""
        SELECT {c['con']('j')} AS con_id, j.job AS job, j.schema_user AS schema_user, j.broken AS broken,
               j.failures AS failures, TO_CHAR(j.last_date, 'YYYY-MM-DD HH24:MI') AS last_success,
               ROUND((SYSDATE - j.last_date) * 24, 1) AS hours_since_success
        FROM {p}_jobs j
        WHERE j.broken = 'Y' OR j.failures > 0
        ORDER BY 1, 2""")
    return [failures, broken, dbms]


def _data_jobs(kind):
    c = _ctx(kind)
    p = c["p"]
    like = "LIKE :name_like ESCAPE '\\'"
    listing = _stmt("data_job_list", f"""
        SELECT {c['con']('j')} AS con_id, j.owner AS owner, j.job_name AS job_name, j.enabled AS enabled,
               j.state AS state, TO_CHAR(j.next_run_date, 'YYYY-MM-DD HH24:MI') AS next_run
        FROM {p}_scheduler_jobs j
        WHERE j.owner = :owner AND j.job_name {like}
        ORDER BY 1, 2, 3""")
    # Newest success within the window, even when the newest :runs runs all failed.
    last_success = ("MAX(CASE WHEN d.status = 'SUCCEEDED' THEN d.log_date END) "
                    "OVER (PARTITION BY %sd.owner, d.job_name)" % c["g"]("d"))
    runs = _stmt("data_job_runs", f"""
        SELECT con_id, owner, job_name, status, error_code, hours_ago, duration_seconds,
               hours_since_success, rn FROM (
          SELECT {c['con']('d')} AS con_id, d.owner AS owner, d.job_name AS job_name, d.status AS status,
                 d.error# AS error_code, {_hours_since_tstz('d.log_date')} AS hours_ago,
                 {_seconds('d.run_duration')} AS duration_seconds,
                 {_hours_since_tstz(last_success)} AS hours_since_success,
                 ROW_NUMBER() OVER (PARTITION BY {c['g']('d')}d.owner, d.job_name
                                    ORDER BY d.log_date DESC) AS rn
          FROM {p}_scheduler_job_run_details d
          WHERE d.owner = :owner AND d.job_name {like}
            AND d.log_date > SYSTIMESTAMP - NUMTODSINTERVAL(:days, 'DAY')
        ) WHERE rn <= :runs
        ORDER BY con_id, owner, job_name, rn""")
    running = _stmt("data_job_running", f"""
        SELECT {c['con']('r')} AS con_id, r.owner AS owner, r.job_name AS job_name,
               {_seconds('r.elapsed_time')} AS elapsed_seconds
        FROM {p}_scheduler_running_jobs r
        WHERE r.owner = :owner AND r.job_name {like}""")
    # Old-style DBMS_JOB jobs have no name: matched on their PL/SQL, which is never returned.
    dbms = _stmt("data_dbms_jobs", f"""
        SELECT {c['con']('j')} AS con_id, j.job AS job, j.schema_user AS schema_user, j.broken AS broken,
               j.failures AS failures, ROUND((SYSDATE - j.last_date) * 24, 2) AS hours_since_success,
               ROUND((SYSDATE - j.this_date) * 86400) AS running_seconds
        FROM {p}_jobs j
        WHERE j.schema_user = :owner AND UPPER(j.what) LIKE UPPER(:what_like) ESCAPE '\\'
        ORDER BY 1, 2""")
    return [listing, runs, running, dbms]


def _asm():
    return [_stmt("asm_diskgroups", """
        SELECT g.name AS name, g.state AS state, g.type AS redundancy, g.total_mb AS total_mb,
               g.free_mb AS free_mb, g.required_mirror_free_mb AS required_mirror_free_mb,
               g.usable_file_mb AS usable_file_mb, g.offline_disks AS offline_disks
        FROM v$asm_diskgroup_stat g ORDER BY g.name""")]


def _rman():
    good = _stmt("rman_last_good", """
        SELECT r.input_type AS input_type, ROUND(MIN((SYSDATE - r.end_time) * 24), 2) AS hours_since,
               TO_CHAR(MAX(r.end_time), 'YYYY-MM-DD HH24:MI') AS last_end
        FROM v$rman_backup_job_details r
        WHERE r.status IN ('COMPLETED', 'COMPLETED WITH WARNINGS') AND r.end_time IS NOT NULL
        GROUP BY r.input_type""")
    bad = _stmt("rman_failures", """
        SELECT r.input_type AS input_type, r.status AS status,
               TO_CHAR(r.start_time, 'YYYY-MM-DD HH24:MI') AS started,
               ROUND((SYSDATE - r.start_time) * 24, 2) AS hours_ago
        FROM v$rman_backup_job_details r
        WHERE r.start_time > SYSDATE - :hours / 24
          AND r.status IN ('FAILED', 'COMPLETED WITH ERRORS', 'RUNNING WITH ERRORS')
        ORDER BY r.start_time DESC""")
    return [good, bad]


def _recovery_area():
    return [_stmt("recovery_area", """
        SELECT f.name AS name, f.space_limit AS space_limit, f.space_used AS space_used,
               f.space_reclaimable AS space_reclaimable, f.number_of_files AS number_of_files
        FROM v$recovery_file_dest f""")]


def _alert_log(kind, sysdba):
    source = "v$diag_alert_ext"
    if kind == "11g":
        if not sysdba:
            return []
        source = "x$dbgalertext"  # 11.2 has only the fixed table, readable by SYS alone
    con = "a.con_id" if kind == "root" else "0"
    return [_stmt("alert_log", f"""
        SELECT * FROM (
          SELECT {con} AS con_id, {_hours_since_tstz('a.originating_timestamp')} AS hours_ago,
                 SUBSTR(a.message_text, 1, 512) AS message_text
          FROM {source} a
          WHERE a.originating_timestamp > SYSTIMESTAMP - NUMTODSINTERVAL(:hours, 'HOUR')
            AND a.component_id = 'rdbms' AND a.message_text LIKE '%ORA-%'
          ORDER BY a.originating_timestamp DESC
        ) WHERE ROWNUM <= 500""")]


def statements_for_variant(kind, sysdba=False):
    """{check: [(name, sql)]} for one of VARIANTS."""
    if kind not in VARIANTS:
        raise ValueError("unknown variant %r (one of %s)" % (kind, ", ".join(VARIANTS)))
    return {
        "instance": [],  # evaluated from describe_database's result
        "tablespaces": _tablespaces(kind),
        "sessions": _resource("session_limit", "sessions"),
        "processes": _resource("process_limit", "processes"),
        "locks": _locks(kind),
        "long_sql": _long_sql(kind),
        "jobs": _jobs(kind),
        "data_jobs": _data_jobs(kind),
        "asm": _asm(),
        "rman_backups": _rman(),
        "recovery_area": _recovery_area(),
        "alert_log": _alert_log(kind, sysdba),
    }


def statements_for(database, sysdba=False):
    """{check: [(name, sql)]} for a database as describe_database returned it."""
    return statements_for_variant(variant(database), sysdba=sysdba)


def all_statements():
    """Every (variant, check, name, sql) this module can run, describe statements as check 'describe'."""
    result = []
    for kind in VARIANTS:
        for name, sql in describe_statements():
            result.append((kind, "describe", name, sql))
        seen = set()
        for sysdba in (False, True):
            for check, statements in statements_for_variant(kind, sysdba).items():
                for name, sql in statements:
                    if (check, sql) not in seen:
                        seen.add((check, sql))
                        result.append((kind, check, name, sql))
    return result
