"""INSP-16 storage check: recorded /etc/fstab and /proc/self/mounts, the write probe on a temporary
directory, and the records it grades into."""

import errno
import json
import os
import pathlib

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import storage_check as sc

ROOT = pathlib.Path(__file__).parents[2]
FIX = pathlib.Path(__file__).parent / "fixtures" / "storage_check"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
HOST = "av-app01"
STATVFS_HALF = {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 1000, "f_bfree": 500, "f_bavail": 500,
                "f_files": 100, "f_ffree": 50}
STATVFS_FULL = dict(STATVFS_HALF, f_bfree=30, f_bavail=30)


def valid(records):
    assert records
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["requirement_id"] == "INSP-16"
    return records


def by_item(records):
    return {r["item"]: r for r in records}


def fstab():
    return sc.parse_fstab((FIX / "fstab").read_text(encoding="utf-8"))


def test_fstab_keeps_storage_and_drops_swap_pseudo_and_noauto():
    points = [e["mountpoint"] for e in fstab()]
    assert points == ["/", "/boot", "/u01", "/data/avrecord/media", "/data/archive", "/srv/with space"]
    media = fstab()[3]
    assert media["fstype"] == "nfs" and "hard" in media["options"]


def test_expected_mounts_configured_first_then_fstab_without_duplicates_or_excluded():
    configured = ["/data/avrecord/media/", {"path": "/nas/x", "write": False}]
    wanted, problems = sc.expected_mounts(fstab(), configured, exclude=["/boot"])
    assert problems == []
    assert [w["path"] for w in wanted] == ["/data/avrecord/media", "/nas/x", "/", "/u01", "/data/archive",
                                           "/srv/with space"]
    assert wanted[0]["source"] == "配置" and wanted[1]["write"] is False
    archive = [w for w in wanted if w["path"] == "/data/archive"][0]
    assert archive["write"] is False  # ro in fstab: reading is all it is for


def test_expected_mounts_reports_bad_entries():
    wanted, problems = sc.expected_mounts([], ["relative/path", {"path": "/x", "probe_dir": "tmp"}, 42])
    assert wanted == [] and len(problems) == 3


def evaluate(mounts_file, probes=None, usages=None, configured=()):
    wanted, _ = sc.expected_mounts(fstab(), list(configured))
    visible = sc.visible_mounts((FIX / mounts_file).read_text(encoding="utf-8"))
    ok_probe = {"write_ms": 3.2, "read_ms": 1.1, "leftover": [], "size": 4096}
    probes = probes if probes is not None else {w["path"]: ok_probe for w in wanted if w["write"]}
    if usages is None:
        usages = {}
        for w in wanted:
            state = sc.mount_state(w, visible)
            if state["mounted"]:
                usages[w["path"]] = sc.usage_from_statvfs(w, state, STATVFS_HALF)
    return sc.evaluate(HOST, wanted, visible, probes, usages, dict(sc.DEFAULTS))


def test_healthy_host_is_all_ok_and_nfs_counts_as_nfs4():
    records, figures = evaluate("mounts_ok")
    valid(records)
    assert {r["status"] for r in records} <= {"ok", "skipped"}
    items = by_item(records)
    media = items["存储 /data/avrecord/media 挂载状态"]
    assert media["status"] == "ok" and "网络存储" in media["detail"] and "nfs4" in media["detail"]
    assert items["存储 /data/avrecord/media 读写检查"]["value"] == 4.3
    # /data/archive is read-only on purpose: no write probe, and that is fine.
    assert items["存储 /data/archive 读写检查"]["status"] == "skipped"
    assert items["存储 /u01 空间使用率"]["value"] == 50.0
    assert len(records) == 3 * 6 and len(figures) == 6


def test_readonly_nas_and_missing_mount_are_critical():
    records, figures = evaluate("mounts_broken")
    items = by_item(valid(records))
    ro = items["存储 /data/avrecord/media 挂载状态"]
    assert (ro["status"], ro["value"]) == ("critical", "只读")
    assert "只读" in ro["detail"] and ro["direction"] and ro["consequence"]
    assert items["存储 /data/avrecord/media 读写检查"]["status"] == "skipped"
    missing = items["存储 /u01 挂载状态"]
    assert (missing["status"], missing["value"]) == ("critical", "未挂载")
    assert "/dev/mapper/vg_data-u01" in missing["detail"]
    assert items["存储 /u01 空间使用率"]["status"] == "skipped"
    assert {f["path"]: f["problem"] for f in figures}["/data/avrecord/media"] == "readonly"


def test_wrong_filesystem_type_is_a_warning():
    wanted = [{"path": "/data/avrecord/media", "source": "配置", "fstype": "nfs", "write": True,
               "probe_dir": None, "device": None}]
    visible = sc.visible_mounts("/dev/sda1 /data/avrecord/media ext4 rw,relatime 0 0\n")
    record = sc.mount_record(HOST, wanted[0], sc.mount_state(wanted[0], visible))
    assert record["status"] == "warning" and "ext4" in record["detail"]


