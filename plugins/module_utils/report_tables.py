# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extra tables a task can add to a report: `report_sections` in a task result.

A table is {"id": str, "title": 中文, "columns": [str, ...], "rows": [[cell, ...], ...]}
with scalar cells. Patch, release and holiday reports use them for what is not a
check (packages before/after, steps); checks stay records. Tables with the same id
from several hosts are merged into one, in the order they arrived. Runs on the
control node.
"""

from __future__ import annotations

SCALARS = (str, int, float, bool, type(None))


def table_problems(table):
    """Why a table cannot go into a report, as Chinese / English sentences."""
    if not isinstance(table, dict):
        return ["表格必须是字典 / a table must be a dict"]
    problems = []
    for key in ("id", "title"):
        if not isinstance(table.get(key), str) or not table.get(key):
            problems.append("缺少 %s / %s is required (a non-empty string)" % (key, key))
    columns = table.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        problems.append("columns 必须是非空字符串列表 / columns must be a non-empty list of strings")
        return problems
    rows = table.get("rows")
    if not isinstance(rows, list):
        return problems + ["rows 必须是列表 / rows must be a list"]
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list) or len(row) != len(columns):
            problems.append("第 %d 行的列数与 columns 不符 / row %d must have %d cells"
                            % (number, number, len(columns)))
        elif not all(isinstance(cell, SCALARS) for cell in row):
            problems.append("第 %d 行含非标量单元格 / row %d has a non-scalar cell" % (number, number))
    return problems


def merge_tables(tables):
    """One table per id (rows appended in arrival order); a later table whose
    columns differ from the first of its id is kept apart under a suffixed id."""
    merged = {}
    for table in tables:
        key = table["id"]
        while key in merged and merged[key]["columns"] != list(table["columns"]):
            key += "+"
        if key not in merged:
            merged[key] = {"id": key, "title": table["title"], "columns": list(table["columns"]),
                           "rows": []}
        merged[key]["rows"].extend(list(row) for row in table["rows"])
    return list(merged.values())
