# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one report archive (DESIGN.md, "One archive for every report").

Layout: <root>/<kind>/YYYY/MM/DD/<run-id>/{report.json,report.html,summary.txt}
and one append-only <root>/index.jsonl. Each index line carries the SHA-256 of
every file of its run and the SHA-256 of the previous line, so deleting,
editing or reordering anything is found by verify(). Files are written
atomically and never overwritten. Runs on the control node only.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import secrets
import tempfile

INDEX_NAME = "index.jsonl"
LOCK_NAME = ".index.lock"
GENESIS = "0" * 64
KIND_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{6}$")


class ArchiveError(Exception):
    """A report could not be archived, or the archive is not intact."""


def new_run_id(now=None):
    """A sortable, unique run id such as 20261127T083000-1a2b3c."""
    now = now or _dt.datetime.now()
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_new_file(path, data):
    """Write data to path atomically; fail if path already exists.

    The bytes go to a temporary file in the same directory, are flushed to
    disk, then hard-linked to the final name: link() refuses an existing
    name, so a report is never overwritten and never seen half-written.
    """
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise ArchiveError("refusing to overwrite existing report file %s" % path) from None
    finally:
        os.unlink(tmp)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReportArchive:
    """Write reports into, and verify, one archive root."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    @property
    def index_path(self):
        return os.path.join(self.root, INDEX_NAME)

    def run_dir(self, kind, run_id, when):
        return os.path.join(self.root, kind, when.strftime("%Y"), when.strftime("%m"),
                            when.strftime("%d"), run_id)

    def store(self, kind, files, when=None, run_id=None, meta=None):
        """Archive one run's files; return its index entry.

        files maps a plain file name to bytes. meta is a small dict copied
        into the index entry (status counts, title) for listing without
        opening every report.
        """
        if not KIND_RE.match(kind or ""):
            raise ArchiveError("report kind %r is not a lower-case word" % (kind,))
        when = when or _dt.datetime.now()
        run_id = run_id or new_run_id(when)
        if not RUN_ID_RE.match(run_id):
            raise ArchiveError("run id %r does not look like 20261127T083000-1a2b3c" % run_id)
        for name in files:
            if os.path.basename(name) != name or name.startswith("."):
                raise ArchiveError("report file name %r must be a plain name" % name)
        directory = self.run_dir(kind, run_id, when)
        os.makedirs(os.path.dirname(directory), mode=0o750, exist_ok=True)
        try:
            os.mkdir(directory, 0o750)
        except FileExistsError:
            raise ArchiveError("report directory %s already exists; runs are never overwritten"
                               % directory) from None
        digests = {}
        for name in sorted(files):
            data = files[name]
            _write_new_file(os.path.join(directory, name), data)
            digests[name] = sha256_bytes(data)
        _fsync_dir(directory)
        entry = {
            "kind": kind,
            "run_id": run_id,
            "created": when.isoformat(timespec="seconds"),
            "path": os.path.relpath(directory, self.root),
            "files": digests,
            "meta": meta or {},
        }
        return self._append(entry)

    def _append(self, entry):
        os.makedirs(self.root, mode=0o750, exist_ok=True)
        lock_path = os.path.join(self.root, LOCK_NAME)
        with open(lock_path, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            lines = self._read_lines()
            entry["seq"] = len(lines) + 1
            entry["prev"] = sha256_bytes(lines[-1]) if lines else GENESIS
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8")
            # O_APPEND: a crash leaves at most one torn last line, which verify reports.
            fd = os.open(self.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def _read_lines(self):
        try:
            with open(self.index_path, "rb") as handle:
                return [line.rstrip(b"\n") for line in handle if line.strip()]
        except FileNotFoundError:
            return []

    def entries(self):
        return [json.loads(line) for line in self._read_lines()]

    def verify(self):
        """Return a list of problems (empty when the archive is intact)."""
        problems = []
        prev = GENESIS
        indexed = set()
        for number, line in enumerate(self._read_lines(), start=1):
            try:
                entry = json.loads(line)
            except ValueError:
                problems.append("index line %d is not valid JSON" % number)
                prev = sha256_bytes(line)
                continue
            if entry.get("seq") != number:
                problems.append("index line %d has seq %r" % (number, entry.get("seq")))
            if entry.get("prev") != prev:
                problems.append("index line %d: hash chain broken (previous entry changed, "
                                "removed or reordered)" % number)
            prev = sha256_bytes(line)
            directory = os.path.join(self.root, entry.get("path", ""))
            indexed.add(os.path.normpath(directory))
            for name, digest in sorted(entry.get("files", {}).items()):
                path = os.path.join(directory, name)
                if not os.path.isfile(path):
                    problems.append("%s: missing" % os.path.relpath(path, self.root))
                elif sha256_file(path) != digest:
                    problems.append("%s: content changed since it was archived"
                                    % os.path.relpath(path, self.root))
        problems.extend(self._orphans(indexed))
        return problems

    def _orphans(self, indexed):
        """Run directories on disk that no index entry names."""
        found = []
        for dirpath, dirnames, _files in os.walk(self.root):
            depth = os.path.relpath(dirpath, self.root).count(os.sep)
            if depth == 3:  # <kind>/YYYY/MM/DD: its children are run directories
                for name in dirnames:
                    path = os.path.normpath(os.path.join(dirpath, name))
                    if path not in indexed:
                        found.append("%s: not in the index" % os.path.relpath(path, self.root))
                dirnames[:] = []
        return sorted(found)
