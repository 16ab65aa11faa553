"""How a delivery travels: hookwire's own JSON serializer, registered with kombu.

kombu's ``json`` serializer revives types from tagged dicts on decoding (a plain
``{"__type__": "decimal", "__value__": "1"}`` comes back as a ``Decimal``), so an argument would
not arrive as the JSON that was sent. Deliveries therefore travel under their own content type,
encoded and decoded with the standard library's strict JSON and nothing else; a worker accepts
no other content type.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["CONTENT_ENCODING", "CONTENT_TYPE", "SERIALIZER", "dumps", "loads", "register"]

#: The serializer name given to kombu and Celery.
SERIALIZER = "hookwire-json"
#: The content type of every delivery; a worker rejects a message of any other.
CONTENT_TYPE = "application/x-hookwire+json"
CONTENT_ENCODING = "utf-8"


def dumps(value: Any) -> str:
    """``value`` as strict JSON (no NaN or infinity; non-ASCII written as escapes)."""
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # "1e999": JSON text, but no number the sender could have sent
        raise ValueError(f"{text[:40]} is out of range")
    return value


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """Decode strict JSON: no type is revived from a dict's keys, NaN and infinity refused.

    :raises ValueError: the data is not UTF-8 or not JSON.
    :raises RecursionError: the data nests deeper than the interpreter can decode.
    """
    if not isinstance(data, str):
        data = bytes(data).decode("utf-8")
    return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)


def register() -> None:
    """Register the serializer with kombu (the same registration again changes nothing)."""
    from kombu.serialization import register as register_serializer

    register_serializer(  # type: ignore[no-untyped-call]
        SERIALIZER, dumps, loads, content_type=CONTENT_TYPE, content_encoding=CONTENT_ENCODING
    )


register()
