# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release packages (REL-05, REL-07): the layout, building one, verifying one.

A package is a directory named 版本号_补丁号 (``1.0.2_06``), optionally also shipped as
``1.0.2_06.tar.gz`` holding that one directory:

    1.0.2_06/
      gxtax-publicity.war            the application archive (*.war, *.ear or *.jar), exactly one
      gxtax-publicity.war.md5.txt    its MD5 in md5sum format: "<32 hex>  <archive name>"
      db/01_add_column.sql           database scripts, run in NN order (01, 02, ... no gaps)
      db/rollback/01_add_column.sql  optional rollback of the forward script with the same name
      升级说明.md                     upgrade instructions: 升级步骤与方法 / 影响范围 / 验证方法
      manifest.json                  version, names, scripts in order, md5+sha256 of every file

Verification reads only the package, changes nothing, and collects every problem as
{"file", "reason"} instead of stopping at the first, so one run tells the packager all
that is wrong. Control node only (Python 3.11).
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zipfile

from jinja2 import StrictUndefined
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ansible_collections.gxtax.ops.plugins.module_utils import release_version as rv

FORMAT = "gxtax-release-package/1"
MANIFEST = "manifest.json"
INSTRUCTIONS = "升级说明.md"
DB_DIR = "db"
ROLLBACK_DIR = "rollback"
MD5_SUFFIX = ".md5.txt"
ARCHIVE_SUFFIXES = (".war", ".ear", ".jar")
SECTIONS = ("升级步骤与方法", "影响范围", "验证方法")
ENCODINGS = ("utf-8", "gbk")
SCRIPT_RE = re.compile(r"^([0-9]{2})_[^\s/\\]+\.sql$")
MD5_LINE_RE = re.compile(r"^([0-9a-fA-F]{32})(?:\s+\*?(.+?))?\s*$")
HEADING_RE = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")
PLACEHOLDERS = {"todo", "tbd", "待填写", "待补充"}
MANIFEST_KEYS = ("format", "version", "package_name", "archive", "archive_md5", "archive_sha256",
                 "instructions", "scripts", "rollback_scripts", "script_encoding", "files")


class PackageError(Exception):
    """A package cannot be built; problems lists every {file, reason}."""

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = problems or []


def problem(file, reason):
    return {"file": file, "reason": reason}


def summary(problems, verb="校验未通过"):
    """One line for msg: the first problem names its file, the count says how many more."""
    first = problems[0]
    more = "（另有 %d 个问题，见 problems）" % (len(problems) - 1) if len(problems) > 1 else ""
    return "发布包%s：%s：%s%s" % (verb, first["file"], first["reason"], more)


def file_digests(path):
    # MD5 because the contract asks for it (REL-07); SHA-256 is what the manifest trusts.
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
            size += len(block)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest(), "size": size}


def md5_line(digest, name):
    """The .md5.txt content, as md5sum writes it, so `md5sum -c` works on the bureau's side."""
    return "%s  %s\n" % (digest, name)


def parse_md5_text(text, archive):
    """(hex, problem reason or None). A bare hex line is accepted; a named line must name archive."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        return None, "应只有一行“<MD5>  <应用包名>”，实际 %d 行" % len(lines)
    match = MD5_LINE_RE.match(lines[0].strip())
    if not match:
        return None, "不是 MD5 格式（应为 32 位十六进制加两个空格加应用包名）"
    if match.group(2) is not None and match.group(2) != archive:
        return None, "记录的是 %s 的 MD5，不是应用包 %s" % (match.group(2), archive)
    return match.group(1).lower(), None


# -- database scripts -------------------------------------------------------------------
def check_script_order(names, where):
    """Forward scripts: NN_name.sql, numbers unique and contiguous from 01 (a gap is a lost script)."""
    found = []
    numbers = []
    for name in names:
        match = SCRIPT_RE.match(name)
        if not match:
            found.append(problem("%s/%s" % (where, name),
                                 "数据库脚本应命名为 NN_名称.sql（NN 为两位执行序号，如 01_add_column.sql）"))
            continue
        numbers.append((int(match.group(1)), name))
    numbers.sort()
    for expected, (number, name) in enumerate(numbers, start=1):
        if number != expected:
            found.append(problem("%s/%s" % (where, name),
                                 "执行序号应从 01 起连续且不重复，此处应为 %02d（缺号或重号）" % expected))
            break
    return found


def check_rollback(forward, rollback, where):
    """Each rollback script undoes the forward script of the same name."""
    return [problem("%s/%s/%s" % (where, ROLLBACK_DIR, name),
                    "回退脚本没有同名的正向脚本 %s/%s" % (where, name))
            for name in rollback if name not in forward]


def check_script_text(path, label, encoding):
    """A script SQL*Plus can run: not empty, no BOM (SP2-0734 on line 1), decodes in encoding."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return [problem(label, "无法读取：%s" % exc.strerror)]
    if not data.strip():
        return [problem(label, "脚本为空")]
    if data.startswith(b"\xef\xbb\xbf"):
        return [problem(label, "以 UTF-8 BOM 开头，SQL*Plus 会把第一行当作未知命令（SP2-0734），请去掉 BOM")]
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return [problem(label, "不是有效的 %s 文本（第 %d 字节），请按 script_encoding 声明的编码保存"
                        % (encoding.upper(), exc.start + 1))]
    return []


