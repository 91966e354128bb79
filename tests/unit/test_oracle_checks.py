"""Oracle health checks (INSP-02..09, 12, 18) over recorded result rows.

No Oracle server runs here: a fake `execute` answers each statement with the rows recorded in
tests/unit/fixtures/oracle/<version>.json (keyed by the statement's /* gxtax:<name> */ tag),
or raises QueryError with a real driver code. These tests prove the grading and the
fault handling, not the SQL against a live database (the SQL gate checks its syntax).
"""

import copy
import json
import pathlib

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_checks as oc
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_sql import statement_name

ROOT = pathlib.Path(__file__).parents[2]
FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "oracle"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
VERSIONS = ("11.2", "19c-noncdb", "19c-cdb-root", "19c-pdb")

DATA_JOBS_11G = [
    {"owner": "etl", "what_like": "ETL_PKG.LOAD_ZFXX%", "kind": "抽取"},
    {"owner": "ETL", "what_like": "ETL_PKG.MART%", "kind": "加工"},
]
DATA_JOBS_19C = [
    {"owner": "ETL", "name_like": "CQ\\_%", "kind": "抽取"},
    {"owner": "ETL", "name_like": "JG\\_%", "kind": "加工"},
]
OPTIONS = {
    "11.2": {"data_jobs": DATA_JOBS_11G},
    "19c-noncdb": {"data_jobs": DATA_JOBS_19C},
    "19c-cdb-root": {"data_jobs": [dict(DATA_JOBS_19C[0], container="PDB1")]},
    "19c-pdb": {},
}
# Taxpayer-like values planted in the recorded SQL text and alert messages (SEC-02).
SECRETS = ("91450100MA5K3L8Q2X", "450102199001011234", "14501000000", "广西壮族自治区某某商贸有限公司",
           "张三", "李四", "1234567.89", "12345.67", "5000.00", "临时补数", "欠税", "2024-05-01")


class FakeDriver:
    """execute(sql, binds) over recorded rows; remembers what ran with which binds."""

    def __init__(self, statements):
        self.statements = statements
        self.calls = []

    @classmethod
    def load(cls, version):
        data = json.loads((FIXTURES / ("%s.json" % version)).read_text(encoding="utf-8"))
        return cls(data["statements"])

    def execute(self, sql, binds):
        name = statement_name(sql)
        self.calls.append((name, sql, dict(binds)))
        entry = self.statements[name]
        if isinstance(entry, list):  # answers that depend on the binds
            entry = next(e for e in entry if all(binds.get(k) == v for k, v in e["when"].items()))
        if "error" in entry:
            raise oc.QueryError(entry["error"]["code"], entry["error"]["message"])
        return list(entry["columns"]), [tuple(row) for row in entry["rows"]]

    def names(self):
        return [name for name, _, _ in self.calls]

    def sql_of(self, name):
        return next(sql for n, sql, _ in self.calls if n == name)

    def binds_of(self, name):
        return [binds for n, _, binds in self.calls if n == name]


def inspect(version, checks=None, thresholds=None, options=None, overrides=None):
    """(records, driver, database) for a fixture, with some statements' answers replaced."""
    driver = FakeDriver.load(version)
    driver.statements.update(copy.deepcopy(overrides or {}))
    database = oc.describe_database(driver.execute)
    opts = dict(OPTIONS[version], **(options or {}))
    records = oc.run_checks(driver.execute, database, checks, thresholds, "db1", opts)
    return records, driver, database


def by_item(records):
    items = {}
    for record in records:
        assert record["item"] not in items, "duplicate item %s" % record["item"]
        items[record["item"]] = record
    return items


def rows(columns, *values):
    return {"columns": columns, "rows": [list(v) for v in values]}


TABLESPACE_COLUMNS = ["CON_ID", "TABLESPACE_NAME", "TS_STATUS", "USED_BYTES", "MAX_BYTES"]
LIMIT_COLUMNS = ["RESOURCE_NAME", "CURRENT_UTILIZATION", "MAX_UTILIZATION", "LIMIT_VALUE"]


# ---------------------------------------------------------------- every version


