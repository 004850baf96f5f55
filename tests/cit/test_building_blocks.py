import numpy as np
import pytest

from facesym.cit import (
    CITResult,
    cmiknn,
    conditional_independence,
    fast_cit,
    kci,
    majority_vote,
    shuffle_within_groups,
)


def result(name: str, p: float) -> CITResult:
    return CITResult(name, 0.0, p, 100, {})


def test_majority_needs_two_of_three_strictly_below_alpha():
    assert majority_vote([result("a", 0.001), result("b", 0.009), result("c", 0.9)]).dependent
    vote = majority_vote([result("a", 0.001), result("b", 0.01), result("c", 0.9)])
    assert not vote.dependent and vote.n_rejecting == 1  # p = alpha is not a rejection (the paper: p < 0.01)
    assert majority_vote([result("a", 0.04), result("b", 0.02), result("c", 0.9)], alpha=0.05).dependent
    with pytest.raises(ValueError, match="at least one"):
        majority_vote([])


def test_fast_cit_returns_one_when_both_models_make_identical_errors(planted):
    x, y, z = planted(200, seed=0, effect=0.0, binary=False)
    for name, (xx, yy) in {
        "constant property": (np.full(200, 0.7), y),
        "constant output": (x, np.full(200, 0.3)),
    }.items():
        degenerate = fast_cit(xx, yy, z, seed=1)
        assert (degenerate.p_value, degenerate.statistic) == (1.0, 0.0), name
        assert degenerate.settings["degenerate"] is True
    assert fast_cit(x, y, z, seed=1).settings["degenerate"] is False


def test_shuffles_permute_within_each_group_only():
    rng = np.random.default_rng(0)
    groups = np.array(list("abcabcabcaab"))
    values = np.arange(12.0)
    shuffled = shuffle_within_groups(values, groups, rng, n_shuffles=50)
    assert shuffled.shape == (50, 12)
    for row in shuffled:
        for g in "abc":
            assert sorted(row[groups == g]) == sorted(values[groups == g])
    assert len({tuple(row) for row in shuffled}) > 40  # genuinely random, not a fixed handful
    again = shuffle_within_groups(values, groups, np.random.default_rng(0), n_shuffles=50)
    np.testing.assert_array_equal(shuffled, again)
    assert shuffle_within_groups(values, groups, rng).shape == (12,)


def test_same_seed_same_numbers(planted):
    x, y, z = planted(120, seed=2, effect=0.5, binary=True)
    first = conditional_independence(x, y, z, seed=11, discrete_x=True)
    second = conditional_independence(x, y, z, seed=11, discrete_x=True)
    assert first == second
    assert {r.test: "seed" in r.settings for r in first.results} == {"kci": True, "cmiknn": True, "fcit": True}


def test_bad_inputs_are_named(planted):
    x, y, z = planted(60, seed=0, effect=0.0, binary=False)
    with pytest.raises(ValueError, match="same length"):
        kci(x, y[:-1], z, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        fast_cit(np.where(np.arange(60) == 3, np.nan, x), y, z, seed=0)
    with pytest.raises(ValueError, match="one-dimensional"):
        cmiknn(x[:, None], y, z, seed=0)
    with pytest.raises(ValueError, match="can never be below alpha=0.01"):
        conditional_independence(x, y, z, seed=0, n_perm=99)