def scripts_order(names):
    return sorted(names, key=lambda name: (SCRIPT_RE.match(name).group(1) if SCRIPT_RE.match(name)
                                           else "99", name))


def read_sql_dir(sql_dir):
    """(forward names, rollback names, problems) of a source directory of scripts."""
    forward, rollback, found = [], [], []
    if not sql_dir:
        return forward, rollback, found
    if not os.path.isdir(sql_dir):
        return forward, rollback, [problem(sql_dir, "数据库脚本目录不存在")]
    for name in sorted(os.listdir(sql_dir)):
        path = os.path.join(sql_dir, name)
        if name == ROLLBACK_DIR and os.path.isdir(path) and not os.path.islink(path):
            for sub in sorted(os.listdir(path)):
                if os.path.isfile(os.path.join(path, sub)) and sub.endswith(".sql"):
                    rollback.append(sub)
                else:
                    found.append(problem(os.path.join(path, sub), "回退脚本目录只能放 .sql 文件"))
        elif os.path.isfile(path) and not os.path.islink(path) and name.endswith(".sql"):
            forward.append(name)
        else:
            found.append(problem(path, "数据库脚本目录只能放 NN_名称.sql 文件和 rollback/ 目录"))
    return scripts_order(forward), scripts_order(rollback), found


