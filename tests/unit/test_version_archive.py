"""REL-08 version archive: every version kept once, read-only, findable with its release
reports, never two contents under one number (module_utils/version_archive.py and the module)."""

import datetime
import json
import os
import pathlib
import shutil
import stat
import zipfile

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.gxtax.ops.plugins.module_utils import release_package as rp
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from ansible_collections.gxtax.ops.plugins.module_utils.version_archive import (
    VersionArchive,
    VersionArchiveError,
)
from ansible_collections.gxtax.ops.plugins.modules import release_archive as module

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "files" / "release" / "升级说明.md.j2"


def package(tmp_path, version="1.0.2.06", impact="停机 30 分钟。", where="build"):
    """Build a valid package of `version` under tmp_path/where; different impact = different content."""
    src = tmp_path / where / "src" / version
    (src / "sql").mkdir(parents=True)
    with zipfile.ZipFile(src / "app.war", "w") as war:
        war.writestr("WEB-INF/web.xml", "<web-app id='%s'/>" % version)
    (src / "sql" / "01_a.sql").write_text("select 1 from dual;\n", encoding="utf-8")
    plan = rp.build({
        "version": version, "archive": str(src / "app.war"), "sql_dir": str(src / "sql"),
        "dest": str(tmp_path / where / "packages"), "instructions_template": str(TEMPLATE),
        "notes": ["修复问题。"], "impact": impact, "verification": "登录首页。",
        "platform": "avrecord", "created_by": "tester", "created_at": "2026-11-20T10:00:00+08:00",
    })
    return plan["path"]


