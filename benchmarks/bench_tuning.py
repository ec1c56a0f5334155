"""Benchmark of tuning on the local target: prints figures, asserts nothing.

Measures, on this machine, the wall time of
- a pipeline with one TuningStep: 4 built-in XGBoost training jobs, 2 at a time
  (``MaxParallelTrainingJobs`` 2, Random strategy, seeded);
- a pipeline of the same 4 training jobs (the tuning job's own hyperparameters) as 4
  TrainingSteps one after another (``DependsOn``);
both on the real abalone data (label first), after one warm-up job so that neither pays the
step processes' first imports. The ratio is what running trials in parallel buys here; it is
bounded by the machine's cores (``os.cpu_count()``) and by what the trials share (disk, memory).

Usage: ``python benchmarks/bench_tuning.py [--repeat 3] [--rounds 100]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "abalone-dataset.csv"
BUCKET = "bench-tuning"
ROLE = "arn:aws:iam::000000000000:role/LocalPipelineExecutionRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
RANGES = {
    "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "8"}],
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
    ],
}


def put_data(s3) -> list[dict]:
    with open(DATA) as f:
        rows = list(csv.reader(f))
    body = "".join(",".join([r[8], *r[1:8]]) + "\n" for r in rows).encode()
    s3.create_bucket(Bucket=BUCKET)
    channels = []
    for name in ("train", "validation"):
        s3.put_object(Bucket=BUCKET, Key=f"data/{name}/abalone.csv", Body=body)
        source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data/{name}/"}
        channels.append(
            {"ChannelName": name, "ContentType": "text/csv", "DataSource": {"S3DataSource": source}}
        )
    return channels


def training_arguments(channels: list[dict], hyperparameters: dict) -> dict:
    return {
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "RoleArn": ROLE,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def tuning_step(channels: list[dict], static: dict) -> dict:
    job = training_arguments(channels, {})
    job.pop("HyperParameters")
    return {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {
                "Strategy": "Random",
                "RandomSeed": 1,
                "HyperParameterTuningJobObjective": {
                    "Type": "Minimize",
                    "MetricName": "validation:rmse",
                },
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
                "ParameterRanges": RANGES,
            },
            "TrainingJobDefinition": {**job, "StaticHyperParameters": static},
        },
    }


def run(sm, name: str, steps: list[dict]) -> tuple[float, str]:
    """Upsert and run a pipeline; its execution's wall time (start to end) in seconds, its ARN."""
    body = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": steps})
    try:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=body, RoleArn=ROLE)
    except sm.exceptions.ClientError:
        sm.update_pipeline(PipelineName=name, PipelineDefinition=body, RoleArn=ROLE)
    started = time.perf_counter()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    while True:
        status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if status["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if status["PipelineExecutionStatus"] != "Succeeded":
        raise SystemExit(
            f"{name} {status['PipelineExecutionStatus']}: {status.get('FailureReason')}"
        )
    return seconds, arn


def job_seconds(summaries: list[dict]) -> list[float]:
    """Each training job's own time, start to end."""
    return [(s["TrainingEndTime"] - s["TrainingStartTime"]).total_seconds() for s in summaries]


def sequential_jobs(sm, arn: str) -> list[dict]:
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    names = [s["Metadata"]["TrainingJob"]["Arn"].split("/")[-1] for s in steps]
    return [sm.describe_training_job(TrainingJobName=n) for n in names]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each pipeline (median)")
    parser.add_argument("--rounds", type=int, default=100, help="XGBoost num_round of each job")
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    import boto3

    import smlocal

    static = {"num_round": str(args.rounds), "objective": "reg:squarederror"}
    with tempfile.TemporaryDirectory() as home, smlocal.local_target(home=Path(home)):
        sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
        channels = put_data(s3)
        warm_up = {"Name": "WarmUp", "Type": "Training"}
        run(sm, "WarmUp", [{**warm_up, "Arguments": training_arguments(channels, static)}])
        parallel, sequential, trial_jobs, alone_jobs = [], [], [], []
        for _ in range(args.repeat):
            parallel.append(run(sm, "Tuning", [tuning_step(channels, static)])[0])
            tuning = sm.list_hyper_parameter_tuning_jobs(
                SortBy="CreationTime", SortOrder="Descending"
            )
            name = tuning["HyperParameterTuningJobSummaries"][0]["HyperParameterTuningJobName"]
            trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name, SortBy="Name"
            )["TrainingJobSummaries"]
            trial_jobs += job_seconds(trials)
            steps = []
            for index, trial in enumerate(trials):
                hyperparameters = {**static, **trial["TunedHyperParameters"]}
                step = {
                    "Name": f"Train{index}",
                    "Type": "Training",
                    "Arguments": training_arguments(channels, hyperparameters),
                }
                if index:
                    step["DependsOn"] = [f"Train{index - 1}"]
                steps.append(step)
            seconds, arn = run(sm, "Sequential", steps)
            sequential.append(seconds)
            alone_jobs += job_seconds(sequential_jobs(sm, arn))
    tuned, chained = statistics.median(parallel), statistics.median(sequential)
    print(
        f"cores: {os.cpu_count()}; XGBoost num_round {args.rounds}; {len(DATA.read_text().splitlines())} rows"
    )
    print(f"tuning step, 4 training jobs, 2 in parallel: {tuned:6.2f} s (runs: {_fmt(parallel)})")
    print(
        f"4 training steps, one after another:        {chained:6.2f} s (runs: {_fmt(sequential)})"
    )
    print(f"speed-up: {chained / tuned:.2f}x")
    print(
        f"one training job: {statistics.mean(trial_jobs):.2f} s as a trial (2 at once, 1 thread "
        f"each when 2 cores), {statistics.mean(alone_jobs):.2f} s alone; load average now "
        f"{os.getloadavg()[0]:.1f}"
    )


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
