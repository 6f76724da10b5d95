"""Identifiers: pseudonymous person ids and unified social credit codes (GB 32100-2015) with valid check
characters, and the check that validates one.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from metrics.demo.arrays import _fixed_strings


def _person_numbers(k: np.ndarray) -> np.ndarray:
    """Pseudonymous 10-digit person numbers: a bijection of 0..9e9, so distinct k give distinct ids."""
    return 1_000_000_000 + (np.asarray(k, dtype=np.int64) * 2_654_435_761 + 97_531) % 9_000_000_000


def _person_ids(k: np.ndarray) -> pa.Array:
    return _fixed_strings(["P", (_person_numbers(k), 10)], len(k))


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


_CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)


_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


_CREDIT_LUT = np.frombuffer(_CREDIT_CHARS.encode(), dtype=np.uint8)


def credit_codes(rng: np.random.Generator, prefix: np.ndarray | int, district_code: str, n: int) -> np.ndarray:
    """n unified social credit codes (统一社会信用代码, GB 32100-2015) with valid check characters.

    prefix: 登记管理部门 and 机构类别 as a number (91 company, 92 个体工商户, 52 民办非企业单位), one or per code.
    The organisation code (GB 11714) is "MA" + 6 characters for newer entities, 8 digits for older ones.
    """
    pre = np.broadcast_to(np.asarray(prefix, dtype=np.int64), (n,))
    idx = np.empty((n, 17), dtype=np.int64)  # positions in _CREDIT_CHARS
    idx[:, 0] = pre // 10
    idx[:, 1] = pre % 10
    idx[:, 2:8] = np.frombuffer(district_code.encode(), dtype=np.uint8) - 48
    newer = rng.random(n) < 0.7
    body = rng.integers(0, 31, size=(n, 8))
    body[:, 0] = np.where(newer, _CREDIT_CHARS.index("M"), rng.integers(5, 9, n))
    body[:, 1] = np.where(newer, _CREDIT_CHARS.index("A"), rng.integers(0, 10, n))
    body[:, 2] = np.where(newer, np.array([0, 0, 0, 0, 0, 1, 7, 9])[rng.integers(0, 8, n)], body[:, 2])
    body[:, 2:] = np.where(newer[:, None], body[:, 2:], rng.integers(0, 10, (n, 6)))
    # GB 11714 weighs letters by alphabet position (A=10 … Z=35), not by the credit-code alphabet.
    letters = _CREDIT_LUT[body].astype(np.int64)
    values = np.where(letters >= 65, letters - 55, letters - 48)
    org_check = 11 - (values * _ORG_WEIGHTS).sum(axis=1) % 11
    idx[:, 8:16] = body
    idx[:, 16] = np.where(org_check == 11, 0, np.where(org_check == 10, _CREDIT_CHARS.index("X"), org_check))
    check = (31 - (idx * _CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
    chars = np.concatenate([_CREDIT_LUT[idx], _CREDIT_LUT[check][:, None]], axis=1)
    return np.ascontiguousarray(chars).view("S18").ravel().astype("U18")


def _unique_credit_codes(rng: np.random.Generator, prefix: np.ndarray, district_code: str, n: int) -> np.ndarray:
    codes = credit_codes(rng, prefix, district_code, n)
    for _ in range(10):
        _, first = np.unique(codes, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        if len(dup) == 0:
            break
        codes[dup] = credit_codes(rng, prefix[dup], district_code, len(dup))
    return codes


def credit_code_valid(code: str) -> bool:
    """True when an 18-character code's check character (GB 32100-2015) is right."""
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        return False
    total = sum(_CREDIT_CHARS.index(c) * int(w) for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]
