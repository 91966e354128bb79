"""The collection and project layout that FQCN resolution, runner and AWX rely on."""

import configparser
import json
import re
import os
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def test_galaxy_and_runtime_metadata():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert (galaxy["namespace"], galaxy["name"]) == ("gxtax", "ops")
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert runtime["requires_ansible"] == ">=2.17.0"


def test_collection_symlink_is_relative_and_points_at_the_root():
    link = ROOT / "collections" / "ansible_collections" / "gxtax" / "ops"
    assert link.is_symlink()
    assert not os.path.isabs(os.readlink(link))
    assert link.resolve() == ROOT


def test_ansible_cfg_uses_relative_paths_and_fqcn_callback():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    defaults = cfg["defaults"]
    for key in ("inventory", "roles_path"):
        assert not os.path.isabs(defaults[key]), key
    assert defaults["collections_path"].split(":")[0] == "collections"
    assert "gxtax.ops.inspection_report" in defaults["callbacks_enabled"]


def test_requirements_yml_matches_the_collections_installed_from_pypi():
    wanted = yaml.safe_load((ROOT / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    listed = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "--format", "json"],
                            capture_output=True, text=True, check=True, cwd=ROOT).stdout
    installed = {}
    for collections in json.loads(listed).values():
        for name, info in collections.items():
            installed.setdefault(name, info["version"])
    for item in wanted:
        assert installed.get(item["name"]) == item["version"], item["name"]


def _entry_points():
    """role -> entry points: main when tasks/main.yml exists, and every tasks_from used on it."""
    used = {}
    pattern = re.compile(r"name:\s*gxtax\.ops\.(\w+)\s*\n\s*tasks_from:\s*(\w+)")
    for path in list((ROOT / "playbooks").rglob("*.yml")) + list((ROOT / "roles").rglob("*.yml")):
        for role, entry in pattern.findall(path.read_text(encoding="utf-8")):
            used.setdefault(role, set()).add(entry)
    return used


def test_every_role_entry_point_has_an_argument_spec():
    roles = [p for p in (ROOT / "roles").iterdir() if p.is_dir()]
    assert roles
    used = _entry_points()
    assert "prepare" in used["release"]  # the scan finds include_role ... tasks_from
    for role in roles:
        spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
        wanted = used.get(role.name, set()) | ({"main"} if (role / "tasks" / "main.yml").exists() else set())
        assert wanted, role.name
        assert wanted <= set(spec["argument_specs"]), (role.name, wanted - set(spec["argument_specs"]))


def test_every_module_documents_itself_through_ansible_doc():
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    assert modules
    for name in modules:
        out = subprocess.run([str(BIN / "ansible-doc"), "--json", "gxtax.ops." + name],
                             capture_output=True, text=True, cwd=ROOT, check=True).stdout
        doc = json.loads(out)["gxtax.ops." + name]
        assert doc["doc"]["options"], name
        assert doc["examples"] and doc["return"], name
