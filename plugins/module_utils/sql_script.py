# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split a SQL*Plus-style release script into the statements a driver can run (REL-07).

A scanner, not regular expressions over the whole text: a ';' or a '/' line ends a statement only
outside string literals ('it''s', q'[a;b]', N'...'), quoted identifiers and comments. Rules:

- SQL ends at ';' (the ';' is not sent) or at a line holding only '/'.
- PL/SQL (CREATE [OR REPLACE] [EDITIONABLE|NONEDITIONABLE] PROCEDURE, FUNCTION, PACKAGE [BODY],
  TRIGGER, TYPE [BODY], LIBRARY; DECLARE and BEGIN blocks) ends only at a line holding only '/';
  its ';' are part of it. EXEC[UTE] x becomes BEGIN x; END;.
- SQL*Plus commands are recognised at the start of a statement only, abbreviated as SQL*Plus
  allows. Those that only shape output (SET ECHO, PROMPT, SPOOL, SHOW ERRORS, WHENEVER ...) are
  ignored with a note; those whose effect this runner cannot reproduce (@ and START includes,
  HOST, CONNECT, ACCEPT, VARIABLE, substitution variables, SET AUTOCOMMIT ON ...) are refused:
  the whole script is rejected before anything runs.

Anything ambiguous is refused rather than guessed, with the line and the reason in Chinese and
English. Nothing here talks to a database. Runs on the control node only (Python 3.11).
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import re

from ansible_collections.gxtax.ops.plugins.module_utils.sql_redact import redact

SUMMARY_CHARS = 160
MASK = "********"

_WORD = re.compile(r"[A-Za-z_$#][A-Za-z0-9_$#]*")
_Q_CLOSE = {"[": "]", "{": "}", "<": ">", "(": ")"}
# Passwords in CREATE USER / ALTER USER / CREATE DATABASE LINK (quoted ones would survive
# redact(), which keeps "quoted identifiers").
_IDENTIFIED_BY = re.compile(r'(?is)\b(IDENTIFIED\s+BY)\s+(?:VALUES\s+)?("[^"]*"|\'[^\']*\'|\S+)')
_PLSQL_OBJECTS = ("PROCEDURE", "FUNCTION", "PACKAGE", "TRIGGER", "TYPE", "LIBRARY")
# Lines that can never appear inside a PL/SQL unit: a DDL statement there means the '/' that
# should have ended the unit before it is missing.
_DDL_IN_BLOCK = re.compile(
    r"(?i)[ \t]*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:NON)?EDITIONABLE\s+|UNIQUE\s+|BITMAP\s+|"
    r"GLOBAL\s+TEMPORARY\s+|PUBLIC\s+|FORCE\s+)*(?:PACKAGE|PROCEDURE|FUNCTION|TABLE|VIEW|INDEX|"
    r"SEQUENCE|TYPE|TRIGGER|SYNONYM)\b|(?:ALTER|DROP)\s+(?:TABLE|INDEX|PACKAGE|PROCEDURE|FUNCTION|"
    r"VIEW|SEQUENCE|TYPE|TRIGGER|SYNONYM)\b)")

# What the statement scanner stops at: line ends, ';', and the starts of comments, literals and
# quoted identifiers (n'', q'', nq'' only when not glued to a name).
_INTERESTING = re.compile(r"\n|;|'|\"|--|/\*|(?<![A-Za-z0-9_$#])(?:[nN][qQ]?|[qQ])'")

_DDL = {"CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "GRANT", "REVOKE", "COMMENT", "ANALYZE",
        "AUDIT", "NOAUDIT", "PURGE", "FLASHBACK", "ASSOCIATE", "DISASSOCIATE", "ADMINISTER"}
