"""Plain hosts: namespaces + chroot, with sshd as the first process of the host.

Each host runs as
    ip netns exec NS unshare --mount --uts --ipc --pid --fork --kill-child -- sh -c INIT
where INIT sets the hostname, mounts /proc (with /proc/sys read-only except net/ and the
UTS names, which are per host), a read-only /sys, a private /dev (devpts newinstance),
a tmpfs /run, makes the host keys and execs sshd in a chroot with CAP_SYS_TIME and
CAP_SYS_MODULE dropped from the bounding set (the kernel and its clock are shared).

sshd is PID 1 of the host's PID namespace: restarting it (`service ssh restart`, Ansible
`state: restarted`) kills the whole host; use `reloaded`. There is no systemd, no reboot.
"""

from __future__ import annotations

import subprocess

from .state import HostState
from .util import HOST_PATH, alive, kill_wait, proc_starttime
from . import network

#: Capabilities a plain host never gets (dropped from the bounding set before exec).
DROPPED_CAPS = ("sys_time", "sys_module")

INIT = r"""
set -eu
R="$1"; H="$2"
exec 0</dev/null
echo "$H" > /proc/sys/kernel/hostname
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
# The kernel is shared: only net.* (per network namespace) and the host's own UTS names
# stay writable; every other sysctl would change the control machine.
mount --bind "$R/proc/sys" "$R/proc/sys"
for w in net kernel/hostname kernel/domainname; do
    mount --bind "$R/proc/sys/$w" "$R/proc/sys/$w"
done
mount -o remount,bind,ro,nosuid,nodev,noexec "$R/proc/sys"
for f in sysrq-trigger; do
    [ -e "$R/proc/$f" ] || continue
    mount --bind "$R/proc/$f" "$R/proc/$f"
    mount -o remount,bind,ro "$R/proc/$f"
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o nosuid,mode=755,size=16m tmpfs "$R/dev"
for n in null zero full random urandom tty; do
    : > "$R/dev/$n"
    mount --bind "/dev/$n" "$R/dev/$n"
done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs "$R/run"
mkdir -p "$R/run/sshd" "$R/run/lock"
chmod 1777 "$R/run/lock"
chroot "$R" /usr/bin/ssh-keygen -A
echo "gxtax-harness: $H up, exec sshd"
exec setpriv --bounding-set "$3" -- chroot "$R" /usr/sbin/sshd -D -e
"""


def start(host: HostState) -> subprocess.Popen:
    """Start the host's namespaces and sshd; returns the launcher (unshare) process."""
    caps = ",".join("-" + c for c in DROPPED_CAPS)
    cmd = ["ip", "netns", "exec", host.netns,
           "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child",
           "--propagation", "private", "--",
           "/bin/sh", "-c", INIT, "gxtax-init", host.root, host.name, caps]
    with open(host.log, "ab") as logf:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True,
                                env={"PATH": HOST_PATH, "LANG": "C.UTF-8", "HOME": "/root"})
    host.pid = proc.pid
    host.pid_start = proc_starttime(proc.pid)
    return proc


def running(host: HostState) -> bool:
    return host.pid is not None and alive(host.pid, host.pid_start)


def stop(host: HostState, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process of the host (unshare ignores SIGTERM). Returns survivors."""
    pairs = []
    if host.pid is not None:
        pairs.append((host.pid, host.pid_start))
    for pid in network.netns_pids(host.netns):
        pairs.append((pid, proc_starttime(pid)))
    survivors = kill_wait(pairs, timeout)
    host.pid = host.pid_start = None
    return survivors
