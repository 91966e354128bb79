"""REL-07: splitting SQL*Plus-style release scripts into statements (sql_script), over realistic scripts.

Plain text in, statements out: no database and no driver is involved here.
"""

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import sql_script
from ansible_collections.gxtax.ops.plugins.module_utils.sql_script import ScriptError, parse

# A release script as the platforms' developers write them: header comments, SQL*Plus settings,
# DDL, DML whose literals hold ';', '/' and Chinese, a package spec and body, an anonymous block,
# EXEC, comments everywhere, and EXIT.
RELEASE = """\
-- =============================================================
-- 行政执法信息公示平台 v2.3.1 数据库升级脚本
-- 执行用户：GSGS；执行前请备份；
-- =============================================================
SET DEFINE OFF
SET ECHO ON FEEDBACK ON
SET SERVEROUTPUT ON SIZE 1000000
WHENEVER SQLERROR EXIT SQL.SQLCODE ROLLBACK
SPOOL upgrade_2.3.1.log
PROMPT ---- 1. 新增公示通知表

/* 公示通知表：发布时间; 撤销时间 /
   多行注释里的 ; 和 / 不是结束符 */
CREATE TABLE gs_notice (
  id          NUMBER(12)     NOT NULL,
  title       VARCHAR2(300)  NOT NULL, -- 标题; 含分号的注释
  body        CLOB,
  publish_at  DATE DEFAULT SYSDATE,
  CONSTRAINT pk_gs_notice PRIMARY KEY (id)
);

COMMENT ON TABLE gs_notice IS '公示通知; 对外发布 / 撤销';
CREATE INDEX ix_gs_notice_pub ON gs_notice (publish_at);

PROMPT ---- 2. 初始化数据
INSERT INTO gs_notice (id, title, body) VALUES (1, '关于调整办税时间的通知; 第1号', 'a/b;c');
INSERT INTO gs_notice (id, title, body)
VALUES (2, q'[O'Brien; 的 "说明"]', q'{
/
多行 q-quote，中间有单独一行的 /
}');
UPDATE gs_notice SET title = title || ' (R&D)' WHERE id = 2;

PROMPT ---- 3. 公示包
CREATE OR REPLACE PACKAGE gs_notice_pkg AS
  -- 发布一条通知; 返回编号
  FUNCTION publish(p_title IN VARCHAR2) RETURN NUMBER;
END gs_notice_pkg;
/

CREATE OR REPLACE PACKAGE BODY gs_notice_pkg AS
  FUNCTION publish(p_title IN VARCHAR2) RETURN NUMBER IS
    v_id NUMBER;
  BEGIN
    SELECT NVL(MAX(id), 0) + 1 INTO v_id FROM gs_notice;
    INSERT INTO gs_notice (id, title) VALUES (v_id, p_title || ';');
    /* 块注释;
    /
    */
    RETURN v_id;
  END publish;
END gs_notice_pkg;
/
SHOW ERRORS

DECLARE
  v NUMBER;
BEGIN
  v := gs_notice_pkg.publish('升级完成; 请核对');
END;
/
EXEC DBMS_STATS.GATHER_TABLE_STATS(USER, 'GS_NOTICE');
COMMIT;
SPOOL OFF
EXIT
"""


def statements(text):
    return parse(text)["statements"]


