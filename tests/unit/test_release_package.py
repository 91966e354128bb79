"""REL-05 / REL-07 release packages: building one from its parts, and every refusal of
verification, over packages built in tmp_path (module_utils/release_package.py and the module)."""

import hashlib
import json
import os
import pathlib
import shutil
import tarfile
import zipfile

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.gxtax.ops.plugins.module_utils import release_package as rp
from ansible_collections.gxtax.ops.plugins.modules import release_package as module

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "files" / "release" / "升级说明.md.j2"
WAR = "gxtax-publicity.war"
WHEN = "2026-11-20T10:00:00+08:00"


def make_war(path, body=b"<web-app/>"):
    # A fixed entry time: two builds from "the same" inputs must really have the same inputs.
    with zipfile.ZipFile(path, "w") as war:
        war.writestr(zipfile.ZipInfo("WEB-INF/web.xml", date_time=(2026, 11, 20, 10, 0, 0)), body)
    return path


def make_spec(tmp_path, scripts=None, rollback=None, **override):
    """Sources of a package 1.0.2.06 in tmp_path/src and the build spec for them."""
    src = tmp_path / "src"
    sql = src / "sql"
    (sql / "rollback").mkdir(parents=True, exist_ok=True)
    make_war(src / WAR)
    scripts = {"01_add_column.sql": "ALTER TABLE t ADD (c VARCHAR2(10));\n",
               "02_fill.sql": "UPDATE t SET c = '公示';\nCOMMIT;\n"} if scripts is None else scripts
    rollback = {"01_add_column.sql": "ALTER TABLE t DROP COLUMN c;\n"} if rollback is None else rollback
    for name, text in scripts.items():
        (sql / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    for name, text in rollback.items():
        (sql / "rollback" / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    spec = {
        "version": "1.0.2.06", "archive": str(src / WAR), "sql_dir": str(sql),
        "dest": str(tmp_path / "packages"), "instructions_template": str(TEMPLATE),
        "instructions_src": None, "notes": ["1.0.2.05 版本历史遗留的相关问题。", "优化提示信息。"],
        "steps": None, "impact": "升级期间公示平台暂停服务约 30 分钟。",
        "verification": "登录首页，查询一条执法公示信息，页面正常显示。", "rollback": None,
        "platform": "publicity", "script_encoding": "utf-8", "compress": False,
        "created_by": "tester", "created_at": WHEN,
    }
    spec.update(override)
    return spec


@pytest.fixture
def built(tmp_path):
    """A freshly built, valid package directory."""
    return pathlib.Path(rp.build(make_spec(tmp_path))["path"])


def tampered(built, tmp_path):
    """A writable copy of the package, same name, to break in one place."""
    copy = tmp_path / "copy" / built.name
    shutil.copytree(built, copy)
    return copy


def problems_of(path, **kwargs):
    return rp.verify_dir(str(path), **kwargs)["problems"]


def has(problems, file, words):
    return any(p["file"] == file and words in p["reason"] for p in problems)


# -- building ---------------------------------------------------------------------------
def test_build_lays_out_the_package_and_it_verifies(tmp_path):
    plan = rp.build(make_spec(tmp_path))
    package = pathlib.Path(plan["path"])
    assert package == tmp_path / "packages" / "1.0.2_06"
    assert plan["files"] == sorted([WAR, WAR + ".md5.txt", "db/01_add_column.sql", "db/02_fill.sql",
                                    "db/rollback/01_add_column.sql", "升级说明.md"])
    md5 = hashlib.md5((package / WAR).read_bytes()).hexdigest()  # noqa: S324 - the contract's checksum
    assert (package / (WAR + ".md5.txt")).read_text() == "%s  %s\n" % (md5, WAR)
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == "1.0.2.06" and manifest["package_name"] == "1.0.2_06"
    assert manifest["archive_md5"] == md5
    assert manifest["scripts"] == ["db/01_add_column.sql", "db/02_fill.sql"]
    assert manifest["rollback_scripts"] == ["db/rollback/01_add_column.sql"]
    assert manifest["created_by"] == "tester" and manifest["created_at"] == WHEN
    assert set(manifest["files"]) == set(plan["files"])
    assert manifest["files"]["db/02_fill.sql"]["sha256"] == hashlib.sha256(
        (package / "db" / "02_fill.sql").read_bytes()).hexdigest()
    text = (package / "升级说明.md").read_text(encoding="utf-8")
    for needed in ("## 升级步骤与方法", "## 影响范围", "## 验证方法", "行政执法信息公示平台 1.0.2.06",
                   "`db/01_add_column.sql`", "md5sum -c %s.md5.txt" % WAR, "约 30 分钟", "1、1.0.2.05"):
        assert needed in text, needed
    result = rp.verify_dir(str(package), version="1.0.2.06")
    assert result["problems"] == [] and result["warnings"] == []
    facts = result["facts"]
    assert facts["archive_path"] == str(package / WAR) and facts["archive_md5"] == md5
    assert facts["scripts"] == [str(package / "db" / "01_add_column.sql"),
                                str(package / "db" / "02_fill.sql")]
    assert facts["notes"] == "1、1.0.2.05 版本历史遗留的相关问题。\n2、优化提示信息。"
    assert facts["manifest_sha256"] == hashlib.sha256((package / "manifest.json").read_bytes()).hexdigest()
    assert not [p for p in (tmp_path / "packages").iterdir() if p.name.startswith(".")]


def test_rollback_scripts_run_in_reverse_order(tmp_path):
    spec = make_spec(tmp_path, rollback={"01_add_column.sql": "x;\n", "02_fill.sql": "y;\n"})
    plan = rp.build(spec)
    assert plan["rollback_scripts"] == ["db/rollback/02_fill.sql", "db/rollback/01_add_column.sql"]


def test_a_package_without_database_scripts(tmp_path):
    spec = make_spec(tmp_path, scripts={}, rollback={}, sql_dir=None)
    plan = rp.build(spec)
    assert plan["scripts"] == [] and not os.path.exists(os.path.join(plan["path"], "db"))
    assert "本次升级没有数据库脚本" in pathlib.Path(plan["path"], "升级说明.md").read_text(encoding="utf-8")
    assert problems_of(plan["path"]) == []


def test_build_is_deterministic(tmp_path):
    first = rp.build(make_spec(tmp_path / "a", compress=True))
    second = rp.build(make_spec(tmp_path / "b", compress=True))
    for rel in first["files"] + ["manifest.json"]:
        assert pathlib.Path(first["path"], rel).read_bytes() == pathlib.Path(second["path"], rel).read_bytes()
    assert pathlib.Path(first["tarball"]).read_bytes() == pathlib.Path(second["tarball"]).read_bytes()
    assert oct(os.stat(pathlib.Path(first["path"], "db", "02_fill.sql")).st_mode & 0o777) == "0o644"


def test_build_refuses_to_overwrite_an_existing_package(tmp_path, built):
    before = (built / "manifest.json").read_bytes()
    with pytest.raises(rp.PackageError) as err:
        rp.build(make_spec(tmp_path, impact="另一份内容"))
    assert has(err.value.problems, str(built), "拒绝覆盖")
    assert (built / "manifest.json").read_bytes() == before


def test_check_mode_plan_writes_nothing(tmp_path):
    plan = rp.plan_build(make_spec(tmp_path))
    assert plan["package_name"] == "1.0.2_06" and plan["scripts"][0] == "db/01_add_column.sql"
    assert not (tmp_path / "packages").exists()


def test_legacy_version_is_built_as_patch_00(tmp_path):
    plan = rp.build(make_spec(tmp_path, version="1.0.2"))
    assert plan["version"] == "1.0.2.00" and plan["path"].endswith("1.0.2_00")


@pytest.mark.parametrize("change,file_part,words", [
    ({"impact": ""}, "升级说明.md", "影响范围"),
    ({"verification": "  "}, "升级说明.md", "验证方法"),
    ({"version": "1.0.2.100"}, "version", "x.xx.xx"),
    ({"created_at": "yesterday"}, "created_at", "ISO 8601"),
    ({"script_encoding": "latin-1"}, "script_encoding", "utf-8"),
])
def test_build_refuses_bad_inputs(tmp_path, change, file_part, words):
    with pytest.raises(rp.PackageError) as err:
        rp.build(make_spec(tmp_path, **change))
    found = err.value.problems
    assert any(file_part in p["file"] and words in p["reason"] for p in found), found
    assert not (tmp_path / "packages" / "1.0.2_06").exists()


@pytest.mark.parametrize("scripts,rollback,file_part,words", [
    ({"01_a.sql": "a;", "03_c.sql": "c;"}, {}, "03_c.sql", "应为 02"),
    ({"01_a.sql": "a;", "01_b.sql": "b;"}, {}, "01_b.sql", "不重复"),
    ({"1_a.sql": "a;"}, {}, "1_a.sql", "NN_名称.sql"),
    ({"01 a.sql": "a;"}, {}, "01 a.sql", "NN_名称.sql"),
    ({"01_a.sql": "a;"}, {"02_b.sql": "b;"}, "rollback/02_b.sql", "没有同名的正向脚本"),
    ({"01_a.sql": b"\xef\xbb\xbfselect 1 from dual;"}, {}, "01_a.sql", "BOM"),
    ({"01_a.sql": "公示".encode("gbk")}, {}, "01_a.sql", "UTF-8"),
    ({"01_a.sql": b"  \n"}, {}, "01_a.sql", "为空"),
])
def test_build_refuses_bad_scripts(tmp_path, scripts, rollback, file_part, words):
    with pytest.raises(rp.PackageError) as err:
        rp.build(make_spec(tmp_path, scripts=scripts, rollback=rollback))
    assert any(p["file"].endswith(file_part) and words in p["reason"] for p in err.value.problems), \
        err.value.problems


def test_build_refuses_other_files_in_the_sql_dir(tmp_path):
    spec = make_spec(tmp_path)
    pathlib.Path(spec["sql_dir"], "说明.txt").write_text("x", encoding="utf-8")
    with pytest.raises(rp.PackageError) as err:
        rp.build(spec)
    assert err.value.problems[0]["file"].endswith("说明.txt")


def test_build_refuses_an_archive_that_is_not_a_war(tmp_path):
    spec = make_spec(tmp_path)
    pathlib.Path(spec["archive"]).write_bytes(b"truncated upload")
    with pytest.raises(rp.PackageError, match="zip"):
        rp.build(spec)
    spec["archive"] = str(tmp_path / "app.zip")
    make_war(spec["archive"])
    with pytest.raises(rp.PackageError, match=".war"):
        rp.build(spec)


def test_gbk_scripts_when_declared(tmp_path):
    scripts = {"01_a.sql": "UPDATE t SET c = '执法公示';\n".encode("gbk")}
    plan = rp.build(make_spec(tmp_path, scripts=scripts, rollback={}, script_encoding="gbk"))
    result = rp.verify_dir(plan["path"])
    assert result["problems"] == [] and result["facts"]["script_encoding"] == "gbk"


def test_instructions_from_a_finished_file(tmp_path):
    src = tmp_path / "ready.md"
    src.write_text("# 说明\n## 升级步骤与方法\n部署。\n## 影响范围\n停机。\n## 验证方法\n登录。\n",
                   encoding="utf-8")
    plan = rp.build(make_spec(tmp_path, instructions_template=None, instructions_src=str(src)))
    assert pathlib.Path(plan["path"], "升级说明.md").read_bytes() == src.read_bytes()


def test_a_broken_template_is_named(tmp_path):
    bad = tmp_path / "bad.j2"
    bad.write_text("## 升级步骤与方法\n{{ no_such_variable }}\n", encoding="utf-8")
    with pytest.raises(rp.PackageError) as err:
        rp.build(make_spec(tmp_path, instructions_template=str(bad)))
    assert err.value.problems[0]["file"] == str(bad) and "no_such_variable" in err.value.problems[0]["reason"]


# -- the instructions rule --------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "## 升级步骤与方法\n1. 部署\n## 影响范围\n停机\n## 验证方法\n登录\n",
    "# 一、升级步骤与方法\n### 停止应用\n停止受管服务器。\n# 二、影响范围\n- 停机\n# 三、验证方法 #\n登录\n",
])
def test_instructions_with_three_sections_pass(text):
    assert rp.check_instructions(text) == []


