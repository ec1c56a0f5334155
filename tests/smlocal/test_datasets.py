"""The template's default data set: shipped with the package, checked by sha256, no network."""

import hashlib
from dataclasses import replace

import pytest

from smlocal import datasets
from smlocal.datasets import ABALONE, DatasetError, ensure, find
from smlocal.sources import DataSources
from smlocal.store import ObjectStore
from tests.helpers import ABALONE_CSV


def test_the_default_input_uri_of_any_region_is_recognised():
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        uri = f"s3://sagemaker-servicecatalog-seedcode-{region}/dataset/abalone-dataset.csv"
        assert find(uri) is ABALONE
    assert find("s3://my-bucket/dataset/abalone-dataset.csv") is None
    assert find("s3://sagemaker-servicecatalog-seedcode-us-east-1/dataset/other.csv") is None
    assert datasets.in_bucket("sagemaker-servicecatalog-seedcode-us-east-1") == [ABALONE]
    assert datasets.in_bucket("my-bucket") == []


def test_the_packaged_copy_is_the_public_data_set():
    path = ensure(ABALONE)
    assert path.parent == datasets.DATA_DIR and path.stat().st_size == ABALONE.size
    assert path.read_bytes() == ABALONE_CSV.read_bytes()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ABALONE.sha256
    assert "CC BY 4.0" in (datasets.DATA_DIR / "README.md").read_text()  # its attribution ships too


def test_an_altered_or_missing_copy_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    with pytest.raises(DatasetError, match="missing from the installed package"):
        ensure(ABALONE)
    (tmp_path / ABALONE.name).write_text("M,1,2\n")
    with pytest.raises(DatasetError, match="sha256 differs"):
        ensure(ABALONE)
    assert ensure(replace(ABALONE, sha256=hashlib.sha256(b"M,1,2\n").hexdigest()))


def test_a_step_input_on_the_default_uri_is_copied_from_the_package(tmp_path):
    sources = DataSources(ObjectStore(tmp_path / "s3"), tmp_path / "cache")
    uri = "s3://sagemaker-servicecatalog-seedcode-eu-west-1/dataset/abalone-dataset.csv"
    assert sources.fetch(uri, tmp_path / "input") == 1
    assert (tmp_path / "input" / "abalone-dataset.csv").read_bytes() == ABALONE_CSV.read_bytes()
    assert not (tmp_path / "cache").exists()  # nothing downloaded, nothing cached
