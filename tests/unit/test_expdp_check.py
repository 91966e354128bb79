"""INSP-12 logical backups (expdp): log parsing on recorded logs, grading on temporary directories,
and the module under a real Python 3.7 interpreter (it runs on the database hosts, Kylin V10's 3.7).

The logs in fixtures/expdp are written after Data Pump's documented output: 19c and 11.2 in English,
11.2 in Chinese as ZHS16GBK bytes and 19c in Chinese as UTF-8 (NLS_LANG on the bureau's hosts).
"""

import glob
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import expdp_check

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "expdp"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
BIN = pathlib.Path(sys.executable).parent
NOW = 1795740000.0  # a fixed "now" (2026-11-27 08:00 UTC): ages are exact
HOUR = 3600.0


def valid(records):
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["requirement_id"] == "INSP-12"
    return records


def by_item(records):
    return {r["item"]: r for r in records}


# ------------------------------------------------------------------ parse_log


@pytest.mark.parametrize("name, outcome, errors, ora_lines, files", [
    ("full_19c_success.log", "success", 0, 0, ["expdp_full_20261127_01.dmp", "expdp_full_20261127_02.dmp"]),
    ("full_11g_success.log", "success", 0, 0, ["expdp_full_20261127.dmp"]),
    ("schema_19c_errors.log", "errors", 1, 3, ["expdp_gsgs_20261126.dmp"]),
    ("full_fatal.log", "stopped", None, 4, []),
    ("never_started.log", "incomplete", None, 3, []),
    ("still_running.log", "incomplete", None, 0, []),
    ("zh_11g_success_gbk.log", "success", 0, 0, ["expdp_gsgs_20261127.dmp"]),
    ("zh_19c_errors_utf8.log", "errors", 1, 3, ["expdp_full_20261126.dmp"]),
])
def test_recorded_logs_parse_to_their_outcome(name, outcome, errors, ora_lines, files):
    info = expdp_check.read_log(str(FIXTURES / name))
    assert info["outcome"] == outcome
    assert info["error_count"] == errors
    assert info["ora_lines"] == ora_lines
    assert info["dump_files"] == files


def test_completion_time_and_elapsed_are_split_in_both_languages():
    english = expdp_check.read_log(str(FIXTURES / "schema_19c_errors.log"))
    assert english["completed_at"] == "Wed Nov 26 01:31:07 2026" and english["elapsed"] == "0 00:31:05"
    chinese = expdp_check.read_log(str(FIXTURES / "zh_19c_errors_utf8.log"))
    assert chinese["completed_at"] == "星期三 11月 26 01:31:07 2026" and chinese["elapsed"] == "0 00:31:05"
    old = expdp_check.read_log(str(FIXTURES / "zh_11g_success_gbk.log"))
    assert old["completed_at"] == "01:12:45" and old["elapsed"] is None


def test_error_codes_are_counted_per_code():
    info = expdp_check.read_log(str(FIXTURES / "full_fatal.log"))
    assert info["error_codes"] == {"ORA-39095": 1, "ORA-31694": 1, "ORA-19505": 1, "ORA-27037": 1}
    assert info["job"] == "SYSTEM.SYS_EXPORT_FULL_01"


def test_crlf_lines_and_a_restarted_job_keep_the_last_completion():
    lines = [
        'Starting "SYSTEM"."SYS_EXPORT_FULL_01":  system/******** full=y\r\n',
        'Job "SYSTEM"."SYS_EXPORT_FULL_01" stopped due to fatal error at Mon Nov 24 01:10:00 2026 '
        'elapsed 0 00:10:00\r\n',
        'Job "SYSTEM"."SYS_EXPORT_FULL_01" successfully completed at Mon Nov 24 02:00:00 2026 '
        'elapsed 0 00:40:00\r\n',
    ]
    info = expdp_check.parse_log(lines)
    assert info["outcome"] == "success" and info["completed_at"] == "Mon Nov 24 02:00:00 2026"


def test_an_unknown_job_wording_counts_as_stopped_not_success():
    info = expdp_check.parse_log(['Job "SYSTEM"."SYS_EXPORT_FULL_01" has an unexpected ending\n'])
    assert info["outcome"] == "stopped"


def test_derived_log_pattern():
    assert expdp_check.derive_log_pattern("expdp_full_*.dmp") == "expdp_full_*.log"
    assert expdp_check.derive_log_pattern("expdp_full_*.DMP") == "expdp_full_*.log"
    assert expdp_check.derive_log_pattern("backup_*") == "*.log"


