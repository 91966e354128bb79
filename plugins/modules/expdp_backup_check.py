#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: expdp_backup_check
short_description: Check the newest Data Pump export (expdp) dump and its log on the database host (INSP-12)
version_added: 0.1.0
description:
  - Runs on the database host and looks at the directory the nightly C(expdp) writes to. Returns three
    inspection records (requirement C(INSP-12)) in the shared record format
    (C(schemas/inspection-record.schema.json)).
  - C(逻辑备份（expdp）最新转储文件) - the newest file matching O(dump_pattern), value its age in hours;
    C(critical) when there is none or it is older than O(max_age_hours).
  - C(逻辑备份（expdp）转储文件大小) - its size in MB (the whole dump file set when the log lists it,
    e.g. C(%U) parallel files); C(critical) below O(min_size_bytes).
  - "C(逻辑备份（expdp）导出日志) - the newest file matching O(log_pattern), value the number of lines
    with C(ORA-) or C(UDE-) errors. Its completion line decides: C(Job \"...\" successfully completed at ...)
    is C(ok); C(completed with N error(s)) is C(warning); C(stopped due to fatal error), no completion line
    (killed, still running, never started) or no log at all is C(critical). A log whose dump file set does
    not name the newest dump is at least a C(warning)."
  - A directory that cannot be read gives one C(error) record and two C(skipped) ones; the module itself
    does not fail.
  - Read-only; runs in check mode too. Reads the log line by line, so large logs are fine.
options:
  directory:
    description:
      - Directory of the dumps and logs (the path of the Data Pump directory object, e.g. C(DATA_PUMP_DIR)).
    type: path
    required: true
  dump_pattern:
    description: Shell pattern of the dump files, e.g. V(expdp_full_*.dmp).
    type: str
    default: "*.dmp"
  log_pattern:
    description:
      - Shell pattern of the export logs. Default is O(dump_pattern) with C(.dmp) replaced by C(.log).
    type: str
  max_age_hours:
    description: Hours after which the newest dump is too old. 26 is a daily export plus two hours of slack.
    type: float
    default: 26
  min_size_bytes:
    description:
      - Smallest plausible size of a dump (file set), in bytes; an empty or truncated export is smaller.
    type: int
    default: 1048576
  host:
    description: Inventory host name put into the records.
    type: str
    default: localhost
notes:
  - Uses only the Python standard library; runs on Python 3.7 and later.
  - Dumps are usually readable by the C(oracle) user only; run it with C(become_user=oracle) if needed.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.oracle_health
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: INSP-12 | Check last night's full export
  gxtax.ops.expdp_backup_check:
    directory: /u01/backup/expdp
    dump_pattern: expdp_full_*.dmp
    max_age_hours: 26
    host: "{{ inventory_hostname }}"
  become: true
  become_user: oracle
"""

RETURN = r"""
records:
  description: Three INSP-12 records (dump age, dump size, export log) in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-12
      item: 逻辑备份（expdp）导出日志
      host: pub-db01
      status: warning
      value: 3
      unit: 行ORA-错误
      threshold: successfully completed
      detail: >-
        导出日志 expdp_full_20261126.log：作业 SYSTEM.SYS_EXPORT_FULL_01 于 Wed Nov 26 01:31:07 2026 完成，
        但有 1 个错误；ORA- 错误行 3 行（ORA-02354×1、ORA-01555×1、ORA-31693×1）。
      direction: 查看日志中 ORA- 错误涉及的对象……
      consequence: 出错对象的数据不在备份中，恢复时这些数据将丢失
backup:
  description: What was found.
  returned: always
  type: dict
  contains:
    dump:
      description: Newest dump (C(name), C(mtime), C(age_hours), C(size_bytes), C(files)), or null.
      type: dict
    log:
      description: >-
        Newest log (C(name), C(mtime), C(job), C(outcome) success/errors/stopped/incomplete,
        C(error_count), C(completed_at), C(ora_lines), C(error_codes), C(dump_files)), or null.
      type: dict
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.expdp_check import check
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directory=dict(type="path", required=True),
            dump_pattern=dict(type="str", default="*.dmp"),
            log_pattern=dict(type="str"),
            max_age_hours=dict(type="float", default=26.0),
            min_size_bytes=dict(type="int", default=1048576),
            host=dict(type="str", default="localhost"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["max_age_hours"] <= 0 or p["min_size_bytes"] < 0:
        module.fail_json(msg="max_age_hours must be positive and min_size_bytes not negative")
    records, backup = check(p["directory"], p["dump_pattern"], p["log_pattern"], p["max_age_hours"],
                            p["min_size_bytes"], p["host"])
    module.exit_json(changed=False, records=records, backup=backup, status=worst(records))


if __name__ == "__main__":
    main()
