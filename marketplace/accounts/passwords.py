"""Secrets at rest: how passwords are hashed, checked and upgraded, the password rule, and the
digest under which one-time secrets (API tokens, invitation links) are stored.

Apart from the services because the hashing profile is process state (set once at start-up by
`use_password_profile`) that sign-in, invitations, the profile page and the CLI all share.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from marketplace.errors import invalid

# OWASP ASVS 2.1.1: at least 12 characters.
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Checked instead of a real hash when the account is unknown, so both answers take as long.
_dummy_hash: str | None = None


def use_password_profile(name: str) -> None:
    """Pick argon2's cost profile (PASSWORD_HASH_PROFILE). Hashes made with a cheaper profile are
    upgraded on the next sign-in, because check_needs_rehash compares against the current one."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher.from_parameters(getattr(profiles, name))
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (unknown account, invitation not yet accepted) a dummy
    hash is checked all the same, so the answer does not tell by its time whether the account exists."""
    global _dummy_hash
    if not password_hash:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("not a password of anyone")
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash, password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def password_matches(password_hash: str | None, password: str) -> bool:
    """verify_password in a worker thread: argon2 takes a good part of a second of CPU by design
    (argon2-cffi releases the GIL), which must not stall every other request."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with another profile than the current one."""
    return _hasher.check_needs_rehash(password_hash)


def check_password(password: str, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(field_name, "Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


def digest(secret: str) -> str:
    """What is stored of a one-time secret: the raw value is shown once and never kept."""
    return hashlib.sha256(secret.encode()).hexdigest()