@pytest.mark.parametrize("text,missing", [
    ("## 升级步骤与方法\n部署\n## 影响范围\n停机\n", "缺少“验证方法”"),
    ("升级步骤与方法：部署\n## 影响范围\n停机\n## 验证方法\n登录\n", "缺少“升级步骤与方法”"),
    ("## 升级步骤与方法\n部署\n## 影响范围\n<!-- 填写 -->\n## 验证方法\n登录\n", "“影响范围”一节没有内容"),
    ("## 升级步骤与方法\n部署\n## 影响范围\n停机\n## 验证方法\n- TODO\n", "“验证方法”一节没有内容"),
    ("## 升级步骤与方法\n## 影响范围\n停机\n## 验证方法\n登录\n", "“升级步骤与方法”一节没有内容"),
])
def test_instructions_without_a_section_or_its_text_fail(text, missing):
    found = rp.check_instructions(text)
    assert len(found) == 1 and missing in found[0]["reason"] and found[0]["file"] == "升级说明.md"


@pytest.mark.parametrize("text,expected", [
    ("0cc175b9c0f1b6a831c399e269772661  app.war\n", "0cc175b9c0f1b6a831c399e269772661"),
    ("0CC175B9C0F1B6A831C399E269772661 *app.war", "0cc175b9c0f1b6a831c399e269772661"),
    ("0cc175b9c0f1b6a831c399e269772661\n", "0cc175b9c0f1b6a831c399e269772661"),
])
def test_md5_text_forms(text, expected):
    assert rp.parse_md5_text(text, "app.war") == (expected, None)