def test_a_realistic_release_script_splits_into_its_statements():
    parsed = parse(RELEASE)
    found = [(s["number"], s["line"], s["mode"], s["verb"], s["category"]) for s in parsed["statements"]]
    assert found == [
        (1, 14, "sql", "CREATE TABLE", "ddl"),
        (2, 22, "sql", "COMMENT", "ddl"),
        (3, 23, "sql", "CREATE INDEX", "ddl"),
        (4, 26, "sql", "INSERT", "dml"),
        (5, 27, "sql", "INSERT", "dml"),
        (6, 32, "sql", "UPDATE", "dml"),
        (7, 35, "plsql", "CREATE PACKAGE", "ddl"),
        (8, 41, "plsql", "CREATE PACKAGE BODY", "ddl"),
        (9, 56, "plsql", "DECLARE", "plsql"),
        (10, 62, "plsql", "EXECUTE", "plsql"),
        (11, 63, "sql", "COMMIT", "transaction"),
    ]
    texts = [s["text"] for s in parsed["statements"]]
    # What the driver gets: no terminator for SQL, the whole unit (its END ...;) for PL/SQL,
    # literals and inner comments untouched.
    assert texts[0].startswith("CREATE TABLE gs_notice (") and texts[0].endswith("PRIMARY KEY (id)\n)")
    assert "-- 标题; 含分号的注释" in texts[0]
    assert texts[1] == "COMMENT ON TABLE gs_notice IS '公示通知; 对外发布 / 撤销'"
    assert texts[3].endswith("'a/b;c')")
    assert "\n/\n多行 q-quote" in texts[4] and texts[4].endswith("}')")
    assert texts[5].endswith("' (R&D)' WHERE id = 2")
    assert texts[6].endswith("END gs_notice_pkg;")
    assert "publish(p_title IN VARCHAR2) RETURN NUMBER;" in texts[6]
    assert texts[7].count("\n") == 11 and "/* 块注释;\n    /\n    */" in texts[7]
    assert texts[8].startswith("DECLARE") and texts[8].endswith("END;")
    assert texts[9] == "BEGIN DBMS_STATS.GATHER_TABLE_STATS(USER, 'GS_NOTICE'); END;"
    assert texts[10] == "COMMIT"
    assert parsed["statements"][7]["end_line"] == 52
    assert parsed["statements"][7]["object"] == {"type": "PACKAGE BODY", "owner": None,
                                                 "name": "GS_NOTICE_PKG"}


def test_sqlplus_commands_are_noted_with_their_lines():
    notes = parse(RELEASE)["notes"]
    by_line = {n["line"]: n for n in notes}
    assert by_line[5]["command"] == "SET DEFINE OFF" and "applied" in by_line[5]["note"]
    assert by_line[6]["command"].startswith("SET ECHO")
    assert "DBMS_OUTPUT" in by_line[7]["note"]
    assert by_line[8]["command"] == "WHENEVER SQLERROR" and "first error" in by_line[8]["note"]
    assert by_line[9]["command"] == "SPOOL" and by_line[10]["command"] == "PROMPT"
    assert by_line[54]["command"] == "SHOW" and "compilation errors" in by_line[54]["note"]
    assert by_line[65]["command"] == "EXIT"
    # PROMPT text is free text (it may name a taxpayer): only the command word is kept.
    assert not any("初始化" in n["command"] for n in notes)


def test_crlf_line_endings_give_the_same_statements_and_lines():
    lf = parse(RELEASE)
    crlf = parse(RELEASE.replace("\n", "\r\n"))
    assert ([(s["line"], s["text"]) for s in crlf["statements"]]
            == [(s["line"], s["text"]) for s in lf["statements"]])
    assert not any("\r" in s["text"] for s in crlf["statements"])
    assert [n["line"] for n in crlf["notes"]] == [n["line"] for n in lf["notes"]]


def test_a_gbk_file_is_read_with_encoding_gbk_and_refused_as_utf8(tmp_path):
    path = tmp_path / "02_data.sql"
    path.write_bytes(RELEASE.encode("gbk"))
    loaded = sql_script.load(str(path), "gbk")
    assert loaded["statements"][1]["text"] == "COMMENT ON TABLE gs_notice IS '公示通知; 对外发布 / 撤销'"
    assert len(loaded["statements"]) == 11 and len(loaded["sha256"]) == 64
    with pytest.raises(ScriptError) as caught:
        sql_script.load(str(path), "utf-8")
    assert caught.value.line == 2 and "encoding: gbk" in caught.value.en
    with pytest.raises(ScriptError) as caught:
        sql_script.load(str(path), "no-such-codec")
    assert "unknown encoding" in caught.value.en and caught.value.line is None


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.sql"
    path.write_bytes(b"\xef\xbb\xbfSELECT 1 FROM dual;\n")
    assert [s["text"] for s in sql_script.load(str(path))["statements"]] == ["SELECT 1 FROM dual"]


