"""Secrets at rest: how passwords are hashed, checked and upgraded, the password rule, and the
digest under which one-time secrets (API tokens, invitation links) are stored.

Apart from the services because the hashing profile is process state (set once at start-up by
`use_password_profile`) that sign-in, invitations, the profile page and the CLI all share.
"""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from marketplace.errors import invalid

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def use_password_profile(name: str) -> None:
    """Pick argon2's cost profile (PASSWORD_HASH_PROFILE). Hashes made with a cheaper profile are
    upgraded on the next sign-in, because check_needs_rehash compares against the current one."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(getattr(profiles, name))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with another profile than the current one."""
    return _hasher.check_needs_rehash(password_hash)


def check_password(password: str, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(field_name, "Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


def digest(secret: str) -> str:
    """What is stored of a one-time secret: the raw value is shown once and never kept."""
    return hashlib.sha256(secret.encode()).hexdigest()