@pytest.mark.parametrize("text,words", [("0cc175b9  app.war", "MD5 格式"), ("", "实际 0 行"),
                                        ("0cc175b9c0f1b6a831c399e269772661  other.war", "other.war")])
def test_md5_text_refusals(text, words):
    digest, reason = rp.parse_md5_text(text, "app.war")
    assert digest is None and words in reason


# -- verification refusals ----------------------------------------------------------------
def test_wrong_md5_is_refused_naming_the_txt(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / (WAR + ".md5.txt")).write_text("0" * 32 + "  " + WAR + "\n")
    assert has(problems_of(copy), WAR + ".md5.txt", "MD5 不一致")


def test_a_replaced_archive_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    make_war(copy / WAR, body=b"<web-app version='other'/>")
    found = problems_of(copy)
    assert has(found, WAR + ".md5.txt", "MD5 不一致") and has(found, WAR, "SHA-256")


@pytest.mark.parametrize("name,words", [("升级说明.md", "缺少升级说明文件"),
                                        (WAR + ".md5.txt", "缺少应用包的 MD5"),
                                        ("manifest.json", "缺少清单文件")])
def test_a_missing_part_is_refused(tmp_path, built, name, words):
    copy = tampered(built, tmp_path)
    (copy / name).unlink()
    assert has(problems_of(copy), name, words)


