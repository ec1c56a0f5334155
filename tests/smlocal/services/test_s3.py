"""S3 on the local target: plain boto3, the transfer manager and the SageMaker SDK, unchanged.

Buckets are folders of ``<home>/s3`` and objects are files, so each test can also look at what
landed on disk.
"""

import hashlib
import io
import os

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

import smlocal
from smlocal.store import ObjectStore
from tests.helpers import ABALONE_CSV

MB = 1024 * 1024
SMALL_PARTS = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
SEED_BUCKET = "sagemaker-servicecatalog-seedcode-us-east-1"
ABALONE_KEY = "dataset/abalone-dataset.csv"


@pytest.fixture
def home(tmp_path):
    with smlocal.local_target(home=tmp_path):
        yield tmp_path


@pytest.fixture
def s3(home):
    return boto3.client("s3")


def md5(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def keys(response: dict) -> list:
    return [item["Key"] for item in response.get("Contents", [])]


# -- objects


def test_put_get_head_delete(s3, home):
    put = s3.put_object(Bucket="my-bucket", Key="data/train.csv", Body=b"1,2,3\n")
    assert put["ETag"] == md5(b"1,2,3\n")
    assert (home / "s3" / "my-bucket" / "data" / "train.csv").read_bytes() == b"1,2,3\n"

    got = s3.get_object(Bucket="my-bucket", Key="data/train.csv")
    assert got["Body"].read() == b"1,2,3\n"
    assert got["ContentLength"] == 6 and got["ETag"] == put["ETag"]
    assert got["ContentType"] == "binary/octet-stream"  # S3's answer when none was given
    assert got["LastModified"].tzinfo is not None

    head = s3.head_object(Bucket="my-bucket", Key="data/train.csv")
    assert (head["ContentLength"], head["ETag"]) == (6, put["ETag"])

    s3.delete_object(Bucket="my-bucket", Key="data/train.csv")
    s3.delete_object(Bucket="my-bucket", Key="data/train.csv")  # deleting nothing succeeds
    assert "Contents" not in s3.list_objects_v2(Bucket="my-bucket")
    assert not (home / "s3" / "my-bucket" / "data").exists()  # no empty folder left behind


def test_metadata_and_content_type_round_trip_and_stay_out_of_listings(s3):
    s3.put_object(
        Bucket="b",
        Key="model.json",
        Body=b"{}",
        ContentType="application/json",
        Metadata={"Stage": "dev", "owner": "me"},
    )
    for answer in (
        s3.head_object(Bucket="b", Key="model.json"),
        s3.get_object(Bucket="b", Key="model.json"),
    ):
        assert answer["ContentType"] == "application/json"
        assert answer["Metadata"] == {"stage": "dev", "owner": "me"}  # S3 lower-cases the names
    assert keys(s3.list_objects_v2(Bucket="b")) == ["model.json"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["b"]


def test_range_reads_answer_part_of_the_object(s3):
    s3.put_object(Bucket="b", Key="digits", Body=b"0123456789")
    part = s3.get_object(Bucket="b", Key="digits", Range="bytes=2-5")
    assert part["Body"].read() == b"2345"
    assert (part["ContentLength"], part["ContentRange"]) == (4, "bytes 2-5/10")
    assert s3.get_object(Bucket="b", Key="digits", Range="bytes=7-")["Body"].read() == b"789"
    assert s3.get_object(Bucket="b", Key="digits", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket="b", Key="digits", Range="bytes=8-100")["Body"].read() == b"89"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="b", Key="digits", Range="bytes=10-")
    assert err.value.response["Error"]["Code"] == "InvalidRange"


def test_a_missing_key_is_no_such_key_and_a_missing_head_is_404(s3):
    with pytest.raises(s3.exceptions.NoSuchKey) as err:
        s3.get_object(Bucket="b", Key="missing.csv")
    assert err.value.response["Error"]["Key"] == "missing.csv"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="b", Key="missing.csv")
    assert err.value.response["Error"] == {"Code": "404", "Message": "Not Found"}


def test_conditional_reads_and_writes(s3):
    etag = s3.put_object(Bucket="b", Key="k", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket="b", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.get_object(Bucket="b", Key="k", IfMatch='"0000"')
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket="b", Key="k", Body=b"v2", IfNoneMatch="*")  # create-only
    assert s3.get_object(Bucket="b", Key="k")["Body"].read() == b"v1"


