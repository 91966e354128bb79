#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: oracle_health
short_description: Inspect one Oracle database over one connection (INSP-02 to INSP-09, INSP-12, INSP-18)
version_added: 0.1.0
description:
  - Connects once to one Oracle database with python-oracledb, runs the requested checks one after the
    other and returns their results as records in the one record format every gxtax.ops check yields
    (C(schemas/inspection-record.schema.json)). Meant to run on the control node
    (C(delegate_to=localhost)), once per C(oracle_db) host; the managed host needs nothing.
  - "Checks (O(checks)): C(instance) (INSP-02), C(tablespaces) (INSP-03), C(sessions) (INSP-04),
    C(processes) (INSP-05), C(locks) (INSP-06), C(long_sql) (INSP-07), C(jobs) (INSP-08),
    C(data_jobs) (INSP-18), C(asm) (INSP-09), C(rman_backups) (INSP-12), C(recovery_area)
    and C(alert_log). A check that fails (a missing grant, a statement timeout) becomes that check's
    C(error) record; the other checks still run."
  - "B(Time limits.) O(timeout) bounds the whole module: the work runs in a background thread and the
    module answers when the deadline comes, even if the driver hangs (a listener that accepts TCP and
    never answers). Every statement also gets the driver's C(call_timeout), the smaller of
    O(query_timeout) and what is left of O(timeout). The TCP connect is bounded by a third of
    O(timeout), at most 10 seconds, with no retry (thin mode)."
  - "B(When the database cannot be reached or logged into), the records are one INSP-02 record
    C(数据库连接与登录) saying why (C(critical) when the database is unreachable for applications too:
    no listener, network, service not registered, instance not open; C(error) when the inspection
    itself cannot get in: credentials, locked account, missing privilege, driver mode, no answer in time),
    with the direction in Chinese and the reason in English, and one C(skipped) record per requested check
    (C(数据库无法连接，未检查))."
  - "B(Driver mode.) Thin mode by default (no Oracle Client needed). Thick mode when O(client_lib_dir)
    is set. Automatic fallback: when thin mode fails with DPY-3010 (database too old for thin mode,
    e.g. 11.2), DPY-3015 (password verifier thin mode does not support) or native network encryption
    (DPY-3001, ORA-12660), the module tries thick mode once with the Oracle Client libraries found on
    the default search path (C(LD_LIBRARY_PATH), C(ldconfig)); when none loads, the record says to
    install Oracle Instant Client and set O(client_lib_dir). The one connection of the run is the one
    that succeeds."
  - "B(Secrets.) O(password) and O(wallet_password) are C(no_log). A DSN may carry credentials
    (C(user/password@host:1521/service)): they are split off and used, and the password is masked
    in every record, message, the module's logged invocation and its returned arguments."
  - Read-only; behaves the same in check mode.
