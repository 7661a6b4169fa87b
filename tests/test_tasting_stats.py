"""The statistics of the tasting report, checked against published worked examples, not against
numbers this code produced. Each test names its source."""

from __future__ import annotations

import pytest

from localbot.tastings import stats

# Hollander, M. & Wolfe, D. A. (1999), Nonparametric Statistical Methods, 2nd ed., Wiley, Table 7.1
# and Example 7.1: times (seconds) of 22 baseball players rounding first base by three methods
# ("round out", "narrow angle", "wide angle"). Several players have tied times (rows 7, 15, 17, 22),
# so the tie-corrected statistic applies: S' = 11.14, P ≈ 0.0038. The same data and result are the
# example of R's friedman.test ("Friedman chi-squared = 11.143, df = 2, p-value = 0.003805").
ROUNDING_FIRST_BASE = [
    (5.40, 5.50, 5.55), (5.85, 5.70, 5.75), (5.20, 5.60, 5.50), (5.55, 5.50, 5.40), (5.90, 5.85, 5.70),
    (5.45, 5.55, 5.60), (5.40, 5.40, 5.35), (5.45, 5.50, 5.35), (5.25, 5.15, 5.00), (5.85, 5.80, 5.70),
    (5.25, 5.20, 5.10), (5.65, 5.55, 5.45), (5.60, 5.35, 5.45), (5.05, 5.00, 4.95), (5.50, 5.50, 5.40),
    (5.45, 5.55, 5.50), (5.55, 5.55, 5.35), (5.45, 5.50, 5.55), (5.50, 5.45, 5.25), (5.65, 5.60, 5.40),
    (5.70, 5.65, 5.55), (6.30, 6.30, 6.25),
]


def test_friedman_with_ties_matches_hollander_and_wolfe() -> None:
    result = stats.friedman(ROUNDING_FIRST_BASE)
    assert result is not None
    assert result.statistic == pytest.approx(11.14, abs=0.005)
    assert result.df == 2 and result.blocks == 22
    assert result.p_value == pytest.approx(0.0038, abs=0.00005)
    assert result.rank_sums == (53.0, 47.0, 32.0)  # rank sums of Table 7.1 (average ranks for ties)
    # Hollander & Wolfe's large-sample multiple comparisons: |R_u − R_v| against q(0.05; 3, ∞) × √(nk(k+1)/12)
    # = 3.314 × √22 = 15.54: only "round out" against "wide angle" (53 − 32 = 21) exceeds it.
    significant = {(c.first, c.second) for c in result.comparisons if c.p_value < 0.05}
    assert significant == {(0, 2)}


def test_friedman_without_ties_is_the_textbook_formula() -> None:
    # With no ties the statistic is 12/(bk(k+1)) ΣR_j² − 3b(k+1): three judges ranking three items
    # identically give rank sums 3, 6, 9 and 12/36 × 126 − 36 = 6.
    result = stats.friedman([(1, 2, 3), (1, 2, 3), (1, 2, 3)])
    assert result is not None and result.statistic == pytest.approx(6.0)
    assert stats.friedman([(5, 5, 5), (7, 7, 7)]) is None  # nothing to rank: every block tied throughout
    assert stats.friedman([(1, 2, 3)]) is None


# Montgomery, D. C., Design and Analysis of Experiments (8th ed., Wiley), Example 4.1 (Table 4.3):
# a vascular-graft experiment, four extrusion pressures (treatments) in six resin batches (blocks).
# Table 4.4: SS_treatments = 178.17, SS_blocks = 192.25, SS_E = 109.89, F0 = 8.11, P = 0.0019.
EXTRUSION = [
    (90.3, 89.2, 98.2, 93.9, 87.4, 97.9),
    (92.5, 89.5, 90.6, 94.7, 87.0, 95.8),
    (85.5, 90.8, 89.6, 86.2, 88.0, 93.4),
    (82.5, 89.5, 85.6, 87.4, 78.9, 90.7),
]


def test_block_anova_matches_montgomery_complete_blocks() -> None:
    observations = [(batch, pressure, EXTRUSION[pressure][batch]) for pressure in range(4) for batch in range(6)]
    result = stats.block_anova(observations, 4)
    assert result is not None
    assert result.ss_treatment == pytest.approx(178.17, abs=0.005)
    assert result.ss_error == pytest.approx(109.89, abs=0.005)
    assert (result.df_treatment, result.df_error) == (3, 15)
    assert result.f == pytest.approx(8.11, abs=0.005)
    assert result.p_value == pytest.approx(0.0019, abs=0.00005)
    assert result.means == pytest.approx((92.82, 91.68, 88.92, 85.77), abs=0.005)  # complete blocks: the plain means