def test_copy_keeps_or_replaces_metadata(s3):
    s3.put_object(
        Bucket="src", Key="a b.txt", Body=b"data", Metadata={"k": "v"}, ContentType="text/plain"
    )
    source = {"Bucket": "src", "Key": "a b.txt"}
    copied = s3.copy_object(Bucket="dst", Key="copy.txt", CopySource=source)
    assert copied["CopyObjectResult"]["ETag"] == md5(b"data")
    head = s3.head_object(Bucket="dst", Key="copy.txt")
    assert (head["Metadata"], head["ContentType"]) == ({"k": "v"}, "text/plain")

    s3.copy_object(
        Bucket="dst",
        Key="copy.txt",
        CopySource="src/a b.txt",
        MetadataDirective="REPLACE",
        Metadata={"new": "1"},
    )
    assert s3.head_object(Bucket="dst", Key="copy.txt")["Metadata"] == {"new": "1"}
    assert s3.get_object(Bucket="dst", Key="copy.txt")["Body"].read() == b"data"

    with pytest.raises(ClientError, match="copy an object to itself"):
        s3.copy_object(Bucket="src", Key="a b.txt", CopySource=source)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.copy_object(Bucket="dst", Key="x", CopySource={"Bucket": "src", "Key": "missing"})


def test_delete_objects_reports_each_key_unless_quiet(s3):
    for key in ("a", "b", "c"):
        s3.put_object(Bucket="b", Key=key, Body=b"x")
    answer = s3.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "a"}, {"Key": "never"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["a", "never"]
    quiet = s3.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert keys(s3.list_objects_v2(Bucket="b")) == ["c"]


def test_files_put_in_the_store_by_hand_are_objects(s3, home):
    (home / "s3" / "b" / "in").mkdir(parents=True)
    (home / "s3" / "b" / "in" / "data.csv").write_bytes(b"a,b\n")
    assert s3.head_object(Bucket="b", Key="in/data.csv")["ETag"] == md5(b"a,b\n")
    (home / "s3" / "b" / "in" / "data.csv").write_bytes(b"changed\n")  # by hand again
    assert s3.get_object(Bucket="b", Key="in/data.csv")["ETag"] == md5(b"changed\n")


# -- listings


def test_list_v2_with_a_delimiter_and_pages(s3):
    for key in ("a-c", "a/b", "a/c/d", "a/c/e", "b/1", "b/2", "top.txt"):
        s3.put_object(Bucket="b", Key=key, Body=b"x")
    everything = s3.list_objects_v2(Bucket="b")
    assert keys(everything) == [
        "a-c",
        "a/b",
        "a/c/d",
        "a/c/e",
        "b/1",
        "b/2",
        "top.txt",
    ]  # as strings
    assert everything["KeyCount"] == 7 and everything["IsTruncated"] is False

    top = s3.list_objects_v2(Bucket="b", Delimiter="/")
    assert keys(top) == ["a-c", "top.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/"]
    under_a = s3.list_objects_v2(Bucket="b", Prefix="a/", Delimiter="/")
    assert keys(under_a) == ["a/b"] and under_a["CommonPrefixes"] == [{"Prefix": "a/c/"}]

    pages = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket="b", Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) == 4 and all(p["KeyCount"] == 1 for p in pages)
    assert [p["IsTruncated"] for p in pages] == [True, True, True, False]
    listed = [
        k for p in pages for k in keys(p) + [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    ]
    assert listed == ["a-c", "a/", "b/", "top.txt"]  # a common prefix once, never its keys
    assert s3.list_objects_v2(Bucket="b", StartAfter="b/1")["Contents"][0]["Key"] == "b/2"


def test_more_than_a_thousand_keys_come_in_pages_of_a_thousand(s3, home):
    store = ObjectStore(home / "s3")
    names = [f"part-{i:05d}.csv" for i in range(1203)]
    for name in names:
        store.put_bytes(f"s3://big/out/{name}", b"x")
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="big", Prefix="out/"))
    assert [p["KeyCount"] for p in pages] == [1000, 203]
    assert [k for p in pages for k in keys(p)] == [f"out/{n}" for n in names]
    first = s3.list_objects_v2(Bucket="big", MaxKeys=5000)
    assert first["IsTruncated"] and len(first["Contents"]) == 1000


def test_list_v1_as_boto3_resources_use_it(s3):
    for i in range(7):
        s3.put_object(Bucket="b", Key=f"models/m{i}.tar.gz", Body=b"x" * i)
    s3.put_object(Bucket="b", Key="other/x", Body=b"x")
    bucket = boto3.resource("s3").Bucket("b")
    summaries = list(bucket.objects.filter(Prefix="models/").page_size(3))  # three pages by Marker
    assert [o.key for o in summaries] == [f"models/m{i}.tar.gz" for i in range(7)]
    assert [o.size for o in summaries] == list(range(7))
    assert summaries[3].e_tag == md5(b"xxx")
    page = s3.list_objects(Bucket="b", Delimiter="/", MaxKeys=1)
    assert page["CommonPrefixes"] == [{"Prefix": "models/"}] and page["NextMarker"] == "models/"
    assert s3.list_objects(Bucket="b", Delimiter="/", Marker="models/")["CommonPrefixes"] == [
        {"Prefix": "other/"}
    ]


