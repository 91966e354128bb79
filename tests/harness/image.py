"""Build and cache the pristine Debian image that every test host overlays.

The image is built once with debootstrap into a temporary directory next to the cache
entry and renamed into place only when complete, under a file lock, so a half-built
image is never used and two concurrent builds do not collide. The cache entry is keyed
by a hash of the suite, variant, package list and recipe version: changing any of them
builds a new image.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shlex
import time
from pathlib import Path

from .util import (FileLock, HarnessError, PrerequisiteError, atomic_write, cache_dir, log,
                   require_root, require_tools, rmtree, run)

SUITE = "bookworm"
VARIANT = "minbase"
#: Installed into the image after debootstrap. systemd, systemd-sysv and dbus are for the
#: systemd (nspawn) flavour; the plain flavour ignores them.
PACKAGES = (
    "dbus",
    "iproute2",
    "openssh-server",
    "procps",
    "python3",
    "python3-apt",
    "sudo",
    "systemd",
    "systemd-sysv",
)
#: Bump when the post-install configuration below changes, to force a rebuild.
RECIPE_VERSION = 3

POLICY_RC_D = "#!/bin/sh\n# gxtax harness: never start daemons from package scripts\nexit 101\n"

#: systemd hosts: host keys are made on first boot (the image has none), before the check.
SSH_UNIT_DROPIN = """\
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
"""

SSHD_DROPIN = """\
# gxtax test-host harness
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
"""


def image_key(packages=PACKAGES) -> str:
    blob = json.dumps({"suite": SUITE, "variant": VARIANT, "packages": sorted(packages),
                       "recipe": RECIPE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def image_dir(packages=PACKAGES) -> Path:
    return cache_dir() / "images" / f"{SUITE}-{image_key(packages)}"


def image_rootfs(packages=PACKAGES) -> Path:
    return image_dir(packages) / "rootfs"


def is_built(packages=PACKAGES) -> bool:
    return (image_dir(packages) / "manifest.json").is_file()


# ------------------------------------------------------------- apt mirror of this machine

def _parse_one_line(text: str):
    for raw in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", raw.split("#", 1)[0])  # drop comments, [options]
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "deb":
            yield parts[1], parts[2], parts[3:]


def _parse_deb822(text: str):
    for para in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in para.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
                continue
            if ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                yield uri, suite, fields.get("components", "").split()


def machine_apt_sources(suite: str = SUITE) -> dict[str, str]:
    """Map {suite, suite-updates, suite-security} -> mirror URI, read from this machine's
    apt configuration (so no mirror host name is written in the repository)."""
    override = os.environ.get("GXTAX_HARNESS_MIRROR")
    if override:
        return {suite: override}
    wanted = {suite, f"{suite}-updates", f"{suite}-security"}
    found: dict[str, str] = {}
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*"))
    for name in files:
        try:
            text = Path(name).read_text()
        except OSError:
            continue
        entries = _parse_deb822(text) if name.endswith(".sources") else _parse_one_line(text)
        for uri, st, comps in entries:
            if st in wanted and "main" in comps and st not in found:
                found[st] = uri.rstrip("/")
    if suite not in found:
        raise PrerequisiteError(
            f"no apt source for Debian '{suite} main' in /etc/apt/sources.list*; "
            "set GXTAX_HARNESS_MIRROR to a Debian mirror URL")
    return found


def sources_list(sources: dict[str, str]) -> str:
    return "".join(f"deb {uri} {st} main\n" for st, uri in sorted(sources.items()))


# ------------------------------------------------------------------------- build

def ensure_image(packages=PACKAGES, force: bool = False) -> Path:
    """Return the rootfs of the cached image, building it first if needed."""
    require_root()
    final = image_dir(packages)
    if is_built(packages) and not force:
        return final / "rootfs"
    require_tools("debootstrap", "chroot", "unshare")
    images = final.parent
    images.mkdir(parents=True, exist_ok=True)
    with FileLock(images / ".build.lock"):
        if is_built(packages) and not force:
            return final / "rootfs"  # someone else built it while we waited
        # Anything left in a temp dir is from a build that died: we hold the lock.
        for stale in images.glob(".tmp-*"):
            rmtree(stale)
        if final.exists() and _in_use(final):
            raise HarnessError(f"image {final.name} is in use by running hosts; "
                               "`python -m tests.harness down` before rebuilding it")
        tmp = images / f".tmp-{final.name}-{os.getpid()}"
        tmp.mkdir()
        try:
            _build(tmp, packages)
        except BaseException:
            rmtree(tmp)
            raise
        if final.exists():
            old = images / f".tmp-old-{final.name}-{os.getpid()}"
            os.rename(final, old)
            rmtree(old)
        os.rename(tmp, final)
        prune_images(keep=final)
    return final / "rootfs"


def _in_use(image: Path) -> bool:
    """True if a recorded run uses the image or an overlay has it as its lower dir."""
    from .state import RunState, all_runs
    for name in all_runs():
        try:
            rs = RunState.load(name)
        except HarnessError:
            return True  # unreadable state: assume the worst
        if rs and Path(rs.image).parent == image:
            return True
    with open("/proc/self/mounts") as fh:
        return f"lowerdir={image}/" in fh.read()


def prune_images(keep: Path) -> list[Path]:
    """Delete cached images of other keys that no run uses (not recorded, not mounted)."""
    removed = []
    for d in keep.parent.iterdir():
        if d == keep or d.name.startswith(".") or not d.is_dir():
            continue
        if _in_use(d):
            continue
        log.info("removing unused cached image %s", d.name)
        rmtree(d)
        removed.append(d)
    return removed


def _build(tmp: Path, packages) -> None:
    started = time.monotonic()
    rootfs = tmp / "rootfs"
    sources = machine_apt_sources()
    logfile = tmp / "build.log"
    log.info("building image %s (debootstrap %s %s)", tmp.name, VARIANT, SUITE)

    def step(cmd, timeout=1800):
        res = run(cmd, check=False, timeout=timeout)
        with open(logfile, "a") as fh:
            fh.write(f"$ {' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}\n")
        if res.returncode != 0:
            raise HarnessError(f"image build step failed ({res.returncode}): "
                               f"{' '.join(map(str, cmd))}\n{res.stderr[-3000:]}\n"
                               f"{res.stdout[-3000:]}")
        return res

    step(["debootstrap", f"--variant={VARIANT}", "--components=main", SUITE, rootfs,
          sources[SUITE]])
    # Before anything else is installed: package scripts must not start daemons in the
    # control machine's own namespaces.
    prc = rootfs / "usr/sbin/policy-rc.d"
    prc.write_text(POLICY_RC_D)
    prc.chmod(0o755)
    (rootfs / "etc/apt/sources.list").write_text(sources_list(sources))
    (rootfs / "etc/apt/apt.conf.d/90gxtax-harness").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
        'Acquire::Retries "3";\n')

    pkgs = " ".join(shlex.quote(p) for p in sorted(packages))
    r = shlex.quote(str(rootfs))
    script = f"""set -e
