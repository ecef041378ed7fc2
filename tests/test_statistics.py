"""optlib.statistics: one seed_band, its two statistics, and its rule for diverged runs."""

import numpy as np
import pytest

from optlib.statistics import STATISTICS, seed_band


def test_the_median_and_the_mean_over_seeds_with_the_range():
    rng = np.random.default_rng(0)
    values = rng.lognormal(size=(7, 5))
    for statistic, reference in (("median", np.median), ("mean", np.mean)):
        centre, low, high = seed_band(values, statistic=statistic)
        assert np.array_equal(centre, reference(values, axis=0))
        assert np.array_equal(low, values.min(axis=0)) and np.array_equal(high, values.max(axis=0))


def test_the_median_is_the_default():
    values = np.array([[1.0], [2.0], [100.0]])
    assert seed_band(values)[0].tolist() == [2.0]
    assert seed_band(values, "mean")[0].tolist() == [103.0 / 3]


def test_diverged_runs_are_left_out_of_their_column_only():
    values = np.array([[1.0, 1.0, np.nan], [3.0, np.inf, np.nan], [5.0, 2.0, -np.inf]])
    for statistic in STATISTICS:
        centre, low, high = seed_band(values, statistic)
        assert centre[:2].tolist() == [3.0, 1.5] and low[:2].tolist() == [1.0, 1.0] and high[:2].tolist() == [5.0, 2.0]
        assert np.isnan(centre[2]) and np.isnan(low[2]) and np.isnan(high[2])   # every seed diverged: a gap
        assert centre.dtype == float


def test_a_band_over_seeds_keeps_the_other_axes():
    values = np.arange(24.0).reshape(2, 3, 4)
    assert all(part.shape == (3, 4) for part in seed_band(values))


@pytest.mark.parametrize("statistic", ["average", "Median", None])
def test_an_unknown_statistic_is_refused_by_name(statistic):
    with pytest.raises(ValueError, match="statistic"):
        seed_band(np.ones((3, 2)), statistic=statistic)


def test_values_must_be_numbers_with_a_seeds_axis():
    with pytest.raises(TypeError, match="values"):
        seed_band(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="values"):
        seed_band(1.0)