_DML = {"INSERT", "UPDATE", "DELETE", "MERGE", "LOCK"}
_CATEGORY = dict(
    [(w, "ddl") for w in _DDL] + [(w, "dml") for w in _DML]
    + [(w, "plsql") for w in ("DECLARE", "BEGIN", "CALL", "EXECUTE")]
    + [(w, "query") for w in ("SELECT", "WITH")]
    + [(w, "transaction") for w in ("COMMIT", "ROLLBACK", "SAVEPOINT")] + [("SET", "session")])
_CREATE_MODIFIERS = {"UNIQUE", "BITMAP", "GLOBAL", "PRIVATE", "TEMPORARY", "PUBLIC", "SHARDED",
                     "DUPLICATED", "IMMUTABLE", "BLOCKCHAIN", "MULTIVALUE", "SEARCH"}


class ScriptError(Exception):
    """The script cannot be run as written: nothing of it (or of later scripts) runs."""

    def __init__(self, line, zh, en):
        Exception.__init__(self, "line %s: %s" % (line, en) if line is not None else en)
        self.line, self.zh, self.en = line, zh, en

    def sentence(self):
        if self.line is None:
            return "%s（%s）" % (self.zh, self.en)
        return "第 %s 行：%s（line %s: %s）" % (self.line, self.zh, self.line, self.en)


# ------------------------------------------------------------------ SQL*Plus commands

# (full name, shortest abbreviation SQL*Plus accepts, what happens here)
_COMMANDS = (
    ("STARTUP", 7, "refuse"), ("START", 3, "refuse"), ("SHUTDOWN", 8, "refuse"),
    ("RECOVER", 7, "refuse"), ("ARCHIVE", 7, "refuse"), ("HOST", 2, "refuse"),
    ("CONNECT", 4, "refuse"), ("DISCONNECT", 4, "refuse"), ("PASSWORD", 5, "refuse"),
    ("ACCEPT", 3, "refuse"), ("VARIABLE", 3, "refuse"), ("PRINT", 3, "refuse"),
    ("EDIT", 2, "refuse"), ("GET", 3, "refuse"), ("SAVE", 3, "refuse"), ("STORE", 5, "refuse"),
    ("RUN", 1, "refuse"), ("APPEND", 1, "refuse"), ("CHANGE", 1, "refuse"), ("INPUT", 1, "refuse"),
    ("DEL", 3, "refuse"), ("COPY", 4, "refuse"), ("XQUERY", 6, "refuse"),
    ("SET", 3, "set"), ("EXECUTE", 4, "execute"), ("EXIT", 4, "exit"), ("QUIT", 4, "exit"),
    ("WHENEVER", 8, "whenever"), ("REMARK", 3, "remark"),
    ("PROMPT", 3, "ignore"), ("SPOOL", 3, "ignore"), ("SHOW", 3, "ignore"), ("DEFINE", 3, "ignore"),
    ("UNDEFINE", 5, "ignore"), ("COLUMN", 3, "ignore"), ("TTITLE", 3, "ignore"),
    ("BTITLE", 3, "ignore"), ("REPHEADER", 4, "ignore"), ("REPFOOTER", 4, "ignore"),
    ("BREAK", 3, "ignore"), ("COMPUTE", 4, "ignore"), ("CLEAR", 2, "ignore"),
    ("TIMING", 4, "ignore"), ("PAUSE", 3, "ignore"), ("DESCRIBE", 4, "ignore"),
    ("LIST", 1, "ignore"), ("ATTRIBUTE", 9, "ignore"), ("HELP", 4, "ignore"),
)

