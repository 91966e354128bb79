#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oracle_script
short_description: Run a release's SQL scripts on Oracle in order, stopping at the first error (REL-07)
version_added: 0.1.0
description:
  - Runs the database scripts of a release package (REL-07) through python-oracledb, in the order of
    O(scripts), each statement logged with its outcome, rows affected and seconds. Meant for the control
    node (C(delegate_to=localhost)); the database host needs nothing. Run it on pre-production first,
    then on production (REL-09).
  - "B(Reading the scripts.) Every script is read and split into statements before anything connects,
    the way SQL*Plus reads it: SQL ends at C(;) or at a line holding only C(/); PL/SQL units
    (C(CREATE [OR REPLACE]) procedure, function, package [body], trigger, type [body], library;
    C(DECLARE)/C(BEGIN) blocks) end only at a line holding only C(/); comments, string literals
    (also C(q'[...]')) and quoted identifiers may hold C(;) and C(/). SQL*Plus commands that only shape
    output (C(SET ECHO), C(PROMPT), C(SPOOL), C(SHOW ERRORS), C(WHENEVER SQLERROR) ...) are ignored and
    listed in C(notes); C(SET DEFINE OFF) is applied; C(EXEC) becomes a PL/SQL block. Commands whose
    effect cannot be reproduced are refused: C(@)/C(@@)/C(START) includes, C(HOST), C(CONNECT), C(ACCEPT),
    C(VARIABLE), C(SET AUTOCOMMIT ON), C(&name) substitution variables while DEFINE is on, a stray C(/)
    that would run the previous statement twice. A script that is refused runs nothing, and neither do
    the others. docs/oracle-scripts.md has every rule."
  - "B(Transactions.) Autocommit is off. A script that runs to its end is committed. On the first error
    the open transaction is rolled back, the rest of the script does not run, and with O(stop_on_error)
    the later scripts do not run either. B(Oracle commits every DDL statement by itself) (CREATE, ALTER,
    DROP, TRUNCATE, GRANT, COMMENT ... commit the work before them and their own): the rollback after an
    error undoes only the DML since the last DDL or COMMIT of the failed script. The result names that
    point (C(committed_through)); what is before it stays in the database and must be undone by hand or
    by the package's rollback script."
  - "B(Compilation errors.) A PL/SQL unit or view created with compilation errors is a failure (Oracle
    reports success with a warning, python-oracledb DPY-7000): the first errors from C(ALL_ERRORS) are
    returned with their line in the script file. The object stays created, invalid."
  - "B(SEC-02.) Statements appear in results only as redacted summaries (literals as C(:s)/C(:n),
    comments dropped, C(IDENTIFIED BY) passwords masked); Oracle messages lose their literals too; query
    rows are never fetched. O(password) and O(wallet_password) are C(no_log); a password inside O(dsn)
    is masked everywhere."
  - The failure message names the script, the statement number, its line (the line of the error when
    Oracle gives an offset), the ORA- message, what it means and where to look, in Chinese and English.
