# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The version archive (REL-08): every released package kept, findable, never confused.

Layout under one root (default ``releases/`` beside the playbooks):

    <root>/1.0.2/1.0.2_06/...   one verified package per version, read-only (files 0444, dirs 0555)
    <root>/versions.jsonl       append-only; one line per event, hash-chained like reports/index.jsonl

A line is {"seq", "prev", "version", "package", "manifest_sha256", "path", "stored_at",
"environment", "outcome"}; outcome is ``archived`` (kept, not released anywhere) or the
result of a release to an environment: ``succeeded``, ``failed``, ``rolled_back``.

A version has one content for ever: storing it again with the same manifest is a no-op,
with a different manifest an error. The manifest lists the SHA-256 of every file, so its
own SHA-256 names the content. Release reports are not copied here: they stay in the one
report archive (kind ``release``, meta.version) and find() looks them up there.
Control node only (Python 3.11).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.gxtax.ops.plugins.module_utils import release_package as rp
from ansible_collections.gxtax.ops.plugins.module_utils import release_version as rv
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive

INDEX = "versions.jsonl"
LOCK = ".versions.lock"
GENESIS = "0" * 64
OUTCOMES = ("archived", "succeeded", "failed", "rolled_back")


class VersionArchiveError(Exception):
    """The archive refuses an operation; problems lists every {file, reason}."""

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = problems or [{"file": INDEX, "reason": message}]


def to_version(value):
    """A version number or a package name (1.0.2_06) -> canonical version."""
    text = str(value).strip()
    if "_" in text:
        return rv.version_from_package_name(text)
    return rv.normalize(text)


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _make_read_only(path):
    """Files 0444, directories 0555: a stored version is not edited by accident (REL-08)."""
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o444)
        os.chmod(dirpath, 0o555)  # noqa: S103 - read-only for everyone is the point


