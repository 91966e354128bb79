"""gxtax test-host harness: Debian test hosts on one machine, without Docker.

Two flavours of host, both reachable over SSH on a private bridge (10.231.0.0/24):
  * plain   - namespaces + chroot on an overlay of a cached debootstrap image; sshd is
              the host's PID 1. Up in well under a second, reset in a fraction of one.
  * systemd - systemd-nspawn containers booting systemd, for tests that need services.

Python:  from tests.harness import Harness      (see api.py)
pytest:  fixtures plain_hosts / systemd_host   (tests/integration/conftest.py)
CLI:     python -m tests.harness up|down|status|image|reset|ssh   (needs root)
"""

from .api import Harness, Host, down, down_stale, prerequisites, status
from .aptrepo import AptRepo
from .image import ensure_image
from .util import HarnessError, PrerequisiteError

__all__ = ["AptRepo", "Harness", "HarnessError", "Host", "PrerequisiteError", "down",
           "down_stale", "ensure_image", "prerequisites", "status"]
