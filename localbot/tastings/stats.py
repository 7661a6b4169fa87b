"""The statistics of a consumer test, as sensory textbooks and standard software compute them.

Every function takes plain numbers and returns a small frozen result; the report
(:mod:`localbot.tastings.report`) decides what to run on which data. The tests check each one
against published worked examples (see ``tests/test_tasting_stats.py`` for the sources).

- :func:`summary`: n, mean, standard deviation and the t-based 95 % confidence interval.
- :func:`friedman`: Friedman's test for complete blocks (every participant rated every product),
  on ranks within each participant with ties sharing the average rank, in the general form that
  corrects for ties (Hollander & Wolfe's S′, what R's ``friedman.test`` computes); pairwise
  comparisons of rank sums by the Wilcoxon–Nemenyi–McDonald-Thompson procedure (studentized range).
- :func:`block_anova`: two-way analysis of variance with the participant as block, for panels
  where not everyone rated everything: the product effect is adjusted for participants (intra-block
  analysis, the same as a type III test with no interaction), with Tukey–Kramer comparisons of the
  products' adjusted (least-squares) means.
- :func:`penalty`: penalty analysis of one just-about-right attribute.
- :func:`cochran_q`, :func:`mcnemar`: check-all-that-apply terms across products and by pairs
  (McNemar's mid-p test, which Fagerland, Lydersen & Laake (2013) recommend over the exact one).
- :func:`binomial_test`, :func:`holm`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats as sp


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None


def summary(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Mean with its t-based confidence interval; sd and interval need at least two values."""
    n = len(values)
    if n == 0:
        return Summary(0, None, None, None, None)
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if n < 2:
        return Summary(n, mean, None, None, None)
    sd = float(data.std(ddof=1))
    half = float(sp.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two products (by index), the difference between them (first minus second) and its p-value,
    adjusted for the number of comparisons by the procedure that produced it."""

    first: int
    second: int
    difference: float
    statistic: float
    p_value: float


@dataclass(frozen=True, slots=True)
class FriedmanResult:
    statistic: float
    df: int
    p_value: float
    blocks: int
    rank_sums: tuple[float, ...]
    comparisons: tuple[Comparison, ...]


def friedman(matrix: Sequence[Sequence[float]]) -> FriedmanResult | None:
    """Friedman's test on ``matrix[block][treatment]``; None when it cannot be computed (fewer
    than two blocks or treatments, or every block tied throughout)."""
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 2:
        return None
    blocks, k = data.shape
    ranks = np.apply_along_axis(sp.rankdata, 1, data)
    mean_rank = (k + 1) / 2
    # Between-treatment over within-block variation of the ranks: with no ties this is the
    # textbook 12/(bk(k+1)) ΣR² − 3b(k+1); with ties it is the tie-corrected statistic.
    between = blocks * float(((ranks.mean(axis=0) - mean_rank) ** 2).sum())
    within = float(((ranks - mean_rank) ** 2).sum()) / (blocks * (k - 1))
    if within <= 0:
        return None
    statistic = between / within
    rank_sums = tuple(float(x) for x in ranks.sum(axis=0))
    scale = math.sqrt(blocks * k * (k + 1) / 12)
    comparisons = []
    for a, b in combinations(range(k), 2):
        difference = rank_sums[a] - rank_sums[b]
        q = abs(difference) / scale
        comparisons.append(Comparison(a, b, difference, q, float(sp.studentized_range.sf(q, k, np.inf))))
    return FriedmanResult(statistic, k - 1, float(sp.chi2.sf(statistic, k - 1)), blocks, rank_sums, tuple(comparisons))


@dataclass(frozen=True, slots=True)
class AnovaResult:
    f: float
    df_treatment: int
    df_error: int
    p_value: float
    ss_treatment: float
    ss_error: float
    blocks: int
    #: Least-squares means of the products, adjusted for who rated what.
    means: tuple[float, ...]
    comparisons: tuple[Comparison, ...]

    @property
    def mse(self) -> float:
        return self.ss_error / self.df_error


def _design(observations: Sequence[tuple[Hashable, int, float]], k: int, blocks: list[Hashable], *, treatments: bool) -> np.ndarray:
    columns = [np.ones(len(observations))]
    columns += [np.array([1.0 if o[0] == block else 0.0 for o in observations]) for block in blocks[1:]]
    if treatments:
        columns += [np.array([1.0 if o[1] == t else 0.0 for o in observations]) for t in range(1, k)]
    return np.column_stack(columns)


def _sse(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, int]:
    beta, _residuals, rank, _sv = np.linalg.lstsq(x, y, rcond=None)
    return float(((y - x @ beta) ** 2).sum()), beta, int(rank)


def block_anova(observations: Sequence[tuple[Hashable, int, float]], k: int) -> AnovaResult | None:
    """Two-way ANOVA of ``(block, treatment index, value)`` with blocks and treatments as main
    effects; None when the data cannot separate the treatments or leave no error degrees of freedom."""
    if k < 2 or not observations:
        return None
    blocks = list(dict.fromkeys(o[0] for o in observations))
    y = np.array([o[2] for o in observations], dtype=float)
    full = _design(observations, k, blocks, treatments=True)
    reduced = _design(observations, k, blocks, treatments=False)
    sse_full, beta, rank_full = _sse(full, y)
    sse_reduced, _beta, rank_reduced = _sse(reduced, y)
    df_treatment = rank_full - rank_reduced
    df_error = len(y) - rank_full
    if df_treatment != k - 1 or df_error < 1 or rank_full != full.shape[1]:
        return None
    ss_treatment = max(sse_reduced - sse_full, 0.0)
    mse = sse_full / df_error
    f = (ss_treatment / df_treatment) / mse if mse > 0 else math.inf
    p_value = float(sp.f.sf(f, df_treatment, df_error)) if math.isfinite(f) else 0.0
    # Least-squares means: the model's prediction for each product, averaged over all blocks.
    b = len(blocks)
    block_part = np.zeros(full.shape[1])
    block_part[0] = 1.0
    block_part[1:b] = 1.0 / b
    vectors = []
    for t in range(k):
        vector = block_part.copy()
        if t > 0:
            vector[b + t - 1] = 1.0
        vectors.append(vector)
    means = tuple(float(v @ beta) for v in vectors)
    inverse = np.linalg.inv(full.T @ full)
    comparisons = []
    for first, second in combinations(range(k), 2):
        contrast = vectors[first] - vectors[second]
        se = math.sqrt(mse * float(contrast @ inverse @ contrast) / 2)
        difference = means[first] - means[second]
        q = abs(difference) / se if se > 0 else math.inf
        p = float(sp.studentized_range.sf(q, k, df_error)) if math.isfinite(q) else 0.0
        comparisons.append(Comparison(first, second, difference, q, p))
    return AnovaResult(f, df_treatment, df_error, p_value, ss_treatment, sse_full, b, means, tuple(comparisons))


@dataclass(frozen=True, slots=True)
class PenaltyGroup:
    """The consumers who found an attribute too little (or too much) for a product."""

    n: int
    share: float
    mean: float | None
    #: Mean liking of the just-about-right group minus this group's (a positive drop is a penalty).
    mean_drop: float | None
    #: ``share × mean_drop``: how much liking the product loses overall through this group.
    weighted_penalty: float | None
    #: Welch's t-test of this group's liking against the just-about-right group's.
    p_value: float | None
    #: At least ``threshold`` of the consumers: large enough to act on.
    large: bool


@dataclass(frozen=True, slots=True)
class PenaltyResult:
    n: int
    jar_n: int
    jar_share: float
    jar_mean: float | None
    too_little: PenaltyGroup
    too_much: PenaltyGroup


def penalty(liking: Sequence[float], jar: Sequence[int], *, ideal: int = 3, threshold: float = 0.2) -> PenaltyResult | None:
    """Penalty analysis of one attribute: answers on the JAR scale are collapsed to too little
    (below ``ideal``), just about right and too much (above); each off-target group's mean drop
    in liking is weighted by its share of the consumers. None without any paired answers."""
    pairs = [(float(like), int(j)) for like, j in zip(liking, jar, strict=True)]
    n = len(pairs)
    if n == 0:
        return None
    right = [like for like, j in pairs if j == ideal]
    jar_mean = float(np.mean(right)) if right else None

    def group(values: list[float]) -> PenaltyGroup:
        share = len(values) / n
        mean = float(np.mean(values)) if values else None
        drop = jar_mean - mean if jar_mean is not None and mean is not None else None
        p_value = None
        if len(values) >= 2 and len(right) >= 2 and (np.var(values) > 0 or np.var(right) > 0):
            with warnings.catch_warnings():  # near-constant groups: scipy warns about precision, the answer stands
                warnings.simplefilter("ignore", RuntimeWarning)
                tested = sp.ttest_ind(right, values, equal_var=False)
            p_value = float(tested.pvalue) if math.isfinite(tested.pvalue) else None
        return PenaltyGroup(len(values), share, mean, drop, share * drop if drop is not None else None, p_value, share >= threshold)

    return PenaltyResult(
        n,
        len(right),
        len(right) / n,
        jar_mean,
        group([like for like, j in pairs if j < ideal]),
        group([like for like, j in pairs if j > ideal]),
    )


@dataclass(frozen=True, slots=True)
class CochranResult:
    q: float
    df: int
    p_value: float
    blocks: int


def cochran_q(matrix: Sequence[Sequence[int]]) -> CochranResult | None:
    """Cochran's Q on ``matrix[block][treatment]`` of 0/1:
    Q = J(J−1)[ΣC_j² − T²/J] / (J·T − ΣR_i²) with J treatments, column totals C, row totals R and
    grand total T; chi-square with J − 1 degrees of freedom. None when every block answered alike."""
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 2:
        return None
    j = data.shape[1]
    columns, rows, total = data.sum(axis=0), data.sum(axis=1), float(data.sum())
    denominator = j * total - float((rows**2).sum())
    if denominator <= 0:
        return None
    q = j * (j - 1) * (float((columns**2).sum()) - total**2 / j) / denominator
    return CochranResult(q, j - 1, float(sp.chi2.sf(q, j - 1)), data.shape[0])


@dataclass(frozen=True, slots=True)
class McNemarResult:
    #: Pairs where only the first of the two was checked, and where only the second was.
    only_first: int
    only_second: int
    #: (b − c)² / (b + c), McNemar's chi-square without continuity correction (None: no discordant pair).
    statistic: float | None
    #: Two-sided mid-p value.
    p_value: float


def mcnemar(only_first: int, only_second: int) -> McNemarResult:
    discordant = only_first + only_second
    if discordant == 0:
        return McNemarResult(only_first, only_second, None, 1.0)
    statistic = (only_first - only_second) ** 2 / discordant
    low = min(only_first, only_second)
    mid_p = 2 * (float(sp.binom.cdf(low, discordant, 0.5)) - 0.5 * float(sp.binom.pmf(low, discordant, 0.5)))
    return McNemarResult(only_first, only_second, statistic, min(1.0, mid_p))


def binomial_test(successes: int, trials: int, p: float = 0.5) -> float:
    """Two-sided exact binomial p-value (1.0 with no trials)."""
    if trials == 0:
        return 1.0
    return float(sp.binomtest(successes, trials, p).pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment for several tests (controls the family-wise error rate)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
