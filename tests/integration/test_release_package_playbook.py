"""REL-05 / REL-07 / REL-08 for real: playbooks/release_package.yml run by ansible-playbook from the
checkout on inventories/local builds a package; gxtax.ops.release_package verifies it and refuses a
tampered copy naming the file; gxtax.ops.release_archive keeps it and finds it again."""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent

pytestmark = pytest.mark.integration


def _require_ansible():
    if not (BIN / "ansible-playbook").exists():
        reason = "ansible-playbook not found beside %s" % sys.executable
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this fails)", pytrace=False)
        pytest.skip(reason)


def _env(tmp_path):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]),
               GXTAX_REPORT_ROOT=str(tmp_path / "reports"),  # any report callback writes here, not reports/
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    return env


def _run(tmp_path, argv):
    proc = subprocess.run(argv, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    start = proc.stdout.find("{")
    assert start >= 0, proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout[start:])


def _playbook(tmp_path, extra, check=False):
    vars_file = tmp_path / "release-vars.yml"
    vars_file.write_text(yaml.safe_dump(extra, allow_unicode=True), encoding="utf-8")
    argv = [str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/release_package.yml",
            "-e", "@%s" % vars_file]
    return _run(tmp_path, argv + (["--check"] if check else []))


def _module(tmp_path, name, args):
    """One module run on localhost (ad hoc), its result."""
    rc, out = _run(tmp_path, [str(BIN / "ansible"), "localhost", "-i", "inventories/local", "-m",
                              "gxtax.ops." + name, "-a", json.dumps(args, ensure_ascii=False)])
    result = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return rc, result


def _task(out, prefix):
    for task in out["plays"][0]["tasks"]:
        if task["task"]["name"].startswith(prefix):
            return task["hosts"]["localhost"]
    raise AssertionError("no task %s in %s" % (prefix, [t["task"]["name"] for t in out["plays"][0]["tasks"]]))


@pytest.fixture
def sources(tmp_path):
    _require_ansible()
    src = tmp_path / "src"
    (src / "sql" / "rollback").mkdir(parents=True)
    with zipfile.ZipFile(src / "gxtax-avrecord.war", "w") as war:
        war.writestr("WEB-INF/web.xml", "<web-app/>")
    (src / "sql" / "01_add_index.sql").write_text("CREATE INDEX i1 ON t (c);\n", encoding="utf-8")
    (src / "sql" / "02_update.sql").write_text("UPDATE t SET c = '音像';\nCOMMIT;\n", encoding="utf-8")
    (src / "sql" / "rollback" / "01_add_index.sql").write_text("DROP INDEX i1;\n", encoding="utf-8")
    return {
        "gxtax_release_version": "1.0.2.06", "gxtax_release_platform": "avrecord",
        "gxtax_release_archive": str(src / "gxtax-avrecord.war"), "gxtax_release_sql_dir": str(src / "sql"),
        "gxtax_release_package_dir": str(tmp_path / "packages"),
        "gxtax_release_notes": ["1.0.2.05 版本历史遗留的相关问题。", "优化用户体验，修改相关的提示信息。"],
        "gxtax_release_impact": "升级期间音像平台暂停服务约 20 分钟，执法记录仪暂不能上传。",
        "gxtax_release_verification": "登录平台，上传一段测试音像并回放。",
        "gxtax_release_compress": True,
    }


def test_playbook_builds_a_package_the_module_verifies(tmp_path, sources):
    rc, out = _playbook(tmp_path, sources, check=True)
    assert rc == 0, out
    assert _task(out, "REL-05 | Build")["changed"] is True
    assert not (tmp_path / "packages").exists()

    rc, out = _playbook(tmp_path, sources)
    assert rc == 0, json.dumps(out, ensure_ascii=False)[:3000]
    package = tmp_path / "packages" / "1.0.2_06"
    assert (tmp_path / "packages" / "1.0.2_06.tar.gz").is_file()
    built = _task(out, "REL-05 | Build")
    assert built["package_path"] == str(package)
    assert _task(out, "REL-07 | Verify")["problems"] == []

    rc, checked = _module(tmp_path, "release_package",
                          {"state": "verified", "path": str(package), "version": "1.0.2.06"})
    assert rc == 0 and checked["problems"] == [], checked
    md5 = hashlib.md5((package / "gxtax-avrecord.war").read_bytes()).hexdigest()  # noqa: S324
    assert checked["archive_md5"] == md5 and checked["package_name"] == "1.0.2_06"
    assert [os.path.basename(s) for s in checked["scripts"]] == ["01_add_index.sql", "02_update.sql"]
    assert checked["notes"].startswith("1、1.0.2.05 版本历史遗留的相关问题。")
    text = pathlib.Path(checked["instructions_path"]).read_text(encoding="utf-8")
    assert "执法音像记录信息管理平台 1.0.2.06 升级说明" in text and "暂停服务约 20 分钟" in text

    # Built once: the same run again is refused, and the package is left as it was.
    rc, out = _playbook(tmp_path, sources)
    assert rc != 0 and "拒绝覆盖" in _task(out, "REL-05 | Build")["msg"]


def test_a_tampered_copy_is_refused_naming_the_file(tmp_path, sources):
    rc, out = _playbook(tmp_path, sources)
    assert rc == 0, out
    copy = tmp_path / "transfer" / "1.0.2_06"
    shutil.copytree(tmp_path / "packages" / "1.0.2_06", copy)
    with (copy / "db" / "02_update.sql").open("a", encoding="utf-8") as handle:
        handle.write("DELETE FROM t;\n")
    rc, result = _module(tmp_path, "release_package", {"state": "verified", "path": str(copy)})
    assert rc != 0 and result["failed"] is True
    assert "db/02_update.sql" in result["msg"]
    assert {"file": "db/02_update.sql", "reason": "内容与清单记录的 SHA-256 不符（文件被修改或损坏）"} \
        in result["problems"]


def test_the_release_archive_keeps_and_finds_the_package(tmp_path, sources):
    rc, out = _playbook(tmp_path, sources)
    assert rc == 0, out
    root = str(tmp_path / "releases")
    args = {"operation": "store", "root": root, "package": str(tmp_path / "packages" / "1.0.2_06"),
            "environment": "preproduction", "outcome": "succeeded"}
    rc, stored = _module(tmp_path, "release_archive", args)
    assert rc == 0 and stored["changed"] is True, stored
    rc, again = _module(tmp_path, "release_archive", args)
    assert rc == 0 and again["changed"] is False
    rc, found = _module(tmp_path, "release_archive",
                        {"operation": "find", "root": root, "version": "1.0.2_06"})
    assert rc == 0 and found["found"] is True
    assert found["path"] == os.path.join(root, "1.0.2", "1.0.2_06")
    assert found["package"]["archive_path"].endswith("1.0.2_06/gxtax-avrecord.war")
    rc, verified = _module(tmp_path, "release_archive", {"operation": "verify", "root": root})
    assert rc == 0 and verified["problems"] == []
