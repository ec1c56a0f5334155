"""The pipeline's picture: graph structure, text forms, PNG/SVG files, and the CLI flags."""

import matplotlib.image
import pytest

from smlocal import graph
from tests.helpers import run_cli

MODULE = "pipelines.abalone.pipeline"


@pytest.fixture
def definition(abalone_definition):
    return abalone_definition


def _edges(dag):
    return {(e.source.split("_", 1)[1], e.target.split("_", 1)[1], e.kind) for e in dag.edges}


def test_nodes_and_edges_of_the_abalone_pipeline(definition):
    dag = graph.build(definition)
    kinds = {n.label.split(" = ")[0]: n.kind for n in dag.nodes.values()}
    assert kinds == {
        "ProcessingInstanceType": "Parameter",
        "ProcessingInstanceCount": "Parameter",
        "TrainingInstanceType": "Parameter",
        "ModelApprovalStatus": "Parameter",
        "InputDataUrl": "Parameter",
        "MseThreshold": "Parameter",
        "PreprocessAbaloneData": "Processing",
        "TrainAbaloneModel": "Training",
        "EvaluateAbaloneModel": "Processing",
        "CheckMSEAbaloneEvaluation": "Condition",
        "RegisterAbaloneModel-RegisterModel": "RegisterModel",
        "AbaloneMSEAboveThreshold": "Fail",
    }
    edges = _edges(dag)
    assert ("PreprocessAbaloneData", "TrainAbaloneModel", "data") in edges
    assert ("TrainAbaloneModel", "EvaluateAbaloneModel", "data") in edges
    assert ("CheckMSEAbaloneEvaluation", "RegisterAbaloneModel_RegisterModel", "if") in edges
    assert ("CheckMSEAbaloneEvaluation", "AbaloneMSEAboveThreshold", "else") in edges
    assert ("InputDataUrl", "PreprocessAbaloneData", "parameter") in edges
    assert ("MseThreshold", "AbaloneMSEAboveThreshold", "parameter") in edges
    ranks = dag.ranks()
    assert (
        ranks["step_PreprocessAbaloneData"]
        < ranks["step_TrainAbaloneModel"]
        < ranks["step_EvaluateAbaloneModel"]
    )
    assert ranks["step_AbaloneMSEAboveThreshold"] == ranks["step_CheckMSEAbaloneEvaluation"] + 1


def test_depends_on_edges():
    dag = graph.build(
        {
            "Steps": [
                {"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": "a"}},
                {
                    "Name": "B",
                    "Type": "Fail",
                    "Arguments": {"ErrorMessage": "b"},
                    "DependsOn": ["A"],
                },
            ]
        }
    )
    assert _edges(dag) == {("A", "B", "depends")}


def test_mermaid_and_dot(definition):
    dag = graph.build(definition)
    mermaid = graph.to_mermaid(dag)
    assert mermaid.startswith("flowchart TD")
    assert (
        "step_CheckMSEAbaloneEvaluation -- if --> step_RegisterAbaloneModel_RegisterModel"
        in mermaid
    )
    assert "step_CheckMSEAbaloneEvaluation -- else --> step_AbaloneMSEAboveThreshold" in mermaid
    dot = graph.to_dot(dag)
    assert dot.startswith("digraph pipeline {") and dot.rstrip().endswith("}")
    assert 'step_CheckMSEAbaloneEvaluation -> step_AbaloneMSEAboveThreshold [label="else"];' in dot
    assert "shape=diamond" in dot


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_pictures_are_valid_files_with_every_node(definition, tmp_path, suffix):
    path = graph.render(
        graph.build(definition), tmp_path / f"pipeline.{suffix}", title="AbalonePipeline"
    )
    if suffix == "png":
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 400 and image.shape[1] > 800
    else:
        svg = path.read_text()
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
        for name in (
            "PreprocessAbaloneData",
            "TrainAbaloneModel",
            "EvaluateAbaloneModel",
            "CheckMSEAbaloneEvaluation",
            "RegisterAbaloneModel-RegisterModel",
            "AbaloneMSEAboveThreshold",
            "MseThreshold = 6.0",
            ">if<",
            ">else<",
        ):
            assert name in svg, name


def test_statuses_colour_the_steps(definition, tmp_path):
    statuses = {"PreprocessAbaloneData": "Succeeded", "TrainAbaloneModel": "Failed"}
    dag = graph.build(definition, statuses)
    assert dag.nodes["step_TrainAbaloneModel"].status == "Failed"
    assert dag.nodes["step_EvaluateAbaloneModel"].status == "NotExecuted"
    assert dag.nodes["param_MseThreshold"].status is None
    svg = graph.render(dag, tmp_path / "run.svg").read_text()
    assert graph.STATUS_COLOURS["Failed"] in svg and "Processing · Succeeded" in svg


def test_cli_formats_and_graph_file(tmp_path):
    out = tmp_path / "pipeline.svg"
    result = run_cli(
        [
            "pipelines.get_pipeline_definition",
            "-n",
            MODULE,
            "--local",
            "--format",
            "dot",
            "--graph",
            str(out),
        ],
        no_network=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("digraph pipeline {")
    assert result.stderr == f"Wrote the pipeline's graph to {out}\n"
    assert "AbaloneMSEAboveThreshold" in out.read_text()
    bad = run_cli(
        ["pipelines.get_pipeline_definition", "-n", MODULE, "--local", "--graph", "pipeline.gif"]
    )
    assert bad.returncode == 2 and "--graph: 'pipeline.gif' must end in .png or .svg" in bad.stderr


def test_cli_graph_alone_says_what_it_wrote_and_prints_no_definition(tmp_path):
    out = tmp_path / "pipeline.png"
    result = run_cli(
        ["pipelines.get_pipeline_definition", "-n", MODULE, "--local", "--graph", str(out)],
        no_network=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"Wrote the pipeline's graph to {out}\n"
    assert matplotlib.image.imread(out).shape[1] > 800


def test_cli_graph_refuses_a_missing_folder(tmp_path):
    out = tmp_path / "no" / "such" / "pipeline.png"
    result = run_cli(
        ["pipelines.get_pipeline_definition", "-n", MODULE, "--local", "--graph", str(out)]
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"get-pipeline-definition: error: --graph: folder '{out.parent}' does not exist"
    ]
    assert not (tmp_path / "no").exists()
