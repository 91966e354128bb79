"""The report archive: layout, no overwrite, hash chain, and verify()."""

import datetime
import json
import multiprocessing
import os

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import (
    GENESIS,
    ArchiveError,
    ReportArchive,
    sha256_bytes,
)

WHEN = datetime.datetime(2026, 11, 27, 8, 30, 0)
FILES = {"report.json": b'{"a": 1}', "report.html": "<p>巡检</p>".encode(), "summary.txt": b"ok\n"}


def test_store_writes_files_under_kind_and_date(tmp_path):
    archive = ReportArchive(tmp_path)
    entry = archive.store("inspection", FILES, when=WHEN, run_id="20261127T083000-abcdef")
    run_dir = tmp_path / "inspection" / "2026" / "11" / "27" / "20261127T083000-abcdef"
    assert entry["path"] == os.path.relpath(run_dir, tmp_path)
    for name, data in FILES.items():
        assert (run_dir / name).read_bytes() == data
        assert entry["files"][name] == sha256_bytes(data)
    assert entry["seq"] == 1 and entry["prev"] == GENESIS
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".tmp")]


def test_second_entry_chains_to_first(tmp_path):
    archive = ReportArchive(tmp_path)
    archive.store("inspection", FILES, when=WHEN)
    archive.store("patch", FILES, when=WHEN)
    first_line = (tmp_path / "index.jsonl").read_bytes().splitlines()[0]
    second = archive.entries()[1]
    assert second["seq"] == 2
    assert second["prev"] == sha256_bytes(first_line)
    assert archive.verify() == []


def test_same_run_is_never_overwritten(tmp_path):
    archive = ReportArchive(tmp_path)
    archive.store("inspection", FILES, when=WHEN, run_id="20261127T083000-abcdef")
    with pytest.raises(ArchiveError, match="never overwritten"):
        archive.store("inspection", {"report.json": b"{}"}, when=WHEN, run_id="20261127T083000-abcdef")
    run_dir = tmp_path / archive.entries()[0]["path"]
    assert (run_dir / "report.json").read_bytes() == FILES["report.json"]
    assert len(archive.entries()) == 1


@pytest.mark.parametrize("kind,run_id,files", [
    ("../etc", None, FILES),
    ("Inspection", None, FILES),
    ("inspection", "../../x", FILES),
    ("inspection", None, {"../report.json": b"{}"}),
    ("inspection", None, {".hidden": b"{}"}),
])
def test_bad_names_are_refused(tmp_path, kind, run_id, files):
    with pytest.raises(ArchiveError):
        ReportArchive(tmp_path).store(kind, files, when=WHEN, run_id=run_id)
    assert not (tmp_path / "index.jsonl").exists()


def _archive_with_three(tmp_path):
    archive = ReportArchive(tmp_path)
    for _ in range(3):
        archive.store("inspection", FILES, when=WHEN)
    return archive


def test_verify_finds_changed_file(tmp_path):
    archive = _archive_with_three(tmp_path)
    target = tmp_path / archive.entries()[1]["path"] / "report.html"
    target.write_bytes(b"<p>edited</p>")
    assert any("content changed" in p for p in archive.verify())


def test_verify_finds_missing_file(tmp_path):
    archive = _archive_with_three(tmp_path)
    (tmp_path / archive.entries()[0]["path"] / "summary.txt").unlink()
    assert any(p.endswith("summary.txt: missing") for p in archive.verify())


def test_verify_finds_removed_index_line(tmp_path):
    archive = _archive_with_three(tmp_path)
    index = tmp_path / "index.jsonl"
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(lines[0] + lines[2])
    problems = archive.verify()
    assert any("hash chain broken" in p for p in problems)
    assert any("not in the index" in p for p in problems)


def test_verify_finds_edited_index_entry(tmp_path):
    archive = _archive_with_three(tmp_path)
    index = tmp_path / "index.jsonl"
    lines = index.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[0])
    entry["meta"] = {"overall_status": "ok"}
    lines[0] = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert any("line 2: hash chain broken" in p for p in archive.verify())


def test_verify_reports_torn_last_line(tmp_path):
    archive = _archive_with_three(tmp_path)
    with open(tmp_path / "index.jsonl", "ab") as handle:
        handle.write(b'{"kind": "insp')
    assert any("not valid JSON" in p for p in archive.verify())


def _store_many(root, count):
    archive = ReportArchive(root)
    for _ in range(count):
        archive.store("inspection", FILES)


def test_concurrent_writers_keep_the_chain(tmp_path):
    workers = [multiprocessing.Process(target=_store_many, args=(str(tmp_path), 5)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    archive = ReportArchive(tmp_path)
    assert [e["seq"] for e in archive.entries()] == list(range(1, 21))
    assert archive.verify() == []
