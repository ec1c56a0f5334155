"""The tuning pipeline's ``@step`` function: how the best trial stands against the threshold.

Runs as a SageMaker function step (a training job of a Python image, the function and its
arguments pickled to S3); what it returns is read by later steps with ``report()["verdict"]``.
"""


def report(rmse: float, threshold: float) -> dict:
    """The best model's margin under the RMSE threshold, and a one-word verdict."""
    margin = float(threshold) - float(rmse)
    return {"verdict": "within" if margin >= 0 else "above", "margin": round(margin, 6)}
