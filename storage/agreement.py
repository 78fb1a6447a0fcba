"""Agreement between reviewers: percent agreement, Cohen's kappa, Fleiss' kappa,
Krippendorff's alpha (nominal) and Gwet's AC1. Pure functions of ratings, no store.

``ratings`` everywhere: post id -> {reviewer: category}; a reviewer who did not decide a
post is simply absent (missing data). Formulas as in Gwet, *Handbook of Inter-Rater
Reliability* (4th ed., 2014) and Krippendorff, *Computing Krippendorff's Alpha-Reliability*
(2011); the tests check them against the worked examples of the irrCAC R package.

Kappa and alpha take the chance agreement from how often each category is used, so when
nearly everything is approved they collapse towards 0 (or below) even when reviewers
almost always agree; AC1 takes chance agreement from how far the use is from uniform and
does not. A coefficient whose chance agreement is 1 (a single category used) is None.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

Ratings = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Agreement:
    """The coefficients for one set of reviewers (a pair, or everyone)."""

    reviewers: tuple[str, ...]
    posts: int  # posts rated by at least two of them
    percent: float | None
    kappa: float | None  # Cohen's for a pair, Fleiss' (Gwet's form with missing data) overall
    alpha: float | None  # Krippendorff's alpha, nominal
    ac1: float | None  # Gwet's AC1

    def to_dict(self) -> dict[str, Any]:
        return {
            "reviewers": list(self.reviewers),
            "posts": self.posts,
            "percent_agreement": _round(self.percent),
            "kappa": _round(self.kappa),
            "alpha": _round(self.alpha),
            "ac1": _round(self.ac1),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _chance_corrected(observed: float, chance: float) -> float | None:
    if chance >= 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' (first, second) categories per item."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    observed = sum(a == b for a, b in pairs) / n
    chance = sum(first[k] * second[k] for k in first) / (n * n)
    return _chance_corrected(observed, chance)


def _units(ratings: Ratings, reviewers: Iterable[str] | None = None) -> list[list[str]]:
    """Per post the categories of the chosen reviewers, for posts rated by any of them."""
    chosen = None if reviewers is None else set(reviewers)
    units = []
    for by_reviewer in ratings.values():
        values = [c for r, c in by_reviewer.items() if chosen is None or r in chosen]
        if values:
            units.append(values)
    return units


def _pairable(units: list[list[str]]) -> list[list[str]]:
    return [values for values in units if len(values) >= 2]


def percent_agreement(units: list[list[str]]) -> float | None:
    """Share of agreeing rater pairs per item, averaged over the items rated at least
    twice (Gwet's p_a)."""
    units = _pairable(units)
    if not units:
        return None
    total = 0.0
    for values in units:
        r = len(values)
        total += sum(c * (c - 1) for c in Counter(values).values()) / (r * (r - 1))
    return total / len(units)


def _category_shares(units: list[list[str]]) -> dict[str, float]:
    """pi_k: per category, its share of each item's ratings, averaged over every rated
    item (also those rated once, as Gwet's formulas for missing ratings do)."""
    shares: Counter[str] = Counter()
    for values in units:
        r = len(values)
        for category, count in Counter(values).items():
            shares[category] += count / r
    return {k: v / len(units) for k, v in shares.items()}


def fleiss_kappa(units: list[list[str]]) -> float | None:
    observed = percent_agreement(units)
    if observed is None:
        return None
    chance = sum(p * p for p in _category_shares(units).values())
    return _chance_corrected(observed, chance)


def gwet_ac1(units: list[list[str]], categories: int | None = None) -> float | None:
    """Gwet's AC1; ``categories`` is how many categories could be used (default: those
    that were)."""
    observed = percent_agreement(units)
    if observed is None:
        return None
    shares = _category_shares(units)
    q = categories if categories is not None else len(shares)
    if q < 2:
        return 1.0 if observed == 1.0 else None
    chance = sum(p * (1 - p) for p in shares.values()) / (q - 1)
    return _chance_corrected(observed, chance)


def krippendorff_alpha(units: list[list[str]]) -> float | None:
    """Krippendorff's alpha for nominal data from the coincidences of pairable values."""
    coincidences: Counter[tuple[str, str]] = Counter()
    for values in _pairable(units):
        m = len(values)
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                if pairs:
                    coincidences[c, k] += pairs / (m - 1)
    totals: Counter[str] = Counter()
    for (c, _k), value in coincidences.items():
        totals[c] += value
    n = sum(totals.values())
    if n <= 1:
        return None
    disagree_observed = sum(v for (c, k), v in coincidences.items() if c != k)
    disagree_expected = (n * n - sum(v * v for v in totals.values())) / (n - 1)
    if disagree_expected == 0:
        return None
    return 1.0 - disagree_observed / disagree_expected


def agreement(ratings: Ratings, reviewers: tuple[str, ...], *, categories: int | None = None):
    """The coefficients among ``reviewers`` (kappa: Cohen's for two, Fleiss' for more)."""
    units = _units(ratings, reviewers)
    if len(reviewers) == 2:
        a, b = reviewers
        pairs = [
            (r[a], r[b]) for r in ratings.values() if a in r and b in r
        ]  # the posts both decided
        kappa = cohen_kappa(pairs)
    else:
        kappa = fleiss_kappa(units)
    return Agreement(
        reviewers=reviewers,
        posts=len(_pairable(units)),
        percent=percent_agreement(units),
        kappa=kappa,
        alpha=krippendorff_alpha(units),
        ac1=gwet_ac1(units, categories),
    )


def agreement_report(ratings: Ratings, *, categories: int | None = None) -> dict[str, Any]:
    """Overall (every reviewer) and per pair of reviewers who both decided some post."""
    reviewers = sorted({r for by_reviewer in ratings.values() for r in by_reviewer})
    overall = agreement(ratings, tuple(reviewers), categories=categories)
    pairs = []
    for a, b in combinations(reviewers, 2):
        result = agreement(ratings, (a, b), categories=categories)
        if result.posts:
            pairs.append(result)
    return {"overall": overall, "pairs": pairs}
