"""The abalone regression pipeline: preprocess, train, evaluate, condition, register."""