# -- instructions -----------------------------------------------------------------------
def check_instructions(text, label=INSTRUCTIONS):
    """The three sections REL-07 requires, each with real content under its heading."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    lines = text.splitlines()
    headings = []
    for number, line in enumerate(lines):
        match = HEADING_RE.match(line)
        if match and match.group(2):
            headings.append((number, len(match.group(1)), match.group(2)))
    found = []
    for section in SECTIONS:
        at = [(n, level) for n, level, title in headings if section in title]
        if not at:
            found.append(problem(label, "缺少“%s”一节（需要以 Markdown 标题写出）" % section))
            continue
        start, level = at[0]
        end = next((n for n, lvl, _t in headings if n > start and lvl <= level), len(lines))
        body = [line.strip() for line in lines[start + 1:end]
                if line.strip() and not HEADING_RE.match(line)]
        if not [line for line in body if _bare(line) not in PLACEHOLDERS]:
            found.append(problem(label, "“%s”一节没有内容" % section))
    return found


def _bare(line):
    """A line without list markers, lower-cased, to recognise a left-over placeholder."""
    return re.sub(r"^[-*+0-9.、)）\s]+", "", line).strip().lower()


def notes_items(notes):
    """Notes as given (text or list) -> list of non-empty lines."""
    if notes is None:
        return []
    if isinstance(notes, str):
        notes = notes.splitlines()
    return [str(item).strip() for item in notes if str(item).strip()]


def notes_text(items):
    """补丁说明 as the REL-06 notice numbers it: 1、... 2、..."""
    return "\n".join("%d、%s" % (number, item) for number, item in enumerate(items, start=1))


def render_instructions(template_path, context):
    """Render the Jinja2 upgrade-instructions template (files/release/升级说明.md.j2)."""
    try:
        with open(template_path, encoding="utf-8") as handle:
            source = handle.read()
        env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True,
                                   trim_blocks=True, lstrip_blocks=True)
        return env.from_string(source).render(**context)
    except OSError as exc:
        raise PackageError("无法读取升级说明模板 %s：%s" % (template_path, exc.strerror),
                           [problem(template_path, "无法读取：%s" % exc.strerror)]) from None
    except TemplateError as exc:
        raise PackageError("升级说明模板 %s 渲染失败：%s" % (template_path, exc),
                           [problem(template_path, "渲染失败：%s" % exc)]) from None


# -- building ---------------------------------------------------------------------------
def parse_created_at(value):
    when = _dt.datetime.fromisoformat(value) if value else _dt.datetime.now()
    return when.astimezone() if when.tzinfo is None else when


def _check_archive(path):
    name = os.path.basename(path)
    if not os.path.isfile(path):
        return [problem(path, "应用包不存在")]
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        return [problem(name, "应用包应为 .war、.ear 或 .jar 文件")]
    if not zipfile.is_zipfile(path):
        return [problem(name, "不是有效的 war/ear/jar（zip）文件，可能传输不完整")]
    return []


def plan_build(spec):
    """Check every input of a build and return the plan, or raise PackageError listing problems.

    spec: version, archive, sql_dir, dest, instructions_template | instructions_src, notes,
    steps, impact, verification, rollback, platform, script_encoding, created_by, created_at.
    """
    try:
        version = rv.normalize(spec["version"])
    except rv.VersionError as exc:
        raise PackageError(str(exc), [problem("version", str(exc))]) from None
    name = rv.package_name(version)
    encoding = spec.get("script_encoding") or "utf-8"
    found = []
    if encoding not in ENCODINGS:
        found.append(problem("script_encoding", "只支持 utf-8 或 gbk"))
        encoding = "utf-8"
    target = os.path.join(spec["dest"], name)
    for existing in (target, target + ".tar.gz" if spec.get("compress") else None):
        if existing and os.path.lexists(existing):
            found.append(problem(existing, "发布包已存在，拒绝覆盖；新的内容请使用新的修改版本号"))
    try:
        created = parse_created_at(spec.get("created_at"))
    except (TypeError, ValueError):
        found.append(problem("created_at", "不是 ISO 8601 时间（如 2026-11-20T10:00:00+08:00）"))
    found.extend(_check_archive(spec["archive"]))
    forward, rollback, sql_problems = read_sql_dir(spec.get("sql_dir"))
    found.extend(sql_problems)
    found.extend(check_script_order(forward, spec.get("sql_dir") or DB_DIR))
    found.extend(check_rollback(forward, rollback, spec.get("sql_dir") or DB_DIR))
    for sub, names in (("", forward), (ROLLBACK_DIR, rollback)):
        for script in names:
            path = os.path.join(spec["sql_dir"], sub, script)
            found.extend(check_script_text(path, path, encoding))
    if found:
        raise PackageError(summary(found, "无法制作"), found)
    archive = os.path.basename(spec["archive"])
    digests = file_digests(spec["archive"])
    items = notes_items(spec.get("notes"))
    plan = {
        "version": version, "package_name": name, "path": target, "archive": archive,
        "archive_md5": digests["md5"], "archive_sha256": digests["sha256"],
        "scripts": ["%s/%s" % (DB_DIR, s) for s in forward],
        "rollback_scripts": ["%s/%s/%s" % (DB_DIR, ROLLBACK_DIR, s) for s in reversed(rollback)],
        "script_encoding": encoding, "notes": items, "platform": spec.get("platform") or None,
        "created_at": created.isoformat(timespec="seconds"), "created_by": spec.get("created_by") or "",
    }
    plan["instructions_text"] = _instructions(spec, plan)
    bad = check_instructions(plan["instructions_text"])
    if bad:
        raise PackageError(summary(bad, "无法制作"), bad)
    return plan


def _instructions(spec, plan):
    if spec.get("instructions_src"):
        try:
            with open(spec["instructions_src"], encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = "无法以 UTF-8 读取：%s" % exc
            raise PackageError(reason, [problem(spec["instructions_src"], reason)]) from None
    context = dict(plan, notes_text=notes_text(plan["notes"]),
                   steps=spec.get("steps") or "", impact=spec.get("impact") or "",
                   verification=spec.get("verification") or "", rollback=spec.get("rollback") or "",
                   md5_file=plan["archive"] + MD5_SUFFIX)
    return render_instructions(spec["instructions_template"], context)


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o644)


def build(spec):
    """Build the package planned from spec under spec['dest']; return the plan plus files."""
    plan = plan_build(spec)
    dest = spec["dest"]
    os.makedirs(dest, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".%s.tmp-" % plan["package_name"], dir=dest)
    try:
        os.chmod(staging, 0o755)  # noqa: S103 - a package is read by the release play, not secret
        shutil.copyfile(spec["archive"], os.path.join(staging, plan["archive"]))
        os.chmod(os.path.join(staging, plan["archive"]), 0o644)
        _write(os.path.join(staging, plan["archive"] + MD5_SUFFIX),
               md5_line(plan["archive_md5"], plan["archive"]).encode("ascii"))
        for rel in plan["scripts"] + plan["rollback_scripts"]:
            source = os.path.join(spec["sql_dir"], os.path.relpath(rel, DB_DIR))
            os.makedirs(os.path.dirname(os.path.join(staging, rel)), mode=0o755, exist_ok=True)
            shutil.copyfile(source, os.path.join(staging, rel))
            os.chmod(os.path.join(staging, rel), 0o644)
        _write(os.path.join(staging, INSTRUCTIONS), plan["instructions_text"].encode("utf-8"))
        manifest = make_manifest(plan, staging)
        _write(os.path.join(staging, MANIFEST), manifest_bytes(manifest))
        result = verify_dir(staging, name=plan["package_name"])
        if result["problems"]:
            raise PackageError(summary(result["problems"], "制作后自检未通过"), result["problems"])
        if os.path.lexists(plan["path"]):
            raise PackageError("发布包 %s 已存在，拒绝覆盖" % plan["path"],
                               [problem(plan["path"], "发布包已存在，拒绝覆盖")])
        os.rename(staging, plan["path"])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    plan["files"] = sorted(manifest["files"])
    plan["manifest_sha256"] = hashlib.sha256(manifest_bytes(manifest)).hexdigest()
    if spec.get("compress"):
        plan["tarball"] = make_tarball(plan["path"], parse_created_at(plan["created_at"]))
    return plan


def make_manifest(plan, root):
    files = {}
    for rel in package_files(root):
        if rel != MANIFEST:
            files[rel] = file_digests(os.path.join(root, rel))
    return {
        "format": FORMAT, "version": plan["version"], "package_name": plan["package_name"],
        "platform": plan["platform"], "archive": plan["archive"],
        "archive_md5": plan["archive_md5"], "archive_sha256": plan["archive_sha256"],
        "md5_file": plan["archive"] + MD5_SUFFIX, "instructions": INSTRUCTIONS,
        "scripts": plan["scripts"], "rollback_scripts": plan["rollback_scripts"],
        "script_encoding": plan["script_encoding"], "notes": plan["notes"], "files": files,
        "created_by": plan["created_by"], "created_at": plan["created_at"],
    }


def manifest_bytes(manifest):
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def package_files(root):
    """Every path under root, relative, '/'-separated, sorted (symlinks and dirs excluded)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            found.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return sorted(found)


