"""INSP-17 media storage: current figures, the previous report's figure, and days until full."""

import datetime
import json
import pathlib

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import storage_trend as st
from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

ROOT = pathlib.Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
GIB = 1 << 30
KIB_PER_GIB = 1 << 20
NOW = datetime.datetime(2026, 11, 27, 8, 30, 0)
DAY = datetime.timedelta(days=1)


def valid(records):
    for record in records:
        jsonschema.validate(record, SCHEMA)
    return records


def fs(point, size_gib, used_gib, avail_gib, **extra):
    entry = {"mountpoint": point, "device": "nas01:/media", "fstype": "nfs4",
             "size_kb": size_gib * KIB_PER_GIB, "used_kb": used_gib * KIB_PER_GIB,
             "avail_kb": avail_gib * KIB_PER_GIB, "used_pct": None}
    entry.update(extra)
    return entry


FILESYSTEMS = {"mounts": [
    fs("/", 50, 10, 40, device="/dev/sda1", fstype="xfs"),
    fs("/data/media", 1000, 400, 600),
    {"mountpoint": "/data/hung", "device": "nas02:/x", "fstype": "nfs", "error": "statvfs timed out"},
    fs("/data/empty", 0, 0, 0),
]}


def mount(used_gib=400, total_gib=1000, avail_gib=None, path="/data/media"):
    avail = total_gib - used_gib if avail_gib is None else avail_gib
    return {"path": path, "mountpoint": path, "device": "nas01:/media", "fstype": "nfs4",
            "total_bytes": total_gib * GIB, "used_bytes": used_gib * GIB, "avail_bytes": avail * GIB}


def previous(used_gib, days_ago=1.0):
    return {"used_gib": float(used_gib), "time": NOW - datetime.timedelta(days=days_ago),
            "run_id": "20261126T083000-abcdef"}


def days_record(records):
    assert [r["item"] for r in records] == [st.used_item("/data/media"), st.days_item("/data/media")]
    return records[1]


# ------------------------------------------------------------------ current figures


def test_resolve_paths_takes_the_mount_point_figures():
    (m, problem), = st.resolve_paths(["/data/media/"], FILESYSTEMS)
    assert problem is None
    assert m["path"] == "/data/media" and m["fstype"] == "nfs4"
    assert (m["total_bytes"], m["used_bytes"], m["avail_bytes"]) == (1000 * GIB, 400 * GIB, 600 * GIB)


@pytest.mark.parametrize("path, reason", [
    ("/data/media/2026", "不是已挂载的文件系统"),   # below a mount point: an unmounted NAS looks like this
    ("/nas/not-mounted", "不是已挂载的文件系统"),
    ("data/media", "绝对路径"),
    ("/data/hung", "statvfs timed out"),
    ("/data/empty", "未报告容量"),
])
def test_resolve_paths_refuses_what_it_cannot_measure(path, reason):
    (m, problem), = st.resolve_paths([path], FILESYSTEMS)
    assert problem and reason in problem
    assert "total_bytes" not in m


def test_resolve_paths_when_host_metrics_could_not_read_the_mounts():
    results = st.resolve_paths(["/data/media", "/"], {"error": "/proc/mounts: Permission denied"})
    assert [p for _m, p in results] == ["主机文件系统信息无法采集：/proc/mounts: Permission denied"] * 2
    assert st.resolve_paths(["/data/media"], None)[0][1]


def test_normalize_mount_given_directly():
    m, problem = st.normalize_mount({"path": "/data/media/", "total_bytes": "1000", "used_bytes": 400})
    assert problem is None and m["path"] == "/data/media" and m["avail_bytes"] == 600.0
    m, problem = st.normalize_mount({"path": "/m", "total_bytes": 1000, "used_bytes": 4, "avail_bytes": 500})
    assert problem is None and m["avail_bytes"] == 500.0


