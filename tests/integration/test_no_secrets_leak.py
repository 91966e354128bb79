"""SEC-02: a sentinel secret, given as a vault-encrypted inventory variable and as an
extra variable, appears in no report, log or ansible-runner artifact of an inspection."""

import os
import pathlib
import subprocess
import sys

import ansible_runner
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SENTINEL = "Sentinel-7f3a9c-not-for-reports"
VAULT_PASSWORD = "vault-pass-for-this-test-only"
pytestmark = pytest.mark.integration


def _files_containing(root, needle):
    hits = []
    for path in pathlib.Path(root).rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(str(path))
    return hits


def test_sentinel_secret_reaches_no_report_log_or_artifact(tmp_path):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n", encoding="utf-8")
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text(VAULT_PASSWORD, encoding="utf-8")
    vault_file = inventory / "group_vars" / "all" / "vault.yml"
    vault_file.write_text("vault_gxtax_oracle_password: %s\n" % SENTINEL, encoding="utf-8")
    subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(vault_pass),
                    str(vault_file)], check=True, capture_output=True, cwd=tmp_path)
    assert SENTINEL.encode() not in vault_file.read_bytes()
    (inventory / "group_vars" / "all" / "vars.yml").write_text(
        'gxtax_oracle_password: "{{ vault_gxtax_oracle_password }}"\n', encoding="utf-8")

    reports, log, runner_dir = tmp_path / "reports", tmp_path / "ansible.log", tmp_path / "runner"
    runner_dir.mkdir()
    result = ansible_runner.run(
        private_data_dir=str(runner_dir), project_dir=str(ROOT), playbook="playbooks/inspection.yml",
        inventory=str(inventory),
        cmdline="--vault-password-file %s -e gxtax_inspection_sample_seconds=0.2" % vault_pass,
        extravars={"gxtax_extra_secret": SENTINEL},
        envvars={"GXTAX_REPORT_ROOT": str(reports), "ANSIBLE_LOG_PATH": str(log),
                 "PATH": "%s:%s" % (BIN, os.environ["PATH"])},
        quiet=True, timeout=300)
    assert result.rc == 0, result.stdout.read()
    assert list(reports.rglob("report.json")), "no report written"
    assert log.stat().st_size > 0

    assert _files_containing(reports, SENTINEL) == []
    assert SENTINEL.encode() not in log.read_bytes()
    # Runner keeps what it was given in env/extravars (its input); nothing it produced may hold it.
    assert _files_containing(runner_dir, SENTINEL) == [str(runner_dir / "env" / "extravars")]