options:
  scripts:
    description:
      - Script files on the control node, in execution order. Absolute paths are safest (for example
        under the unpacked release package); relative paths are taken from the module's working directory.
    type: list
    elements: path
    required: true
  encoding:
    description:
      - Character encoding of the script files, e.g. V(gbk) or V(gb18030) for scripts saved by a Chinese
        Windows editor. A UTF-8 byte-order mark is dropped. The text reaches the database as Unicode,
        so NLS_LANG plays no part.
    type: str
    default: utf-8
  stop_on_error:
    description:
      - V(true) stops the whole run at the first error. V(false) still stops the failing script (and
        rolls back its open transaction) but runs the later scripts; the module fails either way.
    type: bool
    default: true
  timeout:
    description:
      - B(Seconds) one statement may take (the driver's C(call_timeout)); a statement over it fails with
        DPY-4024 / ORA-03156 and its script is rolled back.
    type: float
    default: 1800
  connect_timeout:
    description:
      - Seconds for the TCP connect (thin mode). The whole login, with the automatic thick-mode fallback,
        gets three times this before the module gives up (a listener that accepts and never answers).
    type: float
    default: 15
  dsn:
    description:
      - Connect string of the database, Easy Connect (V(192.0.2.11:1521/GSGS)) or a TNS alias defined in
        O(config_dir)'s C(tnsnames.ora), or a full C((DESCRIPTION=...)) descriptor.
      - A C(user/password@) prefix is accepted but better kept out; the password is masked everywhere.
    type: str
    required: true
  user:
    description: Database user that owns (or may change) the objects the scripts touch.
    type: str
  password:
    description: Its password (from Ansible Vault).
    type: str
  mode:
    description: Privilege of the login.
    type: str
    choices: [normal, sysdba]
    default: normal
  client_lib_dir:
    description:
      - Directory of the Oracle Client libraries (Instant Client). Setting it selects thick mode, which
        11.2 databases and native network encryption need; without it, thin mode falls back to thick
        once when the database needs it (DPY-3010, DPY-3015, native network encryption).
    type: path
  config_dir:
    description: Directory with C(tnsnames.ora) (and, in thick mode, C(sqlnet.ora)).
    type: path
  wallet_location:
    description: Directory of the wallet for TCPS connections.
    type: path
  wallet_password:
    description: Password of an encrypted C(ewallet.pem) (thin mode only).
    type: str
attributes:
  check_mode:
    description: Reads and splits every script and lists the statements; never connects to the database.
    support: full
  diff_mode:
    description: Not supported.
    support: none
  platform:
    description: Runs on the control node.
    support: full
    platforms: posix
requirements:
  - python-oracledb (C(oracledb)) on the control node; Oracle Instant Client for thick mode.
notes:
  - Runs on the control node (Python 3.11 there); delegate it to localhost.
  - All scripts of one task share one session, so C(ALTER SESSION) settings carry over to later scripts,
    as in one SQL*Plus session. The session's NLS settings are the database's defaults, not those of a
    SQL*Plus client; write dates with C(TO_DATE) and a format.
  - The module does not remember which scripts ran before; running a script twice runs it twice.
  - Blank lines inside a statement are kept (as with C(SET SQLBLANKLINES ON)); DBMS_OUTPUT is not collected.
seealso:
  - module: gxtax.ops.oracle_health
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: REL-07 | Run the database scripts of the release on pre-production
  gxtax.ops.oracle_script:
    dsn: "{{ gxtax_oracle_dsn }}"
    user: "{{ gxtax_release_db_user }}"
    password: "{{ vault_gxtax_release_db_password }}"
    scripts:
      - "{{ __gxtax_release_dir }}/db/01_ddl.sql"
      - "{{ __gxtax_release_dir }}/db/02_data.sql"
      - "{{ __gxtax_release_dir }}/db/03_pkg_notice.sql"
    encoding: gbk
    timeout: 3600
  delegate_to: localhost
  register: db_scripts

- name: REL-07 | List the statements the scripts hold, without connecting
  gxtax.ops.oracle_script:
    dsn: "{{ gxtax_oracle_dsn }}"
    scripts: "{{ __gxtax_release_scripts }}"
  check_mode: true
  delegate_to: localhost
"""

RETURN = r"""
scripts:
  description: One entry per script, in the order of O(scripts).
  returned: always
  type: list
  elements: dict
  contains:
    script: {description: The path as given., type: str}
    sha256: {description: SHA-256 of the file as read (null when it could not be read)., type: str}
    outcome: {description: C(ok) (run and committed), C(failed) or C(not_run)., type: str}
    statements:
      description: >-
        The statements, each with C(number), C(line) (in the file), C(verb) (e.g. C(INSERT),
        C(CREATE PACKAGE BODY)), C(category) (ddl, dml, query, plsql, transaction, session, system,
        other), C(summary) (redacted text), C(outcome) (ok, failed, not_run), C(rows) (DML only),
        C(seconds), C(error). At most 1000 are listed per script, plus the failed one.
      type: list
      elements: dict
    statement_count: {description: Number of statements in the script., type: int}
    statements_not_listed: {description: Statements beyond the listed ones., type: int}
    rows: {description: Rows affected by the script's DML statements that succeeded., type: int}
    seconds: {description: Seconds the script took, commit included; null when not run., type: float}
    transaction:
      description: C(committed), C(rolled_back), C(rollback_failed), or null when not run.
      type: str
    error:
      description: One line saying what failed, in Chinese and English; null when nothing failed.
      type: str
    failure:
      description: The failure in detail (as the top-level RV(failure)); null when nothing failed.
      type: dict
    why_not_run: {description: Why a script did not run., type: str}
    notes:
      description: SQL*Plus commands ignored or applied, each with C(line), C(command), C(note).
      type: list
  sample:
    - script: /opt/release/gsgs-2.3.1/db/02_data.sql
      sha256: 9f2c...
      outcome: failed
      statement_count: 3
      rows: 1
      seconds: 0.41
      transaction: rolled_back
      error: "第 2 条语句（第 5 行，INSERT）失败：ORA-00942: table or view does not exist（表或视图不存在……）"
failure:
  description: >-
    Null, or the first failure: C(script), C(statement) (number; null for a failed COMMIT or a script
    refused before anything ran), C(line),
    C(error_line), C(verb), C(summary), C(code) (e.g. C(ORA-00942), C(DPY-7000)), C(codes), C(message)
    (redacted), C(meaning) and C(direction) (Chinese), C(compile_errors) (C(line), C(position), C(text)),
    C(transaction), C(committed_through) (the last statement whose work stays committed, because it or a
    later DDL/COMMIT committed it) and C(sentence).
  returned: always
  type: dict
release_event:
  description: >-
    One event per script for the release report callback (gxtax.ops.release_report):
    C({type: db_script, script, outcome: succeeded|failed|skipped, rows, seconds, error}).
  returned: always
  type: list
  elements: dict
connection:
  description: >-
    C(dsn) (credentials masked), C(mode) (thin, thick, or null when not connected), C(fallback_from),
    C(error).
  returned: always
  type: dict
check_mode:
  description: Whether the scripts were only read (nothing connected, nothing run).
  returned: always
  type: bool
"""

import signal
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.gxtax.ops.plugins.module_utils import sql_script
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_conn import ConnectFailure, split_dsn
from ansible_collections.gxtax.ops.plugins.module_utils.oracle_script_run import (
    connect_sentence, connection_argument_spec, connection_settings, not_run_result, open_connection,
    release_events, run_scripts)

try:
    import oracledb
except ImportError:
    oracledb = None
    ORACLEDB_IMPORT_ERROR = traceback.format_exc()
else:
    ORACLEDB_IMPORT_ERROR = None

# After answering on a login that never finished, the process gets this long to exit before
# SIGALRM ends it, in case the blocked driver thread holds up interpreter shutdown.
EXIT_GUARD_SECONDS = 5
CHECK_MODE_WHY = "检查模式：只解析脚本，未连接数据库（check mode: parsed only, nothing connected）"


class OracleScriptModule(AnsibleModule):
    """AnsibleModule that masks a password written into the DSN in its logged invocation too,
    which AnsibleModule.__init__ writes before main() could add it to the values to mask."""

    def _log_invocation(self):
        _user, secret, _dsn = split_dsn(self.params.get("dsn") or "")
        if secret:
            self.no_log_values.add(secret)
        super()._log_invocation()


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        scripts=dict(type="list", elements="path", required=True),
        encoding=dict(type="str", default="utf-8"),
        stop_on_error=dict(type="bool", default=True),
        timeout=dict(type="float", default=1800.0),
        connect_timeout=dict(type="float", default=15.0),
    )
    return spec


def load_scripts(paths, encoding):
    """(parsed scripts, None), or (None, failure) for the first script that cannot be run as written."""
    loaded = []
    for index, path in enumerate(paths):
        try:
            loaded.append(sql_script.load(path, encoding))
        except sql_script.ScriptError as exc:
            return None, refusal(index, path, exc.line, exc.zh, exc.en,
                                 "脚本 %s 无法执行，未执行任何脚本：%s" % (path, exc.sentence()))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            sentence = "脚本 %s 无法读取，未执行任何脚本（cannot read %s: %s）" % (path, path, reason)
            return None, refusal(index, path, None, "无法读取：%s" % reason, "cannot read: %s" % reason,
                                 sentence)
    return loaded, None


def refusal(index, path, line, zh, en, sentence):
    """The failure of a script refused before anything ran (same keys as a run's failure)."""
    return {"index": index, "script": path, "statement": None, "line": line, "error_line": line, "verb": None,
            "summary": None, "code": None, "codes": [], "message": en, "meaning": zh,
            "direction": "按 docs/oracle-scripts.md 的规则修正脚本后重新执行（修正前未执行任何语句）",
            "compile_errors": [], "transaction": None, "committed_through": None, "sentence": sentence}


def refused_result(paths, failure, target):
    scripts = []
    for number, path in enumerate(paths):
        why = (failure["sentence"] if number == failure["index"]
               else "另一脚本无法执行（another script was refused）")
        result = not_run_result({"script": path, "statements": []}, why)
        result["sha256"] = None
        if number == failure["index"]:
            result.update(outcome="failed", error=failure["sentence"], failure=failure)
        scripts.append(result)
    events = release_events(scripts)
    return dict(changed=False, scripts=scripts, release_event=events, failure=failure, check_mode=False,
                connection={"dsn": target, "mode": None, "fallback_from": None, "error": None})


def main(exit_guard=False):
    module = OracleScriptModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    settings, scrub, secrets = connection_settings(params, params["connect_timeout"])
    for secret in secrets:
        module.no_log_values.add(secret)
    target = settings["target"]
    if params["timeout"] <= 0 or params["connect_timeout"] <= 0:
        module.fail_json(msg="timeout and connect_timeout must be positive numbers of seconds")
    if not params["scripts"]:
        module.fail_json(msg="scripts is empty: name the release's SQL scripts in execution order")

    loaded, refused = load_scripts(params["scripts"], params["encoding"])
    if refused is not None:
        module.fail_json(msg=refused["sentence"], **refused_result(params["scripts"], refused, target))
    connection = {"dsn": target, "mode": None, "fallback_from": None, "error": None}
    if module.check_mode:
        scripts = [not_run_result(s, CHECK_MODE_WHY) for s in loaded]
        module.exit_json(changed=any(s["statements"] for s in loaded), scripts=scripts,
                         release_event=release_events(scripts), failure=None, connection=connection,
                         check_mode=True)
    if oracledb is None:
        module.fail_json(msg=missing_required_lib("oracledb"), exception=ORACLEDB_IMPORT_ERROR)

    watchdog = 3 * params["connect_timeout"]
    try:
        opened = open_connection(oracledb, settings, scrub, watchdog)
    except ConnectFailure as failure:
        sentence = connect_sentence(failure, target, watchdog)
        scripts = [not_run_result(s, sentence) for s in loaded]
        connection["error"] = {"cause": failure.cause, "codes": failure.codes,
                               "message": scrub(failure.message), "fallback": failure.fallback}
        if failure.cause == "watchdog" and exit_guard:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(EXIT_GUARD_SECONDS)
        module.fail_json(msg=sentence, changed=False, scripts=scripts, release_event=release_events(scripts),
                         failure=None, connection=connection, check_mode=False)
    connection.update(mode=opened["mode"], fallback_from=opened["fallback_from"])
    try:
        outcome = run_scripts(opened["connection"], loaded, oracledb.Error, params["timeout"],
                              params["stop_on_error"], scrub)
    finally:
        try:
            opened["connection"].close()  # rolls back anything still open
        except oracledb.Error:
            pass
    result = dict(changed=outcome["changed"], scripts=outcome["scripts"],
                  release_event=release_events(outcome["scripts"]), failure=outcome["failure"],
                  connection=connection, check_mode=False)
    if outcome["failure"] is not None:
        failure = outcome["failure"]
        later = [s["script"] for s in outcome["scripts"] if s["outcome"] == "not_run"]
        module.fail_json(msg="数据库脚本 %s %s%s" % (
            failure["script"], failure["sentence"],
            "；未执行的脚本：%s" % "、".join(later) if later else ""), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main(exit_guard=True)
