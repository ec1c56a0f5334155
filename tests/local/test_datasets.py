"""The template's default data set: downloaded once, checked by sha256, or taken from a copy."""

import hashlib
import http.server
import io
import threading
import zipfile
from dataclasses import replace

import pytest


from pipelines.local.datasets import ABALONE, DatasetError, ensure, find
from tests.helpers import ABALONE_CSV, free_port


class _Zip(http.server.BaseHTTPRequestHandler):
    payload = b""
    hits = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local stand-in for the public source, on 127.0.0.1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("abalone.data", ABALONE_CSV.read_bytes())
        archive.writestr("abalone.names", "names")
    _Zip.payload, _Zip.hits = buffer.getvalue(), 0
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Zip)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/abalone.zip"
    httpd.shutdown()


def test_the_default_input_uri_of_any_region_is_recognised():
    assert (
        find("s3://sagemaker-servicecatalog-seedcode-eu-west-1/dataset/abalone-dataset.csv")
        is ABALONE
    )
    assert find("s3://my-bucket/dataset/abalone-dataset.csv") is None


def test_download_extracts_checks_and_caches(tmp_path, monkeypatch, server):
    monkeypatch.delenv("ABALONE_DATA")
    dataset = replace(ABALONE, url=server)
    path = ensure(dataset, tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ABALONE.sha256
    assert ensure(dataset, tmp_path) == path
    assert _Zip.hits == 1  # the second call used the cache


def test_a_download_with_other_bytes_is_refused(tmp_path, monkeypatch, server):
    monkeypatch.delenv("ABALONE_DATA")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("abalone.data", b"M,1,2,3\n")
    _Zip.payload = buffer.getvalue()
    with pytest.raises(DatasetError, match="unexpected sha256"):
        ensure(replace(ABALONE, url=server), tmp_path)
    assert not (tmp_path / ABALONE.name).exists()


def test_offline_says_how_to_supply_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("ABALONE_DATA")
    closed = f"http://127.0.0.1:{free_port()}/abalone.zip"
    with pytest.raises(DatasetError) as err:
        ensure(replace(ABALONE, url=closed), tmp_path)
    message = str(err.value)
    assert "ABALONE_DATA=/path/to/abalone-dataset.csv" in message and "InputDataUrl" in message
    assert "\n" not in message


def test_a_local_copy_is_used_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("ABALONE_DATA", str(ABALONE_CSV))
    assert ensure(ABALONE, tmp_path / "cache") == ABALONE_CSV
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("M,1,2\n")
    monkeypatch.setenv("ABALONE_DATA", str(wrong))
    with pytest.raises(DatasetError, match="sha256 differs"):
        ensure(ABALONE, tmp_path / "cache")
    monkeypatch.setenv("ABALONE_DATA", str(tmp_path / "missing.csv"))
    with pytest.raises(DatasetError, match="no such file"):
        ensure(ABALONE, tmp_path / "cache")
