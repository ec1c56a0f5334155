"""Hyperparameter search: a tuning job's ranges and the strategies that pick trials from them.

``parse_ranges`` reads ``ParameterRanges`` (Integer, Continuous, Categorical, every
``ScalingType``); a strategy proposes hyperparameters (``ask``) and learns each trial's
objective (``tell``). Random and Grid need nothing but the standard library; Bayesian is a
Gaussian process with expected improvement, as SageMaker's, on scikit-learn's (a dependency
the images have anyway): no optimisation library to install for it.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
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
    """A Gaussian process over the ranges, trials chosen by expected improvement.

    SageMaker's Bayesian strategy is a Gaussian-process model of the objective; here it is
    scikit-learn's (already needed by the images), on the ranges' own scales mapped to
    [0, 1] (categoricals one-hot). The first trials are random (as SageMaker starts), then
    each ask fits the model to every finished trial -- a warm start's parents' included --
    and proposes the best of many candidates by expected improvement. Trials still running
    count as poor results ("constant liar"), so parallel asks spread out. Seeded by
    ``RandomSeed``: the same trials tell the same proposals.
    """

    CANDIDATES = 2000

    def __init__(
        self,
        ranges: list[Range],
        maximize: bool,
        seed: Optional[int] = None,
        max_jobs: int = 10,
        prior: tuple[Observation, ...] = (),
    ):
        import numpy

        self._np = numpy
        self.ranges = ranges
        self.maximize = maximize
        self.rng = numpy.random.default_rng(seed)
        self.startup = max(2, min(10, max_jobs // 3))
        self.observations: list[tuple[list[float], float]] = []  # (point, objective)
        self.failed = 0
        self._pending: dict[tuple, list[list[float]]] = {}
        self._lock = threading.Lock()
        for observation in prior:
            point = self._encode(observation.params)
            if point is not None and observation.value is not None:
                if math.isfinite(observation.value):
                    self.observations.append((point, float(observation.value)))

    # the ranges' values <-> points of the unit cube, on each range's scale
    def _encode(self, params: dict) -> Optional[list[float]]:
        point: list[float] = []
        for r in self.ranges:
            value = r.parse(params.get(r.name))
            if value is None:
                return None
            if r.kind == "Categorical":
                point += [1.0 if v == value else 0.0 for v in r.values]
            else:
                low, high, x = _scaled(r, r.low), _scaled(r, r.high), _scaled(r, value)
                point.append(0.0 if high == low else (x - low) / (high - low))
        return point

    def _decode(self, point) -> dict[str, str]:
        proposed, i = {}, 0
        for r in self.ranges:
            if r.kind == "Categorical":
                block = point[i : i + len(r.values)]
                proposed[r.name] = r.values[int(self._np.argmax(block))]
                i += len(r.values)
                continue
            low, high = _scaled(r, r.low), _scaled(r, r.high)
            value = _unscaled(r, low + float(point[i]) * (high - low))
            if r.kind == "Integer":
                value = min(int(r.high), max(int(r.low), round(value)))
            proposed[r.name] = r.format(min(r.high, max(r.low, value)))
            i += 1
        return proposed

    def _random_points(self, count: int):
        np = self._np
        columns = []
        for r in self.ranges:
            if r.kind == "Categorical":
                chosen = self.rng.integers(len(r.values), size=count)
                columns.append(np.eye(len(r.values))[chosen])
            else:
                columns.append(self.rng.random((count, 1)))
        return np.hstack(columns)

    def ask(self) -> Optional[dict[str, str]]:
        with self._lock:
            if len(self.observations) < self.startup:
                proposed = self._decode(self._random_points(1)[0])
            else:
                proposed = self._decode(self._best_candidate())
            point = self._encode(proposed)
            self._pending.setdefault(tuple(sorted(proposed.items())), []).append(point)
        return proposed

    def _best_candidate(self):
        import warnings

        from scipy.special import ndtr
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        np = self._np
        sign = 1.0 if self.maximize else -1.0  # the model maximises
        X = [p for p, _ in self.observations]
        y = [sign * v for _, v in self.observations]
        liar = min(y)
        for points in self._pending.values():
            X += points
            y += [liar] * len(points)
        X, y = np.array(X), np.array(y)
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.full(X.shape[1], 0.3), length_scale_bounds=(1e-2, 1e1), nu=2.5
        ) + WhiteKernel(1e-4, (1e-8, 1e-1))
        model = GaussianProcessRegressor(
            kernel,
            normalize_y=True,
            n_restarts_optimizer=0,
            random_state=int(self.rng.integers(2**31)),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes on tiny data sets
            model.fit(X, y)
        best = X[int(np.argmax(y))]
        near = np.clip(best + self.rng.normal(0, 0.05, (self.CANDIDATES // 4, X.shape[1])), 0, 1)
        candidates = np.vstack([self._random_points(self.CANDIDATES), near])
        mean, std = model.predict(candidates, return_std=True)
        improvement = mean - max(y)
        z = improvement / np.maximum(std, 1e-12)
        expected = improvement * ndtr(z) + std * np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
        return candidates[int(np.argmax(expected))]

    def tell(self, params: dict[str, str], value: Optional[float]) -> None:
        with self._lock:
            waiting = self._pending.get(tuple(sorted(params.items())))
            if not waiting:
                return
            point = waiting.pop(0)
            if value is None or not math.isfinite(value):
                self.failed += 1
            else:
                self.observations.append((point, float(value)))


def _scaled(r: Range, value: float) -> float:
    """A numeric range's value on the scale it is searched on."""
    if r.scaling == "Logarithmic":
        return math.log(value)
    if r.scaling == "ReverseLogarithmic":
        return -math.log(1 - value)
    return float(value)


def _unscaled(r: Range, x: float) -> float:
    if r.scaling == "Logarithmic":
        return math.exp(x)
    if r.scaling == "ReverseLogarithmic":
        return 1 - math.exp(-x)
    return x


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