@pytest.mark.parametrize("entry, reason", [
    ({"total_bytes": 1, "used_bytes": 1}, "path"),
    ("/data/media", "path"),
    ({"path": "/m", "total_bytes": -1, "used_bytes": 0}, "total_bytes"),
    ({"path": "/m", "total_bytes": 10, "used_bytes": "lots"}, "used_bytes"),
    ({"path": "/m", "total_bytes": 10, "used_bytes": True}, "used_bytes"),
    ({"path": "/m", "total_bytes": 10}, "used_bytes"),
    ({"path": "/m", "total_bytes": 10, "used_bytes": 11}, "不小于"),
    ({"path": "/m", "total_bytes": 0, "used_bytes": 0}, "大于 0"),
    ({"path": "/m", "total_bytes": 10, "used_bytes": 1, "avail_bytes": float("nan")}, "avail_bytes"),
])
def test_normalize_mount_refuses_bad_figures(entry, reason):
    _m, problem = st.normalize_mount(entry)
    assert problem and reason in problem


# ------------------------------------------------------------------ reading the previous report


def test_previous_used_matches_host_item_and_ok_number_only():
    records = [
        make_record("INSP-17", "媒体存储 /data/media 已用容量", "av-nas02", "ok", 1.0, "GiB"),
        make_record("INSP-17", "媒体存储 /data/other 已用容量", "av-nas01", "ok", 2.0, "GiB"),
        make_record("INSP-17", "媒体存储 /data/media 已用容量", "av-nas01", "error", None, "GiB",
                    detail="x", direction="d", consequence="c"),
        make_record("INSP-17", "媒体存储 /data/media 已用容量", "av-nas01", "ok", True, "GiB"),
        make_record("INSP-17", "媒体存储 /data/media 已用容量", "av-nas01", "ok", 512.25, "GiB"),
    ]
    assert st.previous_used({"records": records}, "av-nas01", "/data/media") == 512.25
    assert st.previous_used({"records": records[:4]}, "av-nas01", "/data/media") is None
    assert st.previous_used({}, "av-nas01", "/data/media") is None


def test_previous_figures_from_a_report_dict():
    report = {"records": [make_record("INSP-17", st.used_item("/a"), "h", "ok", 3.5, "GiB")]}
    when = NOW - DAY
    assert st.previous_figures(report, when, "r1", "h", ["/a", "/b"]) == {
        "/a": {"used_gib": 3.5, "time": when, "run_id": "r1"}}


@pytest.mark.parametrize("text, parsed", [("2026-11-27T08:30:00", NOW), ("2026-11-27T08:30:00+08:00", NOW),
                                          ("yesterday", None), (None, None)])
def test_parse_time(text, parsed):
    assert st.parse_time(text) == parsed


# ------------------------------------------------------------------ evaluation


def test_used_capacity_record_is_ok_and_carries_the_figure_read_back_next_time():
    records = valid(st.mount_records("av-nas01", mount(used_gib=400.5), None, None, NOW, 90, 30)[0])
    used = records[0]
    assert used["status"] == "ok" and used["value"] == 400.5 and used["unit"] == "GiB"
    assert used["item"] == "媒体存储 /data/media 已用容量" and used["host"] == "av-nas01"
    assert "1000 GiB" in used["detail"] and "40.05%" in used["detail"]


def test_first_run_is_skipped_with_the_reason():
    records, trend = st.mount_records("av-nas01", mount(), None, None, NOW, 90, 30)
    record = days_record(valid(records))
    assert record["status"] == "skipped" and record["value"] is None and "首次巡检" in record["detail"]
    assert "days_to_full" not in trend
    record = days_record(st.mount_records("av-nas01", mount(), None, None, NOW, 90, 30, min_age_hours=20)[0])
    assert "至少 20 小时前" in record["detail"]


