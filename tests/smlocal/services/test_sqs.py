"""SQS on the local target: standard queues that every process on this machine shares."""

import json
import subprocess
import sys
import time

import boto3
import pytest

import smlocal


@pytest.fixture
def sqs(tmp_path):
    with smlocal.local_target(home=tmp_path):
        yield boto3.client("sqs")


def test_messages_are_received_hidden_then_deleted(sqs):
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    assert url == "https://sqs.us-east-1.amazonaws.com/000000000000/work"
    assert sqs.create_queue(QueueName="work")["QueueUrl"] == url  # idempotent
    sent = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}))
    received = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert [m["MessageId"] for m in received] == [sent["MessageId"]]
    assert received[0]["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert received[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # in flight: invisible
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["Messages"][0]["ReceiptHandle"])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:work"


def test_a_queue_is_known_by_name_whatever_the_account_in_its_url(sqs):
    sqs.create_queue(QueueName="shared")
    foreign = "https://sqs.us-east-1.amazonaws.com/123456789012/shared"
    sqs.send_message(QueueUrl=foreign, MessageBody="hi")
    assert sqs.receive_message(QueueUrl=foreign)["Messages"][0]["Body"] == "hi"
    assert sqs.get_queue_url(QueueName="shared")["QueueUrl"].endswith("/000000000000/shared")


def test_long_polling_waits_for_a_message_from_another_process(sqs, tmp_path):
    url = sqs.create_queue(QueueName="later")["QueueUrl"]
    sender = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time, boto3; time.sleep(1); "
            f"boto3.client('sqs', region_name='us-east-1').send_message(QueueUrl={url!r}, MessageBody='late')",
        ],
        env={
            **__import__("os").environ,
            "PIPELINES_TARGET": "local",
            "PIPELINES_LOCAL_HOME": str(tmp_path),
        },
    )
    started = time.monotonic()
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
    assert sender.wait(timeout=30) == 0
    assert [m["Body"] for m in messages] == ["late"]
    assert time.monotonic() - started < 15  # woke when it came, not after 20 s


def test_batches_purge_list_and_delete(sqs):
    url = sqs.create_queue(QueueName="batch", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    sqs.create_queue(QueueName="other")
    sent = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
    )
    assert [s["Id"] for s in sent["Successful"]] == ["0", "1", "2"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["m0", "m1", "m2"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages],
    )
    assert len(deleted["Successful"]) == 3
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.list_queues(QueueNamePrefix="b")["QueueUrls"] == [url]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="batch")


def test_what_differs_from_sqs_is_refused_by_name(sqs):
    with pytest.raises(sqs.exceptions.InvalidAttributeName, match="FIFO queues"):
        sqs.create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})
    sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "10"})
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "20"})
    url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
    with pytest.raises(sqs.exceptions.UnsupportedOperation, match="MessageAttributes"):
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
        )
