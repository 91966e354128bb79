"""systemd hosts: `systemd-nspawn --boot` containers, for tests that need real services.

Each container
  * joins the host's pre-made network namespace (--network-namespace-path) and gets
    CAP_NET_ADMIN inside it, so its systemd-networkd sets the address from the .network
    file that rootfs.provision() writes;
  * runs in its own cgroup: with a shared cgroup the containers' systemds delete each
    other's units. When systemd is PID 1 of the control machine the container is started
    in a transient scope (`systemd-run --scope`); otherwise (a VM or container whose PID 1
    is something else, like the machines CI uses) the harness makes the cgroup itself in
    every mounted hierarchy the container's systemd needs (cgroup2, and the v1 name=systemd
    one on hybrid set-ups) and moves the launcher into it before exec.
A rebooted container powers off and stays off; `reset` brings it back.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from . import network
from .state import HostState
from .util import HOST_PATH, HarnessError, alive, kill_wait, log, proc_starttime, run

CGROUP_DIR = "gxtax-harness"


def systemd_is_pid1() -> bool:
    return os.path.isdir("/run/systemd/system")


def cgroup_hierarchies() -> list[Path]:
    """Mount points of cgroup2 and of the v1 name=systemd hierarchy."""
    found = []
    with open("/proc/self/mounts") as fh:
        for line in fh:
            _dev, mnt, fstype, opts = line.split()[:4]
            if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in opts.split(",")):
                found.append(Path(mnt))
    return found


def scope_name(run: str, host: HostState) -> str:
    return f"gxtax-{run}-{host.name}.scope"


def _make_cgroups(run_name: str, host: HostState) -> list[str]:
    dirs = []
    for hier in cgroup_hierarchies():
        d = hier / CGROUP_DIR / f"{run_name}-{host.name}"
        d.mkdir(parents=True, exist_ok=True)
        dirs.append(str(d))
    if not dirs:
        raise HarnessError("no cgroup2 or name=systemd cgroup hierarchy is mounted")
    return dirs


def start(run_name: str, host: HostState) -> subprocess.Popen:
    """Boot the container in the background; returns the launcher process."""
    nspawn = ["systemd-nspawn", "--quiet", "--boot",
              f"--directory={host.root}", f"--machine={host.name}",
              f"--hostname={host.name}", "--register=no", "--keep-unit",
              f"--network-namespace-path=/run/netns/{host.netns}",
              "--capability=CAP_NET_ADMIN", "--console=read-only",
              "--resolv-conf=off", "--link-journal=no"]
    preexec = None
    if systemd_is_pid1():
        cmd = ["systemd-run", "--scope", "--quiet", "--collect",
               f"--unit={scope_name(run_name, host)}", "--"] + nspawn
        host.cgroups = []
    else:
        host.cgroups = _make_cgroups(run_name, host)
        procs_files = [os.path.join(d, "cgroup.procs") for d in host.cgroups]

        def preexec():  # runs in the child between fork and exec
            for f in procs_files:
                with open(f, "w") as fh:
                    fh.write(str(os.getpid()))
        cmd = nspawn
    with open(host.log, "ab") as logf:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True, preexec_fn=preexec,  # noqa: PLW1509 (no threads)
                                env={"PATH": HOST_PATH, "LANG": "C.UTF-8"})
    host.pid = proc.pid
    host.pid_start = proc_starttime(proc.pid)
    return proc


def running(host: HostState) -> bool:
    return host.pid is not None and alive(host.pid, host.pid_start)


def _cgroup_pids(dirs) -> list[int]:
    pids: set[int] = set()
    for d in dirs:
        for root, _sub, files in os.walk(d):
            if "cgroup.procs" in files:
                try:
                    pids.update(int(p) for p in Path(root, "cgroup.procs").read_text().split())
                except OSError:
                    pass
    return sorted(pids)


def _rmdir_tree(d: str) -> None:
    if not os.path.isdir(d):
        return
    for root, subs, _files in os.walk(d, topdown=False):
        for s in subs:
            try:
                os.rmdir(os.path.join(root, s))
            except OSError:
                pass
    try:
        os.rmdir(d)
    except OSError as exc:
        log.warning("could not remove cgroup %s: %s", d, exc)


def stop(run_name: str, host: HostState, timeout: float = 15.0) -> list[int]:
    """Kill the container outright (its root is thrown away or reset anyway)."""
    if systemd_is_pid1():
        run(["systemctl", "kill", "--signal=SIGKILL", scope_name(run_name, host)], check=False)
    for d in host.cgroups:
        kill_file = Path(d, "cgroup.kill")
        if kill_file.exists():
            try:
                kill_file.write_text("1")
            except OSError:
                pass
    pairs = []
    if host.pid is not None:
        pairs.append((host.pid, host.pid_start))
    for pid in _cgroup_pids(host.cgroups) + network.netns_pids(host.netns):
        pairs.append((pid, proc_starttime(pid)))
    survivors = kill_wait(pairs, timeout)
    deadline = time.monotonic() + timeout
    while _cgroup_pids(host.cgroups) and time.monotonic() < deadline:
        time.sleep(0.05)
    for d in host.cgroups:
        _rmdir_tree(d)
    host.pid = host.pid_start = None
    return survivors


def remove_empty_parents() -> None:
    for hier in cgroup_hierarchies():
        d = hier / CGROUP_DIR
        if d.is_dir():
            try:
                d.rmdir()
            except OSError:
                pass


def leftover_cgroups() -> list[str]:
    out = []
    for hier in cgroup_hierarchies():
        d = hier / CGROUP_DIR
        if d.is_dir():
            out += [str(p) for p in d.iterdir() if p.is_dir()]
    return out


def remove_cgroup(d: str) -> None:
    """Kill whatever is in an orphaned cgroup of ours and remove it."""
    kill_file = Path(d, "cgroup.kill")
    if kill_file.exists():
        try:
            kill_file.write_text("1")
        except OSError:
            pass
    kill_wait([(p, proc_starttime(p)) for p in _cgroup_pids([d])], 10)
    _rmdir_tree(d)