@pytest.mark.parametrize(
    "key", ["with space/a b.csv", "ünïcödé/ß.txt", "a+b/c+d", "100%/x%2Fy", "(1)~!*'"]
)
def test_keys_with_any_characters_round_trip(s3, key):
    s3.put_object(Bucket="b", Key=key, Body=b"x")
    assert keys(s3.list_objects_v2(Bucket="b")) == [key]  # botocore asks url-encoded, decodes
    assert [o.key for o in boto3.resource("s3").Bucket("b").objects.all()] == [key]
    assert s3.get_object(Bucket="b", Key=key)["Body"].read() == b"x"
    folder, slash, _ = key.partition("/")
    rolled_up = s3.list_objects_v2(Bucket="b", Delimiter="/")
    assert [p["Prefix"] for p in rolled_up.get("CommonPrefixes", [])] + keys(rolled_up) == [
        folder + slash if slash else key
    ]
    assert keys(s3.list_objects_v2(Bucket="b", Prefix=folder + slash)) == [key]


def test_url_encoding_asked_for_by_the_caller_is_left_encoded(s3):
    s3.put_object(Bucket="b", Key="a b/c+d%.csv", Body=b"x")
    listed = s3.list_objects_v2(Bucket="b", EncodingType="url")
    assert keys(listed) == ["a%20b/c%2Bd%25.csv"] and listed["EncodingType"] == "url"


# -- the transfer manager: multipart both ways


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(20 * MB))
    return path


def test_upload_file_and_download_file_in_parts(s3, big_file, tmp_path):
    s3.upload_file(str(big_file), "b", "big.bin", Config=SMALL_PARTS)
    head = s3.head_object(Bucket="b", Key="big.bin")
    assert head["ContentLength"] == 20 * MB
    assert head["ETag"].endswith('-4"')  # four 5 MB parts: S3's ETag of a multipart upload
    digests = b"".join(
        hashlib.md5(chunk).digest() for chunk in _chunks(big_file.read_bytes(), 5 * MB)
    )
    assert head["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-4"'

    ranges = []
    s3.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: ranges.append(params.get("Range"))
    )
    s3.download_file("b", "big.bin", str(tmp_path / "back.bin"), Config=SMALL_PARTS)
    assert (tmp_path / "back.bin").read_bytes() == big_file.read_bytes()
    assert len(ranges) == 4 and all(r.startswith("bytes=") for r in ranges)


def test_upload_fileobj_and_download_fileobj_in_parts(s3, big_file):
    with open(big_file, "rb") as source:
        s3.upload_fileobj(
            source, "b", "stream.bin", Config=SMALL_PARTS, ExtraArgs={"Metadata": {"a": "1"}}
        )
    head = s3.head_object(Bucket="b", Key="stream.bin")
    assert head["ETag"].endswith('-4"') and head["Metadata"] == {"a": "1"}
    target = io.BytesIO()
    s3.download_fileobj("b", "stream.bin", target, Config=SMALL_PARTS)
    assert target.getvalue() == big_file.read_bytes()


def test_managed_copy_in_parts(s3, big_file):
    s3.upload_file(str(big_file), "b", "big.bin", ExtraArgs={"ContentType": "application/x-test"})
    s3.copy({"Bucket": "b", "Key": "big.bin"}, "b", "copy.bin", Config=SMALL_PARTS)
    head = s3.head_object(Bucket="b", Key="copy.bin")
    assert head["ETag"].endswith('-4"') and head["ContentType"] == "application/x-test"
    assert s3.get_object(Bucket="b", Key="copy.bin")["Body"].read() == big_file.read_bytes()


def test_multipart_uploads_by_hand(s3, home):
    upload = s3.create_multipart_upload(Bucket="b", Key="parts.bin")["UploadId"]
    first = s3.upload_part(
        Bucket="b", Key="parts.bin", UploadId=upload, PartNumber=1, Body=b"a" * 5 * MB
    )
    second = s3.upload_part(Bucket="b", Key="parts.bin", UploadId=upload, PartNumber=2, Body=b"b")
    parts = s3.list_parts(Bucket="b", Key="parts.bin", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (1, first["ETag"], 5 * MB),
        (2, second["ETag"], 1),
    ]
    with pytest.raises(ClientError, match="InvalidPart"):
        s3.complete_multipart_upload(
            Bucket="b",
            Key="parts.bin",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": second["ETag"]}]},
        )
    assert "Contents" not in s3.list_objects_v2(Bucket="b")  # nothing until completed
    s3.complete_multipart_upload(
        Bucket="b",
        Key="parts.bin",
        UploadId=upload,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": first["ETag"]},
                {"PartNumber": 2, "ETag": second["ETag"]},
            ]
        },
    )
    assert s3.get_object(Bucket="b", Key="parts.bin", Range="bytes=-2")["Body"].read() == b"ab"

    aborted = s3.create_multipart_upload(Bucket="b", Key="never.bin")["UploadId"]
    s3.abort_multipart_upload(Bucket="b", Key="never.bin", UploadId=aborted)
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.upload_part(Bucket="b", Key="never.bin", UploadId=aborted, PartNumber=1, Body=b"x")
    assert not any((home / "s3" / ".uploads").iterdir())  # completed and aborted: cleaned up


