"""Script-mode training: a gradient-boosted regressor on the abalone splits.

Runs in the scikit-learn training container: channels under SM_CHANNEL_*, the model saved to
SM_MODEL_DIR, hyperparameters as command-line arguments.
"""

import argparse
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_squared_error


def load(folder):
    frames = [pd.read_csv(os.path.join(folder, f), header=None) for f in sorted(os.listdir(folder))]
    data = pd.concat(frames).to_numpy()
    return data[:, 1:], data[:, 0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n_estimators", type=int, default=100)
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument(
        "--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
    )
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    args = parser.parse_args()

    x_train, y_train = load(args.train)
    model = GradientBoostingRegressor(
        n_estimators=args.n_estimators,
        max_depth=args.max_depth,
        learning_rate=args.learning_rate,
        random_state=0,
    )
    model.fit(x_train, y_train)
    print(f"train:mse={mean_squared_error(y_train, model.predict(x_train)):.6f};")
    if args.validation:
        x_val, y_val = load(args.validation)
        print(f"validation:mse={mean_squared_error(y_val, model.predict(x_val)):.6f};")
    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    print("saved", np.shape(x_train))


if __name__ == "__main__":
    main()
