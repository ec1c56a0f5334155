"""Hyperparameter search: a tuning job's ranges and the strategies that pick trials from them.

``parse_ranges`` reads ``ParameterRanges`` (Integer, Continuous, Categorical, every
``ScalingType``); a strategy proposes hyperparameters (``ask``) and learns each trial's
objective (``tell``). Random and Grid need nothing but the standard library; Bayesian is
Optuna's TPE sampler (sequential model-based optimisation, seeded by ``RandomSeed``), chosen
because Optuna is actively maintained, asks and tells one trial at a time (as the tuning job
launches them), searches integer, log-scaled and categorical spaces natively, and takes earlier
trials as prior observations (warm start).
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from smlocal.errors import LocalTargetError

STRATEGIES = ("Bayesian", "Random", "Grid")
SCALINGS = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


class SearchError(LocalTargetError):
    """Ranges or a strategy SageMaker would refuse (a ValidationException)."""


@dataclass(frozen=True)
class Range:
    """One tuned hyperparameter: its kind, bounds (or values) and scale."""

    name: str
    kind: str  # "Integer", "Continuous" or "Categorical"
    low: float = 0.0
    high: float = 0.0
    values: tuple[str, ...] = ()
    scaling: str = "Linear"  # Auto searches linearly here

    def format(self, value: Any) -> str:
        """The value as the training job gets it (hyperparameters are strings)."""
        if self.kind == "Integer":
            return str(int(value))
        if self.kind == "Continuous":
            return repr(float(value))
        return str(value)

    def parse(self, text: str) -> Any:
        """A value of this range from its string, or None when it is not in the range."""
        try:
            if self.kind == "Categorical":
                return text if text in self.values else None
            value = int(text) if self.kind == "Integer" else float(text)
        except (TypeError, ValueError):
            return None
        return value if self.low <= value <= self.high else None


def _number(text: Any, kind: str, name: str, bound: str) -> float:
    try:
        return int(text) if kind == "Integer" else float(text)
    except (TypeError, ValueError):
        raise SearchError(
            f"The {bound} of {kind.lower()} hyperparameter {name!r} must be a number, "
            f"got {text!r}"
        ) from None


def _numeric(raw: dict, kind: str) -> Range:
    name = raw["Name"]
    low = _number(raw.get("MinValue"), kind, name, "MinValue")
    high = _number(raw.get("MaxValue"), kind, name, "MaxValue")
    scaling = raw.get("ScalingType") or "Auto"
    if low > high:
        raise SearchError(f"MinValue must not exceed MaxValue for hyperparameter {name!r}")
    if scaling not in SCALINGS or (kind == "Integer" and scaling == "ReverseLogarithmic"):
        raise SearchError(
            f"ScalingType {scaling!r} is not valid for {kind.lower()} hyperparameter {name!r}"
        )
    if scaling == "Logarithmic" and low <= 0:
        raise SearchError(
            f"Logarithmic scaling of hyperparameter {name!r} needs a range of values greater "
            "than 0"
        )
    if scaling == "ReverseLogarithmic" and not (0 <= low and high < 1):
        raise SearchError(
            f"Reverse logarithmic scaling of hyperparameter {name!r} needs a range entirely "
            "within 0 <= x < 1.0"
        )
    return Range(name, kind, low, high, scaling="Linear" if scaling == "Auto" else scaling)


def parse_ranges(ranges: Optional[dict]) -> list[Range]:
    """The tuned hyperparameters of ``ParameterRanges``, checked as SageMaker checks them."""
    ranges = ranges or {}
    if ranges.get("AutoParameters"):
        raise SearchError("AutoParameters (Autotune) is not supported locally")
    parsed: list[Range] = []
    for raw in ranges.get("IntegerParameterRanges") or []:
        parsed.append(_numeric(raw, "Integer"))
    for raw in ranges.get("ContinuousParameterRanges") or []:
        parsed.append(_numeric(raw, "Continuous"))
    for raw in ranges.get("CategoricalParameterRanges") or []:
        values = tuple(str(v) for v in raw.get("Values") or ())
        if not values:
            raise SearchError(f"Categorical hyperparameter {raw['Name']!r} has no values")
        parsed.append(Range(raw["Name"], "Categorical", values=values))
    names = [r.name for r in parsed]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SearchError(f"Hyperparameters {duplicated} are given more than one range")
    if not parsed:
        raise SearchError("The tuning job has no hyperparameter ranges to search")
    return parsed


def grid_size(ranges: list[Range]) -> int:
    """How many trials a grid search has: one per combination of categorical values."""
    return math.prod(len(r.values) for r in ranges)


@dataclass(frozen=True)
class Observation:
    """A finished trial: its hyperparameters (strings) and objective value (None: no metric)."""

    params: dict
    value: Optional[float]


class Strategy(Protocol):
    """Proposes trials and learns their results; thread-safe for one tuning job."""

    def ask(self) -> Optional[dict[str, str]]: ...

    def tell(self, params: dict[str, str], value: Optional[float]) -> None: ...


class RandomSearch:
    """Each trial drawn independently from the ranges, on their scales."""

    def __init__(self, ranges: list[Range], seed: Optional[int] = None):
        self.ranges = ranges
        self.rng = random.Random(seed)

    def _draw(self, r: Range) -> Any:
        if r.kind == "Categorical":
            return self.rng.choice(r.values)
        if r.scaling == "Logarithmic":
            value = math.exp(self.rng.uniform(math.log(r.low), math.log(r.high)))
        elif r.scaling == "ReverseLogarithmic":
            value = 1 - math.exp(self.rng.uniform(math.log(1 - r.high), math.log(1 - r.low)))
        else:
            value = self.rng.uniform(r.low, r.high)
        if r.kind == "Integer":
            return min(int(r.high), max(int(r.low), round(value)))
        return min(r.high, max(r.low, value))

    def ask(self) -> Optional[dict[str, str]]:
        return {r.name: r.format(self._draw(r)) for r in self.ranges}

    def tell(self, params: dict[str, str], value: Optional[float]) -> None:
        return None


class GridSearch:
    """Every combination of the categorical values once, in the order given."""

    def __init__(self, ranges: list[Range]):
        if any(r.kind != "Categorical" for r in ranges):
            non = [r.name for r in ranges if r.kind != "Categorical"]
            raise SearchError(
                f"The Grid strategy searches categorical hyperparameters only; {non} are not"
            )
        self.names = [r.name for r in ranges]
        self._combinations = itertools.product(*(r.values for r in ranges))
        self._lock = threading.Lock()

    def ask(self) -> Optional[dict[str, str]]:
        with self._lock:
            combination = next(self._combinations, None)
        return None if combination is None else dict(zip(self.names, combination))

    def tell(self, params: dict[str, str], value: Optional[float]) -> None:
        return None


class BayesianSearch:
    """Optuna's TPE sampler over the ranges; parallel asks are spread by its constant liar."""

    def __init__(
        self,
        ranges: list[Range],
        maximize: bool,
        seed: Optional[int] = None,
        max_jobs: int = 10,
        prior: tuple[Observation, ...] = (),
    ):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial told
        self._optuna = optuna
        self.ranges = ranges
        self.distributions = {r.name: self._distribution(r) for r in ranges}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=max(2, min(10, max_jobs // 3)),
                constant_liar=True,
            )
        self.study = optuna.create_study(
            direction="maximize" if maximize else "minimize", sampler=sampler
        )
        self._trials: dict[tuple, list] = {}
        self._lock = threading.Lock()
        for observation in prior:
            self._add_prior(observation)

    def _distribution(self, r: Range):
        dist = self._optuna.distributions
        if r.kind == "Categorical":
            return dist.CategoricalDistribution(list(r.values))
        if r.kind == "Integer":
            return dist.IntDistribution(int(r.low), int(r.high), log=r.scaling == "Logarithmic")
        if r.scaling == "ReverseLogarithmic":  # searched as 1 - x on a log scale
            return dist.FloatDistribution(1 - r.high, 1 - r.low, log=True)
        return dist.FloatDistribution(r.low, r.high, log=r.scaling == "Logarithmic")

    def _to_search(self, r: Range, value: Any) -> Any:
        return 1 - value if r.scaling == "ReverseLogarithmic" else value

    def _add_prior(self, observation: Observation) -> None:
        """An earlier trial (a warm start parent's) the sampler learns from, if it fits."""
        params = {}
        for r in self.ranges:
            value = r.parse(observation.params.get(r.name))
            if value is None or observation.value is None:
                return
            params[r.name] = self._to_search(r, value)
        trial = self._optuna.trial.create_trial(
            params=params, distributions=self.distributions, value=observation.value
        )
        self.study.add_trial(trial)

    def ask(self) -> Optional[dict[str, str]]:
        with self._lock:
            trial = self.study.ask(self.distributions)
            proposed = {
                r.name: r.format(self._to_search(r, trial.params[r.name])) for r in self.ranges
            }
            self._trials.setdefault(tuple(sorted(proposed.items())), []).append(trial)
        return proposed

    def tell(self, params: dict[str, str], value: Optional[float]) -> None:
        with self._lock:
            waiting = self._trials.get(tuple(sorted(params.items())))
            if not waiting:
                return
            trial = waiting.pop(0)
            if value is None or not math.isfinite(value):
                self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(trial, value)


def strategy(
    name: str,
    ranges: list[Range],
    *,
    maximize: bool,
    seed: Optional[int] = None,
    max_jobs: int = 10,
    prior: tuple[Observation, ...] = (),
) -> Strategy:
    """The search a tuning job's ``Strategy`` names; Hyperband is refused by name."""
    if name == "Random":
        return RandomSearch(ranges, seed)
    if name == "Grid":
        return GridSearch(ranges)
    if name == "Bayesian":
        return BayesianSearch(ranges, maximize, seed, max_jobs, prior)
    if name == "Hyperband":
        raise SearchError(
            "The Hyperband strategy is not supported locally (it stops trials early from the "
            "metrics they emit while training); use Bayesian, Random or Grid"
        )
    raise SearchError(f"Unknown tuning strategy {name!r}; use one of {', '.join(STRATEGIES)}")