@pytest.mark.parametrize(("script", "texts"), [
    ("UPDATE t SET a = 1\n/\n", ["UPDATE t SET a = 1"]),                     # SQL ended by '/'
    ("SELECT 1 FROM dual; SELECT 2 FROM dual;\n", ["SELECT 1 FROM dual", "SELECT 2 FROM dual"]),
    ("INSERT INTO t VALUES ('it''s; fine');", ["INSERT INTO t VALUES ('it''s; fine')"]),
    ("INSERT INTO t VALUES (N'税;务', nq'!a;b!');", ["INSERT INTO t VALUES (N'税;务', nq'!a;b!')"]),
    ('SELECT "odd;name" FROM t;', ['SELECT "odd;name" FROM t']),
    ("SELECT /*+ INDEX(t ix) */ a FROM t -- why\n;", ["SELECT /*+ INDEX(t ix) */ a FROM t -- why"]),
    ("/* lead */ DELETE FROM t WHERE a = 1; -- trailing; comment\n", ["DELETE FROM t WHERE a = 1"]),
    ("CREATE TABLE t (\n  a NUMBER,\n\n  b NUMBER\n);", ["CREATE TABLE t (\n  a NUMBER,\n\n  b NUMBER\n)"]),
    ("SET TRANSACTION READ ONLY;\nSET ROLE NONE;", ["SET TRANSACTION READ ONLY", "SET ROLE NONE"]),
    ("-- only comments\n/* and a block */\nREM a remark -\nREMARK another\n", []),
    ("SET DEFINE OFF\nINSERT INTO t VALUES ('R&D &amp;');", ["INSERT INTO t VALUES ('R&D &amp;')"]),
    ("SET DEFINE ^\nINSERT INTO t VALUES ('R&D');", ["INSERT INTO t VALUES ('R&D')"]),
    ("COLUMN name -\n  HEADING 'Name'\nSELECT 1 FROM dual;", ["SELECT 1 FROM dual"]),
    ("PRO hi\nSPO x.log\nSHO ERR\nDESC t\nTIMI START\nSELECT 1 FROM dual;", ["SELECT 1 FROM dual"]),
    ("EXIT;\n-- nothing after EXIT but comments\n\n", []),
])
def test_terminators_literals_and_comments(script, texts):
    assert [s["text"] for s in statements(script)] == texts


@pytest.mark.parametrize(("script", "verb", "obj"), [
    ("CREATE OR REPLACE EDITIONABLE PROCEDURE app.p IS\nBEGIN NULL; END;\n/",
     "CREATE PROCEDURE", {"type": "PROCEDURE", "owner": "APP", "name": "P"}),
    ('CREATE OR REPLACE PACKAGE BODY "App"."Pkg" AS\nEND;\n/',
     "CREATE PACKAGE BODY", {"type": "PACKAGE BODY", "owner": "App", "name": "Pkg"}),
    ("CREATE OR REPLACE TRIGGER trg_t\nBEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  :new.a := 1;\nEND;\n/",
     "CREATE TRIGGER", {"type": "TRIGGER", "owner": None, "name": "TRG_T"}),
    ("CREATE OR REPLACE TYPE t_row AS OBJECT (a NUMBER, b VARCHAR2(10));\n/",
     "CREATE TYPE", {"type": "TYPE", "owner": None, "name": "T_ROW"}),
    ("CREATE OR REPLACE TYPE BODY t_row AS\n  MEMBER FUNCTION f RETURN NUMBER IS BEGIN RETURN 1; END;\n"
     "END;\n/",
     "CREATE TYPE BODY", {"type": "TYPE BODY", "owner": None, "name": "T_ROW"}),
    ("CREATE OR REPLACE FUNCTION f RETURN VARCHAR2 IS\nBEGIN\n  RETURN 'a;\n/\nb';\nEND;\n/",
     "CREATE FUNCTION", {"type": "FUNCTION", "owner": None, "name": "F"}),
    ("BEGIN\n  EXECUTE IMMEDIATE 'CREATE TABLE x (a NUMBER)';\nEND;\n/", "BEGIN", None),
])
def test_plsql_units_end_only_at_a_slash_line(script, verb, obj):
    found = statements(script)
    assert len(found) == 1
    assert (found[0]["mode"], found[0]["verb"], found[0]["object"]) == ("plsql", verb, obj)
    assert found[0]["text"].rstrip().endswith(";")