_REFUSALS = {
    "START": ("START 调用其他脚本，本模块不展开嵌套脚本，请把被调用的脚本按顺序列入 scripts",
              "START runs another script; list that script in `scripts` instead"),
    "HOST": ("HOST 执行操作系统命令，本模块不执行", "HOST runs an operating-system command, refused"),
    "CONNECT": ("CONNECT 会切换登录用户，口令也不应写在脚本里；请用模块的连接参数，每个用户单独一个任务",
                "CONNECT would change the login (and put a password in the script); use the module's "
                "connection options, one task per user"),
    "DISCONNECT": ("DISCONNECT 会断开会话", "DISCONNECT would end the session"),
    "PASSWORD": ("PASSWORD 会交互式修改口令", "PASSWORD changes a password interactively"),
    "ACCEPT": ("ACCEPT 需要交互输入，本模块无法应答", "ACCEPT waits for keyboard input"),
    "VARIABLE": ("不支持 SQL*Plus 绑定变量（VARIABLE/PRINT）", "SQL*Plus bind variables are not supported"),
    "PRINT": ("不支持 SQL*Plus 绑定变量（VARIABLE/PRINT）", "SQL*Plus bind variables are not supported"),
    "STARTUP": ("不执行实例启停和恢复命令", "instance start-up, shutdown and recovery are refused"),
    "SHUTDOWN": ("不执行实例启停和恢复命令", "instance start-up, shutdown and recovery are refused"),
    "RECOVER": ("不执行实例启停和恢复命令", "instance start-up, shutdown and recovery are refused"),
    "ARCHIVE": ("不执行实例启停和恢复命令", "instance start-up, shutdown and recovery are refused"),
    "RUN": ("RUN 会再次执行上一条语句", "RUN would run the previous statement again"),
}
_BUFFER_EDIT = ("该命令编辑或保存 SQL*Plus 缓冲区，本模块不支持", "it edits or saves the SQL*Plus buffer, "
                                                    "not supported")
# SET options that change what runs; every other SET option only shapes output.
_SET_OPTIONS = (("DEFINE", 3), ("SCAN", 4), ("AUTOCOMMIT", 4), ("SQLTERMINATOR", 4), ("ESCAPE", 3),
                ("SQLBLANKLINES", 5), ("BLOCKTERMINATOR", 3), ("SERVEROUTPUT", 9), ("SQLCASE", 4))
# SET TRANSACTION, SET ROLE, SET CONSTRAINT(S) are SQL, not SQL*Plus.
_SQL_SET = ("TRANSACTION", "ROLE", "CONSTRAINT", "CONSTRAINTS")


def _command(word):
    """(full name, action) of a SQL*Plus command word, or None for SQL."""
    upper = word.upper()
    for full, shortest, action in _COMMANDS:
        if len(upper) >= shortest and full.startswith(upper):
            return full, action
    return None


def _set_option(word):
    upper = word.upper()
    for full, shortest in _SET_OPTIONS:
        if len(upper) >= shortest and full.startswith(upper):
            return full
    return None


# ------------------------------------------------------------------ scanning


def _string_end(text, i):
    """Index after the '...' literal opening at i ('' inside is a quote); -1 when unterminated."""
    j = i + 1
    while True:
        j = text.find("'", j)
        if j < 0:
            return -1
        if text.startswith("''", j):
            j += 2
            continue
        return j + 1


def _q_end(text, i):
    """Index after q'<d>...<d>' whose quote is at i; -1 when unterminated."""
    if i + 1 >= len(text) or text[i + 1].isspace():
        return -1
    opening = text[i + 1]
    end = text.find(_Q_CLOSE.get(opening, opening) + "'", i + 2)
    return -1 if end < 0 else end + 2


def _skip_prefixed(text, i):
    """(end, "string") of an n'', q'' or nq'' literal starting at i, or None."""
    if i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$#"):
        return None  # glued to a name: not a prefix
    lower = text[i:i + 3].lower()
    quote = i + 2 if lower.startswith("nq'") else i + 1
    if lower.startswith(("q'", "nq'")):
        return _q_end(text, quote), "string"
    if lower.startswith("n'"):
        return _string_end(text, quote), "string"
    return None


def _skip(text, i):
    """(index after the comment, literal or quoted identifier starting at i (-1 when it never ends),
    what it is), or None when none starts there."""
    if text.startswith("--", i):
        end = text.find("\n", i)
        return (len(text) if end < 0 else end), "comment"
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return (-1 if end < 0 else end + 2), "comment"
    if text[i] == "'":
        return _string_end(text, i), "string"
    if text[i] == '"':
        end = text.find('"', i + 1)
        return (-1 if end < 0 else end + 1), "quoted identifier"
    return _skip_prefixed(text, i) if text[i] in "nNqQ" else None


