"""preprocess.py and evaluate.py, run unchanged as container scripts on the real data set."""

import hashlib
import io
import json
import shutil
import tarfile

import numpy as np
import pandas as pd
import pytest
import xgboost

from tests.helpers import ABALONE_CSV, ROOT, run_in_container

SCRIPTS = ROOT / "pipelines" / "abalone"


def run_script(root, script, *args):
    """Run a script as its container would: /opt/ml mapped to ``root``."""
    code = root / "processing" / "input" / "code"
    code.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCRIPTS / script, code / script)
    return run_in_container(root, f"/opt/ml/processing/input/code/{script}", *args)


def preprocess(root):
    (root / "processing" / "input").mkdir(parents=True, exist_ok=True)
    shutil.copy(ABALONE_CSV, root / "processing" / "input" / "abalone-dataset.csv")
    result = run_script(
        root, "preprocess.py", "--input-data", "s3://any-bucket/dataset/abalone-dataset.csv"
    )
    assert result.returncode == 0, result.stderr
    return {
        name: pd.read_csv(root / "processing" / name / f"{name}.csv", header=None)
        for name in ("train", "validation", "test")
    }


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    return preprocess(tmp_path_factory.mktemp("preprocess") / "opt" / "ml")


def test_split_sizes_and_columns(splits):
    assert {k: v.shape for k, v in splits.items()} == {
        "train": (2923, 11),
        "validation": (627, 11),
        "test": (627, 11),
    }


def test_label_first_then_scaled_numerics_then_one_hot_sex(splits):
    everything = pd.concat(splits.values())
    raw = pd.read_csv(ABALONE_CSV, header=None)
    assert sorted(everything[0]) == sorted(raw[8].astype(float))
    numerics = everything.iloc[:, 1:8]
    assert np.allclose(numerics.mean(), 0, atol=1e-9) and np.allclose(
        numerics.std(ddof=0), 1, atol=1e-9
    )
    one_hot = everything.iloc[:, 8:11]
    assert set(np.unique(one_hot.values)) == {0.0, 1.0} and (one_hot.sum(axis=1) == 1).all()
    assert one_hot.sum().tolist() == [float((raw[0] == s).sum()) for s in ("F", "I", "M")]


def test_no_header_no_index(splits):
    for frame in splits.values():
        assert all(dtype == np.float64 for dtype in frame.dtypes)  # a header row would make strings
        assert frame.shape[1] == 11  # an index column would make 12


def test_split_is_reproducible(tmp_path, splits):
    again = preprocess(tmp_path / "opt" / "ml")
    for name in splits:
        pd.testing.assert_frame_equal(splits[name], again[name])


def test_input_file_may_have_another_name(tmp_path):
    root = tmp_path / "opt" / "ml"
    (root / "processing" / "input").mkdir(parents=True)
    shutil.copy(ABALONE_CSV, root / "processing" / "input" / "mine.csv")
    result = run_script(root, "preprocess.py", "--input-data", "/somewhere/else/data.csv")
    assert result.returncode == 0, result.stderr
    assert (root / "processing" / "test" / "test.csv").exists()


def test_evaluate_reports_mse_of_a_booster_trained_here(tmp_path, splits):
    train = splits["train"]
    booster = xgboost.train(
        {
            "objective": "reg:squarederror",
            "max_depth": 5,
            "eta": 0.2,
            "gamma": 4,
            "min_child_weight": 6,
            "subsample": 0.7,
        },
        xgboost.DMatrix(train.iloc[:, 1:].values, label=train[0].values),
        num_boost_round=50,
    )
    root = tmp_path / "opt" / "ml"
    model_dir = root / "processing" / "model"
    model_dir.mkdir(parents=True)
    raw = bytes(booster.save_raw(raw_format="ubj"))
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    (root / "processing" / "test").mkdir(parents=True)
    splits["test"].to_csv(root / "processing" / "test" / "test.csv", header=False, index=False)

    result = run_script(root, "evaluate.py")
    assert result.returncode == 0, result.stderr
    report = json.loads((root / "processing" / "evaluation" / "evaluation.json").read_text())
    assert set(report) == {"regression_metrics"}
    assert set(report["regression_metrics"]) == {"mse"}
    assert set(report["regression_metrics"]["mse"]) == {"value", "standard_deviation"}
    test = splits["test"]
    predictions = booster.predict(xgboost.DMatrix(test.iloc[:, 1:].values))
    expected = float(np.mean((test[0].values - predictions) ** 2))
    assert report["regression_metrics"]["mse"]["value"] == pytest.approx(expected, rel=1e-6)
    assert report["regression_metrics"]["mse"]["value"] < 6.0
    assert report["regression_metrics"]["mse"]["standard_deviation"] == pytest.approx(
        float(np.std(test[0].values - predictions)), rel=1e-6
    )


def test_the_data_file_is_the_published_one():
    assert (
        hashlib.sha256(ABALONE_CSV.read_bytes()).hexdigest()
        == "de37cdcdcaaa50c309d514f248f7c2302a5f1f88c168905eba23fe2fbc78449f"
    )
