"""Extra report tables (report_sections): what is refused, how tables of one id merge."""

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.report_tables import merge_tables, table_problems


def _table(**changes):
    table = {"id": "packages", "title": "软件包", "columns": ["主机", "软件包"],
             "rows": [["db01", "openssl"]]}
    table.update(changes)
    return table


def test_a_well_formed_table_has_no_problems():
    assert table_problems(_table()) == []
    assert table_problems(_table(rows=[])) == []


@pytest.mark.parametrize("changes, fragment", [
    ({"id": ""}, "id is required"),
    ({"title": None}, "title is required"),
    ({"columns": []}, "columns must be"),
    ({"columns": ["a", 1]}, "columns must be"),
    ({"rows": "x"}, "rows must be a list"),
    ({"rows": [["db01"]]}, "row 1 must have 2 cells"),
    ({"rows": [["db01", "a"], ["db02", {"x": 1}]]}, "row 2 has a non-scalar cell"),
])
def test_malformed_tables_are_named(changes, fragment):
    problems = table_problems(_table(**changes))
    assert any(fragment in p for p in problems), problems


def test_not_a_dict():
    assert table_problems(["x"]) == ["表格必须是字典 / a table must be a dict"]


def test_tables_of_one_id_merge_in_arrival_order_and_different_columns_stay_apart():
    merged = merge_tables([_table(), _table(rows=[["db02", "curl"]]),
                           _table(columns=["主机"], rows=[["web01"]]), _table(id="steps", rows=[])])
    assert [t["id"] for t in merged] == ["packages", "packages+", "steps"]
    assert merged[0]["rows"] == [["db01", "openssl"], ["db02", "curl"]]
    assert merged[1]["rows"] == [["web01"]]