def make_tarball(path, when):
    """<path>.tar.gz, byte-for-byte reproducible: sorted members, fixed owner, mode and time."""
    target = path + ".tar.gz"
    name = os.path.basename(path)
    mtime = int(when.timestamp())
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=mtime) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            members = [""] + sorted({os.path.dirname(rel) for rel in package_files(path)} - {""})
            for rel in members + package_files(path):
                full = os.path.join(path, rel) if rel else path
                info = tarfile.TarInfo(name + ("/" + rel if rel else ""))
                info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
                if os.path.isdir(full):
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                else:
                    info.mode, info.size = 0o644, os.path.getsize(full)
                    with open(full, "rb") as handle:
                        tar.addfile(info, handle)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(buffer.getvalue())
    return target


# -- verification -----------------------------------------------------------------------
def unpack(tar_path, into):
    """Extract a package tarball into `into`; only <name>/ regular files and directories."""
    base = os.path.basename(tar_path)
    name = base[:-len(".tar.gz")] if base.endswith(".tar.gz") else base
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                parts = member.name.split("/")
                if parts[0] != name or ".." in parts or member.name.startswith("/"):
                    raise PackageError("%s 中的 %s 不在 %s/ 目录下" % (base, member.name, name),
                                       [problem(base, "成员 %s 不在 %s/ 目录下" % (member.name, name))])
                if not (member.isfile() or member.isdir()):
                    raise PackageError("%s 中的 %s 不是普通文件" % (base, member.name),
                                       [problem(base, "成员 %s 不是普通文件或目录" % member.name)])
            # Members were checked above; the "data" filter (Python >= 3.11.4) also drops odd modes.
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(into, members, **extra)  # noqa: S202 - every member checked above
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackageError("无法解开 %s：%s" % (base, exc), [problem(base, "无法解开：%s" % exc)]) from None
    return os.path.join(into, name)