# Montgomery, Example 4.5 (Table 4.22): a balanced incomplete block design, four catalysts in four
# batches of raw material, three catalysts per batch. Table 4.24: adjusted SS_treatments = 22.75,
# SS_E = 3.25, F0 = 11.67, P = 0.0107; adjusted treatment effects −9/8, −7/8, −4/8, 20/8 around 72.50.
CATALYST = [(1, 0, 73), (2, 0, 74), (4, 0, 71), (2, 1, 75), (3, 1, 67), (4, 1, 72), (1, 2, 73), (2, 2, 75), (3, 2, 68), (1, 3, 75), (3, 3, 72), (4, 3, 75)]


def test_block_anova_adjusts_for_blocks_when_not_everyone_rated_everything() -> None:
    result = stats.block_anova(CATALYST, 4)
    assert result is not None
    assert result.ss_treatment == pytest.approx(22.75)
    assert result.ss_error == pytest.approx(3.25)
    assert (result.df_treatment, result.df_error) == (3, 5)
    assert result.f == pytest.approx(11.67, abs=0.005)
    assert result.p_value == pytest.approx(0.0107, abs=0.00005)
    assert result.means == pytest.approx((72.5 - 9 / 8, 72.5 - 7 / 8, 72.5 - 4 / 8, 72.5 + 20 / 8))
    assert stats.block_anova([(1, 0, 5.0), (1, 1, 6.0)], 2) is None  # no error degrees of freedom


# WaveMetrics, Igor Pro statistics tests, "Cochran's Q test" (StatsCochranTest): nine blocks, five
# groups. wave1: Q = 5.56522, P = 0.234056; wave2: Q = 10.3636, P = 0.0347281.
WAVE1 = [(0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 1, 1), (0, 1, 0, 1, 1), (0, 1, 0, 1, 0), (1, 1, 0, 1, 0), (1, 1, 0, 0, 0), (1, 0, 0, 0, 0), (1, 0, 0, 0, 0)]
WAVE2 = [(0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 1, 1), (0, 1, 0, 1, 1), (1, 1, 0, 1, 1), (1, 1, 0, 1, 1), (1, 1, 0, 1, 0), (1, 1, 0, 0, 0), (1, 0, 0, 0, 0)]


def test_cochran_q_matches_the_published_examples() -> None:
    first, second = stats.cochran_q(WAVE1), stats.cochran_q(WAVE2)
    assert first is not None and second is not None
    assert first.q == pytest.approx(5.56522, abs=5e-6) and first.df == 4 and first.p_value == pytest.approx(0.234056, abs=5e-7)
    assert second.q == pytest.approx(10.3636, abs=5e-5) and second.p_value == pytest.approx(0.0347281, abs=5e-8)
    assert stats.cochran_q([(1, 1, 1), (0, 0, 0)]) is None  # every block answered alike: nothing to test


def test_mcnemar_matches_agresti_and_fagerland() -> None:
    # Agresti, A. (2002), Categorical Data Analysis, 2nd ed., §10.1: approval of the President in two
    # surveys (794 approve both, 150 approve then disapprove, 86 the reverse, 570 neither): z² = 17.36.
    assert stats.mcnemar(150, 86).statistic == pytest.approx(17.36, abs=0.005)
    # Fagerland, Lydersen & Laake (2013), BMC Medical Research Methodology 13:91, the airway
    # hyper-responsiveness example (1 and 7 discordant pairs): mid-p = 0.039 (asymptotic 0.034,
    # exact conditional 0.070); McNemar's statistic (1 − 7)²/8 = 4.5.
    result = stats.mcnemar(1, 7)
    assert result.p_value == pytest.approx(0.039, abs=0.0005)
    assert result.statistic == pytest.approx(4.5)
    assert stats.mcnemar(0, 0).p_value == 1.0 and stats.mcnemar(0, 0).statistic is None