def test_a_missing_archive_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / WAR).unlink()
    assert has(problems_of(copy), WAR, "清单列出的应用包不存在")


def test_instructions_missing_a_section_are_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    text = (copy / "升级说明.md").read_text(encoding="utf-8").replace("## 验证方法", "验证：")
    (copy / "升级说明.md").write_text(text, encoding="utf-8")
    found = problems_of(copy)
    assert has(found, "升级说明.md", "缺少“验证方法”") and has(found, "升级说明.md", "SHA-256")


def test_instructions_not_utf8_are_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "升级说明.md").write_bytes("## 升级步骤与方法".encode("gbk"))
    assert has(problems_of(copy), "升级说明.md", "UTF-8")


@pytest.mark.parametrize("name", ["1.0.2-06", "1.0.2.06", "v1.0.2_06"])
def test_a_bad_package_name_is_refused(tmp_path, built, name):
    copy = tmp_path / "copy" / name
    shutil.copytree(built, copy)
    found = problems_of(copy)
    assert has(found, name, "版本号_补丁号")


def test_a_name_that_disagrees_with_the_manifest_is_refused(tmp_path, built):
    copy = tmp_path / "copy" / "1.0.2_07"
    shutil.copytree(built, copy)
    assert has(problems_of(copy), "1.0.2_07", "应为 1.0.2_06")


