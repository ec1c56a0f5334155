"""Batch transform's DataProcessing filters, for CSV records.

SageMaker documents JSONPath filters over a CSV record seen as an array of fields: ``$``
(all), ``$[i]``, ``$[i:j]`` (either bound optional), ``$[i,j,...]``, and mixes such as
``$[0,5:]``; negative indexes count from the end. Anything else is refused by name.
"""

from __future__ import annotations

import re
from typing import Callable

_ITEM = re.compile(r"^\s*(-?\d+)?\s*(:)?\s*(-?\d+)?\s*$")


class FilterError(ValueError):
    pass


def compile_filter(expression: str | None) -> Callable[[list[str]], list[str]]:
    """A function that picks the fields an expression names; ``None`` and ``$`` keep all."""
    if expression is None or expression.strip() == "$":
        return lambda fields: list(fields)
    text = expression.strip()
    if not (text.startswith("$[") and text.endswith("]")):
        raise FilterError(
            f"filter {expression!r} is not supported locally (supported: $, $[i], $[i:j], $[i,j,...])"
        )
    parts = []
    for item in text[2:-1].split(","):
        match = _ITEM.match(item)
        if not match or (match.group(1) is None and match.group(2) is None):
            raise FilterError(f"filter {expression!r}: cannot read {item!r}")
        start, colon, stop = match.groups()
        if colon:
            parts.append(slice(int(start) if start else None, int(stop) if stop else None))
        elif stop is not None:
            raise FilterError(f"filter {expression!r}: cannot read {item!r}")
        else:
            parts.append(int(start))

    def pick(fields: list[str]) -> list[str]:
        out: list[str] = []
        for part in parts:
            if isinstance(part, slice):
                out.extend(fields[part])
            else:
                try:
                    out.append(fields[part])
                except IndexError:
                    raise FilterError(
                        f"filter {expression!r}: record has {len(fields)} fields"
                    ) from None
        return out

    return pick
