"""The Python API: Harness (a run of N hosts of one flavour), Host, and down().

    with Harness(count=3, flavour="plain", groups={"publicity": ["gxt-h1"]}) as h:
        h.hosts                      # [Host(name, address, root, flavour, netns)]
        h.inventory_path             # YAML inventory for ansible / ansible-runner
        h.ssh(h.hosts[0], "id -u")   # subprocess.CompletedProcess (text)
        h.reset(h.hosts[0])          # back to the pristine image, same address and name
        repo = h.apt_repo()          # local apt repository served on the bridge
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import image, inventory, network, nspawn, plain, rootfs
from .aptrepo import AptRepo, stop_server
from .state import (HostState, RunState, all_runs, check_run_name, global_lock, run_dir,
                    used_octets)
from .util import (HarnessError, alive, is_mounted, kill_wait, log, mountpoints,
                   proc_starttime, require_root, require_tools, rmtree, run, state_root, umount)

FLAVOURS = ("plain", "systemd")
NAME_PREFIX = {"plain": "gxt-h", "systemd": "gxt-s"}
READY_TIMEOUT = {"plain": 20.0, "systemd": 90.0}
#: Above this many systemd hosts in all, fs.inotify.max_user_instances is raised.
INOTIFY_THRESHOLD = 8
INOTIFY_VALUE = 1024
INOTIFY_FILE = "/proc/sys/fs/inotify/max_user_instances"


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    root: Path
    flavour: str
    netns: str

    def __str__(self) -> str:
        return self.name


def _tools(flavour: str) -> tuple[str, ...]:
    base = ("ip", "unshare", "chroot", "mount", "umount", "setpriv", "ssh", "ssh-keygen",
            "debootstrap")
    return base + (("systemd-nspawn",) if flavour == "systemd" else ())


def prerequisites(flavour: str = "plain") -> None:
    """Raise PrerequisiteError if this machine cannot run hosts of this flavour."""
    require_root()
    require_tools(*_tools(flavour))


class Harness:
    def __init__(self, count: int = 3, flavour: str = "plain", name: str | None = None,
                 groups: dict[str, list[str]] | None = None, names: list[str] | None = None,
                 persistent: bool = False):
        if flavour not in FLAVOURS:
            raise HarnessError(f"flavour must be one of {FLAVOURS}, not {flavour!r}")
        if names is not None and len(names) != count:
            raise HarnessError("names must have `count` entries")
        if count < 1 or count > network.LAST_HOST_OCTET - network.FIRST_HOST_OCTET + 1:
            raise HarnessError(f"bad host count {count}")
        self.count = count
        self.flavour = flavour
        self.name = check_run_name(name or f"t{secrets.token_hex(4)}")
        self.groups = {g: [str(m) for m in ms] for g, ms in (groups or {}).items()}
        self.names = names or [f"{NAME_PREFIX[flavour]}{i}" for i in range(1, count + 1)]
        #: persistent runs (the CLI's) are never treated as stale leftovers of a dead test.
        self.persistent = persistent
        self.rs: RunState | None = None
        self._procs: dict[str, subprocess.Popen] = {}
        self._repo: AptRepo | None = None

    # ------------------------------------------------------------ construction
    @classmethod
    def attach(cls, name: str) -> "Harness":
        """A Harness for a run that is already up (made by the CLI or another process)."""
        rs = RunState.load(name)
        if rs is None:
            raise HarnessError(f"no run named {name!r} (see `python -m tests.harness status`)")
        h = cls(count=len(rs.hosts) or 1, flavour=rs.flavour, name=name, groups=rs.groups,
                names=[x.name for x in rs.hosts] or None, persistent=True)
        h.rs = rs
        return h

    def __enter__(self) -> "Harness":
        return self.up()

    def __exit__(self, *exc) -> bool:
        self.down()
        return False

    # ------------------------------------------------------------ properties
    @property
    def dir(self) -> Path:
        return run_dir(self.name)

    @property
    def key_file(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def inventory_path(self) -> Path:
        return self.dir / "inventory.yml"

    @property
    def hosts(self) -> list[Host]:
        if self.rs is None:
            return []
        return [Host(h.name, h.address, Path(h.root), h.flavour, h.netns) for h in self.rs.hosts]

    def host(self, name) -> Host:
        key = name.name if isinstance(name, Host) else str(name)
        for h in self.hosts:
            if key in (h.name, h.address):
                return h
        raise HarnessError(f"run {self.name!r} has no host {key!r}")

    def _hs(self, host) -> HostState:
        assert self.rs is not None
        return self.rs.host(host.name if isinstance(host, Host) else str(host))

    # ------------------------------------------------------------ up
    def up(self) -> "Harness":
        prerequisites(self.flavour)
        down_stale()
        image_root = image.ensure_image()
        started = time.monotonic()
        with global_lock():
            if RunState.load(self.name) is not None or self.dir.exists():
                raise HarnessError(f"run {self.name!r} exists already; "
                                   f"`python -m tests.harness down --name {self.name}` first")
            free = [o for o in range(network.FIRST_HOST_OCTET, network.LAST_HOST_OCTET + 1)
                    if o not in used_octets()]
            if len(free) < self.count:
                raise HarnessError("no free addresses left on the bridge")
            rs = RunState(name=self.name, flavour=self.flavour, image=str(image_root),
                          groups=self.groups)
            rs.owner_pid = None if self.persistent else os.getpid()
            rs.owner_start = None if self.persistent else proc_starttime(os.getpid())
            hosts_dir = rs.dir / "hosts"
            for hname, octet in zip(self.names, free[:self.count], strict=True):
                d = hosts_dir / hname
                rs.hosts.append(HostState(
                    name=hname, flavour=self.flavour, octet=octet,
                    address=network.address(octet),
                    netns=f"{network.NETNS_PREFIX}{self.name}-{hname}",
                    veth=network.veth_name(octet), root=str(d / "root"),
                    upper=str(d / "upper"), work=str(d / "work"), log=str(d / "console.log")))
            rs.save()  # recorded before anything is created
            self.rs = rs
        try:
            with global_lock():
                network.ensure_bridge()
            if self.flavour == "systemd":
                _raise_inotify_if_needed()
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                 f"gxtax-harness-{self.name}", "-f", self.key_file])
            self.known_hosts.touch(mode=0o600)
            rootfs.rsa_key_pool([hs.octet for hs in rs.hosts])
            for hs in rs.hosts:
                network.create_host_net(hs.netns, hs.octet,
                                        configure=(self.flavour == "plain"))
                self._start(hs)
            for hs in rs.hosts:
                self._wait_ready(hs)
            self.write_inventory()
        except BaseException:
            log.error("run %s failed to come up; tearing it down", self.name)
            self.down()
            raise
        log.info("run %s: %d %s hosts up in %.2fs", self.name, self.count, self.flavour,
                 time.monotonic() - started)
        return self

    def _pubkey(self) -> str:
        return Path(str(self.key_file) + ".pub").read_text()

    def _start(self, hs: HostState) -> None:
        assert self.rs is not None
        rootfs.mount(hs, self.rs.image)
        rootfs.provision(hs, self.rs.hosts, self._pubkey())
        Path(hs.log).parent.mkdir(parents=True, exist_ok=True)
        if hs.flavour == "plain":
            proc = plain.start(hs)
        else:
            proc = nspawn.start(self.name, hs)
        self._procs[hs.name] = proc
        self.rs.save()

    def _wait_ready(self, hs: HostState) -> None:
        timeout = READY_TIMEOUT[hs.flavour]
        mod = plain if hs.flavour == "plain" else nspawn
        if not network.wait_tcp(hs.address, 22, timeout, alive=lambda: mod.running(hs)):
            raise HarnessError(f"host {hs.name} ({hs.address}) did not start sshd within "
                               f"{timeout:.0f}s; last console lines:\n{_tail(hs.log)}")
        if hs.flavour == "systemd":
            res = self.ssh(hs.name, "systemctl is-system-running --wait", timeout=timeout)
            state = res.stdout.strip()
            if state not in ("running", "degraded"):
                raise HarnessError(f"systemd on {hs.name} is {state!r} ({res.stderr.strip()})")
            if state == "degraded":
                failed = self.ssh(hs.name, "systemctl --failed --no-legend --plain").stdout
                log.warning("%s booted degraded; failed units:\n%s", hs.name, failed)

    # ------------------------------------------------------------ operations
    def ssh_command(self, host, command: str | None = None) -> list[str]:
        h = self.host(host)
        cmd = ["ssh", "-i", str(self.key_file), "-o", "BatchMode=yes",
               *inventory.ssh_options(str(self.known_hosts)), f"root@{h.address}"]
        if command is not None:
            cmd.append(command)
        return cmd

    def ssh(self, host, command: str, check: bool = False, timeout: float = 300,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run a shell command on a host over SSH (as root). Output is text."""
        res = subprocess.run(self.ssh_command(host, command), capture_output=True, text=True,
                             timeout=timeout, input=input,
                             stdin=None if input is not None else subprocess.DEVNULL)
        if check and res.returncode != 0:
            raise HarnessError(f"ssh {host} {command!r} failed ({res.returncode}):\n"
                               f"{res.stdout[-1500:]}\n{res.stderr[-1500:]}")
        return res

    def reset(self, host) -> Host:
        """Throw away every change to the host: stop it, new overlay, start it again."""
        hs = self._hs(host)
        started = time.monotonic()
        self._stop(hs)
        rootfs.wipe(hs)
        run(["ssh-keygen", "-R", hs.address, "-f", self.known_hosts], check=False)
        self._start(hs)
        self._wait_ready(hs)
        log.info("reset %s in %.2fs", hs.name, time.monotonic() - started)
        return self.host(hs.name)

    def power_off(self, host) -> None:
        """Kill every process of the host at once, as a crash or power cut would.

        The host stays down (unreachable) until reset(); teardown still removes it.
        """
        self._stop(self._hs(host))

    def mount_filesystem(self, host, mountpoint: str, size_mb: int, fill_pct: float) -> None:
        """Mount a fresh ext4 filesystem of size_mb at mountpoint inside a plain host and fill it.

        Lets a test put one filesystem above a threshold without touching the
        machine's own disks. The loop device is released when the host stops.
        """
        hs = self._hs(host)
        if hs.flavour != "plain" or hs.pid is None:
            raise HarnessError(f"{hs.name}: mount_filesystem needs a running plain host")
        image_file = self.dir / f"{hs.name}-fs-{size_mb}m.img"
        run(["truncate", "-s", f"{size_mb}M", str(image_file)])
        run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image_file)])
        target = Path(hs.root) / mountpoint.lstrip("/")
        enter = ["nsenter", "--target", str(hs.pid), "--mount", "--"]
        run([*enter, "mkdir", "-p", str(target)])
        run([*enter, "mount", "-o", "loop", str(image_file), str(target)])
        res = run([*enter, "df", "--output=size,avail", "-k", str(target)])
        size_kb, avail_kb = (int(v) for v in res.stdout.split()[-2:])
        want_used_kb = int(size_kb * fill_pct / 100)
        fill_kb = max(0, want_used_kb - (size_kb - avail_kb))
        run([*enter, "fallocate", "-l", f"{fill_kb}K", str(target / "fill")])

    def _stop(self, hs: HostState) -> None:
        if hs.flavour == "plain":
            survivors = plain.stop(hs)
        else:
            survivors = nspawn.stop(self.name, hs)
        proc = self._procs.pop(hs.name, None)
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if survivors:
            raise HarnessError(f"processes of {hs.name} survived SIGKILL: {survivors}")
        if self.rs is not None:
            self.rs.save()

    def write_inventory(self, path=None, groups: dict[str, list[str]] | None = None) -> Path:
        """Write the inventory (to inventory_path by default) with these extra groups."""
        assert self.rs is not None
        groups = self.groups if groups is None else {
            g: [m.name if isinstance(m, Host) else str(m) for m in ms]
            for g, ms in groups.items()}
        target = Path(path) if path else self.inventory_path
        inventory.write(target, self.hosts, self.flavour, str(self.key_file),
                        str(self.known_hosts), groups)
        if path is None:
            self.rs.inventory = str(target)
            self.rs.save()
        return target

    def apt_repo(self, packages=(), resolve: bool = True) -> AptRepo:
        """The run's local apt repository (started on first use), with packages added."""
        assert self.rs is not None
        if self._repo is None:
            img_dir = Path(self.rs.image).parent
            self._repo = AptRepo(self.rs, img_dir, self.ssh)
        self._repo.start()
        if packages:
            self._repo.add(packages, resolve=resolve)
        return self._repo

    # ------------------------------------------------------------ down
    def down(self) -> None:
        """Tear this run down (a no-op if it never came up or is down already)."""
        if self.rs is None:
            return
        down(self.name, procs=self._procs)
        self.rs = None
        self._procs.clear()
        if self._repo is not None and self._repo.proc is not None:
            try:
                self._repo.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._repo = None


