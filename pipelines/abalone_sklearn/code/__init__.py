"""The training and inference scripts (the estimator's source_dir)."""
