"""storage.agreement against the worked examples of Gwet's irrCAC R package (README of
kgwet/irrCAC: cont3x3abstractors and cac.raw4raters) and the kappa paradox."""

from __future__ import annotations

import pytest

from storage.agreement import agreement, agreement_report, cohen_kappa

# cont3x3abstractors: rater 1 (rows) x rater 2 (columns), categories Ectopic, AIU, NIU
TABLE = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
CATEGORIES = ["ectopic", "aiu", "niu"]

# cac.raw4raters: 12 subjects x 4 raters, None = not rated
RAW4 = [
    [1, 1, None, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [None, 5, 5, 5],
    [None, None, 1, 1],
    [None, None, 3, None],
]


def _from_table(table, categories):
    ratings, n = {}, 0
    for a, row in enumerate(table):
        for b, count in enumerate(row):
            for _ in range(count):
                ratings[f"p{n}"] = {"r1": categories[a], "r2": categories[b]}
                n += 1
    return ratings


def test_two_raters_match_irrcac_contingency_example():
    result = agreement(_from_table(TABLE, CATEGORIES), ("r1", "r2"))
    assert result.posts == 100
    assert result.percent == pytest.approx(0.89)
    assert result.kappa == pytest.approx(0.7964094, abs=1e-7)  # Cohen's kappa
    assert result.alpha == pytest.approx(0.7972585, abs=1e-7)  # Krippendorff's alpha
    assert result.ac1 == pytest.approx(0.8493305, abs=1e-7)  # Gwet's AC1


def test_four_raters_with_missing_ratings_match_irrcac_raw_example():
    ratings = {
        f"s{i}": {f"R{j}": str(v) for j, v in enumerate(row) if v is not None}
        for i, row in enumerate(RAW4)
    }
    result = agreement(ratings, ("R0", "R1", "R2", "R3"), categories=5)
    assert result.posts == 11  # subject 12 has one rating: not pairable
    assert result.percent == pytest.approx(0.8181818, abs=1e-7)
    assert result.kappa == pytest.approx(0.76117, abs=1e-5)  # Fleiss' kappa
    assert result.alpha == pytest.approx(0.74342, abs=1e-5)
    assert result.ac1 == pytest.approx(0.77544, abs=1e-5)


def test_kappa_collapses_when_nearly_everything_is_approved_but_ac1_does_not():
    # 96 both approve, 2 + 2 split, none both reject: 96% agreement
    ratings = {f"p{i}": {"a": "approved", "b": "approved"} for i in range(96)}
    ratings |= {f"x{i}": {"a": "approved", "b": "rejected"} for i in range(2)}
    ratings |= {f"y{i}": {"a": "rejected", "b": "approved"} for i in range(2)}
    result = agreement(ratings, ("a", "b"), categories=3)
    assert result.percent == pytest.approx(0.96)
    assert result.kappa == pytest.approx(-0.0204, abs=1e-4)
    assert result.alpha < 0.0
    assert result.ac1 > 0.9


def test_single_category_and_no_overlap():
    assert cohen_kappa([("approved", "approved")] * 3) is None  # chance agreement is 1
    report = agreement_report({"p1": {"a": "approved"}, "p2": {"b": "rejected"}})
    assert report["overall"].posts == 0 and report["overall"].percent is None
    assert report["pairs"] == []
