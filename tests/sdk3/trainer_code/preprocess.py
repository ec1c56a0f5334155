"""Splits the raw CSV (x1, x2, y; no header) into train and test sets, seeded."""

import argparse
import pathlib

import numpy as np
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--test-fraction", type=float, default=0.25)
args = parser.parse_args()

base = pathlib.Path("/opt/ml/processing")
data = np.loadtxt(base / "input" / "data.csv", delimiter=",")
train, test = train_test_split(data, test_size=args.test_fraction, random_state=0)
for name, rows in (("train", train), ("test", test)):
    (base / name).mkdir(parents=True, exist_ok=True)
    np.savetxt(base / name / f"{name}.csv", rows, delimiter=",")
print(f"split {len(data)} rows: {len(train)} train, {len(test)} test")