def test_a_view_names_its_object_for_compilation_errors_and_sql_mode():
    found = statements("CREATE OR REPLACE FORCE VIEW v_notice AS SELECT id FROM gs_notice;")
    assert found[0]["mode"] == "sql"
    assert found[0]["object"] == {"type": "VIEW", "owner": None, "name": "V_NOTICE"}


@pytest.mark.parametrize(("script", "line", "words"), [
    ("SELECT 1 FROM dual;\n@other.sql\n", 2, "list that script"),
    ("@@sub/child.sql", 1, "list that script"),
    ("START other.sql", 1, "START runs another script"),
    ("HOST rm -rf /tmp/x", 1, "HOST"),
    ("!ls", 1, "operating-system"),
    ("CONN app/secret@db", 1, "CONNECT"),
    ("ACCEPT v PROMPT 'value:'", 1, "keyboard"),
    ("VARIABLE n NUMBER", 1, "bind variables"),
    ("SET AUTOCOMMIT ON", 1, "AUTOCOMMIT"),
    ("SET SQLTERMINATOR #", 1, "terminator"),
    ("SET ESCAPE ON", 1, "ESCAPE"),
    ("SET SQLCASE UPPER", 1, "SQLCASE"),
    ("\nINSERT INTO t VALUES ('&name');", 2, "&name is a SQL*Plus substitution variable"),
    ("CREATE USER &&app_user IDENTIFIED BY x;", 1, "&&app_user"),
    ("SET DEFINE OFF\nSET DEFINE ON\nINSERT INTO t VALUES ('R&D');", 3, "SET DEFINE OFF"),
    ("INSERT INTO t VALUES (1);\n/\n", 2, "run the previous statement again"),
    ("SELECT 1 FROM dual\n.\n", 2, "'.' alone"),
    ("INSERT INTO t VALUES ('unclosed);\n", 1, "string opened here is never closed"),
    ("SELECT 1 FROM dual /* never closed;\n", 1, "comment"),
    ("SELECT 1 FROM dual\n", 1, "not ended by ';'"),
    ("BEGIN\n  NULL;\nEND;\n", 1, "PL/SQL unit is not ended"),
    ("CREATE OR REPLACE PACKAGE a AS\nEND a;\n\nCREATE OR REPLACE PACKAGE b AS\nEND b;\n/", 4,
     "starts on line 1"),
    ("SELECT 1 FROM dual;\nEXIT\nDROP TABLE t;\n", 3, "SQL*Plus ends the script"),
    ("EXIT ROLLBACK", 1, "commit policy"),
    ("PROMPT ---------------------------------------------\nCREATE TABLE t (a NUMBER);", 1, "trailing '-'"),
    ("CREATE OR REPLACE AND COMPILE JAVA SOURCE NAMED x AS class X {};\n/", 1, "JAVA"),
    ("EXEC", 1, "EXECUTE without a call"),
    ("SET DEFINE abc", 1, "not understood"),
])
def test_what_cannot_be_run_as_sqlplus_would_is_refused_with_its_line(script, line, words):
    with pytest.raises(ScriptError) as caught:
        parse(script)
    assert caught.value.line == line
    assert words in caught.value.en or words in caught.value.zh
    sentence = caught.value.sentence()
    assert sentence.startswith("第 %d 行：" % line) and "line %d" % line in sentence


