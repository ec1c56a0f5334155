"""The object store maps s3://bucket/key to files and refuses keys that escape it."""

import pytest

from smlocal.store import ObjectStore, StoreError, split_s3_uri


def test_objects_are_plain_files(tmp_path):
    store = ObjectStore(tmp_path)
    store.put_bytes("s3://bucket/a/b/c.txt", b"hello")
    assert (tmp_path / "bucket" / "a" / "b" / "c.txt").read_bytes() == b"hello"
    assert store.get_bytes("s3://bucket/a/b/c.txt") == b"hello"
    assert store.exists("s3://bucket/a/b/c.txt")


def test_listing_is_by_string_prefix_like_s3(tmp_path):
    store = ObjectStore(tmp_path)
    for key in ("data/train/1.csv", "data/train/2.csv", "data/training.csv", "other/x"):
        store.put_bytes(f"s3://b/{key}", b"x")
    assert [uri for uri, _ in store.list("s3://b/data/train")] == [
        "s3://b/data/train/1.csv",
        "s3://b/data/train/2.csv",
        "s3://b/data/training.csv",
    ]


def test_download_prefix_copies_a_folder_or_one_object(tmp_path):
    store = ObjectStore(tmp_path / "store")
    store.put_bytes("s3://b/out/train/part-1.csv", b"1")
    store.put_bytes("s3://b/out/train/sub/part-2.csv", b"2")
    assert store.download_prefix("s3://b/out/train", tmp_path / "dest") == 2
    assert (tmp_path / "dest" / "part-1.csv").read_bytes() == b"1"
    assert (tmp_path / "dest" / "sub" / "part-2.csv").read_bytes() == b"2"
    assert store.download_prefix("s3://b/out/train/part-1.csv", tmp_path / "one") == 1
    assert (tmp_path / "one" / "part-1.csv").read_bytes() == b"1"


def test_upload_folder(tmp_path):
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "a.json").write_text("{}")
    (tmp_path / "src" / "sub" / "b.txt").write_text("b")
    store = ObjectStore(tmp_path / "store")
    assert store.upload_folder(tmp_path / "src", "s3://b/prefix/") == 2
    assert store.get_bytes("s3://b/prefix/sub/b.txt") == b"b"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/../escape",
        "s3://bucket/a/../../escape",
        "s3://../etc/passwd",
        "s3://bucket/./a",
        "s3://bucket//abs/../../x",
    ],
)
def test_keys_that_escape_are_refused(tmp_path, uri):
    store = ObjectStore(tmp_path / "store")
    with pytest.raises(StoreError, match="escape|invalid bucket"):
        store.put_bytes(uri, b"x")
    assert not (tmp_path / "escape").exists()


def test_a_symlink_out_of_the_store_is_refused(tmp_path):
    store = ObjectStore(tmp_path / "store")
    (tmp_path / "store" / "bucket").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "store" / "bucket" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(StoreError, match="escape"):
        store.put_bytes("s3://bucket/link/x", b"x")


@pytest.mark.parametrize("uri", ["file:///tmp/x", "bucket/key", "s3:///key"])
def test_only_s3_uris(uri):
    with pytest.raises(StoreError, match="not an s3"):
        split_s3_uri(uri)
