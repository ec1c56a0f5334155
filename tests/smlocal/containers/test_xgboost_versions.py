"""The built-in XGBoost algorithm as each image version runs it.

Every hyperparameter a user sets reaches the booster (dropping one makes a test here fail),
names the version does not know are refused as its container refuses them, and the model file
is written as the version writes it: a pickled ``Booster`` before 1.3-1, XGBoost's own format
after -- so evaluation scripts written for either kind load it.
"""

import pickle

import numpy as np
import pytest
import xgboost

from smlocal.containers import xgboost_algorithm
from smlocal.containers.xgboost_algorithm import AlgorithmError, booster_params, fit, model_bytes
from smlocal.containers.xgboost_versions import VERSIONS, version_of

RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 5))
Y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + RNG.normal(scale=0.5, size=300)
BASE = {"num_round": "10", "nthread": "1"}  # one thread: small data, busy machines
# (hyperparameter, value, what the model is compared with besides it)
CHANGES_THE_MODEL = [
    ("max_depth", "2", {}),
    ("eta", "0.05", {}),
    ("gamma", "20", {}),
    ("min_child_weight", "30", {}),
    ("subsample", "0.5", {}),
    ("colsample_bytree", "0.4", {}),
    ("colsample_bylevel", "0.4", {}),
    ("colsample_bynode", "0.4", {}),
    ("alpha", "50", {}),
    ("lambda", "50", {}),
    ("max_delta_step", "0.1", {}),
    ("base_score", "5", {}),
    ("num_round", "3", {}),
    ("objective", "reg:absoluteerror", {}),
    ("tree_method", "exact", {}),
    ("max_bin", "4", {}),
    ("seed", "7", {"subsample": "0.5"}),
    ("max_leaves", "3", {"grow_policy": "lossguide", "max_depth": "0"}),
    ("learning_rate", "0.05", {}),  # the aliases the container accepts
    ("min_split_loss", "20", {}),
    ("reg_lambda", "50", {}),
    ("reg_alpha", "50", {}),
]


def predictions(hyperparameters: dict, validation=None) -> np.ndarray:
    booster, _ = fit(hyperparameters, xgboost.DMatrix(X, label=Y), validation)
    return booster.predict(xgboost.DMatrix(X))


@pytest.mark.parametrize(
    "name,value,context", CHANGES_THE_MODEL, ids=[c[0] for c in CHANGES_THE_MODEL]
)
def test_each_hyperparameter_changes_the_trained_model(name, value, context):
    without = predictions({**BASE, **context})
    assert not np.allclose(predictions({**BASE, **context, name: value}), without)


def test_early_stopping_rounds_stop_on_the_validation_channel():
    worsening = xgboost.DMatrix(X[:100], label=-Y[:100])  # gets worse from the first round on
    stopped = predictions({**BASE, "early_stopping_rounds": "1"}, worsening)
    assert not np.allclose(stopped, predictions(BASE, worsening))


def test_eval_metric_is_a_list_each_reported_per_round():
    _, history = fit({**BASE, "eval_metric": "rmse,mae"}, xgboost.DMatrix(X, label=Y))
    assert sorted(history["train"]) == ["mae", "rmse"]
    assert len(history["train"]["mae"]) == 10


def test_reg_linear_is_the_old_name_of_squared_error():
    assert np.allclose(
        predictions({**BASE, "objective": "reg:linear"}),
        predictions({**BASE, "objective": "reg:squarederror"}),
    )


@pytest.mark.parametrize(
    "tag,name,known",
    [
        ("1.0-1", "silent", True),
        ("1.7-1", "silent", False),  # dropped in 1.2-1
        ("0.90-1", "learning_rate", False),  # aliases came with 0.90-2
        ("0.90-2", "learning_rate", True),
        ("1.2-1", "_nfold", True),
        ("1.7-1", "sampling_method", True),
        ("1.2-2", "sampling_method", False),  # came with 1.3-1
        ("3.0-5", "no_such_thing", False),
    ],
)
def test_a_version_refuses_the_names_its_container_does_not_know(tag, name, known):
    hyperparameters = {**BASE, name: "1"}
    if not known:
        canonical = VERSIONS[tag].canonical(name)
        with pytest.raises(AlgorithmError, match=f"^Extraneous hyperparameter found: {canonical}$"):
            booster_params(hyperparameters, VERSIONS[tag])
    elif name.startswith("_"):
        with pytest.raises(AlgorithmError, match="not supported locally"):  # known, not emulated
            booster_params(hyperparameters, VERSIONS[tag])
    else:
        booster_params(hyperparameters, VERSIONS[tag])


def test_the_version_comes_from_the_image_tag():
    registry = "683313688378.dkr.ecr.us-east-1.amazonaws.com"
    assert version_of(f"{registry}/sagemaker-xgboost:1.0-1-cpu-py3").tag == "1.0-1"
    assert version_of(f"{registry}/sagemaker-xgboost:1.7-1").tag == "1.7-1"
    assert version_of(f"{registry}/sagemaker-xgboost@sha256:0123").tag == "3.0-5"  # newest


def test_images_before_1_3_pickle_the_booster():
    booster, _ = fit(BASE, xgboost.DMatrix(X, label=Y))
    for tag, protocol in (("0.90-2", 3), ("1.0-1", 3), ("1.2-1", 4), ("1.2-2", 4)):
        raw = model_bytes(booster, VERSIONS[tag])
        assert raw[:2] == bytes([0x80, protocol]), tag
        loaded = pickle.loads(raw)  # what their evaluation scripts do
        assert isinstance(loaded, xgboost.Booster) and loaded.num_boosted_rounds() == 10


def test_later_images_save_the_model_in_xgboosts_own_format():
    booster, _ = fit(BASE, xgboost.DMatrix(X, label=Y))
    for tag in ("1.3-1", "1.5-1", "1.7-1", "3.0-5"):
        raw = model_bytes(booster, VERSIONS[tag])
        with pytest.raises(pickle.UnpicklingError):
            pickle.loads(raw)
        loaded = xgboost.Booster()
        loaded.load_model(bytearray(raw))  # what theirs do
        assert loaded.num_boosted_rounds() == 10


def test_csv_weights_weigh_the_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(xgboost_algorithm, "INPUT", str(tmp_path))
    (tmp_path / "data" / "train").mkdir(parents=True)
    weights = np.where(X[:, 0] > 0, 10.0, 0.1)
    np.savetxt(
        tmp_path / "data" / "train" / "t.csv", np.column_stack([Y, weights, X]), delimiter=","
    )
    weighted = xgboost_algorithm.read_channel("train", "text/csv", csv_weights=True)
    assert weighted.num_col() == X.shape[1]
    booster, _ = fit({**BASE, "csv_weights": "1"}, weighted)
    assert not np.allclose(booster.predict(xgboost.DMatrix(X)), predictions(BASE))