def _tail(path, lines: int = 25) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no console log)"


def _raise_inotify_if_needed() -> None:
    total = 0
    for name in all_runs():
        rs = RunState.load(name)
        if rs and rs.flavour == "systemd":
            total += len(rs.hosts)
    orig = state_root() / ".inotify-orig"
    current = int(Path(INOTIFY_FILE).read_text())
    if total > INOTIFY_THRESHOLD and current < INOTIFY_VALUE:
        if not orig.exists():
            orig.write_text(str(current))
        Path(INOTIFY_FILE).write_text(str(INOTIFY_VALUE))


def _restore_inotify() -> None:
    orig = state_root() / ".inotify-orig"
    if orig.exists():
        try:
            Path(INOTIFY_FILE).write_text(orig.read_text().strip())
        finally:
            orig.unlink()


def down(name: str | None = None, procs: dict | None = None) -> list[str]:
    """Tear down one run, or every recorded run (and sweep leftovers) when name is None.

    Works from the state on disk alone: after a failed test, a killed pytest or a CLI `up`.
    Returns the names of the runs taken down.
    """
    require_root()
    names = [name] if name else all_runs()
    done = []
    for n in names:
        _down_one(n, procs or {})
        done.append(n)
    with global_lock():
        if name is None:
            sweep()
        if not all_runs():
            network.remove_bridge()
            nspawn.remove_empty_parents()
            _restore_inotify()
    return done