# -- buckets


def test_buckets(s3):
    assert (
        s3.head_bucket(Bucket="any-bucket-of-the-user")["ResponseMetadata"]["HTTPStatusCode"] == 200
    )
    s3.create_bucket(
        Bucket="in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.create_bucket(Bucket="in-virginia")
    s3.put_object(Bucket="made-by-a-write", Key="k", Body=b"x")
    listed = s3.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == [
        "in-ireland",
        "in-virginia",
        "made-by-a-write",
    ]
    assert all(b["CreationDate"].tzinfo for b in listed["Buckets"]) and listed["Owner"]["ID"]
    assert s3.get_bucket_location(Bucket="in-ireland")["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket="in-virginia").get("LocationConstraint") is None
    assert boto3.resource("s3").Bucket("in-virginia").creation_date is not None
    with pytest.raises(ClientError, match="InvalidBucketName"):
        s3.create_bucket(Bucket="Not_Valid")
    with pytest.raises(ClientError, match="BucketNotEmpty"):
        s3.delete_bucket(Bucket="made-by-a-write")
    s3.delete_bucket(Bucket="in-virginia")
    assert "in-virginia" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# -- the SageMaker SDK


def test_the_sdks_s3_helpers_with_a_plain_session(home, tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from sagemaker.s3 import S3Downloader, S3Uploader
    from sagemaker.session import Session

    session = Session()
    uri = S3Uploader.upload_bytes(
        b"a,b\n1,2\n", "s3://data-bucket/run/1/data.csv", sagemaker_session=session
    )
    assert uri == "s3://data-bucket/run/1/data.csv"
    S3Uploader.upload_bytes(
        io.BytesIO(b"{}"), "s3://data-bucket/run/1/sub/meta.json", sagemaker_session=session
    )
    assert S3Downloader.list("s3://data-bucket/run/1", sagemaker_session=session) == [
        "s3://data-bucket/run/1/data.csv",
        "s3://data-bucket/run/1/sub/meta.json",
    ]
    assert S3Downloader.read_bytes(uri, sagemaker_session=session) == b"a,b\n1,2\n"
    S3Downloader.download(
        "s3://data-bucket/run/1", str(tmp_path / "out"), sagemaker_session=session
    )
    assert (tmp_path / "out" / "data.csv").read_bytes() == b"a,b\n1,2\n"
    assert (tmp_path / "out" / "sub" / "meta.json").read_bytes() == b"{}"
    assert (home / "s3" / "data-bucket" / "run" / "1" / "data.csv").is_file()


# -- the template's public input data set


def test_the_seed_code_data_set_is_served_from_the_package(s3, home, tmp_path):
    expected = ABALONE_CSV.read_bytes()
    assert s3.get_object(Bucket=SEED_BUCKET, Key=ABALONE_KEY)["Body"].read() == expected
    head = s3.head_object(Bucket="sagemaker-servicecatalog-seedcode-eu-west-1", Key=ABALONE_KEY)
    assert (head["ContentLength"], head["ETag"]) == (len(expected), md5(expected))
    assert keys(s3.list_objects_v2(Bucket=SEED_BUCKET, Prefix="dataset/")) == [ABALONE_KEY]
    assert [o.key for o in boto3.resource("s3").Bucket(SEED_BUCKET).objects.all()] == [ABALONE_KEY]
    s3.download_file(SEED_BUCKET, ABALONE_KEY, str(tmp_path / "abalone.csv"))
    assert (tmp_path / "abalone.csv").read_bytes() == expected

    with pytest.raises(ClientError, match="AccessDenied"):  # AWS's bucket, not the user's
        s3.put_object(Bucket=SEED_BUCKET, Key=ABALONE_KEY, Body=b"other")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=SEED_BUCKET, Key="dataset/other.csv")
    assert not (home / "s3" / SEED_BUCKET).exists()  # served, never copied into the store


def _chunks(data: bytes, size: int) -> list:
    return [data[i : i + size] for i in range(0, len(data), size)]
