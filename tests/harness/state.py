"""On-disk record of what each run created, so teardown works after a crash or a kill.

Layout: <state root>/<run>/state.json (default state root /run/gxtax-harness). Everything a
run creates is recorded here *before* it is created, so a run killed half-way through can
still be torn down completely by `python -m tests.harness down`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .util import FileLock, HarnessError, atomic_write, state_root

RUN_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")


@dataclass
class HostState:
    name: str
    flavour: str
    octet: int
    address: str
    netns: str
    veth: str
    root: str
    upper: str
    work: str
    log: str
    pid: int | None = None           # the launcher (unshare / systemd-nspawn)
    pid_start: int | None = None     # its start time, to detect PID reuse
    cgroups: list[str] = field(default_factory=list)  # nspawn: cgroup dirs we created


@dataclass
class RunState:
    name: str
    flavour: str
    image: str
    created: float = field(default_factory=time.time)
    owner_pid: int | None = None     # API runs: the process that made it (None: CLI)
    owner_start: int | None = None
    hosts: list[HostState] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    apt: dict | None = None          # {"pid", "pid_start", "port", "dir"}
    inventory: str | None = None

    @property
    def dir(self) -> Path:
        return run_dir(self.name)

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        atomic_write(self.dir / "state.json", json.dumps(data, indent=2) + "\n", 0o600)

    @classmethod
    def load(cls, name: str) -> "RunState | None":
        path = run_dir(name) / "state.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise HarnessError(f"unreadable state file {path}: {exc}") from exc
        data["hosts"] = [HostState(**h) for h in data.get("hosts", [])]
        return cls(**data)

    def host(self, name: str) -> HostState:
        for h in self.hosts:
            if name in (h.name, h.address):
                return h
        raise HarnessError(f"run {self.name!r} has no host {name!r} "
                           f"(hosts: {', '.join(h.name for h in self.hosts)})")


def check_run_name(name: str) -> str:
    if not RUN_NAME_RE.match(name):
        raise HarnessError(f"bad run name {name!r}: use 1-24 of [a-z0-9-], starting alnum")
    return name


def run_dir(name: str) -> Path:
    return state_root() / name


def all_runs() -> list[str]:
    """Names of every run with a directory under the state root (recorded or half-made)."""
    root = state_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and RUN_NAME_RE.match(p.name))


def global_lock() -> FileLock:
    """Serialises address allocation, bridge creation/removal and teardown across runs."""
    return FileLock(state_root() / ".lock", timeout=300)


def used_octets(exclude: str | None = None) -> set[int]:
    used: set[int] = set()
    for name in all_runs():
        if name == exclude:
            continue
        try:
            rs = RunState.load(name)
        except HarnessError:
            continue
        if rs:
            used.update(h.octet for h in rs.hosts)
    return used
