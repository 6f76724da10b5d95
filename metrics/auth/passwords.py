"""Password hashes: the argon2id hasher and constant-time verification (the policy is in `accounts`).

Accounts (`accounts`) hash with `hash_password`, sign-in (`signin`) verifies with `verify` and asks
`needs_rehash`; both read `HASHER` from this module at call time, so a test replaces it here.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "HASHER",
    "MAX_PASSWORD_LENGTH",
    "hash_password",
    "needs_rehash",
    "verify",
]

MAX_PASSWORD_LENGTH = 1024  # longer input is refused before hashing (no free CPU for attackers)
# argon2id with the library's RFC 9106 defaults; when they change, the next successful login rehashes.
HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of a password (the caller has checked the policy, `accounts.check_password_policy`)."""
    return HASHER.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other argon2 parameters than HASHER's."""
    return HASHER.check_needs_rehash(password_hash)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when there is no usable one, so every refusal costs the same time."""
    return hasher.hash("not-a-password-of-anyone")


def verify(password_hash: str | None, password: str) -> bool:
    """Constant-time argon2 verification (libargon2 compares in constant time); False without a hash."""
    try:
        return HASHER.verify(password_hash or _dummy_hash(HASHER), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
