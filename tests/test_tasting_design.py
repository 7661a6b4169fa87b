"""Serving orders and blind codes: Williams designs balanced for position and carry-over for 2 to 12
products, rows handed out so the panel stays balanced as people come and go, the serving sheet."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localbot.tastings.codes import ALLOWED, blind_codes, telling
from localbot.tastings.design import carryover_counts, first_row, letter, next_row, plan, position_counts, williams
from tests.test_console import localbot


@pytest.mark.parametrize("n", range(2, 13))
def test_every_product_equally_often_in_every_position_and_after_every_other(n: int) -> None:
    rows = williams(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    assert all(sorted(row) == list(range(n)) for row in rows)  # each row serves every product once
    times = len(rows) // n
    assert position_counts(rows, n) == [[times] * n for _ in range(n)]
    pairs = carryover_counts(rows, n)
    assert all(pairs[p][p] == 0 for p in range(n))
    neighbours = {pairs[b][a] for b in range(n) for a in range(n) if a != b}
    assert neighbours == {1 if n % 2 == 0 else 2}  # every ordered pair of neighbours equally often


def test_the_four_product_square_is_the_textbook_one() -> None:
    assert first_row(4) == [0, 1, 3, 2]
    assert ["".join(letter(p) for p in row) for row in williams(4)] == ["ABDC", "BCAD", "CDBA", "DACB"]
    assert first_row(5) == [0, 1, 4, 2, 3]
    assert williams(3)[3:] == tuple(tuple(reversed(row)) for row in williams(3)[:3])  # odd: the mirror square follows


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 7), moves=st.lists(st.tuples(st.booleans(), st.integers(0, 999)), max_size=80))
def test_rows_stay_balanced_as_people_sign_up_and_cancel(n: int, moves: list[tuple[bool, int]]) -> None:
    rows = len(williams(n))
    panel: list[int] = []
    for joins, pick in moves:
        if joins or not panel:
            counts = [panel.count(row) for row in range(rows)]
            row = next_row(panel, rows)
            assert counts[row] == min(counts)  # a newcomer always gets a row used least
            panel.append(row)
        else:
            panel.pop(pick % len(panel))  # someone cancels
        if all(joins for joins, _ in moves):
            counts = [panel.count(row) for row in range(rows)]
            assert max(counts) - min(counts) <= 1
    # However people cancelled, enough newcomers make the panel whole designs again.
    counts = [panel.count(row) for row in range(rows)]
    for _ in range(rows * max(counts, default=0) - len(panel)):
        panel.append(next_row(panel, rows))
    assert len({panel.count(row) for row in range(rows)}) == 1


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 9), people=st.integers(1, 60))
def test_a_panel_of_whole_designs_is_exactly_balanced(n: int, people: int) -> None:
    rows = williams(n)
    served = [rows[p.row] for p in plan(n, people)]
    whole = (people // len(rows)) * len(rows)
    assert position_counts(served[:whole], n) == [[whole // n] * n for _ in range(n)]
    assert [p.row for p in plan(n, people)] == [k % len(rows) for k in range(people)]
    panel: list[int] = []
    for _ in range(people):
        panel.append(next_row(panel, len(rows)))
    assert sorted(panel) == sorted(p.row for p in plan(n, people))  # signing up one after another gives the plan


def test_blind_codes_are_three_digits_unique_and_tell_nothing() -> None:
    rng = random.Random(7)
    for k in range(2, 13):
        codes = blind_codes(k, rng)
        assert len(set(codes)) == k and all(100 <= c <= 999 for c in codes)
        assert not any(telling(c) for c in codes)
    assert all(telling(c) for c in (100, 500, 777, 123, 321, 789))
    assert not any(telling(c) for c in (482, 915, 203, 135))
    assert len(ALLOWED) > 800
    with pytest.raises(ValueError):
        blind_codes(len(ALLOWED) + 1)


def test_plan_prints_the_serving_sheet(tmp_path: Path) -> None:
    done = localbot("tasting", "plan", "--products", "4", "--participants", "6", "--seed", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "participant,row,product_1,code_1,product_2,code_2,product_3,code_3,product_4,code_4"
    first = lines[1].split(",")
    assert first[:3] == ["1", "1", "A"] and [first[i] for i in (2, 4, 6, 8)] == ["A", "B", "D", "C"]
    assert lines[5].split(",")[1] == "1"  # the fifth participant starts the design again
    codes = {row.split(",")[3] for row in lines[1:]} | {row.split(",")[5] for row in lines[1:]}
    assert len(codes) == 4 and all(len(code) == 3 for code in codes)

    odd = json.loads(localbot("tasting", "plan", "--products", "3", "--participants", "6", "--format", "json", cwd=tmp_path).stdout)
    assert [["".join(row[f"product_{p}"] for p in (1, 2, 3))] for row in odd] == [["ABC"], ["BCA"], ["CAB"], ["CBA"], ["ACB"], ["BAC"]]
    assert {row["code_1"] for row in odd} == {row["code_3"] for row in odd}  # the same three codes throughout

    wrong = localbot("tasting", "plan", "--products", "1", "--participants", "3", cwd=tmp_path)
    assert wrong.returncode == 2 and "1 is not in the range 2<=x<=26" in wrong.stderr
    missing = localbot("tasting", "plan", cwd=tmp_path)
    assert missing.returncode == 2 and "--products N and --participants M" in missing.stderr