def _down_one(name: str, procs: dict) -> None:
    rs = RunState.load(name)
    d = run_dir(name)
    if rs is not None:
        stop_server(rs)
        for hs in rs.hosts:
            if hs.flavour == "plain":
                plain.stop(hs)
            else:
                nspawn.stop(name, hs)
            proc = procs.get(hs.name)
            if proc is not None:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            umount(hs.root)
            network.delete_host_net(hs.netns, hs.octet)
    # Anything still mounted below the run's directory (e.g. a half-made host).
    for mp in sorted(mountpoints(), reverse=True):
        if mp.startswith(str(d) + "/"):
            umount(mp)
    rmtree(d)


def sweep() -> None:
    """Remove leftovers that no recorded run owns (a run whose state file was lost)."""
    recorded_ns = set()
    recorded_octets = set()
    for n in all_runs():
        rs = RunState.load(n)
        if rs:
            recorded_ns.update(h.netns for h in rs.hosts)
            recorded_octets.update(h.octet for h in rs.hosts)
    for ns in network.netns_list():
        if ns.startswith(network.NETNS_PREFIX) and ns not in recorded_ns:
            log.warning("sweeping orphaned network namespace %s", ns)
            kill_wait([(p, proc_starttime(p)) for p in network.netns_pids(ns)], 10)
            run(["ip", "netns", "del", ns], check=False)
    for link in network.links():
        if link.startswith(network.VETH_PREFIX) and link[len(network.VETH_PREFIX):].isdigit() \
                and int(link[len(network.VETH_PREFIX):]) not in recorded_octets:
            run(["ip", "link", "del", link], check=False)
    for cg in nspawn.leftover_cgroups():
        run_host = os.path.basename(cg)
        if not any(run_host.startswith(n + "-") for n in all_runs()):
            nspawn.remove_cgroup(cg)
    root = str(state_root())
    runs = all_runs()
    for pid, cmdline in _processes_under(root):
        if not any(f"{root}/{n}/" in cmdline for n in runs):
            log.warning("sweeping orphaned process %d: %s", pid, cmdline[:200])
            kill_wait([(pid, proc_starttime(pid))], 10)
    for mp in sorted(mountpoints(), reverse=True):
        if mp.startswith(root + "/") and not any(mp.startswith(f"{root}/{n}/")
                                                 for n in all_runs()):
            umount(mp)