def _line_bounds(text, i):
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    return start, (len(text) if end < 0 else end)


def head_words(text, limit=8):
    """The first words of a statement, upper-cased unless quoted, comments skipped; '.' kept."""
    words, i = [], 0
    while i < len(text) and len(words) < limit:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if text.startswith("--", i) or text.startswith("/*", i):
            end, _kind = _skip(text, i)
            if end < 0:
                break
            i = end
            continue
        if char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                break
            words.append(text[i:end + 1])
            i = end + 1
            continue
        if char == ".":
            words.append(".")
            i += 1
            continue
        match = _WORD.match(text, i)
        if not match:
            break
        words.append(match.group(0).upper())
        i = match.end()
    return words


# ------------------------------------------------------------------ classification


def _after_create(words):
    """The words after CREATE [OR REPLACE] [EDITIONABLE | NONEDITIONABLE | EDITIONING] [FORCE]."""
    rest = words[1:]
    if rest[:2] == ["OR", "REPLACE"]:
        rest = rest[2:]
    while rest and rest[0] in ("EDITIONABLE", "NONEDITIONABLE", "EDITIONING", "FORCE", "NOFORCE"):
        rest = rest[1:]
    if rest[:2] == ["NO", "FORCE"]:
        rest = rest[2:]
    return rest


def is_plsql(words):
    if not words:
        return False
    if words[0] in ("DECLARE", "BEGIN"):
        return True
    return words[0] == "CREATE" and bool(_after_create(words)) and _after_create(words)[0] in _PLSQL_OBJECTS


def _object(words):
    """{type, owner, name} of the object a CREATE names (for its compilation errors), or None."""
    rest = _after_create(words)
    if not rest or rest[0] not in _PLSQL_OBJECTS + ("VIEW",):
        return None
    kind, rest = rest[0], rest[1:]
    if kind in ("PACKAGE", "TYPE") and rest[:1] == ["BODY"]:
        kind, rest = kind + " BODY", rest[1:]
    names = [w for w in rest[:3] if w != "."] if rest[1:2] == ["."] else rest[:1]
    if not names or names[0] in ("IF",):
        return None

    def plain(name):
        return name[1:-1] if name.startswith('"') else name
    owner, name = (plain(names[0]), plain(names[1])) if len(names) == 2 else (None, plain(names[0]))
    return {"type": kind, "owner": owner, "name": name}


def _verb(words):
    first = words[0]
    if first == "CREATE":
        rest = [w for w in _after_create(words) if w not in _CREATE_MODIFIERS]
        kind = " ".join(rest[:2]) if rest[:1] in (["MATERIALIZED"], ["DATABASE"]) else " ".join(rest[:1])
        if kind in ("PACKAGE", "TYPE") and rest[1:2] == ["BODY"]:
            kind += " BODY"
        return ("CREATE " + kind).strip()
    if first in ("ALTER", "DROP", "TRUNCATE", "SET") and len(words) > 1:
        return first + " " + words[1]
    return first


def classify(words):
    """(verb, category) of a statement: category ddl | dml | query | plsql | transaction | session |
    system | other. DDL commits before and after itself in Oracle; see commits()."""
    if not words:
        return "", "other"
    verb = _verb(words)
    category = _CATEGORY.get(words[0], "other")
    return verb, {"ALTER SESSION": "session", "ALTER SYSTEM": "system"}.get(verb, category)


def commits(statement):
    """Whether a successful statement commits everything before it (DDL does, so does COMMIT)."""
    return statement["category"] == "ddl" or statement["verb"] == "COMMIT"


