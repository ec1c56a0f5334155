"""Hyperparameter tuning jobs through boto3: trials are training jobs of the same runner.

Script-mode trials print a metric computed from their hyperparameters, so each strategy's
choices and the objective's direction can be checked exactly; the built-in XGBoost trials and
the SDK's ``HyperparameterTuner`` show the real path.
"""

import csv
import io
import itertools
import tarfile
import textwrap

import pytest
from botocore.exceptions import ClientError

from tests.helpers import ABALONE_CSV
from tests.smlocal.jobs.requests import BUCKET, ROLE, SKLEARN_IMAGE, XGB_IMAGE, wait_for

# A trial: score = -(x - 0.3)^2 (best at x = 0.3), after sleeping `nap` seconds.
SCORE = """
import argparse, time
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, default=0.0)
parser.add_argument("--nap", type=float, default=0.0)
parser.add_argument("--kind", default="a")
args = parser.parse_args()
time.sleep(args.nap)
print(f"score={-(args.x - 0.3) ** 2:.6f}")
open("/opt/ml/model/model.txt", "w").write(f"{args.x} {args.kind}")
"""
SCORE_METRIC = [{"Name": "score", "Regex": r"score=(-?[0-9.]+)"}]


def put_source(aws, script: str = SCORE) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        body = textwrap.dedent(script).encode()
        info = tarfile.TarInfo("score.py")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    aws.s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=buffer.getvalue())
    return f"s3://{BUCKET}/code/sourcedir.tar.gz"


def script_definition(aws, static=None, metrics=SCORE_METRIC) -> dict:
    """A TrainingJobDefinition whose trials run score.py in script mode."""
    return {
        "StaticHyperParameters": {
            "sagemaker_program": '"score.py"',
            "sagemaker_submit_directory": f'"{put_source(aws)}"',
            **(static or {}),
        },
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": metrics,
        },
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def config(strategy="Random", jobs=4, parallel=1, objective="score", goal="Maximize", **extra):
    ranges = extra.pop(
        "ranges",
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]},
    )
    limits = {"MaxParallelTrainingJobs": parallel}
    if jobs:
        limits["MaxNumberOfTrainingJobs"] = jobs
    return {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": goal, "MetricName": objective},
        "ResourceLimits": limits,
        "ParameterRanges": ranges,
        **extra,
    }


def tune(aws, name, tuning_config, definition, **extra) -> dict:
    aws.sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=tuning_config,
        TrainingJobDefinition=definition,
        **extra,
    )
    return wait_for(
        lambda: aws.sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        "HyperParameterTuningJobStatus",
        timeout=180,
    )


def trials(aws, name, **kwargs) -> list:
    return aws.sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100, **kwargs
    )["TrainingJobSummaries"]


def put_abalone(aws, rows=300) -> list:
    with open(ABALONE_CSV) as f:
        data = list(csv.reader(f))[:rows]
    body = "".join(",".join([r[8], *r[1:8]]) + "\n" for r in data).encode()
    channels = []
    for channel in ("train", "validation"):
        aws.s3.put_object(Bucket=BUCKET, Key=f"abalone/{channel}/data.csv", Body=body)
        channels.append(
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/abalone/{channel}/",
                    }
                },
            }
        )
    return channels


