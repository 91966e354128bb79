"""Helpers the integration tests share: skip-or-fail on a missing prerequisite, harness set-up,
and the PLAY RECAP of an ansible-playbook run."""

from __future__ import annotations

import os
import re

import pytest

from tests.harness import HarnessError, PrerequisiteError, ensure_image, prerequisites


def unavailable(reason: str):
    """Skip, or fail when CI is set, so CI can never go green without running the test."""
    if os.environ.get("CI"):
        pytest.fail("prerequisite missing (CI is set, so this fails): %s" % reason, pytrace=False)
    pytest.skip("prerequisite missing: %s" % reason)


def harness_unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"test-host harness unavailable (CI is set, so this fails): {reason}",
                    pytrace=False)
    pytest.skip(f"test-host harness unavailable: {reason}")


def prepare_harness(flavour: str) -> None:
    """This machine can run hosts of this flavour, and the cached image exists (built if not)."""
    try:
        prerequisites(flavour)
    except PrerequisiteError as exc:
        harness_unavailable(str(exc))
    try:
        ensure_image()
    except HarnessError as exc:
        harness_unavailable(f"image build failed: {exc}")


def run_name(tag: str) -> str:
    """A harness run name of this pytest process: parallel sessions never share runs."""
    return f"pt{os.getpid()}{tag}"


def play_recap(stdout: str) -> dict:
    """host -> {ok, changed, unreachable, failed, ...} from the PLAY RECAP."""
    counts = {}
    for line in stdout.rsplit("PLAY RECAP", maxsplit=1)[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            counts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return counts
