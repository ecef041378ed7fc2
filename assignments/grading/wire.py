"""Plain data across the sandbox's pipe: one JSON object per line, arrays as raw bytes, nothing executable.

The student's process can send anything it likes, so the grader decodes it with this module only, never with
pickle: what comes back is ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``tuple``, ``dict``,
NumPy arrays of a plain numeric dtype and NumPy scalars, or a :class:`WireError`. Encoding refuses anything else
(a function, a generator, an object), so a student function that returns one fails its test with a clear
message instead of smuggling code across.
"""

from __future__ import annotations

import base64
import json

import numpy as np

# Plain numeric and boolean dtypes only: object arrays could carry anything.
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"}
MAX_DEPTH = 20
MAX_LINE = 64 * 2**20  # bytes in one message


class WireError(ValueError):
    """A value that cannot cross the pipe (an unsupported type, or a malformed message)."""


def encode(value, depth: int = 0):
    """``value`` as JSON-ready data; raises WireError for anything but plain data."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.name not in DTYPES:
            raise WireError(f"an array of dtype {array.dtype} cannot be graded (plain numbers only)")
        data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
        tag = "__ndarray__" if isinstance(value, np.ndarray) else "__npscalar__"
        return {tag: [array.dtype.name, list(array.shape), data]}
    if isinstance(value, tuple) and type(value) is tuple:
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list) and type(value) is list:
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict) and type(value) is dict:
        if not all(type(k) is str for k in value):
            raise WireError("only dictionaries with string keys can be graded")
        return {"__dict__": [[k, encode(v, depth + 1)] for k, v in value.items()]}
    raise WireError(f"a value of type {type(value).__name__} cannot be graded (plain data only)")


def decode(data, depth: int = 0):
    """The value that :func:`encode` encoded; raises WireError for anything malformed."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if data is None or type(data) in (bool, str, int, float):
        return data
    if type(data) is list:
        return [decode(v, depth + 1) for v in data]
    if type(data) is dict and len(data) == 1:
        (tag, body), = data.items()
        if tag == "__tuple__" and type(body) is list:
            return tuple(decode(v, depth + 1) for v in body)
        if tag == "__dict__" and type(body) is list:
            out = {}
            for item in body:
                if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
                    raise WireError("a malformed dictionary")
                out[item[0]] = decode(item[1], depth + 1)
            return out
        if tag in ("__ndarray__", "__npscalar__") and type(body) is list and len(body) == 3:
            dtype, shape, raw = body
            if dtype not in DTYPES or type(shape) is not list or not all(type(n) is int and n >= 0
                                                                          for n in shape):
                raise WireError("a malformed array")
            try:
                array = np.frombuffer(base64.b64decode(raw, validate=True), dtype=np.dtype(dtype))
                array = array.reshape(shape).copy()
            except (ValueError, TypeError) as error:
                raise WireError(f"a malformed array: {error}") from None
            return array[()] if tag == "__npscalar__" else array
    raise WireError("a malformed message")


def dumps(message: dict) -> bytes:
    return json.dumps(message, allow_nan=True).encode() + b"\n"


def loads(line: bytes) -> dict:
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise WireError(f"not a message: {type(error).__name__}") from None
    if type(message) is not dict:
        raise WireError("not a message")
    return message