@pytest.mark.parametrize("used_now, used_before, days_ago, days_left, status", [
    (400, 390, 1.0, 60.0, "warning"),      # 10 GiB/day, 600 GiB free
    (400, 300, 1.0, 6.0, "critical"),      # 100 GiB/day
    (400, 399, 1.0, 600.0, "ok"),          # 1 GiB/day
    (400, 340, 2.0, 20.0, "critical"),     # 30 GiB/day over two days
    (400, 394, 0.5, 50.0, "warning"),      # 12 GiB/day measured over half a day
])
def test_days_until_full_at_the_growth_rate(used_now, used_before, days_ago, days_left, status):
    records, trend = st.mount_records("av-nas01", mount(used_gib=used_now), None,
                                      previous(used_before, days_ago), NOW, 90, 30)
    record = days_record(valid(records))
    assert record["status"] == status and record["value"] == days_left and record["unit"] == "天"
    assert record["threshold"] == "警告≤90天 / 严重≤30天"
    assert trend["days_to_full"] == days_left and trend["previous_used_gib"] == used_before
    assert "自上次巡检（" in record["detail"] and "天后写满" in record["detail"]
    if status != "ok":
        assert (record["direction"], record["consequence"]) == st.DAYS_ADVICE


@pytest.mark.parametrize("growth_per_day, status", [(600 / 90, "warning"), (600 / 30, "critical"),
                                                    (600 / 90.2, "ok")])
def test_thresholds_are_inclusive(growth_per_day, status):
    record = days_record(st.mount_records("h", mount(), None, previous(400 - growth_per_day), NOW, 90, 30)[0])
    assert record["status"] == status


def test_interval_under_a_day_is_shown_in_hours():
    record = days_record(st.mount_records("h", mount(), None, previous(399, days_ago=0.25), NOW, 90, 30)[0])
    assert "间隔 6 小时" in record["detail"]


@pytest.mark.parametrize("before, words", [(400, "无变化"), (410.5, "减少 10.5 GiB")])
def test_no_growth_is_skipped(before, words):
    record = days_record(valid(st.mount_records("h", mount(), None, previous(before), NOW, 90, 30)[0]))
    assert record["status"] == "skipped" and record["value"] is None and words in record["detail"]


def test_previous_report_not_older_than_now_is_skipped():
    record = days_record(st.mount_records("h", mount(), None, previous(300, days_ago=0), NOW, 90, 30)[0])
    assert record["status"] == "skipped" and "不早于" in record["detail"]


def test_full_filesystem_is_critical_even_without_history():
    records, trend = st.mount_records("h", mount(used_gib=1000), None, None, NOW, 90, 30)
    record = days_record(valid(records))
    assert record["status"] == "critical" and record["value"] == 0.0 and "写满" in record["detail"]
    assert trend["days_to_full"] == 0.0


def test_unmeasurable_path_is_an_error_and_its_days_skipped():
    m, problem = st.resolve_paths(["/data/media"], {"mounts": []})[0]
    records, trend = st.mount_records("h", m, problem, previous(1), NOW, 90, 30)
    valid(records)
    assert [r["status"] for r in records] == ["error", "skipped"]
    assert "/data/media" in records[0]["direction"] and records[0]["consequence"]
    assert trend["error"] == problem


def test_unreadable_archive_is_an_error_on_the_days_record():
    records = valid(st.mount_records("h", mount(), None, None, NOW, 90, 30,
                                     archive_problem="PermissionError: denied")[0])
    assert [r["status"] for r in records] == ["ok", "error"]
    assert "PermissionError" in records[1]["detail"]
    assert (records[1]["direction"], records[1]["consequence"]) == st.ARCHIVE_ADVICE


@pytest.mark.parametrize("warn, crit", [(30, 90), (-1, None), ("90", 30)])
def test_impossible_thresholds_are_an_error(warn, crit):
    record = days_record(valid(st.mount_records("h", mount(), None, previous(390), NOW, warn, crit)[0]))
    assert record["status"] == "error" and (record["direction"], record["consequence"]) == st.CONFIG_ADVICE


def test_without_thresholds_the_estimate_is_ok():
    record = days_record(st.mount_records("h", mount(), None, previous(300), NOW, None, None)[0])
    assert record["status"] == "ok" and record["threshold"] is None and record["value"] == 6.0


