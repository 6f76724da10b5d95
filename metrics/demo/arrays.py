"""Vectorised helpers the record generators share: seeded random streams per table and district, Arrow
columns built straight from numpy (fixed-width ids, dictionary text, DECIMAL yuan) and weighted picks.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa


def _rng(seed: int, *key: str) -> np.random.Generator:
    """An independent, stable stream per table and district: adding a table shifts no other table."""
    return np.random.default_rng([seed, *(zlib.crc32(k.encode("utf-8")) for k in key)])


def _fixed_strings(parts: Sequence[str | tuple[np.ndarray, int]], n: int) -> pa.Array:
    """Build n equal-length strings from constant text and zero-padded numbers, straight into an Arrow buffer.

    Digits are written column by column (contiguous) and transposed once: ten million ids take about a
    second, a fraction of formatting them or of Arrow's string kernels.
    """
    encoded = [p.encode("utf-8") if isinstance(p, str) else p for p in parts]
    width = sum(len(p) if isinstance(p, bytes) else p[1] for p in encoded)
    by_column = np.empty((width, n), dtype=np.uint8)
    col = 0
    for p in encoded:
        if isinstance(p, bytes):
            by_column[col : col + len(p)] = np.frombuffer(p, dtype=np.uint8)[:, None]
            col += len(p)
            continue
        numbers, digits = p
        rest = np.asarray(numbers, dtype=np.int64).copy()
        if n and (rest.min() < 0 or rest.max() >= 10**digits):
            raise ValueError(f"number does not fit {digits} digits: {rest.min()}..{rest.max()}")
        for k in range(digits - 1, -1, -1):
            np.remainder(rest, 10, out=by_column[col + k], casting="unsafe")
            rest //= 10
        by_column[col : col + digits] += 48
        col += digits
    buf = np.ascontiguousarray(by_column.T)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf)])
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])


def _dictionary(indices: np.ndarray, values: Sequence[str] | np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Text column with few distinct values, dictionary-encoded (cheap to build, cheap to load)."""
    idx = pa.array(np.asarray(indices, dtype=np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(values), type=pa.string()))


def _texts(values: Iterable[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _pick(rng: np.random.Generator, p: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int32)


def _pick_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row r, one category drawn with probabilities probs[rows[r]] (no Python loop)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int32)
    for j in range(probs.shape[1] - 1):
        out += u > cum[rows, j]
    return out


def _force_total(
    rng: np.random.Generator, values: np.ndarray, mask: np.ndarray, total: int, lo: int, hi: int | np.ndarray
) -> None:
    """Nudge values[mask] by ±1 steps (within lo..hi) until they add up to total exactly."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return
    upper = np.broadcast_to(np.asarray(hi), values.shape)
    for _ in range(500):
        diff = int(total - values[idx].sum())
        if diff == 0:
            return
        room = idx[values[idx] < upper[idx]] if diff > 0 else idx[values[idx] > lo]
        if len(room) == 0:
            return
        step = rng.choice(room, size=min(abs(diff), len(room)), replace=False)
        values[step] += 1 if diff > 0 else -1


def _decimal(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Yuan as DECIMAL(18,2), built from integer cents (a float cast is slow on ten million rows)."""
    n = len(values)
    words = np.empty((n, 2), dtype=np.int64)  # 128-bit little-endian two's complement
    words[:, 0] = np.round(np.nan_to_num(np.asarray(values, dtype=float)) * 100)
    words[:, 1] = words[:, 0] >> 63
    nulls = 0 if null is None else int(np.count_nonzero(null))
    validity = pa.py_buffer(np.packbits(~null, bitorder="little")) if null is not None and nulls else None
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words)], null_count=nulls)


def _pick_rows_matrix(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row, with a row of probabilities per row."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))
    return (u[:, None] > cum[:, :-1]).sum(axis=1).astype(np.int32)