@pytest.mark.parametrize("version", VERSIONS)
def test_every_record_of_every_version_validates_against_the_schema(version):
    records, _, _ = inspect(version)
    assert {r["requirement_id"] for r in records} >= {"INSP-02", "INSP-03", "INSP-04", "INSP-05", "INSP-06",
                                                      "INSP-07", "INSP-08", "INSP-18", "INSP-09", "INSP-12"}
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["host"] == "db1"
        assert record["detail"].endswith("。"), record
        if record["status"] in ("warning", "critical", "error"):
            assert record["direction"] and record["consequence"]


@pytest.mark.parametrize("version", VERSIONS)
def test_no_taxpayer_data_reaches_any_record(version):
    records, _, _ = inspect(version, options={"sysdba": True} if version == "11.2" else None)
    text = json.dumps(records, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, "%s leaked in %s" % (secret, version)


@pytest.mark.parametrize(("version", "expected"), [
    ("11.2", {"version": "11.2.0.4.0", "version_tuple": (11, 2, 0, 4, 0), "cdb": False, "con_name": None,
              "uses_asm": False, "role": "PRIMARY", "db_name": "GXGS", "log_mode": "ARCHIVELOG"}),
    ("19c-noncdb", {"version": "19.21.0.0.0", "version_tuple": (19, 21, 0, 0, 0), "cdb": False,
                    "con_name": None, "uses_asm": True, "open_mode": "READ WRITE"}),
    ("19c-cdb-root", {"cdb": True, "con_name": "CDB$ROOT", "con_id": 1, "uses_asm": True}),
    ("19c-pdb", {"cdb": True, "con_name": "PDB1", "con_id": 3, "uses_asm": None, "open_mode": "READ WRITE"}),
])
def test_describe_database(version, expected):
    driver = FakeDriver.load(version)
    database = oc.describe_database(driver.execute)
    for key, value in expected.items():
        assert database[key] == value, key
    assert database["instance_status"] == "OPEN"
    json.dumps(database)  # goes back to Ansible as module output
    # 11.2 is never asked for 12c-only columns (cdb, CON_NAME, version_full).
    assert ("database_11g" in driver.names()) == (version == "11.2")
    if version == "11.2":  # the SQL gate holds exactly these to 11.2 syntax
        assert driver.names() == ["instance", "database_11g", "asm_count"]
    assert ("instance_version_full" in driver.names()) == (version != "11.2")


def test_describe_pdb_takes_its_own_open_mode_and_survives_a_missing_asm_grant():
    overrides = {"pdbs": rows(["CON_ID", "NAME", "OPEN_MODE", "RESTRICTED"], [3, "PDB1", "MOUNTED", "NO"])}
    driver = FakeDriver.load("19c-pdb")
    driver.statements.update(overrides)
    database = oc.describe_database(driver.execute)
    assert database["open_mode"] == "MOUNTED"
    assert database["describe_errors"]["asm_count"]["code"] == "ORA-00942"
    records = oc.run_checks(driver.execute, database, ["instance"], None, "db1", None)
    assert records[0]["status"] == "critical"
    assert "主库未以读写模式打开" in records[0]["detail"]


def test_describe_failure_propagates_with_the_statement_that_failed():
    driver = FakeDriver.load("19c-noncdb")
    driver.statements["database"] = {"error": {"code": "ORA-00942", "message": "ORA-00942: no such view"}}
    with pytest.raises(oc.StatementError) as caught:
        oc.describe_database(driver.execute)
    assert caught.value.code == "ORA-00942" and caught.value.name == "database"
    record = oc.error_record("instance", "db1", caught.value)
    jsonschema.validate(record, SCHEMA)
    assert "SYS.V_$DATABASE" in record["detail"] and record["status"] == "error"


def test_a_version_without_version_full_keeps_the_release():
    driver = FakeDriver.load("19c-noncdb")
    driver.statements["instance_version_full"] = {"error": {"code": "ORA-00904", "message": "invalid id"}}
    database = oc.describe_database(driver.execute)
    assert database["version"] == "19.0.0.0.0" and database["version_tuple"][0] == 19


# ---------------------------------------------------------------- 11.2


def test_11g_falls_back_to_datafiles_when_the_metrics_view_is_not_granted():
    records, driver, _ = inspect("11.2", checks=["tablespaces"])
    assert driver.names()[-3:] == ["tablespace_files", "temp_usage", "undo_usage"]
    assert "tablespace_metrics" in driver.names()
    items = by_item(records)
    assert items["表空间 USERS 使用率"]["status"] == "warning"      # exactly 85.0%
    assert items["表空间 USERS 使用率"]["value"] == 85.0
    assert items["表空间 GXGS_DATA 使用率"]["status"] == "critical"  # exactly 90.0%
    assert items["表空间 GXGS_ARCH 使用率"]["status"] == "skipped"   # READ ONLY at 99%
    assert "按数据文件计算" in items["表空间 USERS 使用率"]["detail"]
    assert items["UNDO表空间 UNDOTBS1 使用率"]["value"] == 6.3          # expired extents are free
    # every statement a 11.2 database ran is its own (no CDB_ views)
    assert all("cdb_" not in sql for _, sql, _ in driver.calls)


def test_11g_records():
    records, driver, _ = inspect("11.2")
    items = by_item(records)
    assert items["数据库实例状态"]["status"] == "ok"
    assert items["进程数使用率"]["status"] == "warning" and items["进程数使用率"]["value"] == 90.0
    assert items["会话数使用率"]["status"] == "ok"
    assert items["用户会话锁数量"]["value"] == 25 and items["用户会话锁数量"]["status"] == "warning"
    assert driver.binds_of("lock_count") == [{"ignore_types": "AE,PS,TO"}]
    chain = items["锁阻塞（阻塞源会话 132）"]
    assert chain["status"] == "critical" and chain["value"] == 400
    assert "阻塞 3 个会话" in chain["detail"] and "145 阻塞 160,12(GXGS_APP)" in chain["detail"]
    assert "SELECT" not in chain["detail"] and "UPDATE" not in chain["detail"]
    assert items["运行时间最长的SQL 第1名"]["status"] == "warning"
    redacted = "UPDATE GXGS.NSR_XX SET NSRMC = :s, YNSE = :n WHERE NSRSBH = :s"
    assert redacted in items["运行时间最长的SQL 第1名"]["detail"]
    assert items["累计耗时最长的SQL 第1名"]["status"] == "critical"  # never completed: elapsed is per run
    assert items["定时任务 GXGS.JOB_SYNC_ZFXX"]["status"] == "critical"
    assert items["定时任务 GXGS.JOB_CLEAN_LOG"]["status"] == "warning"  # failed, then succeeded
    assert not any("ORA$AT_" in item for item in items)                 # stopped at window close
    assert items["定时任务(DBMS_JOB) 41"]["status"] == "critical"
    assert items["定时任务(DBMS_JOB) 42"]["status"] == "warning"
    dbms = items["抽取任务(DBMS_JOB) 61"]
    assert (dbms["status"], dbms["value"]) == ("warning", 30)
    assert items["加工任务 ETL.ETL_PKG.MART%"]["status"] == "critical"   # configured, not found
    assert driver.binds_of("data_dbms_jobs")[0] == {"owner": "ETL", "what_like": "ETL_PKG.LOAD_ZFXX%"}
    assert items["ASM磁盘组使用率"]["status"] == "skipped" and "asm_diskgroups" not in driver.names()
    assert items["RMAN数据库备份时效"]["status"] == "ok" and items["RMAN数据库备份时效"]["value"] == 20.5
    assert items["RMAN归档日志备份时效"]["status"] == "warning"
    assert items["RMAN备份失败（近24小时）"]["status"] == "warning"
    assert items["快速恢复区使用率"]["status"] == "skipped"
    assert items["告警日志ORA错误"]["status"] == "skipped" and "SYSDBA" in items["告警日志ORA错误"]["detail"]
    assert "alert_log" not in driver.names()


def test_11g_alert_log_needs_sysdba_and_reads_the_fixed_table():
    records, driver, _ = inspect("11.2", checks=["alert_log"],
                                 options={"sysdba": True, "alert_log_ignore_codes": ["ORA-3136"]})
    assert "x$dbgalertext" in driver.sql_of("alert_log")
    assert driver.binds_of("alert_log") == [{"hours": 24}]
    (record,) = records
    assert record["value"] == 2 and record["status"] == "warning"
    assert "ORA-01555×1" in record["detail"] and "ORA-00060×1" in record["detail"]
    assert "03136" not in record["detail"]


# ---------------------------------------------------------------- 19c non-CDB


def test_19c_noncdb_records():
    records, driver, _ = inspect("19c-noncdb")
    items = by_item(records)
    assert [items["表空间 %s 使用率" % n]["status"] for n in ("USERS", "AV_MEDIA", "AV_DATA")] == \
        ["ok", "warning", "critical"]                                   # 84.9 / 85.0 / 90.0
    assert items["表空间 AV_NEW 使用率"]["status"] == "skipped"           # NULL capacity
    assert "tablespace_files" not in driver.names()
    assert items["临时表空间 TEMP 使用率"]["status"] == "critical"
    assert items["UNDO表空间 UNDOTBS1 使用率"]["value"] == 90.6
    assert items["会话数使用率"]["status"] == "warning" and items["会话数使用率"]["value"] == 80.0
    assert items["用户会话锁数量"]["status"] == "ok" and items["锁阻塞"]["status"] == "ok"
    assert items["运行中的SQL"]["status"] == "ok"
    assert driver.binds_of("active_sql")[0]["top"] == 10
    assert "SYS" in driver.binds_of("active_sql")[0]["ignore_users"].split(",")
    assert items["定时任务 AVREC.PURGE_TMP_FILES 状态"]["status"] == "critical"
    assert not any("DBMS_JOB$" in item for item in items)               # reported once, as DBMS_JOB 21
    assert "从未成功" in items["定时任务(DBMS_JOB) 21"]["detail"]
    assert items["抽取任务 ETL.CQ_DAILY"]["status"] == "warning"           # 1500 s vs 600 s average
    assert "2.5 倍" in items["抽取任务 ETL.CQ_DAILY"]["detail"]
    assert items["抽取任务 ETL.CQ_LEGACY"]["status"] == "critical"         # disabled, no run in 14 days
    assert "已停用" in items["抽取任务 ETL.CQ_LEGACY"]["detail"]
    assert items["加工任务 ETL.JG_MART"]["status"] == "critical"           # last run FAILED
    assert "ORA-01652" in items["加工任务 ETL.JG_MART"]["detail"]
    assert {b["name_like"] for b in driver.binds_of("data_job_runs")} == {"CQ\\_%", "JG\\_%"}
    assert driver.binds_of("data_job_runs")[0]["runs"] == 8
    assert items["RMAN数据库备份时效"]["status"] == "critical" and items["RMAN数据库备份时效"]["value"] == 55
    assert items["快速恢复区使用率"]["status"] == "warning" and items["快速恢复区使用率"]["value"] == 85.0
    alert = items["告警日志ORA错误"]
    assert alert["status"] == "critical" and "ORA-00600" in alert["detail"]
    assert "应用自定义错误，内容不显示" in alert["detail"]


def test_asm_usable_percent_accounts_for_redundancy_and_negative_usable_space():
    records, _, _ = inspect("19c-noncdb", checks=["asm"])
    items = by_item(records)
    data = items["ASM磁盘组 DATA 使用率"]
    usable_total = (2048000 - 102400) / 2            # NORMAL: two copies after the mirror reserve
    assert data["value"] == round(100 * (usable_total - 73800) / usable_total, 1) == 92.4
    assert data["status"] == "warning"
    reco = items["ASM磁盘组 RECO 使用率"]
    assert reco["status"] == "critical" and reco["value"] > 100
    assert "usable_file_mb 为负" in reco["detail"]


# ---------------------------------------------------------------- 19c CDB root and PDB


def test_cdb_root_names_containers_and_skips_the_seed():
    records, driver, _ = inspect("19c-cdb-root")
    items = by_item(records)
    assert items["PDB1 表空间 USERS 使用率"]["status"] == "warning"
    assert "CDB$ROOT 表空间 SYSTEM 使用率" in items
    assert not any("PDB$SEED" in item for item in items)     # the seed's SYSTEM at 96.9% is not reported
    assert items["PDB PDB1 打开状态"]["status"] == "ok"
    assert items["PDB PDB2 打开状态"]["status"] == "critical"
    restricted = items["PDB PDB3 打开状态"]
    assert restricted["status"] == "critical" and "RESTRICTED" in restricted["detail"]
    assert "cdb_tablespace_usage_metrics" in driver.sql_of("tablespace_metrics")
    assert "dba_" not in driver.sql_of("undo_usage")
    assert items["PDB1 运行时间最长的SQL 第1名"]["status"] == "critical"
    assert "SQL文本已不在共享池中" in items["PDB1 运行时间最长的SQL 第1名"]["detail"]
    assert items["PDB1 定时任务 PDB1_APP.JOB_STAT"]["status"] == "critical"
    job = items["PDB1 抽取任务 ETL.CQ_DAILY"]                     # PDB2's job of that name is filtered out
    assert job["status"] == "warning" and "正在运行已 1800 秒" in job["detail"]
    assert not any(item.startswith("PDB2 抽取任务") for item in items)
    assert items["ASM磁盘组 DATA 使用率"]["status"] == "critical"    # an offline disk, 51.7% used
    assert items["ASM磁盘组 OLD 使用率"]["status"] == "skipped"
    alert = items["告警日志ORA错误"]
    assert "PDB1 1 条" in alert["detail"] and "CDB$ROOT 1 条" in alert["detail"]
    assert alert["status"] == "critical"                           # ORA-01653


def test_cdb_root_one_failing_statement_costs_only_its_own_record():
    records, _, _ = inspect("19c-cdb-root")
    items = by_item(records)
    sessions = items["会话数使用率"]
    assert sessions["status"] == "error" and sessions["value"] == "ORA-01031"
    assert "缺少 SELECT ON SYS.V_$RESOURCE_LIMIT 权限" in sessions["detail"]
    assert "GRANT SELECT ON SYS.V_$RESOURCE_LIMIT" in sessions["direction"]
    assert items["进程数使用率"]["status"] == "ok"                  # same view, other statement
    timeout = items["累计耗时最长的SQL"]
    assert timeout["status"] == "error" and "查询超时（DPY-4024）" in timeout["detail"]
    assert "query_timeout" in timeout["direction"]
    assert "PDB1 运行时间最长的SQL 第1名" in items                 # the other half of long_sql ran


def test_cdb_root_blocking_cycle_and_remote_blocker():
    records, _, _ = inspect("19c-cdb-root", checks=["locks"])
    items = by_item(records)
    cycle = items["PDB1 锁阻塞（阻塞源会话 200）"]
    assert cycle["status"] == "warning" and "循环等待" in cycle["detail"]   # 45 s, below 60 s, but a deadlock
    remote = items["PDB1 锁阻塞（阻塞源会话 999）"]
    assert remote["status"] == "ok" and "实例 2" in remote["detail"]


def test_pdb_records():
    records, driver, _ = inspect("19c-pdb")
    items = by_item(records)
    assert items["会话数使用率"]["status"] == "skipped" and "UNLIMITED" in items["会话数使用率"]["detail"]
    asm = items["ASM磁盘组使用率"]
    assert asm["status"] == "error" and "SYS.V_$ASM_DISKGROUP_STAT" in asm["detail"]
    assert items["RMAN备份"]["status"] == "skipped" and "CDB根容器" in items["RMAN备份"]["detail"]
    assert items["快速恢复区使用率"]["status"] == "skipped"
    assert items["告警日志ORA错误"]["status"] == "ok"
    assert items["数据抽取与加工任务"]["status"] == "skipped"
    assert items["表空间 USERS 使用率"]["status"] == "warning"       # no container prefix inside a PDB
    assert all("cdb_" not in sql for _, sql, _ in driver.calls)
    assert "v$diag_alert_ext" in driver.sql_of("alert_log")


NO_RMAN = {"rman_last_good": rows(["INPUT_TYPE", "HOURS_SINCE", "LAST_END"]),
           "rman_failures": rows(["INPUT_TYPE", "STATUS", "STARTED", "HOURS_AGO"])}


def test_rman_required_makes_missing_history_critical():
    records, _, _ = inspect("19c-noncdb", checks=["rman_backups"], options={"rman_required": True},
                            overrides=NO_RMAN)
    assert [(r["item"], r["status"]) for r in records] == [("RMAN备份", "critical")]
    records, _, _ = inspect("19c-noncdb", checks=["rman_backups"], overrides=NO_RMAN)
    assert [(r["item"], r["status"]) for r in records] == [("RMAN备份", "skipped")]


def test_only_failed_backups_and_no_good_one_is_critical():
    records, _, _ = inspect("19c-noncdb", checks=["rman_backups"], overrides={
        "rman_last_good": rows(["INPUT_TYPE", "HOURS_SINCE", "LAST_END"]),
        "rman_failures": rows(["INPUT_TYPE", "STATUS", "STARTED", "HOURS_AGO"],
                              ["DB INCR", "FAILED", "2024-05-24 01:00", 8.0])})
    items = by_item(records)
    assert items["RMAN数据库备份时效"]["status"] == "critical"
    assert items["RMAN备份失败（近24小时）"]["value"] == 1


# ---------------------------------------------------------------- thresholds at their boundaries


# Percentages are rounded to 0.1 before grading, so the figure shown is the figure graded.
@pytest.mark.parametrize(("used", "status"), [(84.9, "ok"), (85, "warning"), (89.9, "warning"),
                                              (90, "critical"), (100, "critical")])
def test_tablespace_boundaries(used, status):
    overrides = {"tablespace_metrics": rows(TABLESPACE_COLUMNS, [0, "USERS", "ONLINE", used * 100, 10000])}
    records, _, _ = inspect("19c-noncdb", checks=["tablespaces"], overrides=overrides)
    assert by_item(records)["表空间 USERS 使用率"]["status"] == status


@pytest.mark.parametrize(("check", "current", "status"), [
    ("sessions", 799, "ok"), ("sessions", 800, "warning"), ("sessions", 899, "warning"),
    ("sessions", 900, "critical"),
    ("processes", 899, "ok"), ("processes", 900, "warning"), ("processes", 949, "warning"),
    ("processes", 950, "critical"),
])
def test_session_and_process_boundaries(check, current, status):
    name = {"sessions": "session_limit", "processes": "process_limit"}[check]
    overrides = {name: rows(LIMIT_COLUMNS, [check, current, current, "      1000"])}
    (record,) = inspect("19c-noncdb", checks=[check], overrides=overrides)[0]
    assert (record["status"], record["value"]) == (status, current / 10.0)


@pytest.mark.parametrize(("held", "status"), [(19, "ok"), (20, "warning"), (500, "warning")])
def test_lock_count_boundary_and_no_critical_by_default(held, status):
    overrides = {"lock_count": rows(["LOCK_TYPE", "HELD"], ["TX", held])}
    records, _, _ = inspect("19c-noncdb", checks=["locks"], overrides=overrides)
    assert by_item(records)["用户会话锁数量"]["status"] == status


@pytest.mark.parametrize(("usable_file_mb", "status"), [(11000, "ok"), (10000, "warning"), (5000, "critical"),
                                                         (0, "critical")])
def test_asm_boundaries(usable_file_mb, status):
    # EXTERN, no mirror reserve: usable total 100000 MB, so used % = 100 - usable_file_mb / 1000
    overrides = {"asm_diskgroups": rows(
        ["NAME", "STATE", "REDUNDANCY", "TOTAL_MB", "FREE_MB", "REQUIRED_MIRROR_FREE_MB", "USABLE_FILE_MB",
         "OFFLINE_DISKS"], ["DATA", "CONNECTED", "EXTERN", 100000, usable_file_mb, 0, usable_file_mb, 0])}
    records, _, _ = inspect("19c-noncdb", checks=["asm"], overrides=overrides)
    assert by_item(records)["ASM磁盘组 DATA 使用率"]["status"] == status


@pytest.mark.parametrize(("used", "reclaimable", "status"), [(79, 0, "ok"), (80, 0, "warning"),
                                                             (95, 10, "warning"), (90, 0, "critical")])
def test_recovery_area_counts_reclaimable_space_as_free(used, reclaimable, status):
    columns = ["NAME", "SPACE_LIMIT", "SPACE_USED", "SPACE_RECLAIMABLE", "NUMBER_OF_FILES"]
    overrides = {"recovery_area": rows(columns, ["/u01/fra", 100, used, reclaimable, 3])}
    (record,) = inspect("19c-noncdb", checks=["recovery_area"], overrides=overrides)[0]
    assert record["status"] == status and record["value"] == used - reclaimable


def test_thresholds_and_options_change_the_grading():
    records, driver, _ = inspect("19c-noncdb", checks=["tablespaces", "locks"],
                                 thresholds={"tablespace_warning": 95, "tablespace_critical": None},
                                 options={"lock_ignore_types": ["AE", "TM"]})
    items = by_item(records)
    assert items["表空间 AV_DATA 使用率"]["status"] == "ok"
    assert items["表空间 AV_DATA 使用率"]["threshold"] == {"warning": 95, "critical": None}
    assert items["临时表空间 TEMP 使用率"]["status"] == "warning"   # 95.3% against warning 95, no critical
    assert driver.binds_of("lock_count") == [{"ignore_types": "AE,TM"}]


@pytest.mark.parametrize(("last", "status"), [(1190, "ok"), (1200, "warning")])  # 1.98x / 2.0x
def test_data_job_duration_against_its_own_average(last, status):
    runs = rows(["CON_ID", "OWNER", "JOB_NAME", "STATUS", "ERROR_CODE", "HOURS_AGO", "DURATION_SECONDS",
                 "HOURS_SINCE_SUCCESS", "RN"],
                [0, "ETL", "CQ_DAILY", "SUCCEEDED", 0, 2, last, 2, 1],
                *[[0, "ETL", "CQ_DAILY", "SUCCEEDED", 0, 2 + 24 * n, 600, 2, n + 1] for n in range(1, 4)])
    overrides = {"data_job_list": rows(["CON_ID", "OWNER", "JOB_NAME", "ENABLED", "STATE", "NEXT_RUN"],
                                       [0, "ETL", "CQ_DAILY", "TRUE", "SCHEDULED", None]),
                 "data_job_runs": runs}
    records, _, _ = inspect("19c-noncdb", checks=["data_jobs"], overrides=overrides,
                            options={"data_jobs": DATA_JOBS_19C[:1]})
    assert by_item(records)["抽取任务 ETL.CQ_DAILY"]["status"] == status


def test_data_job_hours_can_be_set_per_job():
    spec = dict(DATA_JOBS_19C[1], hours_warning=30, hours_critical=60)
    records, _, _ = inspect("19c-noncdb", checks=["data_jobs"], options={"data_jobs": [spec]})
    record = by_item(records)["加工任务 ETL.JG_MART"]
    assert record["threshold"]["warning"] == 30 and "阈值 26" not in record["detail"]


# ---------------------------------------------------------------- running, selection and errors


def test_only_the_requested_checks_run():
    records, driver, _ = inspect("19c-noncdb", checks=["sessions", "processes"])
    assert {r["requirement_id"] for r in records} == {"INSP-04", "INSP-05"}
    describe = {"instance", "instance_version_full", "database", "pdbs", "asm_count"}
    assert [n for n in driver.names() if n not in describe] == ["session_limit", "process_limit"]


def test_a_broken_row_becomes_an_error_record_and_the_rest_still_runs():
    overrides = {"session_limit": rows(LIMIT_COLUMNS, ["sessions", "many", 1, "1000"])}
    records, _, _ = inspect("19c-noncdb", checks=["sessions", "processes"], overrides=overrides)
    items = by_item(records)
    assert items["会话数使用率"]["status"] == "error" and "内部错误" in items["会话数使用率"]["detail"]
    assert items["进程数使用率"]["status"] == "ok"


def test_run_checks_refuses_unknown_checks_and_bad_settings():
    driver = FakeDriver.load("19c-noncdb")
    database = oc.describe_database(driver.execute)
    with pytest.raises(ValueError, match="unknown checks"):
        oc.run_checks(driver.execute, database, ["tablespace"], None, "db1", None)
    with pytest.raises(ValueError, match="above critical"):
        oc.run_checks(driver.execute, database, None, {"asm_warning": 96}, "db1", None)
    with pytest.raises(ValueError, match="unknown option"):
        oc.run_checks(driver.execute, database, None, None, "db1", {"lock_ignore": []})


@pytest.mark.parametrize(("code", "expected"), [
    ("DPY-4024", "查询超时"), ("DPI-1067", "查询超时"), ("ORA-03113", "连接中断"), ("DPY-4011", "连接中断"),
    ("ORA-00904", "版本不符"), ("ORA-12345", "查询失败（ORA-12345"),
])
def test_errors_say_their_cause(code, expected):
    error = oc.StatementError(oc.QueryError(code, "%s: something 'secret 张三' happened" % code), "x",
                              "SELECT 1 FROM dual")
    record = oc.error_record("locks", "db1", error)
    jsonschema.validate(record, SCHEMA)
    assert expected in record["detail"] and "张三" not in record["detail"]


def test_missing_grant_on_a_join_names_every_object_of_the_statement():
    overrides = {"blocked_sessions": {"error": {"code": "ORA-00942", "message": "ORA-00942"}}}
    records, _, _ = inspect("19c-noncdb", checks=["locks"], overrides=overrides)
    record = by_item(records)["锁阻塞"]
    assert record["status"] == "error" and "SYS.V_$SESSION" in record["detail"]
    assert by_item(records)["用户会话锁数量"]["status"] == "ok"


def test_default_thresholds_are_valid_and_validation_catches_mistakes():
    assert oc.validate_thresholds(dict(oc.DEFAULT_THRESHOLDS)) == []
    assert oc.validate_thresholds({"locks_warning": None}) == []
    problems = oc.validate_thresholds({"tablespace_warning": 120, "sessions_warning": "80",
                                       "asm_critical": -1, "bogus": 1, "locks_warning": True,
                                       "data_job_hours_warning": 60, "data_job_hours_critical": 50})
    text = "\n".join(problems)
    assert len(problems) == 6
    for key in ("tablespace_warning", "sessions_warning", "asm_critical", "bogus", "locks_warning",
                "data_job_hours_warning (60)"):
        assert key in text
    assert oc.validate_thresholds([]) == ["阈值必须是字典 / thresholds must be a dictionary"]


def test_option_validation():
    assert oc.validate_options(dict(oc.DEFAULT_OPTIONS)) == []
    assert oc.validate_options({"data_jobs": DATA_JOBS_19C + DATA_JOBS_11G}) == []
    problems = oc.validate_options({
        "data_jobs": [{"owner": "ETL", "kind": "抽取"},
                      {"owner": "ETL", "name_like": "A%", "what_like": "B%", "kind": "抽取"},
                      {"name_like": "A%", "kind": "清洗", "hours_warning": -1, "pdb": "X"}],
        "lock_ignore_types": ["AE,TO"], "alert_log_ignore_codes": ["3136", "ORA-1555", "TNS-12535"],
        "long_sql_top": 0, "sysdba": "yes"})
    text = "\n".join(problems)
    for fragment in ("data_jobs[0] needs exactly one", "data_jobs[1] needs exactly one",
                     "data_jobs[2] needs owner", "data_jobs[2] kind", "hours_warning", "unknown keys pdb",
                     "commas", "ORA-03136", "long_sql_top", "sysdba"):
        assert fragment in text, fragment


def test_checks_and_interface_constants():
    assert oc.CHECKS == ("instance", "tablespaces", "sessions", "processes", "locks", "long_sql", "jobs",
                         "data_jobs", "asm", "rman_backups", "recovery_area", "alert_log")
    assert set(oc.REQUIREMENT_IDS) == set(oc.CHECK_ITEMS) == set(oc.CHECKS)
    assert set(oc.statements_for({"version_tuple": (19, 21, 0, 0, 0), "cdb": False})) == set(oc.CHECKS)
    assert issubclass(oc.StatementError, oc.QueryError)