def test_evaluate_covers_every_mount():
    mounts = st.resolve_paths(["/data/media", "/nas/missing"], FILESYSTEMS)
    records, trends = st.evaluate("av-nas01", mounts, {"/data/media": previous(390)}, NOW)
    valid(records)
    assert [(r["item"], r["status"]) for r in records] == [
        ("媒体存储 /data/media 已用容量", "ok"), ("媒体存储 /data/media 预计可用天数", "warning"),
        ("媒体存储 /nas/missing 已用容量", "error"), ("媒体存储 /nas/missing 预计可用天数", "skipped")]
    assert [t["path"] for t in trends] == ["/data/media", "/nas/missing"]


# ------------------------------------------------------------------ the archive (one filesystem test)


def _store(archive, kind, when, records):
    report = {"records": records, "meta": {"started": when.isoformat()}}
    return archive.store(kind, {"report.json": json.dumps(report, ensure_ascii=False).encode()}, when=when)


def test_find_previous_reads_the_newest_old_enough_report_of_the_host(tmp_path):
    archive = ReportArchive(tmp_path)
    item = st.used_item("/data/media")
    two_days, one_day, one_hour = NOW - 2 * DAY, NOW - DAY, NOW - datetime.timedelta(hours=1)
    _store(archive, "inspection", two_days, [make_record("INSP-17", item, "av-nas01", "ok", 380.0, "GiB"),
                                             make_record("INSP-17", st.used_item("/old"), "av-nas01", "ok",
                                                         5.0, "GiB")])
    oldest_entry = archive.entries()[0]
    _store(archive, "inspection", one_day, [make_record("INSP-17", item, "av-nas01", "ok", 390.0, "GiB"),
                                            make_record("INSP-17", item, "av-nas02", "ok", 1.0, "GiB")])
    _store(archive, "patch", one_hour, [make_record("INSP-17", item, "av-nas01", "ok", 999.0, "GiB")])
    _store(archive, "inspection", one_hour, [make_record("INSP-01", "CPU使用率", "av-nas01", "ok", 1.0, "%")])

    found = st.find_previous(str(tmp_path), "av-nas01", ["/data/media", "/old", "/never"], NOW)
    assert found["/data/media"]["used_gib"] == 390.0 and found["/data/media"]["time"] == one_day
    assert found["/old"]["used_gib"] == 5.0 and found["/old"]["run_id"] == oldest_entry["run_id"]
    assert "/never" not in found

    found = st.find_previous(str(tmp_path), "av-nas01", ["/data/media"], NOW, min_age_hours=30)
    assert found["/data/media"]["used_gib"] == 380.0
    assert st.find_previous(str(tmp_path), "av-nas01", ["/data/media"], NOW, min_age_hours=72) == {}
    assert st.find_previous(str(tmp_path), "av-nas01", ["/data/media"], NOW, kind="patch") == {
        "/data/media": {"used_gib": 999.0, "time": one_hour, "run_id": archive.entries()[2]["run_id"]}}

    # a damaged newest report is passed over, not fatal
    newest = tmp_path / archive.entries()[1]["path"] / "report.json"
    newest.write_bytes(b"{not json")
    found = st.find_previous(str(tmp_path), "av-nas01", ["/data/media"], NOW)
    assert found["/data/media"]["used_gib"] == 380.0


def test_find_previous_without_an_archive_and_with_a_broken_one(tmp_path):
    assert st.find_previous(str(tmp_path / "none-yet"), "h", ["/m"], NOW) == {}
    (tmp_path / "index.jsonl").mkdir()
    with pytest.raises(st.TrendError):
        st.find_previous(str(tmp_path), "h", ["/m"], NOW)


def test_a_run_reads_back_what_the_previous_run_recorded(tmp_path):
    """The figure written by one run is the baseline of the next, through a real archive."""
    archive = ReportArchive(tmp_path)
    first, _ = st.evaluate("av-nas01", [(mount(used_gib=390), None)], {}, NOW - DAY)
    _store(archive, "inspection", NOW - DAY, first)
    found = st.find_previous(str(tmp_path), "av-nas01", ["/data/media"], NOW)
    second, _ = st.evaluate("av-nas01", [(mount(used_gib=400), None)], found, NOW)
    assert days_record(valid(second))["value"] == 60.0
