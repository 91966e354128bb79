"""Modules for managed hosts run on Python 3.7 (Kylin V10's system Python).

vermin checks the syntax statically (make lint); this runs the module for real
through ansible-core's module wrapper under a Python 3.7 interpreter, which
is what breaks when ansible-core itself drops 3.7 targets (2.18+).
"""

import glob
import json
import os
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))


def _python37():
    # pyenv's real binary first: its shim on PATH fails unless 3.7 is the active version.
    found = next(iter(sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7*/bin/python3.7")))),
                 None) or shutil.which("python3.7")
    if not found:
        message = "no Python 3.7 interpreter on this machine (expected pyenv's 3.7 as on this kind)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_host_metrics_runs_on_python37():
    python37 = _python37()
    version = subprocess.run([python37, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == "(3, 7)"
    proc = subprocess.run(
        [str(BIN / "ansible"), "localhost", "-c", "local", "-o",
         "-e", "ansible_python_interpreter=%s" % python37,
         "-m", "gxtax.ops.host_metrics", "-a", "sample_seconds=0.2 host=py37"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["records"], result
    for record in result["records"]:
        assert record["host"] == "py37"
        jsonschema.validate(record, SCHEMA)