def summary(text, limit=SUMMARY_CHARS):
    """The statement as results may show it (SEC-02): literals as :s / :n, passwords masked."""
    return redact(_IDENTIFIED_BY.sub(lambda m: "%s %s" % (m.group(1), MASK), text), limit)


# ------------------------------------------------------------------ the parser

_STRAY_DOT = ("单独一行的 . 在 SQL*Plus 中结束输入但不执行语句，本模块不支持",
              "'.' alone ends input without running it in SQL*Plus; not supported")
_UNCLOSED = {"comment": "注释", "string": "字符串", "quoted identifier": "带引号的标识符"}
_SET_WHY = {
    "SQLBLANKLINES": "本模块总把空行视为语句的一部分（blank lines are always part of the statement here）",
    "SERVEROUTPUT": "DBMS_OUTPUT 的输出不收集（DBMS_OUTPUT is not collected）",
    "BLOCKTERMINATOR": "单独一行的 . 总被拒绝（a line with only '.' is always refused）",
    "AUTOCOMMIT": "与本模块的提交规则一致（as the runner's commit policy）",
    "SQLTERMINATOR": "语句以 ; 结束（statements end at ';'）",
    "SQLCASE": "语句按原样发送（statements are sent as written）",
    "DEFINE": "已生效（applied）", "SCAN": "已生效（applied）", "ESCAPE": "已生效（applied）",
}
_EXIT_OPTIONS = {"SUCCESS", "COMMIT", "0", "SQL.SQLCODE"}
_OUTPUT_ONLY = "已忽略：只影响 SQL*Plus 的输出（ignored: SQL*Plus output only）"
_IGNORED = {
    "SHOW": "已忽略：本模块在每个 CREATE 之后自动检查编译错误（ignored: compilation errors are checked "
            "after every CREATE）",
    "SPOOL": "已忽略：执行记录见模块结果（ignored: the module's result is the log）",
    "DEFINE": "已忽略：本模块不做变量替换（ignored: no substitution here）",
    "UNDEFINE": "已忽略：本模块不做变量替换（ignored: no substitution here）",
    "PAUSE": "已忽略：不等待输入（ignored: nothing waits for input）",
}


