"""SQL gate for the Oracle inspection: syntax, version rules, binds, fixture columns and grants.

No Oracle server runs here, so the SQL is checked statically: every statement of every
variant parses with sqlglot's Oracle dialect; 11.2 statements avoid 12c-only syntax; the
views each statement reads (extracted by sqlglot) are exactly the objects the grant scripts
grant; the recorded fixture rows have the columns the statements return; the binds the
checks pass are the placeholders the statements use.
"""

import json
import pathlib
import re

import pytest
import sqlglot
from sqlglot import exp

from ansible_collections.gxtax.ops.plugins.module_utils import oracle_checks as oc
from ansible_collections.gxtax.ops.plugins.module_utils import oracle_sql as osql

ROOT = pathlib.Path(__file__).parents[2]
FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "oracle"
SCRIPTS = ROOT / "files" / "oracle"
ALL = osql.all_statements()
FIXTURE_VARIANTS = {"11.2": "11g", "19c-noncdb": "noncdb", "19c-cdb-root": "root", "19c-pdb": "pdb"}
# What describe_database runs on 11.2 (test_oracle_checks.test_describe_database checks it).
DESCRIBE_11G = ("instance", "database_11g", "asm_count")
GRANT = re.compile(r"^GRANT SELECT ON (SYS\.[A-Z0-9_$]+) TO &&user\b(.*);$", re.MULTILINE)


def ids(statement):
    kind, check, name, _ = statement
    return "%s-%s-%s" % (kind, check, name)


def tables(sql):
    return sorted({t.name.lower() for t in sqlglot.parse_one(sql, read="oracle").find_all(exp.Table)})


def output_columns(sql):
    """Names of the columns a statement returns (through SELECT * FROM (subquery) wrappers)."""
    select = sqlglot.parse_one(sql, read="oracle")
    while len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Star):
        source = select.args.get("from_") or select.args.get("from")
        select = source.this.this
    return [e.alias_or_name.lower() for e in select.expressions]


def grants(script):
    text = (SCRIPTS / script).read_text(encoding="utf-8")
    return {m.group(1): m.group(2).strip() for m in GRANT.finditer(text)}


def needed(kinds):
    objects = set()
    for kind, _, _, sql in ALL:
        if kind in kinds:
            objects.update(v for v in tables(sql) if v not in osql.SYSDBA_ONLY)
    return {osql.grant_name(v) for v in objects}


@pytest.mark.parametrize("statement", ALL, ids=ids)
def test_every_statement_parses_with_the_oracle_dialect(statement):
    _, _, name, sql = statement
    parsed = sqlglot.parse_one(sql, read="oracle")
    assert isinstance(parsed, exp.Select)
    assert osql.statement_name(sql) == name
    # the runtime's regex (used to name missing grants) sees what sqlglot sees
    assert osql.referenced_objects(sql) == tables(sql)
    assert ";" not in sql  # drivers reject a trailing semicolon


@pytest.mark.parametrize("statement", [s for s in ALL if s[0] == "11g"], ids=ids)
def test_11g_statements_use_no_12c_syntax_or_views(statement):
    if statement[1] == "describe" and statement[2] not in DESCRIBE_11G:
        return  # describe_database picks its statements by version: the 12c ones never run on 11.2
    sql = statement[3].upper()
    for forbidden in ("FETCH FIRST", "FETCH NEXT", "OFFSET ", "CDB_", "JSON_", "V$DIAG_ALERT_EXT", "V$PDBS",
                      "LATERAL", "CROSS APPLY", "APPROX_", "CON_NAME"):
        assert forbidden not in sql, forbidden
    assert not re.search(r"\.\s*CON_ID\b", sql)  # no container columns (the 0 AS con_id alias is ours)


@pytest.mark.parametrize("kind", osql.VARIANTS)
def test_dictionary_views_follow_the_container(kind):
    for check, statements in osql.statements_for_variant(kind, sysdba=True).items():
        for name, sql in statements:
            views = tables(sql)
            if kind == "root":
                assert not any(v.startswith("dba_") for v in views), (check, name)
            else:
                assert not any(v.startswith("cdb_") for v in views), (check, name)


@pytest.mark.parametrize("kind", osql.VARIANTS)
def test_statement_names_are_unique_and_top_n_uses_rownum(kind):
    names = [name for statements in osql.statements_for_variant(kind, True).values()
             for name, _ in statements]
    assert len(names) == len(set(names))
    assert not set(names) & {name for name, _ in osql.describe_statements()}
    for check in ("long_sql",):
        for _, sql in osql.statements_for_variant(kind)[check]:
            assert "ROWNUM <= :top" in sql


@pytest.mark.parametrize("kind", osql.VARIANTS)
def test_tablespace_metrics_convert_blocks_to_bytes(kind):
    (_, metrics) = osql.statements_for_variant(kind)["tablespaces"][0]
    assert "m.used_space * t.block_size" in metrics and "m.tablespace_size * t.block_size" in metrics


def test_alert_log_statement_by_version_and_mode():
    assert osql.statements_for_variant("11g")["alert_log"] == []
    assert tables(osql.statements_for_variant("11g", sysdba=True)["alert_log"][0][1]) == ["x$dbgalertext"]
    for kind in ("noncdb", "root", "pdb"):
        assert tables(osql.statements_for_variant(kind)["alert_log"][0][1]) == ["v$diag_alert_ext"]