# ------------------------------------------------------------------ directories


def put_dump(directory, name, size, age_hours):
    path = directory / name
    with open(path, "wb") as handle:
        handle.truncate(size)  # sparse: the size is what is graded, not the bytes
    os.utime(path, (NOW - age_hours * HOUR, NOW - age_hours * HOUR))
    return path


def put_log(directory, name, fixture, age_hours):
    path = directory / name
    shutil.copyfile(FIXTURES / fixture, path)
    os.utime(path, (NOW - age_hours * HOUR, NOW - age_hours * HOUR))
    return path


def run(directory, **kwargs):
    kwargs.setdefault("dump_pattern", "expdp_full_*.dmp")
    records, summary = expdp_check.check(str(directory), host="pub-db01", now=NOW, **kwargs)
    return by_item(valid(records)), summary


def test_a_fresh_complete_parallel_export_is_ok_and_sized_as_its_file_set(tmp_path):
    put_dump(tmp_path, "expdp_full_20261126_01.dmp", 3 << 30, 31)  # yesterday's set, ignored
    put_dump(tmp_path, "expdp_full_20261127_01.dmp", 3 << 30, 6.6)
    put_dump(tmp_path, "expdp_full_20261127_02.dmp", 2 << 30, 6.6)
    put_log(tmp_path, "expdp_full_20261127.log", "full_19c_success.log", 6.6)
    records, summary = run(tmp_path)
    assert [r["status"] for r in records.values()] == ["ok", "ok", "ok"]
    assert records[expdp_check.ITEM_DUMP]["value"] == 6.6
    assert records[expdp_check.ITEM_SIZE]["value"] == 5120.0  # MB of both files of the set
    assert summary["dump"]["files"] == ["expdp_full_20261127_01.dmp", "expdp_full_20261127_02.dmp"]
    assert summary["log"]["outcome"] == "success"


def test_an_old_dump_is_critical(tmp_path):
    put_dump(tmp_path, "expdp_full_20261125.dmp", 3 << 30, 30.5)
    put_log(tmp_path, "expdp_full_20261125.log", "full_11g_success.log", 30.5)
    records, _ = run(tmp_path, max_age_hours=26)
    dump = records[expdp_check.ITEM_DUMP]
    assert dump["status"] == "critical" and dump["value"] == 30.5 and "超过 26 小时" in dump["detail"]


def test_the_age_threshold_is_configurable(tmp_path):
    put_dump(tmp_path, "expdp_full_20261125.dmp", 3 << 30, 30.5)
    records, _ = run(tmp_path, max_age_hours=48)
    assert records[expdp_check.ITEM_DUMP]["status"] == "ok"


def test_no_dump_is_critical_and_its_size_is_not_checked(tmp_path):
    put_log(tmp_path, "expdp_full_20261124.log", "never_started.log", 7)
    records, summary = run(tmp_path)
    assert records[expdp_check.ITEM_DUMP]["status"] == "critical"
    assert "没有匹配 expdp_full_*.dmp" in records[expdp_check.ITEM_DUMP]["detail"]
    assert records[expdp_check.ITEM_SIZE]["status"] == "skipped"
    log = records[expdp_check.ITEM_LOG]
    assert log["status"] == "critical" and "ORA-39002" in log["detail"] and "没有作业启动" in log["detail"]
    assert summary["dump"] is None


def test_a_tiny_dump_is_critical(tmp_path):
    put_dump(tmp_path, "expdp_full_20261127.dmp", 4096, 6)
    put_log(tmp_path, "expdp_full_20261127.log", "full_11g_success.log", 6)
    records, _ = run(tmp_path, min_size_bytes=1 << 20)
    size = records[expdp_check.ITEM_SIZE]
    assert size["status"] == "critical" and "4096 字节" in size["detail"]


def test_completed_with_errors_is_a_warning_naming_the_codes(tmp_path):
    put_dump(tmp_path, "expdp_gsgs_20261126.dmp", 5 << 30, 7)
    put_log(tmp_path, "expdp_gsgs_20261126.log", "schema_19c_errors.log", 7)
    records, _ = run(tmp_path, dump_pattern="expdp_gsgs_*.dmp")
    log = records[expdp_check.ITEM_LOG]
    assert log["status"] == "warning" and log["value"] == 3
    assert "1 个错误" in log["detail"] and "ORA-01555" in log["detail"]


