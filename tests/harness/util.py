"""Small helpers shared by the harness modules: paths, commands, processes, locks."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger("gxtax.harness")

#: Where the pristine image (and downloaded .debs) are cached, outside the repository.
DEFAULT_CACHE = "/var/cache/gxtax-ops/harness"
#: Where each run records what it created, so teardown works after a crash.
DEFAULT_STATE = "/run/gxtax-harness"

#: PATH given to every process started inside a host.
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class HarnessError(RuntimeError):
    """Something the harness needed did not work."""


class PrerequisiteError(HarnessError):
    """The control machine lacks something the harness needs (root, a tool)."""


def cache_dir() -> Path:
    return Path(os.environ.get("GXTAX_HARNESS_CACHE") or DEFAULT_CACHE)


def state_root() -> Path:
    return Path(os.environ.get("GXTAX_HARNESS_STATE") or DEFAULT_STATE)


def is_root() -> bool:
    return os.geteuid() == 0


def require_root() -> None:
    if not is_root():
        raise PrerequisiteError("the test-host harness needs root (namespaces, mounts, bridges)")


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise PrerequisiteError(
            "missing on the control machine: " + ", ".join(missing)
            + " (apt-get install debootstrap systemd-container dpkg-dev iproute2 openssh-client)"
        )


def run(cmd, *, check: bool = True, input: str | None = None, timeout: float | None = 600,
        cwd=None, env=None) -> subprocess.CompletedProcess:
    """Run a command, capture its output as text; raise HarnessError on failure if check."""
    cmd = [str(c) for c in cmd]
    log.debug("run: %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, cwd=cwd, env=env)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"timed out after {timeout}s: {' '.join(cmd)}") from exc
    except FileNotFoundError as exc:
        raise PrerequisiteError(f"command not found: {cmd[0]}") from exc
    if check and proc.returncode != 0:
        raise HarnessError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"{(proc.stderr or '').strip()[-2000:]}\n{(proc.stdout or '').strip()[-1000:]}"
        )
    return proc


# ---------------------------------------------------------------- processes

def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of a process, or None if it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[19])


def proc_starttime(pid: int) -> int | None:
    st = proc_stat(pid)
    return st[1] if st else None


def alive(pid: int, starttime: int | None = None) -> bool:
    """True if the process exists, is not a zombie/dead, and (if given) started at starttime.

    A zombie passes `kill -0`, so look at the state instead.
    """
    st = proc_stat(pid)
    if st is None:
        return False
    state, start = st
    if state in ("Z", "X", "x"):
        return False
    if starttime is not None and start != starttime:
        return False  # the PID was reused by another process
    return True


def kill_wait(pids, timeout: float = 10.0) -> list[int]:
    """SIGKILL the (pid, starttime) pairs and wait until none is alive. Returns survivors."""
    pairs = [(int(p), s) for p, s in pids]
    for pid, start in pairs:
        if alive(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while True:
        left = [(p, s) for p, s in pairs if alive(p, s)]
        if not left or time.monotonic() > deadline:
            return [p for p, _ in left]
        time.sleep(0.02)


def reap_children() -> None:
    """Collect exited children of this process (they would stay zombies otherwise)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# ---------------------------------------------------------------- mounts

def mountpoints() -> list[str]:
    """Mount points of this mount namespace (octal escapes decoded)."""
    out = []
    with open("/proc/self/mounts") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) > 1:
                out.append(parts[1].encode().decode("unicode_escape"))
    return out


def is_mounted(path) -> bool:
    return str(path) in mountpoints()


def umount(path, attempts: int = 50) -> None:
    """Unmount path (all stacked mounts); fall back to a lazy unmount."""
    path = str(path)
    for _ in range(attempts):
        if not is_mounted(path):
            return
        res = subprocess.run(["umount", path], capture_output=True, text=True)
        if res.returncode != 0:
            time.sleep(0.05)
    while is_mounted(path):
        run(["umount", "-l", path])


def rmtree(path) -> None:
    """Remove a directory tree that may hold anything; never follow into mounts."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    for mp in mountpoints():
        if mp == str(path) or mp.startswith(str(path) + "/"):
            umount(mp)
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        run(["rm", "-rf", "--one-file-system", str(path)])


# ---------------------------------------------------------------- locks

class FileLock:
    """An exclusive flock on a file. The descriptor is close-on-exec, so children never
    inherit it (a daemon holding it would block every later run)."""

    def __init__(self, path, timeout: float = 1800.0):
        self.path = Path(path)
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise HarnessError(f"timed out waiting for lock {self.path}") from exc
                time.sleep(0.1)

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False


def atomic_write(path, text: str, mode: int = 0o644) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