def test_a_manifest_for_another_version_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["package_name"] = "1.0.2_07"
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert has(problems_of(copy), "manifest.json", "包名称 1.0.2_07 与版本号 1.0.2.06 不符")


def test_the_wrong_version_is_refused(built):
    assert has(problems_of(built, version="1.0.2.07"), "manifest.json", "不是要发布的版本 1.0.2.07")
    assert problems_of(built, version="1.0.2.06") == []


def test_scripts_out_of_order_are_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "db" / "02_fill.sql").rename(copy / "db" / "03_fill.sql")
    found = problems_of(copy)
    assert has(found, "db/03_fill.sql", "应为 02")
    assert has(found, "manifest.json", "脚本顺序") and has(found, "db/02_fill.sql", "不存在")


def test_a_duplicate_script_number_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "db" / "02_again.sql").write_text("select 1 from dual;\n", encoding="utf-8")
    assert any("不重复" in p["reason"] for p in problems_of(copy))


def test_an_unreadable_script_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "db" / "02_fill.sql").write_bytes(b"UPDATE t SET c = '\xff\xfe';\n")
    found = problems_of(copy)
    assert has(found, "db/02_fill.sql", "不是有效的 UTF-8") and has(found, "db/02_fill.sql", "SHA-256")


def test_a_rollback_without_forward_script_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "db" / "rollback" / "01_add_column.sql").rename(copy / "db" / "rollback" / "01_other.sql")
    assert has(problems_of(copy), "db/rollback/01_other.sql", "没有同名的正向脚本")


def test_two_archives_are_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    make_war(copy / "other.ear")
    assert any("只能有一个应用包" in p["reason"] for p in problems_of(copy))


def test_a_symlink_is_refused(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "link.txt").symlink_to("/etc/hostname")
    assert has(problems_of(copy), "link.txt", "符号链接")


def test_unexpected_files_are_warnings_only(tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / "readme.txt").write_text("x", encoding="utf-8")
    (copy / "db" / "notes.txt").write_text("x", encoding="utf-8")
    result = rp.verify_dir(str(copy))
    assert result["problems"] == []
    assert {w["file"] for w in result["warnings"]} == {"readme.txt", "db/notes.txt"}


def test_a_missing_directory_is_refused(tmp_path):
    assert problems_of(tmp_path / "1.0.2_06")[0]["reason"] == "发布包目录不存在"


# -- tarballs -------------------------------------------------------------------------------
def test_a_tarball_unpacks_to_a_verified_package(tmp_path):
    plan = rp.build(make_spec(tmp_path, compress=True))
    assert plan["tarball"].endswith("1.0.2_06.tar.gz")
    unpacked = rp.unpack(plan["tarball"], str(tmp_path / "elsewhere"))
    assert unpacked.endswith("elsewhere/1.0.2_06") and problems_of(unpacked) == []


