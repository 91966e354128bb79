"""REL-01 / REL-05 version rules: module_utils/release_version.py and the filters over it."""

import subprocess
import sys
import pathlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gxtax.ops.plugins.filter.release import FilterModule
from ansible_collections.gxtax.ops.plugins.module_utils import release_version as rv

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
FILTERS = FilterModule().filters()


@pytest.mark.parametrize("version", ["1.0.2.06", "1.0.0.00", "1.99.99.99", "2.10.3.00", "9.0.10.01"])
def test_canonical_versions_are_valid(version):
    assert rv.is_valid(version)
    assert FILTERS["version_valid"](version) is True


@pytest.mark.parametrize("version", [
    "1.0.2",         # legacy three-part form: convert with version_normalize first
    "1.0.2.6",       # patch is exactly two digits
    "1.0.2.006",
    "1.00.2.06",     # no leading zeros in major
    "1.0.02.06",     # nor in minor: one version, one spelling
    "0.0.2.06",      # main is 1-9
    "10.0.2.06",     # main is one digit
    "1.100.2.06",    # major 0-99
    "1.0.2.06.1", "v1.0.2.06", "1.0.2_06", " 1.0.2.06", "1.0.2.06\n", "", "1..2.06",
])
def test_other_spellings_are_not_valid(version):
    assert not rv.is_valid(version)
    assert FILTERS["version_valid"](version) is False


@pytest.mark.parametrize("value", [None, 1.02, 10206, ["1.0.2.06"]])
def test_version_valid_never_raises(value):
    assert FILTERS["version_valid"](value) is False


@pytest.mark.parametrize("given,expected", [
    ("1.0.2", "1.0.2.00"),          # the contract's own example
    ("1.0.2.06", "1.0.2.06"),       # canonical: unchanged
    ("1.00.02.06", "1.0.2.06"),
    ("1.0.2.6", "1.0.2.06"),
    ("1.0.10", "1.0.10.00"),
    (" 1.0.2 ", "1.0.2.00"),
])
def test_normalize(given, expected):
    assert rv.normalize(given) == expected
    assert FILTERS["version_normalize"](given) == expected
    assert rv.is_valid(expected)


@pytest.mark.parametrize("given", ["1.0", "1.0.2.06.1", "1.0.100", "0.1.2", "a.b.c", "", "1.0.2.100"])
def test_normalize_refuses_what_it_cannot_read_naming_the_rule(given):
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["version_normalize"](given)
    assert "x.xx.xx" in str(err.value) and "main.major.minor.patch" in str(err.value)


@pytest.mark.parametrize("version,part,expected", [
    ("1.0.2.06", "patch", "1.0.2.07"),
    ("1.0.2.09", "patch", "1.0.2.10"),
    ("1.0.2.06", "minor", "1.0.3.00"),   # contract: the patch restarts from 00 with each minor
    ("1.0.9.00", "minor", "1.0.10.00"),
    ("1.0.2.06", "major", "1.1.0.00"),   # our decision: major resets minor and patch
    ("1.98.99.99", "major", "1.99.0.00"),
])
def test_bump(version, part, expected):
    assert rv.bump(version, part) == expected
    assert FILTERS["version_bump"](version, part) == expected


def test_bump_defaults_to_patch():
    assert FILTERS["version_bump"]("1.0.2.06") == "1.0.2.07"


@pytest.mark.parametrize("version,part,words", [
    ("1.0.2.99", "patch", ("修改版本", "99", "patch")),
    ("1.0.99.00", "minor", ("次版本", "99", "minor")),
    ("1.99.0.00", "major", ("大版本", "99", "major")),
])
def test_bump_overflow_is_refused_naming_the_part(version, part, words):
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["version_bump"](version, part)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("part", ["main", "build", "", None])
def test_bump_refuses_other_parts(part):
    with pytest.raises(AnsibleFilterError, match="patch, minor or major"):
        FILTERS["version_bump"]("1.0.2.06", part)


def test_bump_refuses_a_legacy_version():
    with pytest.raises(AnsibleFilterError, match="1.0.2.06"):
        FILTERS["version_bump"]("1.0.2", "patch")


@pytest.mark.parametrize("version,name", [("1.0.2.06", "1.0.2_06"), ("1.0.2.00", "1.0.2_00"),
                                          ("1.12.30.99", "1.12.30_99")])
def test_package_name_round_trip(version, name):
    assert FILTERS["release_package_name"](version) == name
    assert rv.version_from_package_name(name) == version


@pytest.mark.parametrize("value", ["1.0.2", "1.0.02.06", None, 1.0])
def test_package_name_refuses_non_canonical_versions(value):
    with pytest.raises(AnsibleFilterError):
        FILTERS["release_package_name"](value)


@pytest.mark.parametrize("name", ["1.0.2.06", "1.0.2_6", "1.0.02_06", "1.0.2.06_01", "1_0_2_06"])
def test_package_names_follow_the_rule(name):
    with pytest.raises(rv.VersionError, match="版本号_补丁号"):
        rv.version_from_package_name(name)


def test_ordering_is_numeric_per_part():
    versions = ["1.0.10.00", "1.0.9.01", "1.1.0.00", "1.0.9.10", "1.0.2.06", "2.0.0.00"]
    assert sorted(versions, key=rv.version_key) == [
        "1.0.2.06", "1.0.9.01", "1.0.9.10", "1.0.10.00", "1.1.0.00", "2.0.0.00"]
    assert rv.compare("1.0.9.00", "1.0.10.00") == -1
    assert rv.compare("1.0.2.06", "1.0.2.06") == 0
    assert rv.compare("1.1.0.00", "1.0.99.99") == 1
    assert rv.series("1.0.2.06") == "1.0.2"


@pytest.mark.parametrize("name", ["version_valid", "version_bump", "version_normalize",
                                  "release_package_name"])
def test_each_filter_documents_itself_through_ansible_doc(name):
    proc = subprocess.run([str(BIN / "ansible-doc"), "-t", "filter", "--json", "gxtax.ops." + name],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert '"gxtax.ops.%s"' % name in proc.stdout and "REL-0" in proc.stdout


def test_filters_work_in_a_real_template():
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-m", "ansible.builtin.debug", "-a",
         "msg={{ ('1.0.2' | gxtax.ops.version_normalize | gxtax.ops.version_bump('minor'))"
         " ~ '/' ~ ('1.0.2.06' | gxtax.ops.release_package_name) }}"],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"msg": "1.0.3.00/1.0.2_06"' in proc.stdout