@pytest.mark.parametrize(("database", "kind"), [
    ({"version_tuple": (11, 2, 0, 4, 0), "cdb": False}, "11g"),
    ({"version_tuple": (12, 1, 0, 2, 0), "cdb": False}, "noncdb"),
    ({"version_tuple": (12, 2, 0, 1, 0), "cdb": True, "con_name": "CDB$ROOT"}, "root"),
    ({"version_tuple": [19, 21, 0, 0, 0], "cdb": True, "con_name": "PDB1"}, "pdb"),
    ({"version_tuple": [19, 21, 0, 0, 0], "cdb": True, "con_name": None}, "root"),
])
def test_variant_selection(database, kind):
    assert osql.variant(database) == kind


def test_non_cdb_grant_script_grants_exactly_what_the_sql_reads():
    granted = grants("create_monitor_user.sql")
    assert set(granted) == needed({"11g", "noncdb", "pdb"})
    assert not any("CONTAINER" in clause for clause in granted.values())


def test_cdb_grant_script_grants_exactly_what_the_sql_reads_in_every_container():
    granted = grants("create_monitor_user_cdb.sql")
    assert set(granted) == needed({"root", "pdb"})
    assert all(clause == "CONTAINER=ALL" for clause in granted.values())
    text = (SCRIPTS / "create_monitor_user_cdb.sql").read_text(encoding="utf-8")
    assert "SET CONTAINER_DATA = ALL" in text
    assert 'IDENTIFIED BY "&&password" CONTAINER=ALL;' in text
    assert "GRANT CREATE SESSION TO &&user CONTAINER=ALL;" in text


@pytest.mark.parametrize("script", ["create_monitor_user.sql", "create_monitor_user_cdb.sql"])
def test_grant_scripts_are_least_privilege_and_store_no_password(script):
    text = (SCRIPTS / script).read_text(encoding="utf-8")
    statements = [line for line in text.splitlines() if line and not line.startswith(("--", "PROMPT"))]
    assert "ACCEPT password CHAR PROMPT" in text and "HIDE" in text
    assert re.findall(r"IDENTIFIED BY ([^\s;]+)", text) == ['"&&password"']
    assert "UNDEFINE password" in text and "SET VERIFY OFF" in text
    for line in statements:
        upper = line.upper()
        assert " ANY " not in upper and "_ROLE" not in upper and "DBA TO" not in upper, line
        if upper.startswith("GRANT"):
            assert upper.startswith(("GRANT SELECT ON SYS.", "GRANT CREATE SESSION")), line


class Recorder:
    """Runs the checks over a fixture and keeps every (sql, binds) pair."""

    def __init__(self, version):
        self.data = json.loads((FIXTURES / ("%s.json" % version)).read_text(encoding="utf-8"))["statements"]
        self.calls = []

    def execute(self, sql, binds):
        self.calls.append((sql, dict(binds)))
        entry = self.data[osql.statement_name(sql)]
        if isinstance(entry, list):
            entry = next(e for e in entry if all(binds.get(k) == v for k, v in e["when"].items()))
        if "error" in entry:
            raise oc.QueryError(entry["error"]["code"], entry["error"]["message"])
        return entry["columns"], [tuple(r) for r in entry["rows"]]


DATA_JOBS = [{"owner": "ETL", "name_like": "CQ\\_%", "kind": "抽取"},
             {"owner": "ETL", "name_like": "JG\\_%", "kind": "加工"},
             {"owner": "ETL", "what_like": "ETL_PKG.LOAD_ZFXX%", "kind": "抽取"},
             {"owner": "ETL", "what_like": "ETL_PKG.MART%", "kind": "加工"}]
# The data-job specs each fixture has recorded answers for.
SPECS = {"11.2": DATA_JOBS, "19c-noncdb": DATA_JOBS[:2], "19c-cdb-root": DATA_JOBS[:2], "19c-pdb": []}


@pytest.mark.parametrize("version", sorted(FIXTURE_VARIANTS))
def test_binds_passed_are_the_placeholders_used(version):
    recorder = Recorder(version)
    database = oc.describe_database(recorder.execute)
    assert osql.variant(database) == FIXTURE_VARIANTS[version]
    options = {"data_jobs": SPECS[version], "sysdba": True}
    oc.run_checks(recorder.execute, database, None, None, "db1", options)
    ran = set()
    for sql, binds in recorder.calls:
        placeholders = {p.name for p in sqlglot.parse_one(sql, read="oracle").find_all(exp.Placeholder)}
        assert placeholders == set(binds), osql.statement_name(sql)
        ran.add(osql.statement_name(sql))
    assert len(ran) >= 20


@pytest.mark.parametrize("version", sorted(FIXTURE_VARIANTS))
def test_fixture_rows_have_the_columns_the_statements_return(version):
    data = json.loads((FIXTURES / ("%s.json" % version)).read_text(encoding="utf-8"))["statements"]
    sql_by_name = dict(osql.describe_statements())
    for statements in osql.statements_for_variant(FIXTURE_VARIANTS[version], sysdba=True).values():
        sql_by_name.update(dict(statements))
    checked = 0
    for name, entry in data.items():
        for answer in entry if isinstance(entry, list) else [entry]:
            if "error" in answer:
                continue
            assert [c.lower() for c in answer["columns"]] == output_columns(sql_by_name[name]), name
            assert all(len(row) == len(answer["columns"]) for row in answer["rows"]), name
            checked += 1
    assert checked >= 15