mount -t proc proc {r}/proc
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
chroot {r} apt-get update
chroot {r} apt-get -y -o Dpkg::Options::=--force-confdef dist-upgrade
chroot {r} apt-get -y install {pkgs}
chroot {r} apt-get clean
chroot {r} systemctl enable systemd-networkd.service
chroot {r} systemctl mask systemd-networkd-wait-online.service
chroot {r} dpkg-query -W -f '${{Package}} ${{Version}}\\n' > {r}/../packages.txt
umount {r}/proc
"""
    # A private mount namespace: /proc of the chroot vanishes even if we are killed.
    step(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script])

    # Per-host identity is created at start-up, never baked into the image.
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")  # empty, not "\n": nspawn rejects a lone newline
    dbus_id = rootfs / "var/lib/dbus/machine-id"
    if dbus_id.exists() or dbus_id.is_symlink():
        dbus_id.unlink()
    (rootfs / "etc/ssh/sshd_config.d").mkdir(exist_ok=True)
    (rootfs / "etc/ssh/sshd_config.d/gxtax-harness.conf").write_text(SSHD_DROPIN)
    unit_d = rootfs / "etc/systemd/system/ssh.service.d"
    unit_d.mkdir(parents=True, exist_ok=True)
    (unit_d / "gxtax-harness.conf").write_text(SSH_UNIT_DROPIN)
    ssh_dir = rootfs / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    ssh_dir.chmod(0o700)
    # Hosts have no route to Debian: they use the harness's local repository instead.
    (rootfs / "etc/apt/sources.list").write_text(
        "# gxtax harness: no mirror here; see tests/harness/aptrepo.py\n")
    rmtree(rootfs / "var/lib/apt/lists")
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
    (rootfs / "etc/hostname").write_text("localhost\n")
    # Hosts install Recommends like any Debian machine; only the build skipped them.
    (rootfs / "etc/apt/apt.conf.d/90gxtax-harness").unlink()

    manifest = {
        "suite": SUITE, "variant": VARIANT, "packages": sorted(packages),
        "recipe": RECIPE_VERSION, "key": image_key(packages), "mirrors": sources,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.monotonic() - started, 1),
    }
    atomic_write(tmp / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    log.info("image built in %.1fs", manifest["build_seconds"])