class VersionArchive:
    def __init__(self, root):
        self.root = os.path.abspath(root)

    @property
    def index_path(self):
        return os.path.join(self.root, INDEX)

    def relpath(self, version):
        return "%s/%s" % (rv.series(version), rv.package_name(version))

    def package_dir(self, version):
        return os.path.join(self.root, *self.relpath(version).split("/"))

    # -- the index ------------------------------------------------------------------------
    def _lines(self):
        try:
            with open(self.index_path, "rb") as handle:
                return [line.rstrip(b"\n") for line in handle if line.strip()]
        except FileNotFoundError:
            return []

    def entries(self):
        found = []
        for number, line in enumerate(self._lines(), start=1):
            try:
                found.append(json.loads(line))
            except ValueError:
                raise VersionArchiveError("%s 第 %d 行不是有效的 JSON，归档索引已损坏"
                                          % (INDEX, number)) from None
        return found

    def _append(self, entry):
        lines = self._lines()
        entry = dict(entry, seq=len(lines) + 1, prev=_sha(lines[-1]) if lines else GENESIS)
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8")
        fd = os.open(self.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    @contextlib.contextmanager
    def _locked(self, check_mode):
        """One writer at a time; check mode creates nothing, not even the root."""
        if check_mode and not os.path.isdir(self.root):
            yield
            return
        os.makedirs(self.root, mode=0o750, exist_ok=True)
        with open(os.path.join(self.root, LOCK), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield

    # -- store ----------------------------------------------------------------------------
    def store(self, package, environment=None, outcome="archived", when=None, check_mode=False):
        """Keep a verified package (once) and record the event; return what was (to be) done."""
        if outcome not in OUTCOMES:
            raise VersionArchiveError("outcome 只能是 %s，收到 %r" % ("/".join(OUTCOMES), outcome))
        if outcome != "archived" and not environment:
            raise VersionArchiveError("记录发布结果 %s 需要指定 environment（发布到哪个环境）" % outcome)
        checked = rp.verify_dir(package)
        if checked["problems"]:
            raise VersionArchiveError(rp.summary(checked["problems"], "不能归档"), checked["problems"])
        facts = checked["facts"]
        version = facts["version"]
        when = when or _dt.datetime.now().astimezone()
        with self._locked(check_mode):
            entries = self.entries()
            copy = self._needs_copy(version, facts["manifest_sha256"], entries)
            entry = {
                "version": version, "package": facts["package_name"],
                "manifest_sha256": facts["manifest_sha256"], "path": self.relpath(version),
                "stored_at": when.isoformat(timespec="seconds"), "environment": environment or None,
                "outcome": outcome,
            }
            record = self._needs_line(entry, entries)
            if not check_mode:
                if copy:
                    self._copy(package, version, facts["manifest_sha256"])
                if record:
                    entry = self._append(entry)
        return {"changed": bool(copy or record), "copied": copy, "recorded": record,
                "version": version, "package_name": facts["package_name"],
                "path": self.package_dir(version), "entry": entry if record else None}

    def _needs_copy(self, version, manifest_sha, entries):
        """False when the same content is already kept; an error when other content is."""
        known = {e.get("manifest_sha256") for e in entries if e.get("version") == version}
        target = self.package_dir(version)
        stored = None
        if os.path.isdir(target):
            try:
                with open(os.path.join(target, rp.MANIFEST), "rb") as handle:
                    stored = _sha(handle.read())
            except OSError:
                stored = "unreadable"
            known.add(stored)
        known.discard(manifest_sha)
        if known:
            raise VersionArchiveError(
                "版本 %s 已归档，但内容不同（清单 SHA-256 %s），同一版本号不能对应两份内容；"
                "新的内容请使用新的修改版本号 / version %s is already archived with other content"
                % (version, sorted(known)[0][:12], version),
                [{"file": self.relpath(version), "reason": "已归档的同一版本内容不同"}])
        return stored is None

    @staticmethod
    def _needs_line(entry, entries):
        """No line for a repeat: same package already archived, or same result in that environment."""
        if entry["outcome"] == "archived":
            return not any(e.get("version") == entry["version"] for e in entries)
        same_env = [e for e in entries if e.get("environment") == entry["environment"]]
        if not same_env:
            return True
        last = same_env[-1]
        return (last.get("version"), last.get("outcome")) != (entry["version"], entry["outcome"])

    def _copy(self, package, version, manifest_sha):
        target = self.package_dir(version)
        parent = os.path.dirname(target)
        os.makedirs(parent, mode=0o755, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".tmp-%s-" % rv.package_name(version), dir=parent)
        try:
            shutil.rmtree(staging)
            shutil.copytree(package, staging, symlinks=True)
            checked = rp.verify_dir(staging, name=rv.package_name(version))
            if checked["problems"] or checked["facts"]["manifest_sha256"] != manifest_sha:
                raise VersionArchiveError("归档副本与原发布包不一致", checked["problems"])
            _make_read_only(staging)
            os.rename(staging, target)
        except BaseException:
            if os.path.isdir(staging):
                for dirpath, _dirs, _files in os.walk(staging):
                    os.chmod(dirpath, 0o755)  # noqa: S103 - so that the half copy can be removed
                shutil.rmtree(staging, ignore_errors=True)
            raise

    # -- queries --------------------------------------------------------------------------
    def find(self, version, report_root=None):
        """Where a version is kept, its history, its release reports, and the package facts."""
        version = to_version(version)
        history = [e for e in self.entries() if e.get("version") == version]
        target = self.package_dir(version)
        result = {"found": os.path.isdir(target), "version": version,
                  "package_name": rv.package_name(version), "path": target, "history": history,
                  "reports": release_reports(report_root, version) if report_root else [],
                  "package": {}, "problems": []}
        if result["found"]:
            checked = rp.verify_dir(target)
            result["package"], result["problems"] = checked["facts"], checked["problems"]
        elif history:
            result["problems"] = [{"file": self.relpath(version),
                                   "reason": "索引记录了该版本，但归档目录丢失"}]
        return result

    def list_versions(self):
        """Every archived version, oldest number first, with where it was released."""
        by_version = {}
        for entry in self.entries():
            item = by_version.setdefault(entry["version"], {
                "version": entry["version"], "package_name": entry.get("package"),
                "path": os.path.join(self.root, entry.get("path", "")),
                "manifest_sha256": entry.get("manifest_sha256"),
                "first_stored_at": entry.get("stored_at"), "releases": []})
            if entry.get("environment"):
                item["releases"].append({k: entry.get(k) for k in ("environment", "outcome", "stored_at")})
        return [by_version[v] for v in sorted(by_version, key=rv.version_key)]

    def previous(self, environment, version):
        """The version that ran in environment before `version` (the rollback target), or None.

        Chronological, over successful releases only: if `version` was released there, the
        last other version released successfully before it; if not (yet), the version
        running there now. A failed or rolled-back release is never a rollback target.
        """
        version = to_version(version)
        released = [e for e in self.entries()
                    if e.get("environment") == environment and e.get("outcome") == "succeeded"]
        mine = [i for i, e in enumerate(released) if e["version"] == version]
        before = released[:mine[-1]] if mine else released
        for entry in reversed(before):
            if entry["version"] != version:
                return dict(entry, path=os.path.join(self.root, entry["path"]))
        return None

    def verify(self):
        """Problems ({file, reason}) of the whole archive: chain, copies, strays; [] when intact."""
        found, prev, kept = [], GENESIS, {}
        for number, line in enumerate(self._lines(), start=1):
            try:
                entry = json.loads(line)
            except ValueError:
                found.append({"file": INDEX, "reason": "第 %d 行不是有效的 JSON" % number})
                prev = _sha(line)
                continue
            if entry.get("seq") != number or entry.get("prev") != prev:
                found.append({"file": INDEX, "reason": "第 %d 行的序号或哈希链不符（记录被修改、删除或调换）"
                              % number})
            prev = _sha(line)
            sha = entry.get("manifest_sha256")
            if kept.setdefault(entry.get("path"), sha) != sha:
                found.append({"file": entry.get("path"), "reason": "同一版本在索引中对应两份不同内容"})
        for rel, manifest_sha in sorted(kept.items()):
            found.extend(self._verify_copy(rel, manifest_sha))
        found.extend(self._strays(set(kept)))
        return found

    def _verify_copy(self, rel, manifest_sha):
        target = os.path.join(self.root, rel)
        if not os.path.isdir(target):
            return [{"file": rel, "reason": "归档目录丢失"}]
        checked = rp.verify_dir(target)
        found = [{"file": "%s/%s" % (rel, p["file"]), "reason": p["reason"]} for p in checked["problems"]]
        if checked["facts"].get("manifest_sha256") != manifest_sha:
            found.append({"file": "%s/%s" % (rel, rp.MANIFEST), "reason": "清单与归档时记录的 SHA-256 不符"})
        return found

    def _strays(self, kept):
        found = []
        if not os.path.isdir(self.root):
            return found
        for series in sorted(os.listdir(self.root)):
            path = os.path.join(self.root, series)
            if not os.path.isdir(path) or series.startswith("."):
                continue
            for name in sorted(os.listdir(path)):
                if "%s/%s" % (series, name) not in kept:
                    found.append({"file": "%s/%s" % (series, name), "reason": "不在索引 versions.jsonl 中"})
        return found


def release_reports(report_root, version):
    """Release reports of a version in the one report archive (kind release, meta.version)."""
    archive = ReportArchive(report_root)
    found = []
    try:
        entries = archive.entries()
    except ValueError:  # a torn index line: `bin/gxtax-reports verify` names it; list nothing here
        return found
    for entry in entries:
        meta = entry.get("meta") or {}
        if entry.get("kind") != "release" or meta.get("version") != version:
            continue
        run_dir = os.path.join(archive.root, entry.get("path", ""))
        found.append({
            "run_id": entry.get("run_id"), "created": entry.get("created"), "path": run_dir,
            "html": os.path.join(run_dir, "report.html") if "report.html" in entry.get("files", {}) else None,
            "environment": meta.get("environment"), "outcome": meta.get("outcome"),
            "package": meta.get("package"), "title": meta.get("title"),
        })
    return found
