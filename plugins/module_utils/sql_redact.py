# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEC-02: SQL text and alert messages with every literal replaced by a placeholder.

Reports show the statements behind long-running sessions (INSP-07). Their literals
can hold taxpayer data (names, 纳税人识别号, amounts), so each string literal becomes
``:s`` and each number ``:n``; identifiers, keywords, operators and bind variables
stay, which is what a DBA needs to recognise the statement. Comments (hints too) are
dropped: free text is as dangerous as a literal.

A scanner rather than a regular expression because Oracle quoting nests badly for
regexes: ``q'[it's]'``, ``N'...'``, ``''`` inside strings, and text cut off in the
middle of a literal (v$sql keeps only the first 1000 characters).
Runs on the control node only.
"""

from __future__ import annotations

import re

STRING = ":s"
NUMBER = ":n"
DEFAULT_LIMIT = 300
ELLIPSIS = "…"

# q-quote closing delimiters; any other delimiter closes itself.
_Q_CLOSE = {"[": "]", "{": "}", "<": ">", "(": ")"}
# Prefixes that turn the next quote into a literal of another kind: N'', X'' (hex), Q'', NQ''.
_PREFIXES = ("nq", "n", "x", "q")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ORA_CODE = re.compile(r"\b(?:ORA|TNS|RMAN|DBV|KUP|PLS|SP2|DPY|DPI)-\d{1,5}\b", re.IGNORECASE)


def _is_word(char):
    """Identifier characters: Oracle allows $ and # and, in quoted-free names, non-ASCII letters."""
    return char.isalnum() or char in "_$#"


def _string_end(text, start):
    """Index after the '...' literal whose opening quote is at start ('' is an escaped quote)."""
    i = start + 1
    while i < len(text):
        if text[i] == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)  # cut off inside the literal: the rest is literal too


def _q_end(text, start):
    """Index after q'<d>...<d>' whose quote is at start."""
    if start + 1 >= len(text):
        return len(text)
    opening = text[start + 1]
    closing = _Q_CLOSE.get(opening, opening) + "'"
    end = text.find(closing, start + 2)
    return len(text) if end < 0 else end + 2


def _prefixed_literal(text, i):
    """(end, kind) when a prefixed literal (N'', X'', q'', nq'') starts at i, else None."""
    if i > 0 and _is_word(text[i - 1]):
        return None
    lower = text[i:i + 3].lower()
    for prefix in _PREFIXES:
        if lower.startswith(prefix + "'"):
            quote = i + len(prefix)
            end = _q_end(text, quote) if prefix.endswith("q") else _string_end(text, quote)
            return end, STRING
    return None


def _comment(text, i, message):
    """Comments and hints are dropped (replaced by a space): free text may hold anything."""
    if text.startswith("--", i):
        end = text.find("\n", i)
        return " ", len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return " ", len(text) if end < 0 else end + 2
    return None


def _quoted(text, i, message):
    if text[i] == "'":
        return STRING, _string_end(text, i)
    if text[i] == '"':  # quoted identifier: kept as written
        end = text.find('"', i + 1)
        end = len(text) if end < 0 else end + 1
        return text[i:end], end
    return None


def _word_end(text, i):
    while i < len(text) and _is_word(text[i]):
        i += 1
    return i


def _bind(text, i, message):
    """Bind variables (:1, :B1, :SYS_B_0) are placeholders already."""
    if text[i] == ":" and i + 1 < len(text) and _is_word(text[i + 1]):
        end = _word_end(text, i + 1)
        return text[i:end], end
    return None


def _number(text, i, message):
    char = text[i]
    if char.isdigit() or (char == "." and i + 1 < len(text) and text[i + 1].isdigit()):
        # A run glued to the number (0x1F, 10f, 91450100MA5K12345X) is one literal: an
        # identifier cannot start with a digit, so this is data, not a name.
        return NUMBER, _word_end(text, _NUMBER.match(text, i).end())
    return None


def _word(text, i, message):
    if not _is_word(text[i]):
        return None
    code = _ORA_CODE.match(text, i) if message else None
    if code:
        return code.group(0).upper(), code.end()
    literal = _prefixed_literal(text, i) if text[i] in "nNxXqQ" else None
    if literal:
        return literal[1], literal[0]
    end = _word_end(text, i)
    word = text[i:end]
    # Oracle writes its messages in ASCII; a Chinese word in one came from an
    # application (RAISE_APPLICATION_ERROR text, a name): data, not a name.
    return (STRING if message and not word.isascii() else word), end


_SCANNERS = (_comment, _quoted, _bind, _number, _word)


def _tokens(text, message=False):
    """Yield the redacted pieces of text; message mode keeps error codes and drops non-ASCII words."""
    i = 0
    while i < len(text):
        for scanner in _SCANNERS:
            found = scanner(text, i, message)
            if found:
                piece, i = found
                yield piece
                break
        else:
            yield text[i]
            i += 1


def _truncate(text, limit):
    if limit is None or len(text) <= limit:
        return text
    return text[:max(limit - 1, 0)].rstrip() + ELLIPSIS


def redact(sql, limit=DEFAULT_LIMIT):
    """sql with literals as :s / :n, comments dropped, whitespace collapsed, cut to limit characters."""
    if sql is None:
        return ""
    text = "".join(_tokens(str(sql)))
    return _truncate(" ".join(text.split()), limit)


def redact_message(message, limit=160):
    """An Oracle message (alert log, driver error) with literals replaced but error codes kept.

    ORA-01555 would otherwise lose its number; paths and names in double quotes stay,
    like identifiers in SQL. Unquoted non-ASCII words go too (see _tokens).
    """
    if message is None:
        return ""
    text = "".join(_tokens(str(message), message=True))
    return _truncate(" ".join(text.split()), limit)