def test_penalty_analysis_computed_by_hand() -> None:
    """Ten consumers rate one product's liking (9-point) and sweetness (JAR, 3 = just about right).

    By hand (the method of Lawless & Heymann, Sensory Evaluation of Food, 2nd ed., §14.5, and of the
    ASTM manual MNL 63 on JAR scales): collapse to too little (1–2), JAR (3), too much (4–5).
    JAR: consumers 3, 4, 5, 6, 9 liking 8, 7, 9, 8, 7 → mean 39/5 = 7.8, share 50 %.
    Too little: liking 4, 5 → mean 4.5, share 20 %, drop 7.8 − 4.5 = 3.3, weighted 0.2 × 3.3 = 0.66.
    Too much: liking 6, 5, 6 → mean 17/3, share 30 %, drop 7.8 − 17/3 = 2.1333, weighted 0.64.
    Welch's t for too little against JAR: variances 0.5 and 0.7, t = 3.3 / √(0.7/5 + 0.5/2) = 5.28
    on ν = 0.39² / (0.14²/4 + 0.25²/1) = 2.26 degrees of freedom; the t table gives 4.30 (two-sided
    5 %) and 9.92 (1 %) for 2 df, 3.18 and 5.84 for 3 df, so 0.01 < p < 0.05.
    """
    liking = [4, 5, 8, 7, 9, 8, 6, 5, 7, 6]
    sweetness = [1, 2, 3, 3, 3, 3, 4, 5, 3, 4]
    result = stats.penalty(liking, sweetness)
    assert result is not None
    assert (result.n, result.jar_n, result.jar_share, result.jar_mean) == (10, 5, 0.5, pytest.approx(7.8))
    little, much = result.too_little, result.too_much
    assert (little.n, little.share, little.mean) == (2, 0.2, pytest.approx(4.5))
    assert little.mean_drop == pytest.approx(3.3) and little.weighted_penalty == pytest.approx(0.66)
    assert little.large  # 20 % is "at least 20 %"
    assert (much.n, much.share) == (3, 0.3) and much.mean == pytest.approx(17 / 3)
    assert much.mean_drop == pytest.approx(2.1333, abs=5e-5) and much.weighted_penalty == pytest.approx(0.64)
    assert little.p_value is not None and 0.01 < little.p_value < 0.05
    # A group of one: shown with its drop, but no test, and not large enough to act on.
    small = stats.penalty([8, 8, 7, 3, 9, 8, 7, 8, 9, 7], [3, 3, 3, 5, 3, 3, 3, 3, 3, 3])
    assert small is not None and small.too_much.n == 1 and small.too_much.p_value is None and not small.too_much.large
    assert small.too_little.n == 0 and small.too_little.mean is None and small.too_little.weighted_penalty is None
    assert stats.penalty([], []) is None


def test_binomial_preference_test_agrees_with_iso_5495() -> None:
    # ISO 5495:2005 (paired comparison), Table A.1: the minimum number of agreeing answers for a
    # one-sided test at α = 0.05 is 15 of 20, 26 of 40 and 37 of 60. With p = 1/2 the two-sided
    # p-value of a preference count is twice the one-sided tail, so at those counts it is at most
    # 0.10 and one answer fewer it is above 0.10.
    for n, minimum in ((20, 15), (40, 26), (60, 37)):
        assert stats.binomial_test(minimum, n) <= 0.10 < stats.binomial_test(minimum - 1, n)
        assert stats.binomial_test(n - minimum, n) == pytest.approx(stats.binomial_test(minimum, n))  # either product
    assert stats.binomial_test(0, 0) == 1.0


def test_confidence_interval_uses_students_t() -> None:
    # 1, 2, …, 10: mean 5.5, s = 3.0277; the t table's t(0.975; 9) = 2.262 gives 5.5 ± 2.166.
    result = stats.summary(list(range(1, 11)))
    assert (result.n, result.mean) == (10, 5.5)
    assert result.sd == pytest.approx(3.0277, abs=5e-5)
    assert result.ci_low == pytest.approx(5.5 - 2.262 * 3.0277 / 10**0.5, abs=5e-4)
    assert result.ci_high == pytest.approx(5.5 + 2.262 * 3.0277 / 10**0.5, abs=5e-4)
    assert stats.summary([7]) == stats.Summary(1, 7.0, None, None, None)
    assert stats.summary([]).mean is None


def test_holm_adjustment_by_hand() -> None:
    # Holm (1979): order p = 0.01, 0.03, 0.04 and multiply by 3, 2, 1, never decreasing: 0.03, 0.06, 0.06.
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.9]) == [1.0, 1.0]
