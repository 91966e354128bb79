"""A local apt repository served on the bridge, for hosts that have no route to Debian.

    repo = h.apt_repo()                 # started once per run, bound to 10.231.0.1 only
    repo.add(["zabbix-agent"])          # apt-get download of the resolved set + re-index
    repo.configure(host)                # sources.list -> this repo ([trusted=yes]), apt update
    new = repo.rebuild_higher("sensible-utils")   # same package, higher version, re-indexed

The .debs are downloaded with this machine's apt configuration into the cache (once), then
linked into the run's repository directory (a flat repository: Packages, Packages.gz and a
Release file at its root, the .debs in pool/).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from . import network
from .util import (FileLock, HarnessError, alive, atomic_write, cache_dir, kill_wait, log, proc_starttime,
                   require_tools, run)

SERVER_SCRIPT = Path(__file__).with_name("_serve.py")


def deb_fields(deb: Path) -> dict[str, str]:
    out = run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture"]).stdout
    fields = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        fields[k.strip()] = v.strip()
    return fields


def deb_filename(package: str, version: str, arch: str) -> str:
    return f"{package}_{version.split(':', 1)[-1]}_{arch}.deb"


class AptRepo:
    def __init__(self, run_state, image_dir: Path, ssh):
        self.rs = run_state
        self.dir = Path(run_state.dir) / "apt"
        self.pool = self.dir / "pool"
        self.image_dir = image_dir
        self._ssh = ssh
        self.proc: subprocess.Popen | None = None

    # ---------------------------------------------------------------- server
    @property
    def port(self) -> int | None:
        return (self.rs.apt or {}).get("port")

    @property
    def url(self) -> str:
        return f"http://{network.GATEWAY}:{self.port}/"

    @property
    def sources_line(self) -> str:
        return f"deb [trusted=yes] {self.url} ./\n"

    def running(self) -> bool:
        a = self.rs.apt or {}
        return bool(a.get("pid")) and alive(a["pid"], a.get("pid_start"))

    def start(self) -> "AptRepo":
        if self.running():
            return self
        require_tools("dpkg-scanpackages", "dpkg-deb", "apt-get")
        self.pool.mkdir(parents=True, exist_ok=True)
        if not (self.dir / "Packages").exists():
            self.index()
        port_file = self.dir.parent / "apt.port"
        port_file.unlink(missing_ok=True)
        self.rs.apt = {"pid": None, "pid_start": None, "port": None, "dir": str(self.dir)}
        self.rs.save()
        with open(self.dir.parent / "apt.log", "ab") as logf:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(SERVER_SCRIPT), str(self.dir), network.GATEWAY,
                 str(port_file)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True)
        self.rs.apt.update(pid=self.proc.pid, pid_start=proc_starttime(self.proc.pid))
        self.rs.save()
        deadline = time.monotonic() + 15
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise HarnessError("the apt repository server did not start; see "
                                   f"{self.dir.parent / 'apt.log'}")
            time.sleep(0.02)
        self.rs.apt["port"] = int(port_file.read_text())
        self.rs.save()
        if not network.wait_tcp(network.GATEWAY, self.port, 10):
            raise HarnessError(f"apt repository not answering on {self.url}")
        return self

    def stop(self) -> None:
        stop_server(self.rs)
        if self.proc is not None:
            self.proc.wait(timeout=10)
            self.proc = None

    # ---------------------------------------------------------------- content
    def _image_versions(self) -> dict[str, str]:
        versions = {}
        path = self.image_dir / "packages.txt"
        if path.exists():
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2:
                    versions[parts[0]] = parts[1]
        return versions

    @staticmethod
    def resolve(packages) -> list[str]:
        """The packages plus everything they depend on (recursively), real packages only."""
        res = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                   "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                   *packages])
        names = []
        for line in res.stdout.splitlines():
            if line and not line[0].isspace() and not line.startswith("<") and ":" not in line:
                names.append(line.strip())
        return sorted(set(names))

    def add(self, packages, resolve: bool = True, include_image: bool = False) -> list[Path]:
        """Download packages (with their dependencies if resolve) into the repository.

        Dependencies the image already has at the candidate version are left out, unless
        include_image. Packages named explicitly are always added. Returns the .debs added.
        """
        packages = list(packages)
        if not packages:
            return []
        wanted = self.resolve(packages) if resolve else sorted(set(packages))
        res = run(["apt-get", "download", "--print-uris", *wanted], check=False)
        if res.returncode != 0:
            # This machine's package lists are missing or older than the mirror.
            _apt_update()
            if resolve:
                wanted = self.resolve(packages)
            res = run(["apt-get", "download", "--print-uris", *wanted])
        uris = res.stdout
        image = self._image_versions()
        todo = []  # (url, filename)
        for line in uris.splitlines():
            m = re.match(r"'([^']+)'\s+(\S+)\s", line)
            if not m:
                continue
            url, fname = m.groups()
            name, version = fname.split("_")[:2]
            version = urllib.parse.unquote(version)
            if (not include_image and name not in packages
                    and image.get(name) == version):
                continue
            todo.append((url, fname))
        debs_cache = cache_dir() / "debs"
        debs_cache.mkdir(parents=True, exist_ok=True)
        missing = sorted({f.split("_")[0] for _u, f in todo if not (debs_cache / f).exists()})
        if missing:
            log.info("downloading %d packages for the local apt repository", len(missing))
            with FileLock(debs_cache / ".download.lock"):  # runs share the download cache
                res = run(["apt-get", "download", *missing], cwd=debs_cache, check=False,
                          timeout=1800)
            if res.returncode != 0 and not _updated:
                # Stale lists name files the mirror no longer has: update, start again.
                _apt_update()
                return self.add(packages, resolve=resolve, include_image=include_image)
            if res.returncode != 0:
                raise HarnessError(f"apt-get download failed: {res.stderr.strip()[-2000:]}"
                                   " (is 'apt-get update' done on the control machine?)")
        added = []
        for _url, fname in todo:
            # apt-get download names files with the epoch URL-escaped (%3a).
            src = debs_cache / fname
            if not src.exists():
                alt = debs_cache / urllib.parse.unquote(fname)
                src = alt if alt.exists() else src
            if not src.exists():
                raise HarnessError(f"downloaded package not found: {src}")
            added.append(self.add_deb(src, reindex=False))
        self.index()
        return added

    def add_deb(self, deb, reindex: bool = True) -> Path:
        deb = Path(deb)
        self.pool.mkdir(parents=True, exist_ok=True)
        # Pool names follow Debian's: no epoch (apt-get download keeps it, URL-escaped).
        name, version, arch = urllib.parse.unquote(deb.name)[:-len(".deb")].split("_")
        dest = self.pool / deb_filename(name, version, arch)
        if not dest.exists():
            try:
                os.link(deb, dest)
            except OSError:
                shutil.copy2(deb, dest)
        if reindex:
            self.index()
        return dest

    def rebuild_higher(self, package: str, suffix: str = "+gxt1", deb=None) -> str:
        """Rebuild a package with version + suffix (dpkg-deb -R / edit / -b), add it, re-index.

        The base .deb is `deb`, else the one in the repository, else apt-get download.
        Returns the new version.
        """
        if deb is None:
            found = sorted(self.pool.glob(f"{package}_*.deb"))
            if not found:
                found = self.add([package], resolve=False, include_image=True)
            deb = found[-1]
        deb = Path(deb)
        with tempfile.TemporaryDirectory(prefix="gxtax-rebuild-") as tmp:
            tree = Path(tmp) / "tree"
            run(["dpkg-deb", "-R", deb, tree])
            control = tree / "DEBIAN" / "control"
            text = control.read_text()
            m = re.search(r"^Version:\s*(\S+)\s*$", text, re.M)
            if not m:
                raise HarnessError(f"no Version in {deb}")
            new_version = m.group(1) + suffix
            control.write_text(text[:m.start(1)] + new_version + text[m.end(1):])
            fields = deb_fields(deb)
            out = Path(tmp) / deb_filename(package, new_version, fields["Architecture"])
            run(["dpkg-deb", "-Zgzip", "-b", tree, out])
            shutil.copy2(out, self.pool / out.name)
        self.index()
        return new_version

    def index(self) -> None:
        """dpkg-scanpackages, Packages.gz and a Release file (so apt accepts the repo)."""
        self.pool.mkdir(parents=True, exist_ok=True)
        packages = run(["dpkg-scanpackages", "--multiversion", "pool", "/dev/null"],
                       cwd=self.dir).stdout
        atomic_write(self.dir / "Packages", packages)
        with gzip.open(self.dir / ".Packages.gz.tmp", "wb") as fh:
            fh.write(packages.encode())
        os.replace(self.dir / ".Packages.gz.tmp", self.dir / "Packages.gz")
        lines = ["Origin: gxtax-harness", "Label: gxtax-harness", "Suite: harness",
                 "Codename: harness",
                 "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
                 "Architectures: amd64 all", "Components: main",
                 "Description: gxtax test-host harness local repository"]
        for algo, title in (("md5", "MD5Sum"), ("sha256", "SHA256")):
            lines.append(f"{title}:")
            for name in ("Packages", "Packages.gz"):
                data = (self.dir / name).read_bytes()
                lines.append(f" {hashlib.new(algo, data).hexdigest()} {len(data)} {name}")
        atomic_write(self.dir / "Release", "\n".join(lines) + "\n")

    # ---------------------------------------------------------------- hosts
    def configure(self, host, update: bool = True):
        """Point the host's apt at this repository only; then apt-get update."""
        self.start()
        root = Path(host.root)
        (root / "etc/apt/sources.list").write_text(
            "# gxtax harness local repository\n" + self.sources_line)
        sld = root / "etc/apt/sources.list.d"
        if sld.is_dir():
            for f in sld.iterdir():
                if f.suffix in (".list", ".sources"):
                    f.unlink()
        if update:
            res = self._ssh(host, "apt-get update -q", timeout=120)
            if res.returncode != 0:
                raise HarnessError(f"apt-get update on {host.name} failed:\n"
                                   f"{res.stdout[-1500:]}\n{res.stderr[-1500:]}")
            return res
        return None


_updated = False


def _apt_update() -> None:
    """apt-get update on the control machine, at most once per process."""
    global _updated  # noqa: PLW0603
    if not _updated:
        log.info("apt-get update on the control machine")
        run(["apt-get", "update", "-q"], timeout=600)
        _updated = True


def stop_server(rs) -> None:
    a = rs.apt or {}
    if a.get("pid"):
        kill_wait([(a["pid"], a.get("pid_start"))], 10)
