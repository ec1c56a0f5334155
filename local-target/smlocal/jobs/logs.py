"""A job's log stream, as the CloudWatch agent in SageMaker's containers would ship it.

While a job runs, an agent tails its ``stdout.log`` and ``stderr.log`` and appends each new
line as an event (time stamped when seen) to ``events.jsonl`` beside them; the ``logs``
service reads that file. The agent's last flush happens before the job's status changes, so
whoever sees a finished job can read all its output.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

EVENTS = "events.jsonl"
SOURCES = ("stdout.log", "stderr.log")
POLL_SECONDS = 0.1
MAX_MESSAGE = 256 * 1024 - 26  # CloudWatch's largest event, less its per-event overhead


def _ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Event:
    timestamp: int
    message: str
    ingestion: int
    offset: int  # where the event's line starts in the events file
    end: int  # where the next one starts

    def as_output(self) -> dict:
        return {
            "timestamp": self.timestamp,
            "message": self.message,
            "ingestionTime": self.ingestion,
        }


class LogAgent:
    """Ships new complete lines of a job's output files to its events file, until closed."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.offsets = {name: 0 for name in SOURCES}
        self.partial = {name: b"" for name in SOURCES}
        self.last = 0
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name="log-agent", daemon=True)

    def start(self) -> "LogAgent":
        self.thread.start()
        return self

    def close(self) -> None:
        """Ship everything written so far, unfinished last lines included."""
        self.closed.set()
        self.thread.join()
        self.flush(final=True)

    def _loop(self) -> None:
        while not self.closed.wait(POLL_SECONDS):
            self.flush()

    def flush(self, final: bool = False) -> None:
        with self.lock:
            messages = []
            for name in SOURCES:
                messages += self._new_lines(name, final)
            if not messages:
                return
            stamp = max(_ms(), self.last)
            self.last = stamp
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_dir / EVENTS, "a", encoding="utf-8") as out:
                out.write(
                    "".join(
                        json.dumps({"timestamp": stamp, "message": m, "ingestionTime": stamp})
                        + "\n"
                        for m in messages
                    )
                )

    def _new_lines(self, name: str, final: bool) -> list[str]:
        path = self.log_dir / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.offsets[name]:  # the file was started again (a retried job)
            self.offsets[name], self.partial[name] = 0, b""
        with open(path, "rb") as handle:
            handle.seek(self.offsets[name])
            data = handle.read()
        self.offsets[name] += len(data)
        data = self.partial[name] + data
        lines = data.split(b"\n")
        self.partial[name] = b"" if final else lines.pop()
        messages = []
        for line in lines:
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            if text:  # CloudWatch holds no empty events
                messages.append(text[:MAX_MESSAGE])
        return messages


def events(log_dir: Path, start: int = 0) -> Iterator[Event]:
    """The shipped events from byte ``start`` of the events file on (only complete lines)."""
    path = Path(log_dir) / EVENTS
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return
    with handle:
        handle.seek(start)
        offset = start
        for line in handle:
            if not line.endswith(b"\n"):
                return  # being written
            end = offset + len(line)
            item = json.loads(line)
            yield Event(item["timestamp"], item["message"], item["ingestionTime"], offset, end)
            offset = end


def first_and_last(log_dir: Path) -> Optional[tuple[Event, Event]]:
    first = last = None
    for event in events(log_dir):
        first = first or event
        last = event
    return (first, last) if first else None
