#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_package
short_description: Build or verify a release package 版本号_补丁号 (REL-01, REL-05, REL-07)
version_added: 0.1.0
description:
  - A release package is a directory named after its version, C(1.0.2_06) for C(1.0.2.06) (REL-05),
    optionally also shipped as C(1.0.2_06.tar.gz). It holds exactly one application archive
    (C(*.war), C(*.ear) or C(*.jar)), its MD5 in C(<archive>.md5.txt) (md5sum format), the database
    scripts in C(db/) named C(NN_name.sql) and run in NN order, optional rollback scripts
    C(db/rollback/NN_name.sql) named like the forward script they undo, the upgrade instructions
    C(升级说明.md) with the sections C(升级步骤与方法), C(影响范围) and C(验证方法) (REL-07), and
    C(manifest.json) with the version, the scripts in order and the MD5 and SHA-256 of every file.
    C(docs/release-packages.md) describes the layout.
  - O(state=built) builds a package from its parts under O(dest). It refuses to overwrite an existing
    package, checks every part first and reports all problems at once, and verifies the result before
    giving it its final name. The same inputs with the same O(created_at) give the same bytes.
  - O(state=verified) checks a package before anything is touched by a release and fails, with
    RV(problems) naming each file and reason, when the name does not match the version rule or the
    manifest, the MD5 does not match the archive, a part is missing, the instructions lack a section
    or its text, scripts are misnumbered, unreadable in their declared encoding or start with a BOM,
    a rollback script has no forward script, or a file differs from the manifest. Files the manifest
    does not list are reported in RV(unexpected_files) and as warnings.
  - Database scripts are UTF-8 unless the package declares C(gbk) (O(script_encoding)).
  - Runs on the control node (C(delegate_to=localhost) or a play on localhost).
options:
  state:
    description: V(built) makes a package, V(verified) checks one.
    type: str
    choices: [built, verified]
    default: verified
  version:
    description:
      - Version number. Required with O(state=built); a legacy C(x.xx.xx) is converted (C(1.0.2) is
        C(1.0.2.00)).
      - With O(state=verified), the package must be this version.
    type: str
  path:
    description:
      - With O(state=verified), the package directory, or its C(.tar.gz) which is unpacked into
        O(unpack_dir) first.
    type: path
  unpack_dir:
    description:
      - Where a C(.tar.gz) O(path) is unpacked; default is the directory the tarball is in. An existing
        directory of the same name is used when its manifest is the tarball's, refused otherwise.
    type: path
  archive:
    description: With O(state=built), the application archive (C(.war), C(.ear) or C(.jar)).
    type: path
  sql_dir:
    description:
      - With O(state=built), the directory of database scripts C(NN_name.sql) (01, 02, ... without gaps)
        and an optional C(rollback/) directory. Omit it for a package without database changes.
    type: path
  dest:
    description: With O(state=built), the directory the package directory is created in.
    type: path
  instructions_template:
    description:
      - With O(state=built), the Jinja2 template of the upgrade instructions, normally
        C(files/release/升级说明.md.j2) of this collection, rendered with the package facts and
        O(notes), O(steps), O(impact), O(verification), O(rollback).
    type: path
  instructions_src:
    description: With O(state=built), a finished C(升级说明.md) to use instead of the template.
    type: path
  notes:
    description: 补丁说明, the changes of this version, as a list or one line each.
    type: raw
  steps:
    description: Extra upgrade steps added after the standard ones in C(升级步骤与方法).
    type: str
  impact:
    description: 影响范围 text; the build refuses a package without it (when the template is used).
    type: str
  verification:
    description: 验证方法 text; the build refuses a package without it (when the template is used).
    type: str
  rollback:
    description: Extra rollback text for the C(回退方法) section.
    type: str
  platform:
    description: The platform the package is for, recorded in the manifest.
    type: str
    choices: [publicity, avrecord]
  script_encoding:
    description: Encoding of the database scripts; the scripts must decode in it.
    type: str
    choices: [utf-8, gbk]
    default: utf-8
  compress:
    description: With O(state=built), also write C(<package>.tar.gz) beside the directory.
    type: bool
    default: false
  created_by:
    description: Who built the package, recorded in the manifest; default is the user running the module.
    type: str
  created_at:
    description:
      - ISO 8601 time recorded in the manifest and used as the tarball's file times; default is now.
        Give it to rebuild a package byte for byte.
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: O(state=built) checks every input and reports what it would build.
  diff_mode:
    description: Will return details on what has changed.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
