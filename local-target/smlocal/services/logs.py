"""CloudWatch Logs for SageMaker's jobs: the log groups and streams their output goes to.

SageMaker sends each job instance's output to ``/aws/sagemaker/<Kind>Jobs``, stream
``<job-name>/algo-1-<epoch>``; the SDK's ``logs=True`` (the default of ``fit()`` and
``run()``) tails those streams. Here each job's stream is the events file its log agent
writes (``jobs.logs``), found through the job records; other log groups do not exist.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Callable, Iterator, Optional

from smlocal import config
from smlocal.jobs import logs
from smlocal.jobs.records import JobRecord, JobStore
from smlocal.services.base import Service, ServiceError

GROUPS = {f"/aws/sagemaker/{kind}Jobs": kind for kind in ("Processing", "Training", "Transform")}
HOST = "algo-1"
MAX_EVENTS = 10000
_TOKEN = re.compile(r"^([fb])/(\d+)$")


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def stream_name(record: JobRecord) -> Optional[str]:
    """The job's stream, named as SageMaker names it: ``<job-name>/algo-1-<start epoch>``."""
    if record.started is None:
        return None
    return f"{record.name}/{HOST}-{int(record.started.timestamp())}"


class LogsService(Service):
    """The log groups of SageMaker's jobs, read from the job records and their events files."""

    name = "logs"

    def __init__(self, home: Path, region: str):
        self.region = region
        self.records = JobStore(Path(home) / "state.sqlite")

    # streams
    def _kind(self, group: Optional[str], identifier: Optional[str]) -> tuple[str, str]:
        name = group or (identifier or "").split(":log-group:")[-1]
        if not name:
            raise _invalid("Either logGroupName or logGroupIdentifier must be given.")
        if name not in GROUPS:
            raise _not_found(
                f"The specified log group does not exist ({name}; the local target has the "
                f"log groups of SageMaker's jobs: {', '.join(GROUPS)})."
            )
        return name, GROUPS[name]

    def _streams(self, kind: str, prefix: str = "") -> Iterator[tuple[str, JobRecord]]:
        """(stream name, job) of every stream with events, names starting with ``prefix``."""
        if "/" in prefix:
            record = self.records.get(kind, prefix.split("/", 1)[0])
            records = [record] if record is not None and record.region == self.region else []
        else:
            records = self.records.list(kind, self.region)
        for record in records:
            name = stream_name(record)
            if name and name.startswith(prefix) and (record.log_dir / logs.EVENTS).is_file():
                yield name, record

    def _stream(self, kind: str, name: str) -> JobRecord:
        for found, record in self._streams(kind, name):
            if found == name:
                return record
        raise _not_found(f"The specified log stream does not exist: {name}")

    def describe_log_streams(
        self,
        logGroupName: Optional[str] = None,  # noqa: N803 - boto3's names
        logGroupIdentifier: Optional[str] = None,  # noqa: N803
        logStreamNamePrefix: str = "",  # noqa: N803
        orderBy: str = "LogStreamName",  # noqa: N803
        descending: bool = False,
        nextToken: Optional[str] = None,  # noqa: N803
        limit: int = 50,
    ) -> dict:
        group, kind = self._kind(logGroupName, logGroupIdentifier)
        if orderBy == "LastEventTime" and logStreamNamePrefix:
            raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = []
        for name, record in self._streams(kind, logStreamNamePrefix or ""):
            span = logs.first_and_last(record.log_dir)
            if span is None:
                continue
            first, last = span
            streams.append(
                {
                    "logStreamName": name,
                    "creationTime": int(record.started.timestamp() * 1000),
                    "firstEventTimestamp": first.timestamp,
                    "lastEventTimestamp": last.timestamp,
                    "lastIngestionTime": last.ingestion,
                    "arn": f"arn:aws:logs:{self.region}:{config.ACCOUNT_ID}:log-group:{group}:log-stream:{name}",
                    "storedBytes": 0,
                }
            )
        key = "logStreamName" if orderBy == "LogStreamName" else "lastEventTimestamp"
        streams.sort(key=lambda s: s[key], reverse=bool(descending))
        start = _offset(nextToken)
        page = streams[start : start + limit]
        response = {"logStreams": page}
        if start + limit < len(streams):
            response["nextToken"] = f"f/{start + limit}"
        return response

    # events
    def get_log_events(
        self,
        logStreamName: str,  # noqa: N803
        logGroupName: Optional[str] = None,  # noqa: N803
        logGroupIdentifier: Optional[str] = None,  # noqa: N803
        startTime: Optional[int] = None,  # noqa: N803
        endTime: Optional[int] = None,  # noqa: N803
        nextToken: Optional[str] = None,  # noqa: N803
        limit: int = MAX_EVENTS,
        startFromHead: bool = False,  # noqa: N803
        unmask: bool = False,
    ) -> dict:
        """A page of one stream's events; the forward token resumes after the last one."""
        _, kind = self._kind(logGroupName, logGroupIdentifier)
        record = self._stream(kind, logStreamName)
        direction, position = _token(nextToken) if nextToken else ("f" if startFromHead else "", 0)
        in_time = _time_filter(startTime, endTime)
        if direction == "f":
            found = [e for e in logs.events(record.log_dir, position) if in_time(e)]
            page = found[:limit]
        else:
            found = [e for e in logs.events(record.log_dir) if in_time(e)]
            if direction == "b":
                found = [e for e in found if e.end <= position]
            page = found[-limit:]
        end = page[-1].end if page else (position if direction == "f" else _size(record))
        begin = page[0].offset if page else position
        return {
            "events": [e.as_output() for e in page],
            "nextForwardToken": f"f/{end}",
            "nextBackwardToken": f"b/{begin}",
        }

    def filter_log_events(
        self,
        logGroupName: Optional[str] = None,  # noqa: N803
        logGroupIdentifier: Optional[str] = None,  # noqa: N803
        logStreamNames: Optional[list] = None,  # noqa: N803
        logStreamNamePrefix: str = "",  # noqa: N803
        startTime: Optional[int] = None,  # noqa: N803
        endTime: Optional[int] = None,  # noqa: N803
        filterPattern: str = "",  # noqa: N803
        nextToken: Optional[str] = None,  # noqa: N803
        limit: int = MAX_EVENTS,
        startFromHead: bool = True,  # noqa: N803
        interleaved: bool = True,
        unmask: bool = False,
    ) -> dict:
        """Events of a group's streams, oldest first, that match a term pattern."""
        _, kind = self._kind(logGroupName, logGroupIdentifier)
        if logStreamNames and logStreamNamePrefix:
            raise _invalid("logStreamNames and logStreamNamePrefix cannot both be given.")
        streams = [
            (name, record)
            for name, record in self._streams(kind, logStreamNamePrefix or "")
            if not logStreamNames or name in logStreamNames
        ]
        matches, in_time = _pattern(filterPattern or ""), _time_filter(startTime, endTime)
        found = sorted(
            (
                {
                    "logStreamName": name,
                    "timestamp": e.timestamp,
                    "message": e.message,
                    "ingestionTime": e.ingestion,
                    "eventId": f"{e.timestamp}{index:04d}{e.offset:012d}",
                }
                for index, (name, record) in enumerate(streams)
                for e in logs.events(record.log_dir)
                if in_time(e) and matches(e.message)
            ),
            key=lambda e: (e["timestamp"], e["eventId"]),
        )
        start = _offset(nextToken)
        response = {
            "events": found[start : start + limit],
            "searchedLogStreams": [
                {"logStreamName": name, "searchedCompletely": True} for name, _ in streams
            ],
        }
        if start + limit < len(found):
            response["nextToken"] = f"f/{start + limit}"
        return response