class _Parser:
    def __init__(self, text):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.statements = []
        self.notes = []
        self.define = "&"           # SQL*Plus substitutes &name unless SET DEFINE OFF
        self.last_end_line = None   # where the previous statement ended (for a stray '/')

    # -- helpers

    def line(self, index):
        return bisect.bisect_right(self.line_starts, index)

    def refuse(self, index, zh, en):
        raise ScriptError(self.line(index), zh, en)

    def note(self, index, command, zh):
        self.notes.append({"line": self.line(index), "command": command, "note": zh})

    def skip_comment(self, i):
        end, _kind = _skip(self.text, i)
        if end < 0:
            self.refuse(i, "注释 /* 没有结束的 */", "comment /* is never closed")
        return end

    def rest_of_line_is_empty(self, i):
        """End of the line if only blanks and comments follow i on it (a block comment may run on
        to later lines), else None."""
        text = self.text
        while i < len(text):
            if text[i] == "\n":
                return i
            if text[i].isspace():
                i += 1
            elif text.startswith("--", i) or text.startswith("/*", i):
                i = self.skip_comment(i)
            else:
                return None
        return i

    # -- top level

    def run(self):
        i, text = 0, self.text
        while i < len(text):
            if text[i].isspace():
                i += 1
            elif text.startswith("--", i) or text.startswith("/*", i):
                i = self.skip_comment(i)
            else:
                i = self.unit(i)
        return {"statements": self.statements, "notes": self.notes}

    def unit(self, i):
        """Read one SQL*Plus command or statement starting at i; index after it."""
        text = self.text
        _start, eol = _line_bounds(text, i)
        rest = text[i:eol].strip()
        if rest == "/":
            after = (" after the statement that ended on line %s" % self.last_end_line
                     if self.last_end_line else "")
            self.refuse(i, "单独一行的 / 没有可结束的语句：SQL*Plus 会把上一条语句再执行一次，请删除该行",
                        "'/' alone ends nothing here%s: SQL*Plus would run the previous statement again; "
                        "remove the line" % after)
        if rest == ".":
            self.refuse(i, *_STRAY_DOT)
        if rest.startswith("@"):
            self.refuse(i, "@/@@ 调用其他脚本，本模块不展开嵌套脚本，请把被调用的脚本按顺序列入 scripts",
                        "@ and @@ run another script; list that script in `scripts` instead")
        if rest[:1] in ("!", "$"):
            self.refuse(i, "! 和 $ 执行操作系统命令，本模块不执行",
                        "'!' and '$' run operating-system commands")
        match = _WORD.match(text, i)
        found = _command(match.group(0)) if match else None
        if found and found[0] == "SET" and head_words(rest, 2)[1:] and head_words(rest, 2)[1] in _SQL_SET:
            found = None
        if found is None:
            return self.statement(i)
        if found[1] == "remark":  # a remark is one line: no '-' continuation
            return eol
        return self.sqlplus(i, found[0], found[1])

    # -- SQL*Plus commands

    def command_text(self, i):
        """(the command from i, joined over '-' continuation lines, index of its last line end)."""
        text, parts = self.text, []
        while True:
            _start, eol = _line_bounds(text, i)
            line = text[i:eol].rstrip()
            if not line.endswith("-") or eol >= len(text):
                parts.append(line)
                return " ".join(parts), eol
            parts.append(line[:-1])
            following_start = eol + 1
            following = text[following_start:_line_bounds(text, following_start)[1]].strip()
            word = _WORD.match(following)
            command = _command(word.group(0)) if word else None
            runs = word and classify([word.group(0).upper()])[1] != "other"
            if runs or (command and command[1] not in ("ignore", "remark")):
                self.refuse(i, "该行以 - 结尾，SQL*Plus 会把下一行并入本命令，下一行将不会执行；"
                               "请去掉行尾的 -",
                            "the line ends with '-', so SQL*Plus joins the next line (%s ...) to this "
                            "command and never runs it; remove the trailing '-'" % word.group(0).upper())
            i = following_start

    def sqlplus(self, i, name, action):
        text, end = self.command_text(i)
        words = text.strip().rstrip(";").split()
        if action == "refuse":
            zh, en = _REFUSALS.get(name, _BUFFER_EDIT)
            self.refuse(i, "不支持的 SQL*Plus 命令 %s：%s" % (name, zh),
                        "SQL*Plus command %s refused: %s" % (name, en))
        if action == "execute":
            self.execute(i, words)
        elif action == "exit":
            return self.exit(i, name, words, end)
        elif action == "whenever":
            self.note(i, " ".join(words[:2]).upper(),
                      "已忽略：本模块遇到第一个错误即停止并回滚未提交的事务（ignored: the runner always "
                      "stops at the first error and rolls back the open transaction）")
        elif action == "set":
            self.set(i, words[1:])
        else:
            self.note(i, name, _IGNORED.get(name, _OUTPUT_ONLY))
        return end

    def execute(self, i, words):
        body = " ".join(words[1:]).strip()
        if not body:
            self.refuse(i, "EXECUTE 后没有要执行的内容", "EXECUTE without a call")
        self.check_substitution(i, body, exact=False)
        self.add(i, "BEGIN %s; END;" % body, "plsql", ["EXECUTE"], wrapped=True)

    def exit(self, i, name, words, end):
        options = [w.upper() for w in words[1:]]
        if not set(options) <= _EXIT_OPTIONS:
            self.refuse(i, "%s %s 与本模块的提交规则冲突，请只写 %s" % (name, " ".join(options), name),
                        "%s %s conflicts with the runner's commit policy; write a bare %s"
                        % (name, " ".join(options), name))
        after = end
        while after < len(self.text):
            stop = self.rest_of_line_is_empty(after)
            if stop is None:
                self.refuse(after, "%s（第 %s 行）之后还有内容：SQL*Plus 在 %s 处结束脚本，"
                            "后面的内容不会执行；请删除 %s 或其后的内容" % (name, self.line(i), name, name),
                            "text follows %s (line %s): SQL*Plus ends the script there and would never "
                            "run it; remove one or the other" % (name, self.line(i)))
            after = stop + 1
        self.note(i, name, "脚本在此结束（end of the script）")
        return len(self.text)

    def set(self, i, words):
        """SET options that change what runs are applied or refused; the others only shape output."""
        handled, k = [], 0
        while k < len(words):
            option = _set_option(words[k])
            if option is None:
                k += 1
                continue
            value = words[k + 1].strip("'\"").upper() if k + 1 < len(words) else ""
            handled.append("%s %s" % (option, value))
            self.set_option(i, option, value)
            k += 2
        why = [_SET_WHY[h.split()[0]] for h in handled if h.split()[0] in _SET_WHY]
        self.note(i, ("SET " + ", ".join(handled)) if handled else " ".join(["SET"] + words)[:60],
                  "；".join(why) or _OUTPUT_ONLY)

    def set_option(self, i, option, value):
        refusal = None
        if option in ("DEFINE", "SCAN"):
            if value == "OFF":
                self.define = None
            elif value == "ON":
                self.define = "&"
            elif option == "DEFINE" and len(value) == 1 and not value.isalnum() and not value.isspace():
                self.define = value
            else:
                refusal = ("无法识别的 SET %s %s" % (option, value),
                           "SET %s %s not understood" % (option, value))
        elif option == "AUTOCOMMIT" and value != "OFF":
            refusal = ("SET AUTOCOMMIT %s 与本模块的提交规则冲突（每个脚本成功后提交，出错时回滚）" % value,
                       "SET AUTOCOMMIT %s conflicts with the runner's commit policy (commit after each "
                       "script that succeeds, roll back on error)" % value)
        elif option == "SQLTERMINATOR" and value not in ("ON", ";"):
            refusal = ("不支持更改语句结束符（SET SQLTERMINATOR %s）" % value,
                       "changing the statement terminator (SET SQLTERMINATOR %s) is not supported" % value)
        elif option == "ESCAPE" and value != "OFF":
            refusal = ("不支持 SET ESCAPE %s（替换变量的转义）" % value,
                       "SET ESCAPE %s (escaping substitution variables) is not supported" % value)
        elif option == "SQLCASE" and value != "MIXED":
            refusal = ("不支持 SET SQLCASE %s（语句按原样发送）" % value,
                       "SET SQLCASE %s is not supported: statements are sent as written" % value)
        if refusal:
            self.refuse(i, *refusal)

    # -- statements

    def statement(self, i):
        """Scan a SQL statement or PL/SQL unit from i to its terminator; index after it."""
        text = self.text
        words = head_words(text[i:i + 400], 10)
        if words[:1] == ["CREATE"] and "JAVA" in words[:6]:
            self.refuse(i, "不支持 CREATE JAVA", "CREATE JAVA is not supported")
        plsql = is_plsql(words)
        j = i
        while True:
            found = _INTERESTING.search(text, j)
            if found is None:
                break
            k, piece = found.start(), found.group(0)
            if piece == "\n":
                j = k + 1
                eol = _line_bounds(text, j)[1] if j < len(text) else j
                line = text[j:eol].strip()
                if line == "/":
                    return self.finish(i, j, eol, plsql, words)
                if line == ".":
                    self.refuse(j, *_STRAY_DOT)
                if plsql and _DDL_IN_BLOCK.match(text, j):
                    self.refuse(j, "第 %s 行开始的 PL/SQL 块在这一行之前缺少单独一行的 /" % self.line(i),
                                "the PL/SQL unit that starts on line %s is not ended by a line with only '/' "
                                "before this line" % self.line(i))
                continue
            if piece == ";":
                if plsql:
                    j = k + 1
                    continue
                end = self.rest_of_line_is_empty(k + 1)
                self.check_substitution(i, text[i:k])
                self.add(i, text[i:k], "sql", words)
                self.last_end_line = self.line(k)
                return k + 1 if end is None else end
            end, kind = _skip(text, k)
            if end < 0:
                self.refuse(k, "%s没有结束（从这一行开始）" % _UNCLOSED[kind],
                            "%s opened here is never closed" % kind)
            j = end
        if plsql:
            self.refuse(i, "PL/SQL 块没有以单独一行的 / 结束",
                        "the PL/SQL unit is not ended by a line with only '/'")
        self.refuse(i, "语句没有以 ; 或单独一行的 / 结束",
                    "the statement is not ended by ';' or a line with only '/'")
        return len(text)  # not reached: refuse() raises

    def finish(self, i, slash, eol, plsql, words):
        body = self.text[i:slash]
        self.check_substitution(i, body)
        self.add(i, body, "plsql" if plsql else "sql", words)
        self.last_end_line = self.line(slash)
        return eol

    def add(self, i, body, mode, words, wrapped=False):
        body = body.rstrip()
        verb, category = classify(words)
        if mode == "plsql" and category == "other":
            category = "plsql"
        line = self.line(i)
        self.statements.append({
            "number": len(self.statements) + 1,
            "line": line,
            "end_line": line + body.count("\n"),
            "mode": mode,
            "verb": verb,
            "category": category,
            "object": _object(words) if words[:1] == ["CREATE"] else None,
            "wrapped": wrapped,
            "text": body,
            "summary": summary(body),
        })

    def check_substitution(self, i, body, exact=True):
        """SQL*Plus would replace &name (inside literals and comments too) and prompt for a value."""
        if not self.define:
            return
        match = re.search(re.escape(self.define) + r"{1,2}[A-Za-z0-9_$#]+", body)
        if match:
            name = match.group(0)
            self.refuse(i + match.start() if exact else i,
                        "%s 是 SQL*Plus 替换变量，本模块不做替换；若 %s 是普通字符，"
                        "请在脚本开头加 SET DEFINE OFF，否则请直接写入取值" % (name, self.define),
                        "%s is a SQL*Plus substitution variable, which this runner does not replace; add "
                        "SET DEFINE OFF at the top if '%s' is meant literally, else write the value"
                        % (name, self.define))