def _load_manifest(root, problems):
    path = os.path.join(root, MANIFEST)
    if not os.path.isfile(path):
        problems.append(problem(MANIFEST, "缺少清单文件"))
        return None, None
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        problems.append(problem(MANIFEST, "不是有效的 UTF-8 JSON：%s" % exc))
        return None, None
    missing = [key for key in MANIFEST_KEYS if key not in manifest] if isinstance(manifest, dict) else ["*"]
    if missing:
        problems.append(problem(MANIFEST, "清单缺少字段：%s" % "、".join(missing)))
        return None, None
    return manifest, hashlib.sha256(data).hexdigest()


def _check_names(name, manifest, version, problems):
    try:
        from_name = rv.version_from_package_name(name)
    except rv.VersionError as exc:
        problems.append(problem(name, str(exc)))
        from_name = None
    if manifest is None:
        return from_name
    if not rv.is_valid(manifest["version"]):
        problems.append(problem(MANIFEST, "清单中的版本号 %r 不符合规则。%s"
                                % (manifest["version"], rv.RULE)))
        return from_name
    expected = rv.package_name(manifest["version"])
    if manifest["package_name"] != expected:
        problems.append(problem(MANIFEST, "清单中的包名称 %s 与版本号 %s 不符（应为 %s）"
                                % (manifest["package_name"], manifest["version"], expected)))
    if name != expected:
        problems.append(problem(name, "包名称与清单版本号 %s 不符（应为 %s）"
                                % (manifest["version"], expected)))
    if version:
        try:
            wanted = rv.normalize(version)
        except rv.VersionError as exc:
            problems.append(problem("version", str(exc)))
        else:
            if wanted != manifest["version"]:
                problems.append(problem(MANIFEST, "清单版本号 %s 不是要发布的版本 %s"
                                        % (manifest["version"], wanted)))
    return manifest["version"]


def _check_archive_and_md5(root, manifest, problems):
    top = [n for n in sorted(os.listdir(root)) if os.path.isfile(os.path.join(root, n))]
    archives = [n for n in top if n.lower().endswith(ARCHIVE_SUFFIXES)]
    if manifest and manifest["archive"] not in archives:
        problems.append(problem(manifest["archive"], "清单列出的应用包不存在"))
        return None, None
    if not archives:
        problems.append(problem("*.war", "缺少应用包（.war/.ear/.jar）"))
        return None, None
    if len(archives) > 1:
        problems.append(problem("、".join(archives), "发布包只能有一个应用包"))
        return None, None
    archive = archives[0]
    problems.extend(_check_archive(os.path.join(root, archive)))
    digests = file_digests(os.path.join(root, archive))
    md5_name = archive + MD5_SUFFIX
    md5_path = os.path.join(root, md5_name)
    if not os.path.isfile(md5_path):
        problems.append(problem(md5_name, "缺少应用包的 MD5 文件"))
    else:
        with open(md5_path, "rb") as handle:
            recorded, reason = parse_md5_text(handle.read().decode("utf-8", "replace"), archive)
        if reason:
            problems.append(problem(md5_name, reason))
        elif recorded != digests["md5"]:
            problems.append(problem(md5_name, "MD5 不一致：文件记录 %s，应用包 %s 实际为 %s"
                                    % (recorded, archive, digests["md5"])))
    if manifest and manifest["archive_md5"] != digests["md5"]:
        problems.append(problem(archive, "MD5 与清单记录不一致"))
    return archive, digests


def _list_db(root, warnings):
    """(forward, rollback) .sql names found in db/ and db/rollback/; anything else is a warning."""
    forward, rollback = [], []
    for sub, names in (("", forward), (ROLLBACK_DIR, rollback)):
        directory = os.path.join(root, DB_DIR, sub)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            if not sub and name == ROLLBACK_DIR and os.path.isdir(full):
                continue
            if name.lower().endswith(".sql") and os.path.isfile(full):
                names.append(name)
            else:
                warnings.append(problem("/".join(filter(None, (DB_DIR, sub, name))),
                                        "不是 .sql 文件，发布时不会执行"))
    return scripts_order(forward), scripts_order(rollback)