def _token(token: str) -> tuple[str, int]:
    match = _TOKEN.match(token or "")
    if not match:
        raise _invalid("The specified nextToken is invalid.")
    return match.group(1), int(match.group(2))


def _offset(token: Optional[str]) -> int:
    return _token(token)[1] if token else 0


def _size(record: JobRecord) -> int:
    try:
        return (record.log_dir / logs.EVENTS).stat().st_size
    except FileNotFoundError:
        return 0


def _time_filter(start: Optional[int], end: Optional[int]) -> Callable[[logs.Event], bool]:
    """The time range as CloudWatch takes it: from ``start`` inclusive to ``end`` exclusive (ms)."""
    return lambda e: (start is None or e.timestamp >= start) and (end is None or e.timestamp < end)


def _pattern(text: str) -> Callable[[str], bool]:
    """Term patterns as CloudWatch takes them: all terms; ``?a ?b`` any of them; ``-x`` none of them."""
    text = text.strip()
    if text.startswith(("{", "[")) or text.startswith("%"):
        raise _invalid(
            f"filterPattern {text!r}: JSON, space-delimited and regex patterns are not supported "
            'locally (terms, "quoted phrases", ?any and -excluded terms are)'
        )
    try:
        terms = shlex.split(text)
    except ValueError as err:
        raise _invalid(f"filterPattern {text!r}: {err}") from None
    required = [t for t in terms if not t.startswith(("?", "-"))]
    anyof = [t[1:] for t in terms if t.startswith("?")]
    excluded = [t[1:] for t in terms if t.startswith("-")]
    return lambda message: (
        all(t in message for t in required)
        and (not anyof or any(t in message for t in anyof))
        and not any(t in message for t in excluded)
    )