# ------------------------------------------------------------------ entry points


def normalise(text):
    """CRLF and CR line ends as LF; a leading byte-order mark dropped."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse(text):
    """{"statements": [...], "notes": [...]} of a script's text; raises ScriptError.

    A statement: number, line, end_line (in the file), mode (sql | plsql), verb (e.g. INSERT,
    CREATE PACKAGE BODY), category (ddl | dml | query | plsql | transaction | session | system |
    other), object (what a CREATE names: type, owner, name), wrapped (EXECUTE turned into a block),
    text (what the driver gets) and summary (redacted, for results). A note: line, command, note.
    """
    return _Parser(normalise(text)).run()


def decode(data, encoding="utf-8"):
    """The text of a script file's bytes; ScriptError naming the line of the first bad byte."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ScriptError(None, "未知的字符编码 %s" % encoding, "unknown encoding %s" % encoding) from None
    try:
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScriptError(line, "文件不是 %s 编码（第 %d 字节）；如脚本为 GBK 编码，请设置 encoding: gbk"
                          % (encoding, exc.start),
                          "not valid %s (byte %d); set encoding: gbk for a GBK file"
                          % (encoding, exc.start)) from None


def load(path, encoding="utf-8"):
    """{"script", "sha256", "statements", "notes"} of a script file; raises ScriptError or OSError."""
    with open(path, "rb") as handle:
        data = handle.read()
    parsed = parse(decode(data, encoding))
    return {"script": path, "sha256": hashlib.sha256(data).hexdigest(),
            "statements": parsed["statements"], "notes": parsed["notes"]}