def test_a_prompt_ending_in_a_hyphen_may_swallow_another_output_command():
    # SQL*Plus joins the next line to the PROMPT: harmless when that line is output-only too.
    parsed = parse("PROMPT ------\nPROMPT step 2\nSELECT 1 FROM dual;")
    assert [s["line"] for s in parsed["statements"]] == [3]
    assert [n["line"] for n in parsed["notes"]] == [1]


def test_summaries_hide_literals_and_passwords():
    script = ("ALTER USER gsgs IDENTIFIED BY \"Pa;ss word1\";\n"
              "CREATE DATABASE LINK dl CONNECT TO u IDENTIFIED BY Secret2 USING 'GSGS';\n"
              "INSERT INTO nsr (nsrsbh, nsrmc, je)\n"
              "VALUES ('91450100MA5K3L8Q2X', '广西某某商贸有限公司', 1234567.89);\n")
    found = statements(script)
    joined = " ".join(s["summary"] for s in found)
    for secret in ("Pa;ss word1", "Secret2", "91450100MA5K3L8Q2X", "广西某某商贸有限公司", "1234567.89"):
        assert secret not in joined
    assert found[0]["summary"] == "ALTER USER gsgs IDENTIFIED BY ********"
    assert found[2]["summary"] == "INSERT INTO nsr (nsrsbh, nsrmc, je) VALUES (:s, :s, :n)"
    assert found[1]["verb"] == "CREATE DATABASE LINK"


@pytest.mark.parametrize(("sql", "verb", "category", "commits"), [
    ("CREATE UNIQUE INDEX ix ON t (a)", "CREATE INDEX", "ddl", True),
    ("CREATE GLOBAL TEMPORARY TABLE g (a NUMBER)", "CREATE TABLE", "ddl", True),
    ("CREATE MATERIALIZED VIEW mv AS SELECT 1 a FROM dual", "CREATE MATERIALIZED VIEW", "ddl", True),
    ("ALTER TABLE t ADD (b NUMBER)", "ALTER TABLE", "ddl", True),
    ("ALTER SESSION SET CURRENT_SCHEMA = gsgs", "ALTER SESSION", "session", False),
    ("ALTER SYSTEM FLUSH SHARED_POOL", "ALTER SYSTEM", "system", False),
    ("TRUNCATE TABLE t", "TRUNCATE TABLE", "ddl", True),
    ("GRANT SELECT ON t TO r", "GRANT", "ddl", True),
    ("MERGE INTO t USING s ON (t.a = s.a) WHEN MATCHED THEN UPDATE SET t.b = s.b", "MERGE", "dml", False),
    ("WITH x AS (SELECT 1 a FROM dual) SELECT a FROM x", "WITH", "query", False),
    ("COMMIT", "COMMIT", "transaction", True),
    ("ROLLBACK", "ROLLBACK", "transaction", False),
    ("CALL p()", "CALL", "plsql", False),
])
def test_statements_are_classified_and_ddl_commits(sql, verb, category, commits):
    statement = statements(sql + ";")[0]
    assert (statement["verb"], statement["category"]) == (verb, category)
    assert sql_script.commits(statement) is commits


def test_a_big_data_script_keeps_every_statement_and_its_line():
    rows = "".join("INSERT INTO t VALUES (%d, '值;%d');\n" % (n, n) for n in range(1, 5001))
    found = statements("SET DEFINE OFF\n" + rows + "COMMIT;\n")
    assert len(found) == 5001
    assert (found[4999]["line"], found[4999]["text"]) == (5001, "INSERT INTO t VALUES (5000, '值;5000')")
    assert found[-1]["verb"] == "COMMIT" and found[-1]["line"] == 5002