def at(minute):
    return datetime.datetime(2026, 11, 25, 19, minute, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def archive(tmp_path):
    return VersionArchive(tmp_path / "releases")


def lines(archive):
    return pathlib.Path(archive.index_path).read_text(encoding="utf-8").splitlines()


# -- store ----------------------------------------------------------------------------------
def test_store_keeps_a_read_only_copy_and_one_line(tmp_path, archive):
    source = package(tmp_path)
    done = archive.store(source, when=at(0))
    kept = tmp_path / "releases" / "1.0.2" / "1.0.2_06"
    assert done["changed"] and done["copied"] and done["path"] == str(kept)
    assert rp.verify_dir(str(kept))["problems"] == []
    assert stat.S_IMODE(os.stat(kept / "app.war").st_mode) == 0o444
    assert stat.S_IMODE(os.stat(kept / "db").st_mode) == 0o555
    entry = json.loads(lines(archive)[0])
    assert entry["version"] == "1.0.2.06" and entry["package"] == "1.0.2_06"
    assert entry["path"] == "1.0.2/1.0.2_06" and entry["outcome"] == "archived"
    assert entry["environment"] is None and entry["stored_at"] == "2026-11-25T19:00:00+08:00"
    assert entry["manifest_sha256"] == rp.verify_dir(source)["facts"]["manifest_sha256"]
    assert entry["seq"] == 1 and entry["prev"] == "0" * 64


def test_storing_the_same_content_again_is_a_no_op(tmp_path, archive):
    source = package(tmp_path)
    archive.store(source)
    again = archive.store(source)
    assert again["changed"] is False and again["entry"] is None
    assert len(lines(archive)) == 1


def test_releases_are_recorded_once_per_environment_and_outcome(tmp_path, archive):
    source = package(tmp_path)
    assert archive.store(source, "preproduction", "succeeded")["recorded"] is True
    assert archive.store(source, "preproduction", "succeeded")["changed"] is False
    produced = archive.store(source, "production", "succeeded")
    assert produced["changed"] and produced["recorded"] and not produced["copied"]
    assert [json.loads(line)["environment"] for line in lines(archive)] == ["preproduction", "production"]


def test_other_content_under_the_same_version_is_refused(tmp_path, archive):
    archive.store(package(tmp_path))
    before = lines(archive)
    other = package(tmp_path, impact="另一份内容。", where="other")
    with pytest.raises(VersionArchiveError, match="同一版本号不能对应两份内容"):
        archive.store(other, "production", "succeeded")
    assert lines(archive) == before
    assert rp.verify_dir(archive.package_dir("1.0.2.06"))["facts"]["notes"] == "1、修复问题。"


def test_other_content_is_refused_even_when_the_copy_was_removed(tmp_path, archive):
    archive.store(package(tmp_path))
    shutil.rmtree(archive.package_dir("1.0.2.06"))
    with pytest.raises(VersionArchiveError, match="内容不同"):
        archive.store(package(tmp_path, impact="另一份内容。", where="other"))


def test_a_package_that_fails_verification_is_not_stored(tmp_path, archive):
    source = pathlib.Path(package(tmp_path))
    (source / "app.war.md5.txt").write_text("0" * 32 + "  app.war\n")
    with pytest.raises(VersionArchiveError) as err:
        archive.store(str(source))
    assert any(p["file"] == "app.war.md5.txt" for p in err.value.problems)
    assert not os.path.exists(archive.index_path)
    assert not os.path.exists(archive.package_dir("1.0.2.06"))


def test_check_mode_predicts_and_writes_nothing(tmp_path, archive):
    done = archive.store(package(tmp_path), "production", "succeeded", check_mode=True)
    assert done["changed"] and done["copied"] and done["recorded"]
    assert not os.path.exists(archive.index_path) and not os.path.exists(archive.package_dir("1.0.2.06"))


@pytest.mark.parametrize("environment,outcome,words", [(None, "succeeded", "environment"),
                                                       ("production", "deployed", "outcome")])
def test_store_refuses_incomplete_events(tmp_path, archive, environment, outcome, words):
    with pytest.raises(VersionArchiveError, match=words):
        archive.store(package(tmp_path), environment, outcome)


# -- find, list, previous ---------------------------------------------------------------------
def test_find_by_version_or_package_name_with_release_reports(tmp_path, archive):
    archive.store(package(tmp_path), "production", "succeeded")
    reports = ReportArchive(tmp_path / "reports")
    mine = reports.store("release", {"report.json": b"{}", "report.html": b"<html></html>"},
                         meta={"version": "1.0.2.06", "package": "1.0.2_06", "environment": "production",
                               "outcome": "succeeded"})
    reports.store("release", {"report.json": b"{}"}, meta={"version": "1.0.2.05"})
    reports.store("inspection", {"report.json": b"{}"}, meta={"version": "1.0.2.06"})
    for key in ("1.0.2.06", "1.0.2_06"):
        found = archive.find(key, report_root=str(tmp_path / "reports"))
        assert found["found"] is True and found["problems"] == []
        assert found["path"] == archive.package_dir("1.0.2.06")
        assert [e["environment"] for e in found["history"]] == ["production"]
        assert [r["run_id"] for r in found["reports"]] == [mine["run_id"]]
        assert found["reports"][0]["html"].endswith("report.html")
        assert found["reports"][0]["outcome"] == "succeeded"
        assert found["package"]["archive_path"].endswith("1.0.2_06/app.war")


def test_find_an_unknown_version(archive):
    found = archive.find("1.0.3.00")
    assert found["found"] is False and found["problems"] == [] and found["reports"] == []


def test_find_reports_a_damaged_copy(tmp_path, archive):
    archive.store(package(tmp_path))
    sql = pathlib.Path(archive.package_dir("1.0.2.06"), "db", "01_a.sql")
    os.chmod(sql, 0o644)
    sql.write_text("drop table t;\n", encoding="utf-8")
    found = archive.find("1.0.2.06")
    assert any(p["file"] == "db/01_a.sql" and "SHA-256" in p["reason"] for p in found["problems"])


def test_list_is_in_numeric_version_order(tmp_path, archive):
    for version in ("1.0.10.00", "1.0.9.01", "1.0.9.00"):
        archive.store(package(tmp_path, version), "production", "succeeded")
    listed = archive.list_versions()
    assert [v["version"] for v in listed] == ["1.0.9.00", "1.0.9.01", "1.0.10.00"]
    assert listed[0]["releases"][0]["environment"] == "production"
    assert listed[2]["path"] == archive.package_dir("1.0.10.00")


def test_previous_is_the_last_other_successful_release_in_that_environment(tmp_path, archive):
    for version in ("1.0.2.04", "1.0.2.05", "1.0.2.06", "1.0.2.07"):
        archive.store(package(tmp_path, version))
    archive.store(archive.package_dir("1.0.2.04"), "production", "succeeded")
    archive.store(archive.package_dir("1.0.2.05"), "production", "succeeded")
    archive.store(archive.package_dir("1.0.2.06"), "preproduction", "succeeded")
    assert archive.previous("production", "1.0.2.05")["version"] == "1.0.2.04"
    assert archive.previous("production", "1.0.2.06")["version"] == "1.0.2.05"  # what runs there now
    assert archive.previous("preproduction", "1.0.2.06") is None
    assert archive.previous("production", "1.0.2.04") is None
    archive.store(archive.package_dir("1.0.2.06"), "production", "failed")
    archive.store(archive.package_dir("1.0.2.07"), "production", "rolled_back")
    assert archive.previous("production", "1.0.2_07")["version"] == "1.0.2.05"
    assert archive.previous("production", "1.0.2.07")["path"] == archive.package_dir("1.0.2.05")


# -- verify --------------------------------------------------------------------------------
def test_an_intact_archive_verifies(tmp_path, archive):
    archive.store(package(tmp_path, "1.0.2.05"), "production", "succeeded")
    archive.store(package(tmp_path, "1.0.2.06"), "production", "succeeded")
    assert archive.verify() == []


def test_verify_finds_an_edited_index_line(tmp_path, archive):
    archive.store(package(tmp_path, "1.0.2.05"), "production", "succeeded")
    archive.store(package(tmp_path, "1.0.2.06"), "production", "succeeded")
    text = pathlib.Path(archive.index_path).read_text(encoding="utf-8")
    pathlib.Path(archive.index_path).write_text(text.replace('"succeeded"', '"failed"', 1), encoding="utf-8")
    assert any("哈希链" in p["reason"] for p in archive.verify())


def test_verify_finds_a_changed_file_a_lost_copy_and_a_stray(tmp_path, archive):
    archive.store(package(tmp_path, "1.0.2.05"))
    archive.store(package(tmp_path, "1.0.2.06"))
    notes = pathlib.Path(archive.package_dir("1.0.2.05"), "升级说明.md")
    os.chmod(notes, 0o644)
    notes.write_text("改过了", encoding="utf-8")
    shutil.rmtree(archive.package_dir("1.0.2.06"))
    (tmp_path / "releases" / "1.0.3" / "1.0.3_00").mkdir(parents=True)
    found = {(p["file"], p["reason"]) for p in archive.verify()}
    assert ("1.0.2/1.0.2_06", "归档目录丢失") in found
    assert ("1.0.3/1.0.3_00", "不在索引 versions.jsonl 中") in found
    assert any(f == "1.0.2/1.0.2_05/升级说明.md" and "SHA-256" in r for f, r in found)


# -- the module ------------------------------------------------------------------------------
def run_module(monkeypatch, capsys, **args):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_module_store_find_previous_list_verify(monkeypatch, capsys, tmp_path):
    root = str(tmp_path / "releases")
    monkeypatch.delenv("GXTAX_REPORT_ROOT", raising=False)
    for version in ("1.0.2.05", "1.0.2.06"):
        stored = run_module(monkeypatch, capsys, operation="store", root=root,
                            package=package(tmp_path, version), environment="production", outcome="succeeded")
        assert stored["changed"] is True and stored["version"] == version
    again = run_module(monkeypatch, capsys, operation="store", root=root,
                       package=os.path.join(root, "1.0.2", "1.0.2_06"), environment="production",
                       outcome="succeeded")
    assert again["changed"] is False and not again.get("failed")
    found = run_module(monkeypatch, capsys, operation="find", root=root, version="1.0.2_05")
    assert found["found"] is True and found["package"]["version"] == "1.0.2.05"
    previous = run_module(monkeypatch, capsys, operation="previous", root=root, environment="production",
                          version="1.0.2.06")
    assert previous["previous_version"] == "1.0.2.05" and previous["changed"] is False
    listed = run_module(monkeypatch, capsys, operation="list", root=root)
    assert [v["version"] for v in listed["versions"]] == ["1.0.2.05", "1.0.2.06"]
    assert run_module(monkeypatch, capsys, operation="verify", root=root)["problems"] == []


def test_module_refusals(monkeypatch, capsys, tmp_path):
    root = str(tmp_path / "releases")
    run_module(monkeypatch, capsys, operation="store", root=root, package=package(tmp_path))
    other = package(tmp_path, impact="另一份。", where="other")
    refused = run_module(monkeypatch, capsys, operation="store", root=root, package=other)
    assert refused["failed"] is True and "内容不同" in refused["msg"]
    assert refused["problems"][0]["file"] == "1.0.2/1.0.2_06"
    missing = run_module(monkeypatch, capsys, operation="previous", root=root, version="1.0.2.06")
    assert missing["failed"] is True and "environment" in missing["msg"]
    bad = run_module(monkeypatch, capsys, operation="find", root=root, version="1.0")
    assert bad["failed"] is True and "x.xx.xx" in bad["msg"]
    os.chmod(os.path.join(root, "1.0.2", "1.0.2_06", "app.war.md5.txt"), 0o644)
    pathlib.Path(root, "1.0.2", "1.0.2_06", "app.war.md5.txt").write_text("x", encoding="utf-8")
    broken = run_module(monkeypatch, capsys, operation="verify", root=root)
    assert broken["failed"] is True and "1.0.2/1.0.2_06/app.war.md5.txt" in broken["msg"]


def test_module_check_mode_stores_nothing(monkeypatch, capsys, tmp_path):
    root = tmp_path / "releases"
    result = run_module(monkeypatch, capsys, operation="store", root=str(root), package=package(tmp_path),
                        _ansible_check_mode=True)
    assert result["changed"] is True and not root.exists()
