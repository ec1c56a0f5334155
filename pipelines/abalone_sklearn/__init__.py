"""A second example: script-mode scikit-learn training, model creation and batch transform."""