def test_topmost_mount_wins():
    text = "/dev/sda1 /data xfs rw 0 0\nnas:/x /data nfs4 ro 0 0\n"
    assert sc.visible_mounts(text)["/data"]["fstype"] == "nfs4"


@pytest.mark.parametrize(("probe", "status", "words"), [
    ({"timeout": 10.0, "size": 4096}, "critical", "无响应"),
    ({"failed_step": "写入并同步（fsync）探测文件", "error": OSError(errno.EIO, "Input/output error"),
      "status": "critical", "leftover": [], "size": 4096}, "critical", "EIO"),
    ({"failed_step": "创建探测目录", "error": OSError(errno.EACCES, "Permission denied"),
      "status": "error", "leftover": [], "size": 4096}, "error", "EACCES"),
    ({"write_ms": 150.0, "read_ms": 80.0, "leftover": [], "size": 4096}, "warning", "告警"),
    ({"write_ms": 900.0, "read_ms": 400.0, "leftover": [], "size": 4096}, "critical", "严重"),
    ({"write_ms": 1.0, "read_ms": 1.0, "leftover": ["/u01/.gxtax-ops-probe/x"], "size": 4096},
     "warning", "未能删除"),
])
def test_write_record_grades_probe_outcomes(probe, status, words):
    want = {"path": "/u01", "source": "/etc/fstab", "fstype": "xfs", "write": True, "probe_dir": None}
    state = {"mounted": True, "readonly": False, "fstype": "xfs", "device": "/dev/sdb1"}
    record = sc.write_record(HOST, want, state, probe, dict(sc.DEFAULTS), "/u01/.gxtax-ops-probe")
    valid([record])
    assert record["status"] == status and words in record["detail"]


def test_check_mode_skips_the_write():
    want = {"path": "/u01", "source": "/etc/fstab", "fstype": "xfs", "write": True, "probe_dir": None}
    state = {"mounted": True, "readonly": False, "fstype": "xfs", "device": "/dev/sdb1"}
    record = sc.write_record(HOST, want, state, None, dict(sc.DEFAULTS), "/u01/.gxtax-ops-probe")
    assert record["status"] == "skipped" and "检查模式" in record["detail"]


@pytest.mark.parametrize(("statvfs", "status"), [
    (STATVFS_HALF, "ok"), (STATVFS_FULL, "critical"), ({"timeout": 10.0}, "critical"),
    ({"error": "statvfs: Permission denied"}, "error"),
])
def test_usage_record(statvfs, status):
    want = {"path": "/u01", "source": "/etc/fstab", "fstype": "xfs", "write": True, "probe_dir": None}
    state = {"mounted": True, "readonly": False, "fstype": "xfs", "device": "/dev/sdb1"}
    usage = sc.usage_from_statvfs(want, state, statvfs)
    record = sc.usage_record(HOST, want, state, usage, dict(sc.DEFAULTS))
    valid([record])
    assert record["status"] == status


def test_probe_write_round_trip_leaves_nothing_behind(tmp_path):
    directory = tmp_path / ".gxtax-ops-probe"
    result = sc.probe_write(str(directory), size=8192)
    assert result["leftover"] == [] and result["size"] == 8192
    assert result["write_ms"] >= 0 and result["read_ms"] >= 0
    assert not directory.exists() and list(tmp_path.iterdir()) == []


def test_probe_write_keeps_an_existing_directory_and_its_files(tmp_path):
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    result = sc.probe_write(str(tmp_path), size=16)
    assert "failed_step" not in result
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_probe_write_failure_is_classified(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    result = sc.probe_write(str(blocker / "probe"))
    assert result["status"] == "error" and isinstance(result["error"], OSError)
    assert result["error"].errno in (errno.ENOTDIR, errno.ENOENT)
    assert sc.classify_oserror(OSError(errno.EROFS, "Read-only file system")) == "critical"
    assert sc.classify_oserror(OSError(errno.ENOSPC, "No space left on device")) == "critical"
    assert sc.classify_oserror(OSError(errno.EPERM, "Operation not permitted")) == "error"


def test_probe_write_detects_a_corrupted_read(tmp_path, monkeypatch):
    real_read = os.read

    def flipping_read(fd, n):
        data = real_read(fd, n)
        return bytes([data[0] ^ 0xFF]) + data[1:] if data else data

    monkeypatch.setattr(sc.os, "read", flipping_read)
    result = sc.probe_write(str(tmp_path / "p"), size=64)
    assert result["status"] == "critical" and result["leftover"] == []
    assert not (tmp_path / "p").exists()


def test_no_mount_to_check_says_so():
    records, _ = sc.evaluate(HOST, [], {}, {}, {}, dict(sc.DEFAULTS))
    assert [r["status"] for r in valid(records)] == ["skipped"]


def test_thresholds_merge_and_impossible_ones_fall_back():
    merged, problems = sc.merge_thresholds({"latency_warning_ms": 50})
    assert problems == [] and merged["latency_warning_ms"] == 50.0
    merged, problems = sc.merge_thresholds({"usage_warning_pct": 95, "usage_critical_pct": 90})
    assert problems and merged == sc.DEFAULTS
    record = sc.config_error_record(HOST, problems)
    assert valid([record])[0]["status"] == "error"
