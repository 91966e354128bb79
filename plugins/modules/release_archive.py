#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_archive
short_description: Keep every released version and find any of them (REL-08)
version_added: 0.1.0
description:
  - The version archive keeps each release package, verified, read-only, under
    C(<root>/<main.major.minor>/<package_name>/) (for example C(releases/1.0.2/1.0.2_06/)), and an
    append-only, hash-chained C(<root>/versions.jsonl) with one line per event (version, manifest
    SHA-256, time, environment, outcome). C(docs/release-packages.md) describes it.
  - O(operation=store) verifies O(package) (as M(gxtax.ops.release_package) does) and keeps it, once.
    Storing a version again with the same content only records a new event (a release to another
    environment, another outcome) and is otherwise a no-op (C(changed=false)). A version that is already
    kept with different content is refused, so one version number never names two contents.
  - O(operation=find) returns where a version (C(1.0.2.06) or C(1.0.2_06)) is kept, its history, its
    package facts (as M(gxtax.ops.release_package) returns them) and its release reports from the report
    archive (kind C(release) whose C(meta.version) is the version). It fails when the kept copy is
    damaged, and returns RV(found=false) for an unknown version.
  - O(operation=previous) returns the version that ran in O(environment) before O(version), the rollback
    target. Only successful releases count, in the order they happened.
  - O(operation=list) lists every kept version; O(operation=verify) checks the whole archive (hash chain,
    every kept file against its manifest, directories not in the index).
  - Runs on the control node.
options:
  operation:
    description: What to do.
    type: str
    choices: [store, find, previous, list, verify]
    required: true
  root:
    description:
      - Root of the version archive. Playbooks pass C(releases/) beside the C(playbooks) directory unless
        C(gxtax_release_archive_root) is set; under AWX put it on a persistent volume (the project
        checkout is not kept between jobs).
      - Taken from the environment variable C(GXTAX_RELEASE_ROOT) when not given.
    type: path
    required: true
  package:
    description: With O(operation=store), the package directory (as built and verified).
    type: path
  environment:
    description:
      - With O(operation=store), the environment the package was released to (for example
        C(preproduction), C(production)); required unless O(outcome=archived).
      - With O(operation=previous), the environment asked about.
    type: str
  outcome:
    description:
      - With O(operation=store), what happened. V(archived) keeps the package without a release; the
        others use the words of the release report's C(meta.outcome).
    type: str
    choices: [archived, succeeded, failed, rolled_back]
    default: archived
  version:
    description: With O(operation=find) or O(operation=previous), a version number or package name.
    type: str
  report_root:
    description:
      - With O(operation=find), root of the report archive whose release reports are listed; default is
        the environment variable C(GXTAX_REPORT_ROOT); without either, RV(reports) is empty.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
seealso:
  - module: gxtax.ops.release_package
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: REL-08 | Keep the released package and record the release to production
  gxtax.ops.release_archive:
    operation: store
    root: /var/lib/gxtax-ops/releases
    package: "{{ pkg.package_path }}"
    environment: production
    outcome: succeeded
  delegate_to: localhost

- name: REL-08 | Which version do we roll back to?
  gxtax.ops.release_archive:
    operation: previous
    root: /var/lib/gxtax-ops/releases
    environment: production
    version: 1.0.2.06
  delegate_to: localhost
  register: before

- name: REL-08 | Find 1.0.2.05 and its release reports
  gxtax.ops.release_archive:
    operation: find
    root: /var/lib/gxtax-ops/releases
    version: 1.0.2_05
    report_root: /var/lib/gxtax-ops/reports
  delegate_to: localhost
"""

RETURN = r"""
version:
  description: The version stored or looked up.
  returned: when O(operation) is store, find or previous
  type: str
  sample: 1.0.2.06
package_name:
  description: Its package name.
  returned: when O(operation) is store or find
  type: str
  sample: 1.0.2_06
path:
  description: Absolute path of the kept package directory.
  returned: when O(operation) is store or find
  type: str
