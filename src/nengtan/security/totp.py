"""Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30 s steps) — the second
authentication factor that GB/T 22239-2019 8.1.4.1 d) asks of administrators (两种或两种以上组合
的鉴别技术).  Any authenticator app (FreeOTP, Google Authenticator, 微信/企业微信 mini programs
that speak otpauth://) can enrol from :func:`provisioning_uri`, scanned as the QR code of
:func:`qr_svg_data_uri`.
"""

from __future__ import annotations

import time

import pyotp
import segno

STEP_SECONDS = 30
#: accept the previous and next step as well (clock drift of a phone)
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = "nengtan") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The QR code of an ``otpauth://`` URI (ISO/IEC 18004, error correction M) as an SVG
    ``data:`` URI, drawn here: the console shows it without loading anything."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def code_at(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(time.time() if at is None else at)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to (within the drift window), or None."""
    code = (code or "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    step = int(now // STEP_SECONDS)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.at(candidate * STEP_SECONDS), code):
            return candidate
    return None
