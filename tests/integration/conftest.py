"""pytest fixtures for tests that need real Debian hosts (the test-host harness).

Session-scoped, torn down at session end:
  plain_hosts   -> tests.harness.Harness with 3 plain hosts (gxt-h1..gxt-h3, group `plain`)
  systemd_host  -> tests.harness.Harness with 1 systemd-nspawn host (gxt-s1, group `systemd`)
Function-scoped:
  require_harness(flavour) -> skip/fail like the fixtures above if hosts cannot be made
  harness_factory(count=..., flavour=..., groups=...) -> an extra Harness, torn down after
  the test.

A missing prerequisite (not root, a tool missing, the image build failing) skips these
tests, except when the CI variable is set: then it fails them, so CI can never go green
without running them. Tests using them are marked `integration`.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.harness` is imported from the repository root
    sys.path.insert(0, str(ROOT))

from tests.harness import Harness  # noqa: E402
from tests.integration.support import prepare_harness as _prepare  # noqa: E402
from tests.integration.support import run_name as _run_name  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "integration: runs against real Debian test hosts made by tests/harness "
        "(needs root; builds a cached debootstrap image on first use)")


_factory_runs = itertools.count()


@pytest.fixture(scope="session")
def plain_hosts():
    """Three plain hosts (fast; sshd is PID 1: use `reloaded`, never `restarted`)."""
    _prepare("plain")
    with Harness(count=3, flavour="plain", name=_run_name("p")) as h:
        yield h


@pytest.fixture(scope="session")
def systemd_host():
    """One systemd-nspawn host booted with systemd, for tests that need services."""
    _prepare("systemd")
    with Harness(count=1, flavour="systemd", name=_run_name("s")) as h:
        yield h


@pytest.fixture
def require_harness():
    """For tests that make runs themselves: require_harness("plain") skips (or, with CI,
    fails) when this machine cannot run hosts of that flavour."""
    return _prepare


@pytest.fixture
def harness_factory():
    """Make extra runs inside a test: harness_factory(count=2, flavour="plain")."""
    made: list[Harness] = []

    def make(count: int = 1, flavour: str = "plain", groups=None) -> Harness:
        _prepare(flavour)
        h = Harness(count=count, flavour=flavour, groups=groups,
                    name=_run_name(f"f{next(_factory_runs)}"))
        made.append(h)
        return h.up()

    yield make
    for h in reversed(made):
        h.down()