seealso:
  - module: gxtax.ops.release_archive
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: REL-05 | Build the package 1.0.2_06
  gxtax.ops.release_package:
    state: built
    version: 1.0.2.06
    platform: publicity
    archive: /data/build/gxtax-publicity.war
    sql_dir: /data/build/sql
    dest: /data/packages
    instructions_template: "{{ playbook_dir }}/../files/release/升级说明.md.j2"
    notes:
      - 1.0.2.05 版本历史遗留的相关问题。
      - 优化用户体验，修改相关的提示信息。
    impact: 升级期间公示平台暂停服务约 30 分钟，业务暂时无法办理。
    verification: 登录公示平台首页，查询任一执法公示信息，页面正常显示。
  delegate_to: localhost

- name: REL-07 | Verify the package before anything is touched
  gxtax.ops.release_package:
    state: verified
    path: /data/packages/1.0.2_06
    version: 1.0.2.06
  delegate_to: localhost
  register: pkg
"""

RETURN = r"""
version:
  description: Version number of the package.
  returned: success
  type: str
  sample: 1.0.2.06
package_name:
  description: Package name, 版本号_补丁号.
  returned: success
  type: str
  sample: 1.0.2_06
package_path:
  description: Absolute path of the package directory.
  returned: success
  type: str
  sample: /data/packages/1.0.2_06
platform:
  description: Platform recorded in the manifest, or null.
  returned: success
  type: str
archive_path:
  description: Absolute path of the application archive.
  returned: success
  type: str
  sample: /data/packages/1.0.2_06/gxtax-publicity.war
archive_md5:
  description: MD5 of the application archive (as in the .md5.txt).
  returned: success
  type: str
archive_sha256:
  description: SHA-256 of the application archive.
  returned: success
  type: str
md5_file:
  description: Absolute path of the .md5.txt file.
  returned: success
  type: str
scripts:
  description: Absolute paths of the database scripts, in execution order.
  returned: success
  type: list
  elements: str
rollback_scripts:
  description: Absolute paths of the rollback scripts, in their execution order (highest NN first).
  returned: success
  type: list
  elements: str
script_encoding:
  description: Encoding of the database scripts, C(utf-8) or C(gbk).
  returned: success
  type: str
instructions_path:
  description: Absolute path of C(升级说明.md).
  returned: success
  type: str
notes:
  description: 补丁说明 as numbered lines (C(1、...)), ready for the release notice (REL-06).
  returned: success
  type: str
notes_items:
  description: 补丁说明 as a list.
  returned: success
  type: list
  elements: str
manifest_path:
  description: Absolute path of C(manifest.json).
  returned: success
  type: str
manifest_sha256:
  description: SHA-256 of C(manifest.json), which names the package content (the version archive keys on it).
  returned: success
  type: str
created_at:
  description: When the package was built (from the manifest).
  returned: success
  type: str
created_by:
  description: Who built it (from the manifest).
  returned: success
  type: str
files:
  description: Files of the package, relative, sorted (O(state=built)).
  returned: when O(state=built)
  type: list
  elements: str
tarball:
  description: Path of the C(.tar.gz) written with O(compress=true).
  returned: when O(state=built) and O(compress=true)
  type: str
problems:
  description: Every problem found, C(file) and C(reason) (Chinese); empty on success.
  returned: always
  type: list
  elements: dict
  sample:
    - file: gxtax-publicity.war.md5.txt
      reason: "MD5 不一致：文件记录 0f3c…，应用包 gxtax-publicity.war 实际为 9a1b…"
unexpected_files:
  description: Files the manifest does not list or that a release ignores (not a failure).
  returned: always
  type: list
  elements: dict