options:
  dsn:
    description:
      - Connect string of the database, Easy Connect (V(192.0.2.11:1521/GSGS)) or a TNS alias
        defined in O(config_dir)'s C(tnsnames.ora), or a full C((DESCRIPTION=...)) descriptor.
      - A C(user/password@) prefix is accepted (see the description on secrets) but better kept out.
    type: str
    required: true
  user:
    description:
      - Database user, normally the monitoring user created by C(files/oracle/create_monitor_user.sql).
    type: str
  password:
    description: Its password (from Ansible Vault).
    type: str
  mode:
    description:
      - Privilege of the login. V(sysdba) needs a password file entry; the monitoring user needs V(normal).
    type: str
    choices: [normal, sysdba]
    default: normal
  checks:
    description: Checks to run, in this order. Default is every check.
    type: list
    elements: str
    choices: [instance, tablespaces, sessions, processes, locks, long_sql, jobs, data_jobs, asm,
              rman_backups, recovery_area, alert_log]
  thresholds:
    description:
      - "Thresholds of the checks as C(<kind>_warning) / C(<kind>_critical), a value at or above one
        getting its status and null switching a level off; given keys replace the checks' defaults,
        which follow the requirements: C(tablespace) 85/90 (%), C(sessions) 80/90, C(processes) 90/95,
        C(locks) 20, C(asm) 90/95, C(recovery_area) 80/90, C(blocked_seconds), C(active_sql_seconds),
        C(sql_seconds_per_exec), C(data_job_hours), C(data_job_duration_ratio), C(rman_db_hours),
        C(rman_archivelog_hours), C(alert_log_errors)."
      - Unknown keys and impossible values (a warning above its critical, a percentage over 100) fail
        the module before it connects.
    type: dict
    default: {}
  options:
    description:
      - "Settings of the checks; given keys replace their defaults: C(lock_ignore_types) (lock types
        that are normal, default C([AE, PS, TO])), C(long_sql_top) (10), C(long_sql_ignore_users),
        C(sql_text_chars), C(job_hours) (24), C(data_jobs) (the INSP-18 extraction and processing jobs,
        each C(owner), C(name_like) or C(what_like), C(kind) C(抽取) or C(加工)), C(data_job_runs),
        C(data_job_min_runs), C(data_job_days), C(rman_failure_hours), C(rman_required),
        C(alert_log_hours) (24), C(alert_log_ignore_codes), C(sysdba) (default: whether O(mode) is
        V(sysdba))."
      - Unknown keys and unusable values fail the module before it connects.
    type: dict
    default: {}
  timeout:
    description:
      - Seconds for the whole module (connect, every check, the answer). When they run out the
        module answers with what it has, an C(error) record for the step that did not finish and
        C(skipped) records for the checks not started.
    type: float
    default: 30
  query_timeout:
    description:
      - B(Seconds) (not milliseconds) one statement may take (the driver's C(call_timeout));
        never more than what is left of O(timeout). A statement over it makes its check an C(error) record.
    type: float
    default: 10
  client_lib_dir:
    description:
      - Directory of the Oracle Client libraries (Instant Client, containing C(libclntsh.so)).
        Setting it selects thick mode, which 11.2 databases and native network encryption need.
    type: path
  config_dir:
    description:
      - Directory with C(tnsnames.ora) (and, in thick mode, C(sqlnet.ora)), for TNS aliases and
        client network settings. Default is the driver's (C(TNS_ADMIN)).
    type: path
  wallet_location:
    description:
      - Directory of the wallet for TCPS connections (C(ewallet.pem) in thin mode; thick mode reads
        the wallet named in C(sqlnet.ora)).
    type: path
  wallet_password:
    description: Password of an encrypted C(ewallet.pem) (thin mode only).
    type: str
  host:
    description: Inventory host name the records are about.
    type: str
    default: localhost
requirements:
  - python-oracledb (C(oracledb)) on the control node; Oracle Instant Client for thick mode.
notes:
  - Runs on the control node (Python 3.11 there); delegate it to localhost.
  - One connection per run, closed at the end. When the watchdog fires, the blocked connection is left
    to the operating system; the process ends right after answering.
  - Grants the checks need are in C(files/oracle/create_monitor_user.sql); a missing grant is named in
    the error record of the check (or of the login, when even the instance views are missing).
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.tcp_port_check
  - module: gxtax.ops.expdp_backup_check
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: INSP-02 | Inspect the publicity database from the control node
  gxtax.ops.oracle_health:
    dsn: "192.0.2.11:1521/GSGS"
    user: gxtax_monitor
    password: "{{ vault_gxtax_oracle_password }}"
    host: pub-db01
    thresholds:
      tablespace_warning: 80
      tablespace_critical: 90
    options:
      lock_ignore_types: [AE, PS, TO, MR]
  delegate_to: localhost
  no_log: true
  register: pub_db

- name: INSP-02 | An 11.2 database, through Oracle Instant Client (thick mode)
  gxtax.ops.oracle_health:
    dsn: AVDB
    config_dir: /etc/oracle/network/admin
    client_lib_dir: /opt/oracle/instantclient_19_25
    user: gxtax_monitor
    password: "{{ vault_gxtax_oracle_password }}"
    checks: [instance, tablespaces, sessions, processes]
    timeout: 60
    query_timeout: 15
    host: av-db01
  delegate_to: localhost
  no_log: true
"""

RETURN = r"""
records:
  description: The records of the run in the shared record format, the checks' own in the order of O(checks).
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-02
      item: 数据库连接与登录
      host: pub-db01
      status: critical
      value: DPY-6005
      unit: null
      threshold: 30 秒内完成连接和登录
      detail: >-
        数据库 192.0.2.11:1521/GSGS 不可达：连接被拒绝，目标端口上没有监听程序（unreachable:
        connection refused, no listener on the port, ORA-12541; DPY-6005）。
      direction: 在数据库主机上执行 lsnrctl status 确认监听已启动、端口与连接串一致，并检查主机防火墙
      consequence: 应用无法连接数据库，相关业务中断
    - requirement_id: INSP-03
      item: 表空间使用率
      host: pub-db01
      status: skipped
      value: null
      unit: null
      threshold: null
      detail: 数据库无法连接，未检查（database unreachable, not checked）。
      direction: null
      consequence: null
database:
  description: What the database said about itself; empty when it could not be described.
  returned: always
  type: dict
  contains:
    version: {description: Version string, e.g. C(19.21.0.0.0)., type: str}
    version_tuple: {description: Version as numbers., type: list, elements: int}
    role: {description: C(PRIMARY) or a standby role., type: str}
    open_mode: {description: E.g. C(READ WRITE)., type: str}
    cdb: {description: Whether the database is a container database., type: bool}
    con_name: {description: The container logged into (C(CDB$ROOT) or a PDB)., type: str}
    instance_status: {description: E.g. C(OPEN)., type: str}
    db_name: {description: Database name., type: str}
    uses_asm: {description: Whether datafiles are in ASM., type: bool}
connection:
  description: How the run connected.
  returned: always
  type: dict
  contains:
    dsn: {description: The connect string as shown in records (no credentials)., type: str}
    mode: {description: C(thin) or C(thick); null when no connection was made., type: str}
    fallback_from:
      description: >-
        The thin-mode error (C(DPY-3010), C(DPY-3015), C(DPY-3001), C(ORA-12660)) that made the run
        fall back to thick mode, else null.
      type: str
    error:
      description: >-
        Null, or why the database could not be reached, logged into or described: C(cause) (e.g.
        C(listener_refused), C(unreachable), C(service_unknown), C(credentials), C(locked),
        C(thin_unsupported), C(watchdog)), C(codes), C(message) (the driver's first line, scrubbed),
        C(fallback).
      type: dict
timings:
  description: >-
    Milliseconds spent connecting, describing and per check, and whether the run finished before
    O(timeout).
  returned: always
  type: dict
  sample: {connect_ms: 41.3, describe_ms: 12.0, checks_ms: {tablespaces: 230.5}, finished: true}
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

import signal
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.gxtax.ops.plugins.module_utils import oracle_checks
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_conn import (
    ANSWER_MARGIN_S, Inspection, Scrubber, connection_argument_spec, run_with_deadline, split_dsn)

try:
    import oracledb
except ImportError:
    oracledb = None
    ORACLEDB_IMPORT_ERROR = traceback.format_exc()
else:
    ORACLEDB_IMPORT_ERROR = None

# After answering on a timeout, the process gets this long to exit before SIGALRM ends it, in
# case a blocked driver thread holds up interpreter shutdown (the answer is already written).
EXIT_GUARD_SECONDS = 5


class OracleModule(AnsibleModule):
    """AnsibleModule that knows a DSN may carry a password.

    The invocation is logged (syslog/journal) from AnsibleModule.__init__, before main() could
    add the DSN's password to the values to mask; this hook adds it first.
    """

    def _log_invocation(self):
        _user, secret, _dsn = split_dsn(self.params.get("dsn") or "")
        if secret:
            self.no_log_values.add(secret)
        super()._log_invocation()


def argument_spec():
    return dict(
        connection_argument_spec(),
        checks=dict(type="list", elements="str", choices=list(oracle_checks.CHECKS)),
        thresholds=dict(type="dict", default={}),
        options=dict(type="dict", default={}),
        timeout=dict(type="float", default=30.0),
        query_timeout=dict(type="float", default=10.0),
        host=dict(type="str", default="localhost"),
    )


def settings_from(params):
    """The Inspection settings and the secrets to mask, from the module's parameters."""
    dsn_user, dsn_password, dsn = split_dsn(params["dsn"])
    password = params["password"] if params["password"] is not None else dsn_password
    secrets = [password, dsn_password, params["wallet_password"]]
    scrub = Scrubber(secrets)
    checks = []
    for check in params["checks"] or list(oracle_checks.CHECKS):
        if check not in checks:
            checks.append(check)
    timeout = params["timeout"]
    thresholds = dict(oracle_checks.DEFAULT_THRESHOLDS)
    thresholds.update(params["thresholds"])
    # SYSDBA sessions may read x$ tables (the 11.2 alert log): tell the checks how we logged in.
    options = {"sysdba": params["mode"] == "sysdba"}
    options.update(params["options"])
    settings = dict(
        dsn=dsn, user=params["user"] or dsn_user, password=password, mode=params["mode"],
        client_lib_dir=params["client_lib_dir"], config_dir=params["config_dir"],
        wallet_location=params["wallet_location"], wallet_password=params["wallet_password"],
        connect_timeout=min(10.0, max(1.0, timeout / 3.0)),
        query_timeout_ms=int(params["query_timeout"] * 1000), timeout=timeout, checks=checks,
        thresholds=thresholds, options=options, host=params["host"], target=scrub(dsn))
    return settings, scrub, [s for s in secrets if s]


def main(exit_guard=False):
    module = OracleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    settings, scrub, secrets = settings_from(params)
    for secret in secrets:
        module.no_log_values.add(secret)
    if params["timeout"] <= 0 or params["query_timeout"] <= 0:
        module.fail_json(msg="timeout and query_timeout must be positive numbers of seconds")
    problems = (oracle_checks.validate_thresholds(settings["thresholds"])
                + oracle_checks.validate_options(settings["options"]))
    if problems:
        module.fail_json(msg="阈值或选项配置有误 / invalid thresholds or options: " + "; ".join(problems),
                         problems=problems)
    if oracledb is None:
        module.fail_json(msg=missing_required_lib("oracledb"), exception=ORACLEDB_IMPORT_ERROR)

    inspection = Inspection(oracledb, oracle_checks, settings, scrub)
    finished = run_with_deadline(inspection.run, inspection.seconds_left() - ANSWER_MARGIN_S)
    result = inspection.result(finished)
    result["connection"]["dsn"] = settings["target"]
    if not finished and exit_guard:
        # The answer below is complete; a driver thread stuck in a C call must not hold the exit.
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(EXIT_GUARD_SECONDS)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main(exit_guard=True)
