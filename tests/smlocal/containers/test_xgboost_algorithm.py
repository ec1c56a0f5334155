"""The built-in XGBoost algorithm, emulated: hyperparameters, csv channels, the model file."""

import io
import json
import tarfile

import numpy as np
import pytest
import xgboost

from smlocal.artifacts import pack_model
from smlocal.containers.xgboost_algorithm import AlgorithmError, booster_params
from smlocal.containers.xgboost_versions import VERSIONS
from tests.helpers import run_in_container


def test_hyperparameters_are_typed_and_aliased():
    params, rounds, early = booster_params(
        {
            "objective": "reg:linear",
            "num_round": "50",
            "max_depth": "5",
            "learning_rate": "0.2",
            "silent": "1",
            "tree_method": "hist",
            "early_stopping_rounds": "3",
            "eval_metric": "rmse,mae",
        },
        VERSIONS["1.0-1"],
    )
    assert params == {
        "objective": "reg:squarederror",
        "max_depth": 5,
        "eta": 0.2,
        "tree_method": "hist",
        "verbosity": 0,
        "eval_metric": ["rmse", "mae"],
    }
    assert (rounds, early) == (50, 3)


def test_num_round_is_required_and_an_integer():
    with pytest.raises(AlgorithmError, match="num_round"):
        booster_params({"objective": "reg:squarederror"})
    with pytest.raises(AlgorithmError, match="integer"):
        booster_params({"num_round": "ten"})


def _job(tmp_path, hyperparameters, rows=200, content_type="text/csv"):
    ml = tmp_path / "opt" / "ml"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    y = 3 * x[:, 0] - x[:, 1] + rng.normal(scale=0.1, size=rows)
    for channel in ("train", "validation"):
        folder = ml / "input" / "data" / channel
        folder.mkdir(parents=True)
        np.savetxt(folder / f"{channel}.csv", np.column_stack([y, x]), delimiter=",")
    (ml / "input" / "config").mkdir(parents=True)
    (ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (ml / "input" / "config" / "inputdataconfig.json").write_text(
        json.dumps(
            {"train": {"ContentType": content_type}, "validation": {"ContentType": content_type}}
        )
    )
    result = run_in_container(ml, "-m", "smlocal.containers.xgboost_algorithm")
    return ml, result


def test_trains_a_booster_saved_where_the_container_saves_it(tmp_path):
    ml, result = _job(
        tmp_path, {"objective": "reg:squarederror", "num_round": "20", "max_depth": "3"}
    )
    assert result.returncode == 0, result.stderr
    booster = xgboost.Booster()
    booster.load_model(bytearray((ml / "model" / "xgboost-model").read_bytes()))
    assert booster.num_boosted_rounds() == 20
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert (
        len(lines) == 20 and "#011train-rmse:" in lines[-1] and "#011validation-rmse:" in lines[-1]
    )


def test_a_bad_job_writes_the_failure_file(tmp_path):
    ml, result = _job(tmp_path, {"objective": "reg:squarederror"})
    assert result.returncode == 1
    assert (
        ml / "output" / "failure"
    ).read_text() == "AlgorithmError: Missing required hyperparameter: num_round"


def test_unsupported_content_type_is_reported(tmp_path):
    ml, result = _job(tmp_path, {"num_round": "2"}, content_type="application/x-recordio-protobuf")
    assert result.returncode == 1
    assert "application/x-recordio-protobuf" in (ml / "output" / "failure").read_text()


def test_model_tarball_is_reproducible_and_holds_xgboost_model(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(b"booster")
    first = pack_model(tmp_path / "model")
    (tmp_path / "model" / "xgboost-model").touch()  # a new mtime must not change the bytes
    assert pack_model(tmp_path / "model") == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        assert tar.getnames() == ["xgboost-model"]
        assert tar.extractfile("xgboost-model").read() == b"booster"
