"""SEC-02: SQL text and Oracle messages lose every literal before they reach a report."""

import itertools

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.sql_redact import (
    ELLIPSIS,
    redact,
    redact_message,
)

# Taxpayer-like data as it appears in the platforms' SQL: unified social credit codes (18 chars),
# ID card numbers, old 15-digit tax IDs, names, company names, amounts, phone numbers, dates.
TAXPAYER_DATA = ("91450100MA5K3L8Q2X", "450102199001011234", "450103123456789", "张三", "李四某",
                 "广西壮族自治区某某商贸有限公司", "1234567.89", "13907710000", "2024-05-01", "O'Brien Ltd")


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = :s"),
    ("WHERE a = 'it''s'", "WHERE a = :s"),                               # doubled quote inside
    ("WHERE a = N'张三'", "WHERE a = :s"),                                 # national string
    ("WHERE a = n'x' AND b = NQ'[y]'", "WHERE a = :s AND b = :s"),
    ("WHERE a = q'[it's]'", "WHERE a = :s"),                             # q-quote with a quote inside
    ("WHERE a = Q'{x}' OR a = q'<y>' OR a = q'(z)' OR a = q'!w!'",
     "WHERE a = :s OR a = :s OR a = :s OR a = :s"),
    ("WHERE h = X'0A1F' OR h = 0x1F", "WHERE h = :s OR h = :n"),          # hex
    ("WHERE n IN (1, 22, 3.5, .5, 1e10, 1.5E-3, 2.5f, 7D)", "WHERE n IN (:n, :n, :n, :n, :n, :n, :n, :n)"),
    ("WHERE n = -42", "WHERE n = -:n"),
    ("WHERE d = DATE '2024-05-01' AND t > TIMESTAMP '2024-05-01 08:30:00'",
     "WHERE d = DATE :s AND t > TIMESTAMP :s"),
    ("WHERE d > SYSDATE - INTERVAL '7' DAY", "WHERE d > SYSDATE - INTERVAL :s DAY"),
    ("WHERE id = 91450100MA5K3L8Q2X", "WHERE id = :n"),                   # unquoted, digit-led: still data
])
def test_literals_become_placeholders(sql, expected):
    assert redact(sql, None) == expected


@pytest.mark.parametrize(("sql", "expected"), [
    ('SELECT "T1"."Col 2", t1.col_2, x$y, v$session.serial#, owner.tab@dblink1 FROM dual',
     'SELECT "T1"."Col 2", t1.col_2, x$y, v$session.serial#, owner.tab@dblink1 FROM dual'),
    ("UPDATE 纳税人信息 SET 纳税人名称 = :1 WHERE 识别号 = :B2",
     "UPDATE 纳税人信息 SET 纳税人名称 = :1 WHERE 识别号 = :B2"),
    ("SELECT * FROM t WHERE a = :SYS_B_0 AND b = :name", "SELECT * FROM t WHERE a = :SYS_B_0 AND b = :name"),
    ("SELECT COUNT(*), SUM(t2.amt), NVL(a, b) FROM t2", "SELECT COUNT(*), SUM(t2.amt), NVL(a, b) FROM t2"),
])
def test_identifiers_binds_and_keywords_are_kept(sql, expected):
    assert redact(sql, None) == expected


def test_comments_and_hints_are_dropped_with_whatever_they_hold():
    sql = ("SELECT /*+ INDEX(t idx_nsrsbh) 张三 */ a -- 91450100MA5K3L8Q2X\n"
           "FROM t /* 欠税 1234567.89 */ WHERE b = 1 -- unterminated")
    assert redact(sql, None) == "SELECT a FROM t WHERE b = :n"


def test_text_cut_off_inside_a_literal_or_comment_is_still_redacted():
    assert redact("SELECT * FROM t WHERE nsrmc = '广西某某有限公", None) == "SELECT * FROM t WHERE nsrmc = :s"
    assert redact("SELECT * FROM t WHERE a = q'[张三", None) == "SELECT * FROM t WHERE a = :s"
    assert redact("SELECT a /* 张三", None) == "SELECT a"


@pytest.mark.parametrize(("template", "value"), list(itertools.product([
    "SELECT * FROM t WHERE c = '{v}'",
    "SELECT * FROM t WHERE c = N'{v}'",
    "SELECT * FROM t WHERE c = q'[{v}]'",
    "INSERT INTO t (a, b) VALUES ('{v}', '{v}')",
    "SELECT * FROM t WHERE c LIKE '%{v}%' -- {v}",
    "BEGIN p(q'!{v}!'); END; /* {v} */",
    "UPDATE t SET c = '{v}' WHERE d IN ('{v}', 'x')",
], [v for v in TAXPAYER_DATA if "'" not in v])))
def test_taxpayer_data_never_survives(template, value):
    redacted = redact(template.format(v=value), None)
    assert value not in redacted
    # the literal is replaced, not deleted, and the statement is still recognisable
    assert ":s" in redacted and redacted.split()[0] == template.split()[0]


def test_quoted_data_with_quotes_never_survives():
    for sql in ("SELECT * FROM t WHERE c = 'O''Brien Ltd'", "SELECT * FROM t WHERE c = q'[O'Brien Ltd]'"):
        assert "Brien" not in redact(sql, None)


@pytest.mark.parametrize("value", ["1234567.89", "13907710000", "450102199001011234", "91450100MA5K3L8Q2X"])
def test_unquoted_numbers_and_digit_led_values_never_survive(value):
    redacted = redact("SELECT * FROM t WHERE a = %s OR b > %s" % (value, value), None)
    assert value not in redacted and "MA5K" not in redacted
    assert redacted == "SELECT * FROM t WHERE a = :n OR b > :n"


def test_truncation_and_whitespace():
    sql = "SELECT   a,\n\tb\r\nFROM    t WHERE c = 'x'   "
    assert redact(sql) == "SELECT a, b FROM t WHERE c = :s"
    long = "SELECT " + ", ".join("column_%d" % i for i in range(200)) + " FROM t"
    cut = redact(long, 50)
    assert len(cut) <= 50 and cut.endswith(ELLIPSIS) and cut.startswith("SELECT column_0")
    assert len(redact(long)) <= 300
    assert redact(None) == "" and redact("") == ""


def test_messages_keep_error_codes_and_lose_data():
    message = 'ORA-01555: snapshot too old: rollback segment number 12 with name "_SYSSMU12$" too small'
    assert redact_message(message) \
        == 'ORA-01555: snapshot too old: rollback segment number :n with name "_SYSSMU12$" too small'
    assert redact_message("WARNING: inbound connection timed out (ORA-3136)") \
        == "WARNING: inbound connection timed out (ORA-3136)"
    message = "ORA-20001: 纳税人张三（91450100MA5K3L8Q2X）欠税 1234567.89 元 'x'\nORA-06512: at line 8"
    redacted = redact_message(message, None)
    for value in ("张三", "91450100MA5K3L8Q2X", "1234567.89", "欠税"):
        assert value not in redacted
    assert redacted.startswith("ORA-20001:") and "ORA-06512" in redacted
    assert redact_message(None) == ""
    assert len(redact_message("ORA-00600: " + "x " * 300)) <= 160


def test_driver_error_codes_survive_redaction():
    from ansible_collections.gxtax.ops.plugins.module_utils.sql_redact import redact_message  # noqa: PLC0415

    text = redact_message("DPY-4011: the database or network closed the connection; "
                          "DPI-1080: connection was closed")
    assert "DPY-4011" in text and "DPI-1080" in text
