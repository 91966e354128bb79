# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every report says about the run that wrote it: who, where, which versions.

Shared by the report callbacks (inspection_report, release_report); control node only.
"""

from __future__ import annotations

import getpass
import os

from ansible import context
from ansible.module_utils.ansible_release import __version__ as ansible_version

GALAXY_YML = os.path.join(os.path.dirname(__file__), "..", "..", "galaxy.yml")


def collection_version(path=GALAXY_YML):
    """Version from galaxy.yml, read without a YAML parser (one key, one line)."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("version:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def default_archive_root(playbook_dir):
    """reports/ beside the playbooks/ directory of the playbook run (the project's own archive)."""
    project = os.path.dirname(playbook_dir) if playbook_dir else os.getcwd()
    return os.path.join(project, "reports")


def operator(extra_vars):
    """The person behind the run: AWX's user, else the sudo caller, else the login."""
    return extra_vars.get("awx_user_name") or os.environ.get("SUDO_USER") or getpass.getuser()


def run_meta(run_id, started, ended, extra_vars):
    """The run's metadata common to every report kind."""
    inventory = context.CLIARGS.get("inventory") or []
    return {
        "run_id": run_id,
        "inventory": ", ".join(os.path.relpath(i) if os.path.exists(i) else i for i in inventory),
        "limit": context.CLIARGS.get("subset") or "",
        "operator": operator(extra_vars),
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "check_mode": bool(context.CLIARGS.get("check")),
        "ansible_version": ansible_version,
        "gxtax_ops_version": collection_version(),
        "awx_job_id": str(extra_vars.get("awx_job_id") or extra_vars.get("tower_job_id") or ""),
    }
