"""Feature engineers the abalone dataset.

Runs as a SageMaker Processing script: reads the raw CSV from /opt/ml/processing/input, writes
train/validation/test splits (label first, no header) to /opt/ml/processing/{train,validation,test}.
"""

import argparse
import glob
import logging
import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

logger = logging.getLogger()
logger.setLevel(logging.INFO)
logger.addHandler(logging.StreamHandler())

BASE_DIR = "/opt/ml/processing"
SPLIT_SEED = 42

# Since we get a headerless CSV file we specify the column names here.
feature_columns_names = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
label_column = "rings"

feature_columns_dtype = {
    "sex": str,
    "length": np.float64,
    "diameter": np.float64,
    "height": np.float64,
    "whole_weight": np.float64,
    "shucked_weight": np.float64,
    "viscera_weight": np.float64,
    "shell_weight": np.float64,
}
label_column_dtype = {"rings": np.float64}


def merge_two_dicts(x, y):
    """Merges two dicts, returning a new copy."""
    z = x.copy()
    z.update(y)
    return z


def find_input_file(input_dir, input_data):
    """The downloaded input: the file named like --input-data, else the only CSV there."""
    named = os.path.join(input_dir, os.path.basename(str(input_data).rstrip("/")))
    if os.path.isfile(named):
        return named
    candidates = sorted(glob.glob(os.path.join(input_dir, "**", "*.csv"), recursive=True))
    if len(candidates) != 1:
        raise SystemExit(
            f"expected one CSV file in {input_dir} (from --input-data {input_data}), "
            f"found {len(candidates)}"
        )
    return candidates[0]


def transform(df):
    """Scales the numeric features and one-hot encodes sex; returns the feature matrix."""
    numeric_features = list(feature_columns_names)
    numeric_features.remove("sex")
    numeric_transformer = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical_features = ["sex"]
    categorical_transformer = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(categories=[["F", "I", "M"]], handle_unknown="ignore"),
    )
    preprocess = ColumnTransformer(
        transformers=[
            ("num", numeric_transformer, numeric_features),
            ("cat", categorical_transformer, categorical_features),
        ],
        sparse_threshold=0,
    )
    return preprocess.fit_transform(df)


def split(X, seed=SPLIT_SEED):
    """Shuffles with a fixed seed and splits 70/15/15."""
    rng = np.random.default_rng(seed)
    X = X[rng.permutation(len(X))]
    return np.split(X, [int(0.7 * len(X)), int(0.85 * len(X))])


def main(argv=None):
    """Reads, transforms, splits and writes the data set."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-data", type=str, required=True)
    args = parser.parse_args(argv)

    fn = find_input_file(f"{BASE_DIR}/input", args.input_data)
    logger.info("Reading downloaded data from %s.", fn)
    df = pd.read_csv(
        fn,
        header=None,
        names=feature_columns_names + [label_column],
        dtype=merge_two_dicts(feature_columns_dtype, label_column_dtype),
    )

    logger.debug("Applying transforms.")
    y = df.pop("rings")
    X_pre = transform(df)
    y_pre = y.to_numpy().reshape(len(y), 1)
    X = np.concatenate((y_pre, X_pre), axis=1)

    logger.info("Splitting %d rows of data into train, validation, test datasets.", len(X))
    train, validation, test = split(X)

    for name, rows in (("train", train), ("validation", validation), ("test", test)):
        os.makedirs(f"{BASE_DIR}/{name}", exist_ok=True)
        logger.info("Writing out %s dataset (%d rows) to %s/%s.", name, len(rows), BASE_DIR, name)
        pd.DataFrame(rows).to_csv(f"{BASE_DIR}/{name}/{name}.csv", header=False, index=False)


if __name__ == "__main__":
    main()
