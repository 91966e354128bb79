# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long logrotate keeps each log, and the smallest edit that keeps it long enough.

网络安全法 第二十一条 asks for network logs kept at least six months. A stanza keeps
`rotate` old files of one `period` each, and `maxage` deletes older ones. The fix raises
`rotate` (and `maxage`) in place, so the enforce mode can write the corrected text with a
backup; nothing else in the file changes. Runs on managed hosts: valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gxtax.ops.plugins.module_utils.hardening_parse import PERIOD_DAYS, parse_logrotate


def needed_rotations(period, days):
    """Old files to keep for `days` days at this period (ceil)."""
    per = PERIOD_DAYS.get(period, 1)
    return -(-days // per)


def effective(stanza, global_):
    """(period, rotate, maxage) of a stanza: its own directives, else the global ones.

    Without any period logrotate rotates on every (daily) run, so that counts as daily.
    """
    period = stanza.get("period") or global_.get("period") or "daily"
    rotate = stanza.get("rotate", global_.get("rotate", 0))
    maxage = stanza.get("maxage", global_.get("maxage"))
    return period, rotate, maxage


def kept_days(stanza, global_):
    period, rotate, maxage = effective(stanza, global_)
    days = rotate * PERIOD_DAYS.get(period, 1)
    if maxage is not None and 0 < maxage < days:
        days = maxage
    return days


def short_stanzas(text, global_, days):
    """[(paths, kept days)] of the stanzas that keep fewer than `days` days."""
    parsed = parse_logrotate(text)
    return [(s["paths"], kept_days(s, global_)) for s in parsed["stanzas"] if kept_days(s, global_) < days]


def _set_number(line, directive, number):
    return re.sub(r"(\b%s\s+)-?\d+" % directive, lambda m: m.group(1) + str(number), line, count=1)


def _fix_block(lines, block, global_, days, inserts):
    period, rotate, maxage = effective(block, global_)
    want = needed_rotations(period, days)
    if rotate < want:
        if "rotate_line" in block:
            lines[block["rotate_line"]] = _set_number(lines[block["rotate_line"]], "rotate", want)
        else:
            inserts.append((block.get("open_line", -1), "rotate %d" % want))
    if maxage is not None and 0 < maxage < days and "maxage_line" in block:
        lines[block["maxage_line"]] = _set_number(lines[block["maxage_line"]], "maxage", days)


def fix_text(text, global_, days, is_main=False):
    """The text with every short stanza (and, in logrotate.conf, the global default) raised to
    keep `days` days; returns the text unchanged when nothing is short."""
    parsed = parse_logrotate(text)
    lines = text.splitlines(True)
    inserts = []
    if is_main:
        _fix_block(lines, parsed["global"], {}, days, inserts)
        global_ = parse_logrotate("".join(lines))["global"]
    for stanza in parsed["stanzas"]:
        _fix_block(lines, stanza, global_, days, inserts)
    for after, directive in sorted(inserts, reverse=True):
        indent = "    " if after >= 0 else ""
        lines.insert(after + 1, "%s%s\n" % (indent, directive))
    return "".join(lines)


def plan(files, days, main="/etc/logrotate.conf"):
    """Evaluate and fix a set of logrotate files.

    files: [(path, text)] of the existing files to check (main among them or not).
    Returns (evidence list of (path, paths, kept days) that are short, fixes {path: new text}).
    """
    texts = dict(files)
    main_text = texts.get(main, "")
    global_ = parse_logrotate(main_text)["global"]
    short, fixes = [], {}
    if main in texts:
        if kept_days(global_, {}) < days:
            short.append((main, ["全局默认"], kept_days(global_, {})))
        short.extend((main, p, d) for p, d in short_stanzas(main_text, global_, days))
        fixed = fix_text(main_text, {}, days, is_main=True)
        if fixed != main_text:
            fixes[main] = fixed
        global_ = parse_logrotate(fixed)["global"]
    for path, text in files:
        if path == main:
            continue
        short.extend((path, p, d) for p, d in short_stanzas(text, parse_logrotate(main_text)["global"], days))
        fixed = fix_text(text, global_, days)
        if fixed != text:
            fixes[path] = fixed
    return short, fixes