def test_a_bayesian_xgboost_tuning_job_keeps_the_best_trial(aws):
    definition = {
        "StaticHyperParameters": {"num_round": "10", "objective": "reg:squarederror"},
        "AlgorithmSpecification": {"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": put_abalone(aws),
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/xgb"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    ranges = {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "6"}],
        "ContinuousParameterRanges": [
            {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
        ],
    }
    tuning_config = config(
        "Bayesian", 4, 2, "validation:rmse", "Minimize", ranges=ranges, RandomSeed=3
    )
    job = tune(aws, "xgb-tune", tuning_config, definition)
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert job["TrainingJobStatusCounters"]["Completed"] == 4
    assert job["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    summaries = trials(aws, "xgb-tune")
    values = {
        s["TrainingJobName"]: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for s in summaries
    }
    best = job["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(values.values())
    assert best["TrainingJobName"].startswith("xgb-tune-")
    described = aws.sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert described["TuningJobArn"] == job["HyperParameterTuningJobArn"]
    assert described["HyperParameters"]["num_round"] == "10"  # static ones too
    assert 1 <= int(best["TunedHyperParameters"]["max_depth"]) <= 6
    artifact = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{BUCKET}/xgb/{best['TrainingJobName']}/output/model.tar.gz"
    aws.s3.head_object(Bucket=BUCKET, Key=artifact.split(f"{BUCKET}/")[1])
    listed = aws.sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [(j["HyperParameterTuningJobName"], j["Strategy"]) for j in listed] == [
        ("xgb-tune", "Bayesian")
    ]


def test_trials_run_in_parallel_up_to_the_limit(aws):
    job = tune(
        aws,
        "parallel",
        config("Random", jobs=4, parallel=2, RandomSeed=1),
        script_definition(aws, static={"nap": "1.5"}),
    )
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    spans = [(s["TrainingStartTime"], s["TrainingEndTime"]) for s in trials(aws, "parallel")]
    overlaps = [sum(start <= t < end for start, end in spans) for t, _ in spans]
    assert max(overlaps) == 2  # two at once, never three


def test_random_search_with_a_seed_repeats_its_trials_and_maximizes(aws):
    definition = script_definition(aws)
    first = tune(aws, "seeded-1", config("Random", 3, RandomSeed=42), definition)
    second = tune(aws, "seeded-2", config("Random", 3, RandomSeed=42), definition)

    def tried(name):
        return sorted(s["TunedHyperParameters"]["x"] for s in trials(aws, name))

    assert tried("seeded-1") == tried("seeded-2")
    best_x = float(first["BestTrainingJob"]["TunedHyperParameters"]["x"])
    assert min(abs(float(x) - 0.3) for x in tried("seeded-1")) == pytest.approx(abs(best_x - 0.3))
    by_value = trials(aws, "seeded-1", SortBy="FinalObjectiveMetricValue", SortOrder="Descending")
    assert by_value[0]["TrainingJobName"] == first["BestTrainingJob"]["TrainingJobName"]
    assert (
        second["BestTrainingJob"]["TunedHyperParameters"]
        == first["BestTrainingJob"]["TunedHyperParameters"]
    )


def test_grid_search_runs_each_combination_once(aws):
    ranges = {
        "CategoricalParameterRanges": [
            {"Name": "x", "Values": ["0.1", "0.3"]},
            {"Name": "kind", "Values": ["a", "b"]},
        ]
    }
    job = tune(
        aws, "grid", config("Grid", jobs=None, parallel=2, ranges=ranges), script_definition(aws)
    )
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    combos = {
        (s["TunedHyperParameters"]["x"], s["TunedHyperParameters"]["kind"])
        for s in trials(aws, "grid")
    }
    assert combos == set(itertools.product(["0.1", "0.3"], ["a", "b"]))
    assert job["BestTrainingJob"]["TunedHyperParameters"]["x"] == "0.3"


def test_a_reached_target_launches_no_more_trials(aws):
    criteria = {"TargetObjectiveMetricValue": -1.0}  # any x in [0, 1] scores above -0.49
    job = tune(
        aws,
        "target",
        config("Random", jobs=5, RandomSeed=1, TuningJobCompletionCriteria=criteria),
        script_definition(aws),
    )
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert len(trials(aws, "target")) == 1


def test_a_metric_no_trial_emits_fails_the_job_and_names_it(aws):
    metrics = [{"Name": "score", "Regex": r"nothing-like-this=([0-9.]+)"}]
    job = tune(aws, "no-metric", config("Random", 2), script_definition(aws, metrics=metrics))
    assert job["HyperParameterTuningJobStatus"] == "Failed"
    assert "No training job reported the objective metric 'score'" in job["FailureReason"]
    assert job["ObjectiveStatusCounters"]["Failed"] == 2


def test_warm_start_learns_from_its_parent_and_reports_the_overall_best(aws):
    definition = script_definition(aws)
    parent = tune(aws, "parent", config("Random", 3, RandomSeed=5), definition)
    warm = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    child = tune(
        aws, "child", config("Bayesian", 2, RandomSeed=5), definition, WarmStartConfig=warm
    )
    assert child["HyperParameterTuningJobStatus"] == "Completed"
    assert len(trials(aws, "child")) == 2  # the parent's trials are the parent's
    scores = [
        s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for name in ("parent", "child")
        for s in trials(aws, name)
    ]
    overall = child["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert overall["Value"] == max(scores)
    assert child["WarmStartConfig"] == warm
    assert parent["HyperParameterTuningJobStatus"] == "Completed"


def test_warm_start_refuses_a_parent_it_cannot_build_on(aws):
    definition = script_definition(aws)
    tune(aws, "parent", config("Random", 1), definition)

    def create(parent, goal="Maximize", kind="IdenticalDataAndAlgorithm", changed=definition):
        aws.sm.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="child",
            HyperParameterTuningJobConfig=config("Random", 1, goal=goal),
            TrainingJobDefinition=changed,
            WarmStartConfig={
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent}],
                "WarmStartType": kind,
            },
        )

    with pytest.raises(ClientError, match="Parent hyperparameter tuning job ghost does not exist"):
        create("ghost")
    with pytest.raises(
        ClientError, match="objective of a warm start tuning job must be its parents'"
    ):
        create("parent", goal="Minimize")
    other_image = {
        **definition,
        "AlgorithmSpecification": {
            **definition["AlgorithmSpecification"],
            "TrainingImage": XGB_IMAGE,
        },
    }
    with pytest.raises(
        ClientError, match="IdenticalDataAndAlgorithm warm start needs the parents'"
    ):
        create("parent", changed=other_image)


def test_stop_ends_the_tuning_job_and_its_running_trials(aws):
    aws.sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="stopped",
        HyperParameterTuningJobConfig=config("Random", 4, parallel=2),
        TrainingJobDefinition=script_definition(aws, static={"nap": "60"}),
    )
    wait_for(lambda: {"n": str(len(trials(aws, "stopped")))}, "n", until=("2",), timeout=30)
    aws.sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopped")
    job = wait_for(
        lambda: aws.sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopped"),
        "HyperParameterTuningJobStatus",
        timeout=60,
    )
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    assert {s["TrainingJobStatus"] for s in trials(aws, "stopped")} == {"Stopped"}
    assert job["TrainingJobStatusCounters"]["Stopped"] == 2


REFUSALS = [
    ({"Strategy": "Hyperband"}, "Hyperband strategy is not supported locally"),
    ({"TrainingJobEarlyStoppingType": "Auto"}, "TrainingJobEarlyStoppingType 'Auto'"),
    (
        {
            "TuningJobCompletionCriteria": {
                "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}
            }
        },
        "ConvergenceDetected is not supported locally",
    ),
    ({"Strategy": "Grid"}, r"categorical hyperparameters only; \['x'\]"),
    (
        {"HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "accuracy"}},
        "objective metric 'accuracy' is not a metric the training jobs emit",
    ),
    (
        {
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}
                ]
            }
        },
        "greater than 0",
    ),
    (
        {"ParameterRanges": {"CategoricalParameterRanges": [{"Name": "nap", "Values": ["1"]}]}},
        r"\['nap'\] are both static and tuned",
    ),
    ({"ResourceLimits": {"MaxParallelTrainingJobs": 1}}, "MaxNumberOfTrainingJobs is required"),
]


