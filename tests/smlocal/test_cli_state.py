"""pipelines-local: list the state folder's executions with their size, clean old ones safely.

Three real executions of the abalone pipeline: the oldest registers an Approved version, the
next fails its quality check (nothing registered), the newest registers a pending version.
"""

import json
import shutil

import pytest

import smlocal
from smlocal.housekeeping import job_references, overlaps
from smlocal.wait import wait_for
from tests.helpers import LocalSageMaker, run_cli

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

GROUP = "AbalonePackageGroup"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A state folder with three executions, newest first: (home, [execution ids])."""
    import sagemaker

    home = tmp_path_factory.mktemp("state")
    with smlocal.local_target(home=home):
        from pipelines.abalone.pipeline import get_pipeline

        role = sagemaker.get_execution_role()
        pipeline = get_pipeline("us-east-1", role=role)
        pipeline.upsert(role_arn=role)
        ids = []
        for parameters in ({"ModelApprovalStatus": "Approved"}, {"MseThreshold": 3.5}, {}):
            execution = pipeline.start(parameters=parameters)
            wait_for(execution)
            ids.append(execution.arn.rsplit("/", 1)[-1])
    return home, ids[::-1]


@pytest.fixture
def home(runs, tmp_path):
    """A copy of the three executions' state folder, for a test to clean."""
    copy = tmp_path / "home"
    shutil.copytree(runs[0], copy)
    return copy


def state(home, *args):
    return run_cli(["smlocal.cli_state", "--home", str(home), *args])


def objects(home, prefix=""):
    with smlocal.local_target(home=home):
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        page = s3.list_objects_v2(Bucket="sagemaker-us-east-1-000000000000", Prefix=prefix)
        return [o["Key"] for o in page.get("Contents", [])]


def registered_artifacts(home, version):
    package = LocalSageMaker(home).describe_model_package(
        ModelPackageName=f"arn:aws:sagemaker:us-east-1:000000000000:model-package/{GROUP.lower()}/{version}"
    )
    model = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    report = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    return [uri.split("/", 3)[3] for uri in (model, report)]


def test_list_shows_every_execution_with_its_size(runs):
    home, (newest, failed, approved) = runs
    result = state(home, "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["execution", "pipeline", "status", "started", "folder", "outputs"]
    assert [line.split()[:3] for line in lines[2:5]] == [
        [newest, "AbalonePipeline", "Succeeded"],
        [failed, "AbalonePipeline", "Failed"],
        [approved, "AbalonePipeline", "Succeeded"],
    ]
    assert f"state folder {home}:" in result.stdout and "object store" in result.stdout
    listed = json.loads(state(home, "--output", "json", "list").stdout)
    assert all(
        e["FolderBytes"] > 100_000 and e["OutputBytes"] > 100_000 for e in listed["Executions"]
    )
    assert listed["StateFolder"]["executions"] > 0 and listed["StateFolder"]["s3"] > 0


def test_clean_keeps_the_newest_and_what_registered_versions_use(home, runs):
    _, (newest, failed, approved) = runs
    kept_artifacts = registered_artifacts(home, 1)
    before = objects(home)
    (home / "executions" / "leftover").mkdir()  # a folder no execution record knows

    result = state(home, "clean", "--keep", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("removed 2 execution(s), 1 unknown execution folder(s)")
    assert sorted(p.name for p in (home / "executions").iterdir()) == [newest]
    after = objects(home)
    assert set(kept_artifacts) <= set(after)  # the Approved version's model and report
    assert not objects(home, f"AbalonePipeline/{failed}/") and not objects(
        home, f"AbalonePipeline/{approved}/PreprocessAbaloneData/"
    )
    assert [k for k in before if newest in k] == [k for k in after if newest in k]
    described = run_cli(
        ["pipelines.model_registry", "--local", "describe", GROUP, "1"],
        env={"PIPELINES_LOCAL_HOME": str(home)},
    )
    assert described.returncode == 0 and "mse" in described.stdout

    listed = state(home, "list").stdout
    assert f"{approved}  AbalonePipeline  Succeeded" in listed and "removed" in listed
    again = state(home, "clean", "--keep", "1")
    assert again.stdout.startswith(
        "removed 0 execution(s), 0 unknown execution folder(s), 0 output"
    )


def test_registered_artifacts_go_only_when_asked(home, runs):
    kept_artifacts = registered_artifacts(home, 1)
    state(home, "clean", "--keep", "1")
    result = state(home, "clean", "--keep", "1", "--include-registered")
    assert result.returncode == 0, result.stderr
    assert not set(kept_artifacts) & set(objects(home))
    assert set(registered_artifacts(home, 2)) <= set(objects(home))  # the newest's is kept


def test_dry_run_removes_nothing(home, runs):
    before = objects(home)
    result = state(home, "clean", "--keep", "0", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("would remove 3 execution(s)")
    assert objects(home) == before and len(list((home / "executions").iterdir())) == 3


def test_environments_and_caches_only_when_asked(home):
    for folder in ("environments/sklearn-1.2-1", "datasets/abalone"):
        (home / folder).mkdir(parents=True)
        (home / folder / "file").write_text("x")
    assert state(home, "clean", "--caches").returncode == 0
    assert not (home / "datasets").exists() and (home / "environments").exists()
    assert state(home, "clean", "--environments").returncode == 0
    assert not (home / "environments").exists()
    assert len(list((home / "executions").iterdir())) == 3


def test_bad_requests_are_one_line(tmp_path):
    nothing = state(tmp_path, "clean")
    assert nothing.returncode == 2
    assert nothing.stderr.splitlines()[-1].startswith("pipelines-local: error: clean: say what")
    empty = state(tmp_path / "none", "list")
    assert empty.returncode == 0 and "no state folder at" in empty.stdout


def test_what_a_kept_job_uses_is_spared_but_not_the_parent_of_outputs():
    training = {
        "TrainingJobName": "job-2",
        "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://b/p/exec1/train"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://b/Train"},
        "ModelArtifacts": {"S3ModelArtifacts": "s3://b/Train/job-2/output/model.tar.gz"},
    }
    references = job_references("TrainingJob", training)
    assert references == {
        "s3://b/p/exec1/train",
        "s3://b/Train/job-2/output/model.tar.gz",
        "s3://b/Train/job-2",
    }
    assert overlaps("s3://b/p/exec1/train", "s3://b/p/exec1/train/train.csv")
    assert not overlaps("s3://b/Train/job-1", "s3://b/Train/job-2/output/model.tar.gz")
    assert not overlaps("s3://b/p/exec1", "s3://b/p/exec10/x")


def test_picture_of_an_execution_coloured_by_its_steps_statuses(home, runs):
    import matplotlib.image

    _, (newest, failed, _) = runs
    result = state(home, "picture", failed)
    assert result.returncode == 0, result.stderr
    picture = home / "executions" / failed / "pipeline.png"
    assert result.stdout.strip() == f"Wrote the picture of execution {failed} to {picture}"
    assert matplotlib.image.imread(picture).shape[1] > 800
    svg = home / "newest.svg"
    assert state(home, "picture", newest, "--output", str(svg)).returncode == 0
    assert "RegisterModel · Succeeded" in svg.read_text()
    missing = state(home, "picture", "nosuchexecution")
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        f"pipelines-local: error: no execution 'nosuchexecution' with a folder in {home}"
    ]
