"""Amazon SQS, locally: standard queues that any process on this machine sends to and receives from.

Enough of SQS for a pipeline's CallbackStep and its workers: queues (create, URL, list,
attributes, purge, delete) and messages (send, receive with long polling and visibility
timeouts, delete, change visibility, batches). State lives in ``queues`` (SQLite). FIFO queues
are refused by name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from smlocal import config
from smlocal.queues import QueueError, QueueStore, parse_url, queue_url
from smlocal.services.base import Service, ServiceError

# SQS's codes as its JSON protocol reports them (with the model's shape as QueryErrorCode).
QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
}
MAX_BATCH = 10


def _errors(func: Callable) -> Callable:
    def method(self, **kwargs):
        try:
            return func(self, **kwargs)
        except QueueError as err:
            code = QUERY_CODES.get(err.code)
            extra = {"QueryErrorCode": err.code, "Type": "Sender"} if code else {}
            raise ServiceError(code or err.code, str(err), 400, extra) from None

    method.__name__, method.__doc__ = func.__name__, func.__doc__
    return method


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class SQSService(Service):
    """The SQS API subset above, over ``queues.QueueStore``."""

    name = "sqs"

    def __init__(self, home: Path, region: str = config.DEFAULT_REGION):
        self.region = region
        self.queues = QueueStore(Path(home))

    def _queue(self, url: str) -> tuple[str, str]:
        return parse_url(url, self.region)

    # queues
    @_errors
    def create_queue(self, QueueName, Attributes=None, tags=None, **_) -> dict:  # noqa: N803
        return {
            "QueueUrl": self.queues.create(self.region, QueueName, Attributes or {}, tags or {})
        }

    @_errors
    def get_queue_url(self, QueueName, **_) -> dict:  # noqa: N803
        self.queues.attributes(self.region, QueueName)
        return {"QueueUrl": queue_url(self.region, QueueName)}

    @_errors
    def list_queues(
        self, QueueNamePrefix="", MaxResults=None, NextToken=None, **_
    ) -> dict:  # noqa: N803
        names = self.queues.names(self.region, QueueNamePrefix or "")
        start = int(NextToken or 0)
        end = start + int(MaxResults or 1000)
        response = {"QueueUrls": [queue_url(self.region, n) for n in names[start:end]]}
        if MaxResults and end < len(names):
            response["NextToken"] = str(end)
        return response if names else {}

    @_errors
    def get_queue_attributes(self, QueueUrl, AttributeNames=None, **_) -> dict:  # noqa: N803
        attributes = self.queues.attributes(*self._queue(QueueUrl))
        names = AttributeNames or []
        wanted = {k: v for k, v in attributes.items() if "All" in names or k in names}
        return {"Attributes": wanted} if wanted else {}

    @_errors
    def set_queue_attributes(self, QueueUrl, Attributes, **_) -> dict:  # noqa: N803
        self.queues.set_attributes(*self._queue(QueueUrl), Attributes)
        return {}

    @_errors
    def purge_queue(self, QueueUrl, **_) -> dict:  # noqa: N803
        self.queues.purge(*self._queue(QueueUrl))
        return {}

    @_errors
    def delete_queue(self, QueueUrl, **_) -> dict:  # noqa: N803
        self.queues.delete(*self._queue(QueueUrl))
        return {}

    # messages
    def _check_plain(self, entry: dict) -> None:
        for key in ("MessageAttributes", "MessageSystemAttributes", "MessageGroupId"):
            if entry.get(key):
                raise QueueError(
                    "UnsupportedOperation", f"{key} is not supported locally (standard queues)"
                )

    @_errors
    def send_message(
        self, QueueUrl, MessageBody, DelaySeconds=None, **kwargs
    ) -> dict:  # noqa: N803
        self._check_plain(kwargs)
        message_id = self.queues.send(*self._queue(QueueUrl), MessageBody, DelaySeconds)
        return {"MessageId": message_id, "MD5OfMessageBody": _md5(MessageBody)}

    @_errors
    def send_message_batch(self, QueueUrl, Entries, **_) -> dict:  # noqa: N803
        if len(Entries) > MAX_BATCH:
            raise QueueError(
                "TooManyEntriesInBatchRequest",
                f"Maximum number of entries per request are {MAX_BATCH}.",
            )
        successful = []
        for entry in Entries:
            self._check_plain(entry)
            message_id = self.queues.send(
                *self._queue(QueueUrl), entry["MessageBody"], entry.get("DelaySeconds")
            )
            successful.append(
                {
                    "Id": entry["Id"],
                    "MessageId": message_id,
                    "MD5OfMessageBody": _md5(entry["MessageBody"]),
                }
            )
        return {"Successful": successful, "Failed": []}

    @_errors
    def receive_message(self, QueueUrl, **kwargs) -> dict:  # noqa: N803
        """Long polling (``WaitTimeSeconds``) blocks the caller, as SQS holds the request."""
        names = list(kwargs.get("AttributeNames") or []) + list(
            kwargs.get("MessageSystemAttributeNames") or []
        )
        messages = self.queues.receive(
            *self._queue(QueueUrl),
            count=int(kwargs.get("MaxNumberOfMessages") or 1),
            visibility=kwargs.get("VisibilityTimeout"),
            wait=kwargs.get("WaitTimeSeconds"),
        )
        return {"Messages": [m.response(names) for m in messages]} if messages else {}

    @_errors
    def delete_message(self, QueueUrl, ReceiptHandle, **_) -> dict:  # noqa: N803
        self.queues.delete_message(*self._queue(QueueUrl), ReceiptHandle)
        return {}

    @_errors
    def delete_message_batch(self, QueueUrl, Entries, **_) -> dict:  # noqa: N803
        successful, failed = [], []
        for entry in Entries:
            try:
                self.queues.delete_message(*self._queue(QueueUrl), entry["ReceiptHandle"])
                successful.append({"Id": entry["Id"]})
            except QueueError as err:
                failed.append(
                    {"Id": entry["Id"], "SenderFault": True, "Code": err.code, "Message": str(err)}
                )
        return {"Successful": successful, "Failed": failed}

    @_errors
    def change_message_visibility(
        self, QueueUrl, ReceiptHandle, VisibilityTimeout, **_
    ) -> dict:  # noqa: N803
        self.queues.change_visibility(*self._queue(QueueUrl), ReceiptHandle, VisibilityTimeout)
        return {}