@pytest.mark.parametrize("change,message", REFUSALS, ids=[m[:24] for _, m in REFUSALS])
def test_what_the_local_search_cannot_do_is_refused_by_name(aws, change, message):
    with pytest.raises(ClientError, match=message) as refused:
        aws.sm.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="refused",
            HyperParameterTuningJobConfig={**config("Random", 2), **change},
            TrainingJobDefinition=script_definition(aws, static={"nap": "0"}),
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert aws.sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


def test_the_sdks_tuner_fits_and_finds_its_best_estimator(aws):
    import sagemaker
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

    session = sagemaker.session.Session()
    channels = put_abalone(aws, rows=200)
    estimator = Estimator(
        image_uri=XGB_IMAGE,
        role=sagemaker.get_execution_role(),
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path=f"s3://{BUCKET}/sdk",
        sagemaker_session=session,
        hyperparameters={"num_round": 5, "objective": "reg:squarederror"},
    )
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name="validation:rmse",
        objective_type="Minimize",
        hyperparameter_ranges={
            "max_depth": IntegerParameter(2, 5),
            "eta": ContinuousParameter(0.1, 0.4),
        },
        max_jobs=2,
        max_parallel_jobs=2,
        random_seed=7,
    )
    tuner.fit(
        {
            c["ChannelName"]: TrainingInput(
                c["DataSource"]["S3DataSource"]["S3Uri"], content_type="text/csv"
            )
            for c in channels
        },
        job_name="sdk-tuner",
        wait=True,
    )
    best = tuner.best_training_job()
    frame = tuner.analytics().dataframe()
    assert len(frame) == 2 and best in set(frame["TrainingJobName"])
    assert (
        frame.loc[frame["TrainingJobName"] == best, "FinalObjectiveValue"].iloc[0]
        == frame["FinalObjectiveValue"].min()
    )
    assert tuner.best_estimator().model_data.endswith(f"/{best}/output/model.tar.gz")