copied:
  description: Whether the package was (or would be) copied into the archive.
  returned: when O(operation=store)
  type: bool
entry:
  description: The line appended to C(versions.jsonl), or null when nothing new was recorded.
  returned: when O(operation=store)
  type: dict
found:
  description: Whether the version is kept.
  returned: when O(operation=find)
  type: bool
history:
  description: Every C(versions.jsonl) line of the version.
  returned: when O(operation=find)
  type: list
  elements: dict
reports:
  description:
    - Release reports of the version, C(run_id), C(created), C(path), C(html), C(environment),
      C(outcome), C(package), C(title).
  returned: when O(operation=find)
  type: list
  elements: dict
package:
  description: Facts of the kept package, as M(gxtax.ops.release_package) returns them.
  returned: when O(operation=find)
  type: dict
previous:
  description:
    - The line of the previous successful release in the environment, with C(path) absolute, or null.
  returned: when O(operation=previous)
  type: dict
previous_version:
  description: Its version, or null when there is none.
  returned: when O(operation=previous)
  type: str
versions:
  description: Kept versions, oldest number first, with C(releases) (environment, outcome, stored_at).
  returned: when O(operation=list)
  type: list
  elements: dict
problems:
  description: Problems found, C(file) and C(reason) (Chinese).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.gxtax.ops.plugins.module_utils import release_package as rp
from ansible_collections.gxtax.ops.plugins.module_utils.release_version import VersionError
from ansible_collections.gxtax.ops.plugins.module_utils.version_archive import (
    VersionArchive,
    VersionArchiveError,
    to_version,
)

NEEDS = {"store": ("package",), "find": ("version",), "previous": ("version", "environment")}


def run(module, archive):
    p = module.params
    operation = p["operation"]
    if operation == "store":
        done = archive.store(p["package"], environment=p["environment"], outcome=p["outcome"],
                             check_mode=module.check_mode)
        return dict(done, problems=[])
    if operation == "find":
        found = archive.find(p["version"], report_root=p["report_root"])
        if found["problems"]:
            module.fail_json(msg=rp.summary(found["problems"], "归档副本有问题"), **found)
        return dict(found, changed=False)
    if operation == "previous":
        entry = archive.previous(p["environment"], p["version"])
        return {"changed": False, "version": to_version(p["version"]), "previous": entry,
                "previous_version": entry["version"] if entry else None, "problems": []}
    if operation == "list":
        return {"changed": False, "versions": archive.list_versions(), "problems": []}
    problems = archive.verify()
    if problems:
        first = problems[0]
        module.fail_json(msg="版本归档校验未通过：%s：%s（共 %d 个问题，见 problems）"
                         % (first["file"], first["reason"], len(problems)), problems=problems)
    return {"changed": False, "problems": []}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            operation=dict(type="str", choices=["store", "find", "previous", "list", "verify"],
                           required=True),
            root=dict(type="path", required=True, fallback=(env_fallback, ["GXTAX_RELEASE_ROOT"])),
            package=dict(type="path"),
            environment=dict(type="str"),
            outcome=dict(type="str", choices=["archived", "succeeded", "failed", "rolled_back"],
                         default="archived"),
            version=dict(type="str"),
            report_root=dict(type="path", fallback=(env_fallback, ["GXTAX_REPORT_ROOT"])),
        ),
        supports_check_mode=True,
    )
    missing = [name for name in NEEDS.get(module.params["operation"], ()) if not module.params[name]]
    if missing:
        module.fail_json(msg="operation=%s needs: %s" % (module.params["operation"], ", ".join(missing)),
                         problems=[])
    archive = VersionArchive(module.params["root"])
    try:
        result = run(module, archive)
    except (VersionArchiveError, rp.PackageError) as exc:
        module.fail_json(msg=str(exc), problems=exc.problems)
    except VersionError as exc:
        module.fail_json(msg=str(exc), problems=[rp.problem("version", str(exc))])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
