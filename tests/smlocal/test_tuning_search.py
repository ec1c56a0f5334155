"""Hyperparameter search on its own: ranges and scales, and the Random, Grid and Bayesian strategies."""

import math

import pytest

from smlocal.jobs import search
from smlocal.jobs.search import Observation


def ranges(integer=(), continuous=(), categorical=()):
    """ParameterRanges as the API takes them (every bound a string)."""
    return search.parse_ranges(
        {
            "IntegerParameterRanges": [
                {"Name": n, "MinValue": str(lo), "MaxValue": str(hi), "ScalingType": s}
                for n, lo, hi, s in integer
            ],
            "ContinuousParameterRanges": [
                {"Name": n, "MinValue": str(lo), "MaxValue": str(hi), "ScalingType": s}
                for n, lo, hi, s in continuous
            ],
            "CategoricalParameterRanges": [{"Name": n, "Values": v} for n, v in categorical],
        }
    )


def draws(strategy, count):
    return [strategy.ask() for _ in range(count)]


def test_random_draws_stay_in_their_ranges_as_strings():
    space = ranges(
        integer=[("depth", 2, 5, "Auto")],
        continuous=[("eta", 0.1, 0.3, "Linear")],
        categorical=[("booster", ["gbtree", "dart"])],
    )
    for proposal in draws(search.RandomSearch(space, seed=1), 200):
        assert all(isinstance(v, str) for v in proposal.values())
        assert 2 <= int(proposal["depth"]) <= 5 and "." not in proposal["depth"]
        assert 0.1 <= float(proposal["eta"]) <= 0.3
        assert proposal["booster"] in ("gbtree", "dart")
    depths = {p["depth"] for p in draws(search.RandomSearch(space, seed=2), 200)}
    assert depths == {"2", "3", "4", "5"}  # both ends of an integer range are reached


def test_each_scaling_type_spreads_values_as_its_name_says():
    def share_below(scaling, low, high, cut):
        space = ranges(continuous=[("x", low, high, scaling)])
        values = [float(p["x"]) for p in draws(search.RandomSearch(space, seed=3), 2000)]
        return sum(v < cut for v in values) / len(values)

    # 1e-4..1: a log scale puts half the draws below 1e-2; a linear one about 1 %
    assert 0.4 < share_below("Logarithmic", 1e-4, 1, 1e-2) < 0.6
    assert share_below("Linear", 1e-4, 1, 1e-2) < 0.03
    # 0..0.999: a reverse log scale crowds the draws towards 1 (half above 0.968)
    assert 0.4 < 1 - share_below("ReverseLogarithmic", 0, 0.999, 0.968) < 0.6


def test_logarithmic_integers_are_whole_numbers_across_the_orders_of_magnitude():
    space = ranges(integer=[("trees", 1, 1000, "Logarithmic")])
    values = [int(p["trees"]) for p in draws(search.RandomSearch(space, seed=4), 600)]
    assert min(values) >= 1 and max(values) <= 1000
    assert sum(v < 32 for v in values) / len(values) > 0.4  # ~half below sqrt(1000)


@pytest.mark.parametrize(
    "raw,message",
    [
        (
            {
                "ContinuousParameterRanges": [
                    {"Name": "a", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}
                ]
            },
            "needs a range of values greater than 0",
        ),
        (
            {
                "ContinuousParameterRanges": [
                    {
                        "Name": "a",
                        "MinValue": "0.5",
                        "MaxValue": "1",
                        "ScalingType": "ReverseLogarithmic",
                    }
                ]
            },
            "within 0 <= x < 1.0",
        ),
        (
            {
                "IntegerParameterRanges": [
                    {
                        "Name": "a",
                        "MinValue": "1",
                        "MaxValue": "9",
                        "ScalingType": "ReverseLogarithmic",
                    }
                ]
            },
            "ScalingType 'ReverseLogarithmic' is not valid for integer hyperparameter 'a'",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "a", "MinValue": "9", "MaxValue": "1"}]},
            "MinValue must not exceed MaxValue",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "a", "MinValue": "one", "MaxValue": "9"}]},
            "must be a number, got 'one'",
        ),
        ({"CategoricalParameterRanges": [{"Name": "a", "Values": []}]}, "has no values"),
        ({"AutoParameters": [{"Name": "a", "ValueHint": "1"}]}, "AutoParameters"),
        ({}, "no hyperparameter ranges"),
    ],
)
def test_ranges_sagemaker_refuses_are_refused(raw, message):
    with pytest.raises(search.SearchError, match=message):
        search.parse_ranges(raw)