def _check_db(root, manifest, problems, warnings):
    encoding = (manifest or {}).get("script_encoding") or "utf-8"
    if encoding not in ENCODINGS:
        problems.append(problem(MANIFEST, "script_encoding 只能是 utf-8 或 gbk，实际 %r" % encoding))
        encoding = "utf-8"
    forward, rollback = _list_db(root, warnings)
    problems.extend(check_script_order(forward, DB_DIR))
    problems.extend(problem("%s/%s/%s" % (DB_DIR, ROLLBACK_DIR, name), "回退脚本应命名为 NN_名称.sql")
                    for name in rollback if not SCRIPT_RE.match(name))
    problems.extend(check_rollback(forward, rollback, DB_DIR))
    scripts = ["%s/%s" % (DB_DIR, n) for n in forward]
    rollbacks = ["%s/%s/%s" % (DB_DIR, ROLLBACK_DIR, n) for n in reversed(rollback)]
    for rel in scripts + rollbacks:
        problems.extend(check_script_text(os.path.join(root, rel), rel, encoding))
    if manifest is not None and manifest["scripts"] != scripts:
        problems.append(problem(MANIFEST, "清单中的脚本顺序 %s 与 db/ 目录 %s 不符"
                                % (manifest["scripts"], scripts)))
    if manifest is not None and manifest["rollback_scripts"] != rollbacks:
        problems.append(problem(MANIFEST, "清单中的回退脚本 %s 与 db/rollback/ 目录 %s 不符"
                                % (manifest["rollback_scripts"], rollbacks)))
    return scripts, rollbacks, encoding


def _check_instructions_file(root, problems):
    path = os.path.join(root, INSTRUCTIONS)
    if not os.path.isfile(path):
        problems.append(problem(INSTRUCTIONS, "缺少升级说明文件"))
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        problems.append(problem(INSTRUCTIONS, "不是有效的 UTF-8 文本"))
        return None
    problems.extend(check_instructions(text))
    return path


def _check_files(root, manifest, problems, warnings, known):
    on_disk = package_files(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for entry in dirnames + filenames:
            full = os.path.join(dirpath, entry)
            if os.path.islink(full):
                problems.append(problem(os.path.relpath(full, root), "发布包中不允许符号链接"))
    if manifest is None:
        return
    listed = manifest["files"] if isinstance(manifest["files"], dict) else {}
    for rel in sorted(listed):
        full = os.path.join(root, rel)
        if not os.path.isfile(full):
            problems.append(problem(rel, "清单列出的文件不存在"))
        elif (known.get(rel) or file_digests(full))["sha256"] != (listed[rel] or {}).get("sha256"):
            problems.append(problem(rel, "内容与清单记录的 SHA-256 不符（文件被修改或损坏）"))
    for rel in on_disk:
        if rel != MANIFEST and rel not in listed:
            warnings.append(problem(rel, "清单中没有的文件"))


def verify_dir(root, version=None, name=None):
    """Verify the package directory root; name overrides its basename (staging during build)."""
    problems, warnings = [], []
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        problems.append(problem(root, "发布包目录不存在"))
        return {"problems": problems, "warnings": warnings, "facts": {}}
    name = name or os.path.basename(os.path.normpath(root))
    manifest, manifest_sha = _load_manifest(root, problems)
    checked_version = _check_names(name, manifest, version, problems)
    archive, digests = _check_archive_and_md5(root, manifest, problems)
    scripts, rollbacks, encoding = _check_db(root, manifest, problems, warnings)
    instructions = _check_instructions_file(root, problems)
    _check_files(root, manifest, problems, warnings, {archive: digests} if archive else {})
    manifest = manifest or {}
    items = notes_items(manifest.get("notes"))
    facts = {
        "version": checked_version, "package_name": name, "package_path": os.path.abspath(root),
        "platform": manifest.get("platform"),
        "archive": archive, "archive_path": os.path.join(os.path.abspath(root), archive) if archive else None,
        "archive_md5": digests["md5"] if digests else None,
        "archive_sha256": digests["sha256"] if digests else None,
        "md5_file": os.path.join(os.path.abspath(root), archive + MD5_SUFFIX) if archive else None,
        "scripts": [os.path.join(os.path.abspath(root), rel) for rel in scripts],
        "rollback_scripts": [os.path.join(os.path.abspath(root), rel) for rel in rollbacks],
        "script_encoding": encoding, "instructions_path": instructions,
        "notes": notes_text(items), "notes_items": items,
        "manifest_path": os.path.join(os.path.abspath(root), MANIFEST),
        "manifest_sha256": manifest_sha, "created_at": manifest.get("created_at"),
        "created_by": manifest.get("created_by"),
    }
    return {"problems": problems, "warnings": warnings, "facts": facts}