"""

import getpass
import os
import shutil
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils import release_package as rp

BUILD_REQUIRED = ("version", "archive", "dest")


def _facts_from_plan(plan):
    """What a check-mode build reports: the facts the package would have."""
    root = plan["path"]
    return {
        "version": plan["version"], "package_name": plan["package_name"], "package_path": root,
        "platform": plan["platform"], "archive": plan["archive"],
        "archive_path": os.path.join(root, plan["archive"]), "archive_md5": plan["archive_md5"],
        "archive_sha256": plan["archive_sha256"],
        "md5_file": os.path.join(root, plan["archive"] + rp.MD5_SUFFIX),
        "scripts": [os.path.join(root, rel) for rel in plan["scripts"]],
        "rollback_scripts": [os.path.join(root, rel) for rel in plan["rollback_scripts"]],
        "script_encoding": plan["script_encoding"], "instructions_path": os.path.join(root, rp.INSTRUCTIONS),
        "notes": rp.notes_text(plan["notes"]), "notes_items": plan["notes"],
        "manifest_path": os.path.join(root, rp.MANIFEST), "manifest_sha256": None,
        "created_at": plan["created_at"], "created_by": plan["created_by"],
    }


def build(module):
    p = module.params
    missing = [name for name in BUILD_REQUIRED if not p[name]]
    if not (p["instructions_template"] or p["instructions_src"]):
        missing.append("instructions_template|instructions_src")
    if missing:
        module.fail_json(msg="state=built needs: %s" % ", ".join(missing), problems=[])
    spec = dict(p, created_by=p["created_by"] or getpass.getuser())
    try:
        plan = rp.plan_build(spec) if module.check_mode else rp.build(spec)
    except rp.PackageError as exc:
        module.fail_json(msg=str(exc), problems=exc.problems, unexpected_files=[])
    if module.check_mode:
        module.exit_json(changed=True, problems=[], unexpected_files=[], **_facts_from_plan(plan))
    checked = rp.verify_dir(plan["path"])
    extra = {"files": plan["files"]}
    if plan.get("tarball"):
        extra["tarball"] = plan["tarball"]
    module.exit_json(changed=True, problems=[], unexpected_files=checked["warnings"], **extra,
                     **checked["facts"])


def _tar_manifest(tar_path, name):
    with tarfile.open(tar_path, "r:gz") as tar:
        member = tar.extractfile("%s/%s" % (name, rp.MANIFEST))
        return member.read() if member else None


def _unpacked(module, tar_path):
    """(package directory, changed, temporary directory to remove or None)."""
    base = os.path.basename(tar_path)
    name = base[:-len(".tar.gz")]
    into = module.params["unpack_dir"] or os.path.dirname(tar_path)
    target = os.path.join(into, name)
    if os.path.lexists(target):
        try:
            inside = _tar_manifest(tar_path, name)
        except (tarfile.TarError, OSError, KeyError) as exc:
            module.fail_json(msg="无法读取 %s：%s" % (base, exc), problems=[rp.problem(base, str(exc))])
        try:
            with open(os.path.join(target, rp.MANIFEST), "rb") as handle:
                same = handle.read() == inside
        except OSError:
            same = False
        if not same:
            module.fail_json(msg="%s 已存在且与 %s 的清单不同，拒绝覆盖" % (target, base),
                             problems=[rp.problem(target, "已存在且与 %s 的清单不同" % base)])
        return target, False, None
    if module.check_mode:
        into = tempfile.mkdtemp(prefix=".gxtax-release-check-")
        return os.path.join(into, name), True, into
    os.makedirs(into, exist_ok=True)
    return rp.unpack(tar_path, into), True, None


def _moved(value, old, new):
    if isinstance(value, list):
        return [_moved(item, old, new) for item in value]
    if isinstance(value, str) and value.startswith(old):
        return new + value[len(old):]
    return value


def verify(module):
    p = module.params
    if not p["path"]:
        module.fail_json(msg="state=verified needs path", problems=[])
    path, changed, scratch = p["path"], False, None
    try:
        if path.endswith(".tar.gz") and os.path.isfile(path):
            path, changed, scratch = _unpacked(module, path)
            if scratch:
                rp.unpack(p["path"], scratch)
        result = rp.verify_dir(path, version=p["version"])
    except rp.PackageError as exc:
        module.fail_json(msg=str(exc), problems=exc.problems, unexpected_files=[])
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    for item in result["warnings"]:
        module.warn("%s: %s" % (item["file"], item["reason"]))
    if result["problems"]:
        module.fail_json(msg=rp.summary(result["problems"]), problems=result["problems"],
                         unexpected_files=result["warnings"])
    facts = result["facts"]
    if scratch:  # check mode: say where the package would be unpacked
        where = os.path.join(p["unpack_dir"] or os.path.dirname(p["path"]), facts["package_name"])
        facts = {k: _moved(v, facts["package_path"], where) for k, v in facts.items()}
    module.exit_json(changed=changed, problems=[], unexpected_files=result["warnings"], **facts)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["built", "verified"], default="verified"),
            version=dict(type="str"),
            path=dict(type="path"),
            unpack_dir=dict(type="path"),
            archive=dict(type="path"),
            sql_dir=dict(type="path"),
            dest=dict(type="path"),
            instructions_template=dict(type="path"),
            instructions_src=dict(type="path"),
            notes=dict(type="raw"),
            steps=dict(type="str"),
            impact=dict(type="str"),
            verification=dict(type="str"),
            rollback=dict(type="str"),
            platform=dict(type="str", choices=["publicity", "avrecord"]),
            script_encoding=dict(type="str", choices=["utf-8", "gbk"], default="utf-8"),
            compress=dict(type="bool", default=False),
            created_by=dict(type="str"),
            created_at=dict(type="str"),
        ),
        mutually_exclusive=[("instructions_template", "instructions_src")],
        supports_check_mode=True,
    )
    if module.params["state"] == "built":
        build(module)
    verify(module)


if __name__ == "__main__":
    main()