def test_the_same_seed_proposes_the_same_trials():
    space = ranges(integer=[("d", 1, 9, "Linear")], continuous=[("eta", 0.01, 1, "Logarithmic")])
    assert draws(search.RandomSearch(space, seed=7), 5) == draws(
        search.RandomSearch(space, seed=7), 5
    )
    assert draws(search.RandomSearch(space, seed=7), 5) != draws(
        search.RandomSearch(space, seed=8), 5
    )

    def bayesian(seed):
        strategy = search.strategy("Bayesian", space, maximize=False, seed=seed, max_jobs=8)
        proposals = []
        for _ in range(8):
            proposal = strategy.ask()
            strategy.tell(proposal, (int(proposal["d"]) - 4) ** 2 + float(proposal["eta"]))
            proposals.append(proposal)
        return proposals

    assert bayesian(11) == bayesian(11)
    assert bayesian(11) != bayesian(12)


def test_grid_proposes_every_combination_once_then_nothing():
    space = ranges(categorical=[("booster", ["gbtree", "dart"]), ("depth", ["2", "4", "6"])])
    grid = search.strategy("Grid", space, maximize=False)
    proposals = [grid.ask() for _ in range(search.grid_size(space))]
    assert len({tuple(sorted(p.items())) for p in proposals}) == 6
    assert grid.ask() is None


def test_grid_searches_categorical_ranges_only():
    with pytest.raises(search.SearchError, match=r"categorical hyperparameters only; \['d'\]"):
        search.strategy("Grid", ranges(integer=[("d", 1, 3, "Auto")]), maximize=False)


def test_hyperband_is_refused_by_name():
    with pytest.raises(search.SearchError, match="Hyperband strategy is not supported locally"):
        search.strategy("Hyperband", ranges(integer=[("d", 1, 3, "Auto")]), maximize=False)


def test_bayesian_search_homes_in_on_the_optimum():
    space = ranges(continuous=[("x", 0, 1, "Linear")])
    strategy = search.strategy("Bayesian", space, maximize=True, seed=5, max_jobs=30)
    distances = []
    for _ in range(30):
        proposal = strategy.ask()
        x = float(proposal["x"])
        strategy.tell(proposal, -((x - 0.3) ** 2))
        distances.append(abs(x - 0.3))
    assert min(distances) < 0.02
    # after its random start the model proposes near the optimum far more than chance would
    assert sum(distances[-10:]) / 10 < sum(distances[:10]) / 10 / 2


def test_bayesian_search_learns_from_a_warm_start_and_skips_what_does_not_fit():
    space = ranges(continuous=[("x", 0, 1, "Linear")])
    prior = tuple(
        Observation({"x": repr(x)}, -((x - 0.3) ** 2)) for x in (i / 10 for i in range(11))
    ) + (
        Observation({"x": "7"}, 1.0),
        Observation({"y": "0.5"}, 1.0),
    )  # out of range, no x
    strategy = search.strategy("Bayesian", space, maximize=True, seed=5, max_jobs=10, prior=prior)
    assert len(strategy.observations) == 11  # the two that do not fit are left out
    first = [float(strategy.ask()["x"]) for _ in range(3)]
    assert all(abs(x - 0.3) < 0.2 for x in first), first


def test_a_trial_without_an_objective_value_is_told_as_failed():
    space = ranges(continuous=[("x", 0, 1, "Linear")])
    strategy = search.strategy("Bayesian", space, maximize=True, seed=1, max_jobs=4)
    proposal = strategy.ask()
    strategy.tell(proposal, None)
    strategy.tell(strategy.ask(), math.nan)
    assert strategy.failed == 2 and strategy.observations == []  # nothing to learn from
