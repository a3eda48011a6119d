"""Password hashing (argon2id) and the password policy.

GB/T 22239-2019 8.1.4.1 a) asks that identities be unique and that authentication information
be complex and changed periodically.  The policy here: at least :data:`MIN_LENGTH` characters
from at least three of four classes (lower case, upper case, digits, symbols), not containing
the user name, not one of the last :data:`HISTORY` passwords, and valid for
:data:`MAX_AGE_DAYS` days; values are settings (``NENGTAN_PASSWORD_*``) where deployments need
other figures.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MIN_CLASSES = 3
HISTORY = 5
MAX_AGE_DAYS = 90

# argon2id with the library's defaults (RFC 9106 second recommended option: t=3, 64 MiB)
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def problems(password: str, username: str = "", min_length: int = MIN_LENGTH) -> list[str]:
    """Rule keys the password breaks (empty: acceptable)."""
    out = []
    if len(password) < min_length:
        out.append("password.too_short")
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password),
                   any(not c.isalnum() for c in password)))
    if classes < MIN_CLASSES:
        out.append("password.too_simple")
    if username and username.lower() in password.lower():
        out.append("password.contains_username")
    return out