def _processes_under(root: str) -> list[tuple[int, str]]:
    """Live processes whose command line names a path below the state root."""
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            cmdline = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"{root}/" in cmdline and alive(int(p.name)):
            found.append((int(p.name), cmdline))
    return found


def down_stale() -> list[str]:
    """Tear down runs made through the API by processes that are gone (a killed pytest)."""
    stale = []
    for n in all_runs():
        try:
            rs = RunState.load(n)
        except HarnessError:
            continue
        if rs is None or rs.owner_pid is None:
            continue
        if not alive(rs.owner_pid, rs.owner_start):
            stale.append(n)
    for n in stale:
        log.warning("tearing down run %s left by a process that is gone", n)
        down(n)
    return stale


def status() -> list[dict]:
    out = []
    for n in all_runs():
        rs = RunState.load(n)
        if rs is None:
            out.append({"name": n, "state": "incomplete (no state file)"})
            continue
        hosts = []
        for hs in rs.hosts:
            mod = plain if hs.flavour == "plain" else nspawn
            hosts.append({"name": hs.name, "address": hs.address,
                          "running": mod.running(hs), "mounted": is_mounted(hs.root)})
        out.append({"name": n, "flavour": rs.flavour, "inventory": rs.inventory,
                    "apt_repo": (f"http://{network.GATEWAY}:{rs.apt['port']}/"
                                 if rs.apt and rs.apt.get("port") else None),
                    "hosts": hosts})
    return out


def quote(cmd) -> str:
    return " ".join(shlex.quote(str(c)) for c in cmd)
