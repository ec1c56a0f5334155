"""What each version of SageMaker's XGBoost container accepts and writes.

Read from the container's source (github.com/aws/sagemaker-xgboost-container, one branch per
image version): ``algorithm_mode/hyperparameter_validation.py`` lists the hyperparameters a
version knows (any other is refused: "Extraneous hyperparameter found") and its aliases;
``algorithm_mode/train.py`` saves the model -- ``pickle.dump(booster)`` up to 1.2-2 (protocol 4
from 1.2-1), ``booster.save_model("xgboost-model")`` from 1.3-1, which is XGBoost's legacy
binary format up to the 1.7 images and UBJSON in the 3.0 image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# The 0.90-1 image's hyperparameters; later images add and drop some (below).
_FIRST = frozenset(
    "_tuning_objective_metric alpha base_score booster colsample_bylevel colsample_bynode "
    "colsample_bytree csv_weights dsplit early_stopping_rounds eta eval_metric gamma grow_policy "
    "lambda lambda_bias max_bin max_delta_step max_depth max_leaves min_child_weight "
    "normalize_type nthread num_class num_round objective one_drop predictor process_type "
    "rate_drop refresh_leaf sample_type scale_pos_weight seed silent sketch_eps skip_drop "
    "subsample tree_method tweedie_variance_power updater verbosity".split()
)
# tag: (added, dropped), in release order
_CHANGES = {
    "0.90-1": ("", ""),
    "0.90-2": ("num_parallel_tree", ""),
    "1.0-1": ("interaction_constraints monotone_constraints save_model_on_termination", ""),
    "1.2-1": (
        "_nfold aft_loss_distribution aft_loss_distribution_scale deterministic_histogram "
        "single_precision_histogram",
        "silent",
    ),
    "1.2-2": ("_kfold _num_cv_round", "_nfold"),
    "1.3-1": ("prob_buffer_row sampling_method", ""),
    "1.5-1": ("use_dask_gpu_training", ""),
    "1.7-1": ("", "single_precision_histogram"),
    "3.0-5": ("", ""),
}
ALIASES = {
    "learning_rate": "eta",
    "min_split_loss": "gamma",
    "reg_lambda": "lambda",
    "reg_alpha": "alpha",
}
_TAG = re.compile(r"sagemaker-xgboost:(\d+\.\d+-\d+)")


@dataclass(frozen=True)
class ImageVersion:
    """One image version of the built-in algorithm."""

    tag: str
    hyperparameters: frozenset
    aliases: dict
    pickled_model: bool  # pickle.dump(booster) rather than booster.save_model
    pickle_protocol: Optional[int] = None  # None: the container Python's default (3)

    def canonical(self, name: str) -> str:
        return self.aliases.get(name, name)


def _versions() -> dict[str, ImageVersion]:
    versions, names = {}, set(_FIRST)
    for tag, (added, dropped) in _CHANGES.items():
        names = (names | set(added.split())) - set(dropped.split())
        major_minor = tuple(int(p) for p in tag.split("-")[0].split("."))
        versions[tag] = ImageVersion(
            tag=tag,
            hyperparameters=frozenset(names),
            aliases={} if tag == "0.90-1" else dict(ALIASES),
            pickled_model=major_minor < (1, 3),
            pickle_protocol=4 if major_minor == (1, 2) else 3,
        )
    return versions


VERSIONS = _versions()
NEWEST = list(VERSIONS)[-1]


def version_of(image_uri: str) -> ImageVersion:
    """The version an image URI names (``...sagemaker-xgboost:1.7-1``, ``:1.0-1-cpu-py3``).

    An image the table does not know (a digest, a newer tag) is taken as the newest.
    """
    match = _TAG.search(image_uri or "")
    return VERSIONS.get(match.group(1) if match else "", VERSIONS[NEWEST])