def test_a_tarball_escaping_its_directory_is_refused(tmp_path):
    evil = tmp_path / "1.0.2_06.tar.gz"
    payload = tmp_path / "x"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="1.0.2_06/../../escaped")
    with pytest.raises(rp.PackageError, match="不在 1.0.2_06/ 目录下"):
        rp.unpack(str(evil), str(tmp_path / "into"))
    assert not (tmp_path / "escaped").exists()


# -- the module ------------------------------------------------------------------------------
def run_module(monkeypatch, capsys, **args):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def _build_args(spec):
    keep = ("version", "archive", "sql_dir", "dest", "instructions_template", "notes", "impact",
            "verification", "platform", "created_by", "created_at")
    return dict({k: spec[k] for k in keep}, state="built")


def test_module_builds_then_verifies(monkeypatch, capsys, tmp_path):
    spec = make_spec(tmp_path)
    built = run_module(monkeypatch, capsys, **_build_args(spec))
    assert built["changed"] is True and built["package_name"] == "1.0.2_06", built
    checked = run_module(monkeypatch, capsys, state="verified", path=built["package_path"],
                         version="1.0.2.06")
    assert not checked.get("failed") and checked["changed"] is False
    for key in ("version", "package_name", "archive_path", "archive_md5", "archive_sha256", "scripts",
                "rollback_scripts", "instructions_path", "notes", "manifest_sha256"):
        assert checked[key] == built[key], key
    assert checked["problems"] == []


def test_module_check_mode_builds_nothing(monkeypatch, capsys, tmp_path):
    spec = make_spec(tmp_path)
    result = run_module(monkeypatch, capsys, _ansible_check_mode=True, **_build_args(spec))
    assert result["changed"] is True and result["package_path"] == str(tmp_path / "packages" / "1.0.2_06")
    assert result["scripts"][0].endswith("db/01_add_column.sql")
    assert not (tmp_path / "packages").exists()


def test_module_fails_naming_file_and_reason(monkeypatch, capsys, tmp_path, built):
    copy = tampered(built, tmp_path)
    (copy / (WAR + ".md5.txt")).write_text("1" * 32 + "  " + WAR + "\n")
    result = run_module(monkeypatch, capsys, state="verified", path=str(copy))
    assert result["failed"] is True
    assert WAR + ".md5.txt" in result["msg"] and "MD5 不一致" in result["msg"]
    assert has(result["problems"], WAR + ".md5.txt", "MD5 不一致")


def test_module_verifies_a_tarball_and_reuses_an_identical_unpack(monkeypatch, capsys, tmp_path):
    plan = rp.build(make_spec(tmp_path, compress=True))
    shutil.rmtree(plan["path"])
    first = run_module(monkeypatch, capsys, state="verified", path=plan["tarball"])
    assert first["changed"] is True and first["package_path"] == plan["path"]
    again = run_module(monkeypatch, capsys, state="verified", path=plan["tarball"])
    assert again["changed"] is False and not again.get("failed")


def test_module_refuses_an_unpack_over_other_content(monkeypatch, capsys, tmp_path):
    plan = rp.build(make_spec(tmp_path, compress=True))
    pathlib.Path(plan["path"], "manifest.json").write_text("{}", encoding="utf-8")
    result = run_module(monkeypatch, capsys, state="verified", path=plan["tarball"])
    assert result["failed"] is True and "拒绝覆盖" in result["msg"]


def test_module_build_needs_its_inputs(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, state="built", version="1.0.2.06")
    assert result["failed"] is True and "archive" in result["msg"] and "dest" in result["msg"]


def test_module_check_mode_verifies_a_tarball_without_unpacking_it(monkeypatch, capsys, tmp_path):
    plan = rp.build(make_spec(tmp_path, compress=True))
    shutil.rmtree(plan["path"])
    result = run_module(monkeypatch, capsys, state="verified", path=plan["tarball"], _ansible_check_mode=True)
    assert result["changed"] is True and not result.get("failed")
    assert result["archive_path"] == os.path.join(plan["path"], WAR)
    assert not os.path.exists(plan["path"])