@pytest.mark.parametrize("fixture, words", [
    ("full_fatal.log", "异常终止"),
    ("still_running.log", "没有完成记录"),
])
def test_a_fatal_or_unfinished_export_is_critical(tmp_path, fixture, words):
    put_dump(tmp_path, "expdp_full_20261127.dmp", 3 << 30, 6)
    put_log(tmp_path, "expdp_full_20261127.log", fixture, 6)
    records, _ = run(tmp_path)
    log = records[expdp_check.ITEM_LOG]
    assert log["status"] == "critical" and words in log["detail"]


def test_a_missing_log_is_critical(tmp_path):
    put_dump(tmp_path, "expdp_full_20261127.dmp", 3 << 30, 6)
    records, _ = run(tmp_path)
    assert records[expdp_check.ITEM_LOG]["status"] == "critical"
    assert "expdp_full_*.log" in records[expdp_check.ITEM_LOG]["detail"]


def test_a_successful_log_of_another_dump_is_a_warning(tmp_path):
    put_dump(tmp_path, "expdp_full_20261128.dmp", 3 << 30, 1)
    put_log(tmp_path, "expdp_full_20261127.log", "full_11g_success.log", 6)
    records, _ = run(tmp_path)
    log = records[expdp_check.ITEM_LOG]
    assert log["status"] == "warning" and "不是最新转储文件 expdp_full_20261128.dmp" in log["detail"]


def test_a_chinese_gbk_log_is_read(tmp_path):
    put_dump(tmp_path, "expdp_gsgs_20261127.dmp", 1 << 30, 7)
    put_log(tmp_path, "expdp_gsgs_20261127.log", "zh_11g_success_gbk.log", 7)
    records, _ = run(tmp_path, dump_pattern="expdp_gsgs_*.dmp")
    assert records[expdp_check.ITEM_LOG]["status"] == "ok"
    assert "SYSTEM.SYS_EXPORT_SCHEMA_01" in records[expdp_check.ITEM_LOG]["detail"]


def test_a_missing_directory_is_an_error_and_nothing_else_is_checked(tmp_path):
    records, summary = run(tmp_path / "nowhere")
    assert records[expdp_check.ITEM_DUMP]["status"] == "error"
    assert "FileNotFoundError" in records[expdp_check.ITEM_DUMP]["detail"]
    assert {records[expdp_check.ITEM_SIZE]["status"], records[expdp_check.ITEM_LOG]["status"]} == {"skipped"}
    assert summary == {"dump": None, "log": None}


def test_an_unreadable_log_is_an_error(tmp_path, monkeypatch):
    put_dump(tmp_path, "expdp_full_20261127.dmp", 3 << 30, 6)
    put_log(tmp_path, "expdp_full_20261127.log", "full_19c_success.log", 6)

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(expdp_check, "read_log", refuse)
    records, _ = run(tmp_path)
    log = records[expdp_check.ITEM_LOG]
    assert log["status"] == "error" and "Permission denied" in log["detail"]


# ------------------------------------------------------------------ the module on Python 3.7


def _python37():
    found = next(iter(sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7*/bin/python3.7")))),
                 None) or shutil.which("python3.7")
    if not found:
        message = "no Python 3.7 interpreter on this machine (expected pyenv's 3.7)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_the_module_runs_on_python37_and_returns_valid_records(tmp_path):
    python37 = _python37()
    now = time.time()
    for name in ("expdp_full_20261127_01.dmp", "expdp_full_20261127_02.dmp"):
        path = tmp_path / name
        with open(path, "wb") as handle:
            handle.truncate(2 << 20)
        os.utime(path, (now - 3 * HOUR, now - 3 * HOUR))
    shutil.copyfile(FIXTURES / "full_19c_success.log", tmp_path / "expdp_full_20261127.log")
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-o",
         "-e", "ansible_python_interpreter=%s" % python37, "-m", "gxtax.ops.expdp_backup_check",
         "-a", "directory=%s dump_pattern=expdp_full_*.dmp host=py37-db" % tmp_path],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["status"] == "ok", result
    assert result["changed"] is False
    assert result["backup"]["dump"]["size_bytes"] == 4 << 20
    for record in result["records"]:
        assert record["host"] == "py37-db"
        jsonschema.validate(record, SCHEMA)
