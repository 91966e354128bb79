"""Per-host root file systems: an overlay on the pristine image, and the files that give
each host its identity (hostname, machine id, authorized key, network config).

Reset = unmount, delete the upper dir, mount again, provision again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from . import network
from .state import HostState
from .util import HarnessError, cache_dir, is_mounted, rmtree, run, umount


def rsa_key_pool(octets) -> Path:
    """RSA host keys, one per address, made once and kept in the cache.

    Generating a 3072-bit RSA key takes about a second of CPU; doing it on every start and
    reset dominated start-up time. Each address keeps its own key, so hosts of a run still
    have distinct keys; the faster ECDSA and Ed25519 keys are made anew by `ssh-keygen -A`
    on every start.
    """
    pool = cache_dir() / "hostkeys"
    pool.mkdir(parents=True, exist_ok=True)
    procs = []
    for octet in octets:
        key = pool / f"rsa-{octet}"
        if not key.exists():
            tmp = pool / f".tmp-rsa-{octet}-{os.getpid()}"
            for f in (tmp, Path(f"{tmp}.pub")):
                f.unlink(missing_ok=True)
            procs.append((subprocess.Popen(
                ["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "",
                 "-f", str(tmp)], stdin=subprocess.DEVNULL), tmp, key))
    for proc, tmp, key in procs:
        if proc.wait() != 0:
            raise HarnessError("ssh-keygen failed for a host key")
        os.replace(f"{tmp}.pub", f"{key}.pub")
        os.replace(tmp, key)
    return pool


def mount(host: HostState, image_rootfs: str) -> None:
    for d in (host.upper, host.work, host.root):
        Path(d).mkdir(parents=True, exist_ok=True)
    if is_mounted(host.root):
        return
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={image_rootfs},upperdir={host.upper},workdir={host.work}", host.root])


def unmount(host: HostState) -> None:
    umount(host.root)


def wipe(host: HostState) -> None:
    """Unmount and throw away every change made to the host."""
    unmount(host)
    if is_mounted(host.root):
        raise HarnessError(f"{host.root} is still mounted")
    rmtree(host.upper)
    rmtree(host.work)


def _write(root: str, rel: str, text: str, mode: int = 0o644) -> None:
    path = Path(root) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    path.write_text(text)
    os.chmod(path, mode)


def provision(host: HostState, all_hosts: list[HostState], pubkey: str) -> None:
    """Write the files that make this host itself. Runs after every (re)mount."""
    root = host.root
    _write(root, "etc/hostname", host.name + "\n")
    lines = ["127.0.0.1\tlocalhost", f"127.0.1.1\t{host.name}",
             "::1\tlocalhost ip6-localhost ip6-loopback"]
    lines += [f"{h.address}\t{h.name}" for h in all_hosts if h.name != host.name]
    _write(root, "etc/hosts", "\n".join(lines) + "\n")
    ssh_dir = Path(root) / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(root, "root/.ssh/authorized_keys", pubkey.strip() + "\n", 0o600)
    pool = rsa_key_pool([host.octet])
    for suffix, mode in (("", 0o600), (".pub", 0o644)):
        dest = Path(root) / f"etc/ssh/ssh_host_rsa_key{suffix}"
        shutil.copyfile(pool / f"rsa-{host.octet}{suffix}", dest)
        os.chmod(dest, mode)
    if host.flavour == "plain":
        # No systemd to make one up: give each plain host its own id.
        _write(root, "etc/machine-id", secrets.token_hex(16) + "\n", 0o444)
    else:
        # Empty (not a lone newline): systemd in the container makes a transient id.
        _write(root, "etc/machine-id", "", 0o444)
        _write(root, "etc/systemd/network/10-gxtax-harness.network",
               "# gxtax test-host harness\n[Match]\nName=eth0\n\n[Network]\n"
               f"Address={host.address}/{network.NETMASK_BITS}\nGateway={network.GATEWAY}\n"
               "LinkLocalAddressing=no\nIPv6AcceptRA=no\n")
        # A systemd host behaves like a real one: package scripts start their services.
        prc = Path(root) / "usr/sbin/policy-rc.d"
        if prc.exists():
            prc.unlink()
