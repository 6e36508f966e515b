"""Bounded parsing of structured documents that cross a trust boundary.

``json.loads`` and ``tomllib`` recurse once per nesting level: 100,000 nested ``[`` raise
``RecursionError``, which is no ``ValueError`` and slipped past every parser's error handling.
:func:`parse_json` and :func:`parse_toml` cap the input size, turn a too-deep document into
:class:`LimitExceeded` (a ``ValueError``, so callers that already catch ``ValueError`` refuse it
cleanly) and then measure the parsed value without recursion (depth and number of values), so
the validators that do recurse (jsonschema, pydantic) never see a deep document.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any


class LimitExceeded(ValueError):
    """A document is larger, deeper or has more values than the parser accepts."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_depth: int
    max_values: int


#: Sizes well above what the real documents use (rule packages: ~33 kB, depth 9, ~900 values).
PACKAGE_LIMITS = Limits(max_bytes=1 << 20, max_depth=32, max_values=100_000)
WARNING_LIST_LIMITS = Limits(max_bytes=64 << 20, max_depth=16, max_values=5_000_000)
CONFIG_LIMITS = Limits(max_bytes=1 << 20, max_depth=16, max_values=100_000)


def shape(value: Any) -> tuple[int, int]:
    """``(depth, values)`` of a parsed JSON/TOML value, without recursion."""
    depth = values = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        values += 1
        if level > depth:
            depth = level
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return depth, values


def check_shape(value: Any, limits: Limits, what: str) -> None:
    depth, values = shape(value)
    if depth > limits.max_depth:
        raise LimitExceeded(f"{what} is nested {depth} levels deep (limit {limits.max_depth})")
    if values > limits.max_values:
        raise LimitExceeded(f"{what} has {values} values (limit {limits.max_values})")


def parse_json(body: bytes | str, limits: Limits, what: str = "document") -> Any:
    """``json.loads`` with a size, depth and value-count limit; ValueError (LimitExceeded for the
    limits, JSONDecodeError/UnicodeDecodeError for the syntax) on anything else."""
    size = len(body.encode("utf-8")) if isinstance(body, str) else len(body)
    if size > limits.max_bytes:
        raise LimitExceeded(f"{what} is {size} bytes (limit {limits.max_bytes})")
    try:
        value = json.loads(body)
    except RecursionError as err:
        raise LimitExceeded(f"{what} is nested too deeply (limit {limits.max_depth})") from err
    check_shape(value, limits, what)
    return value


def parse_toml(text: str, limits: Limits, what: str = "document") -> dict[str, Any]:
    """``tomllib.loads`` with the same limits; ``tomllib.TOMLDecodeError`` or LimitExceeded."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > limits.max_bytes:
        raise LimitExceeded(f"{what} is {size} bytes (limit {limits.max_bytes})")
    try:
        value = tomllib.loads(text)
    except RecursionError as err:
        raise LimitExceeded(f"{what} is nested too deeply (limit {limits.max_depth})") from err
    check_shape(value, limits, what)
    return value
