"""Roles, password policy and TOTP (pure code)."""

from __future__ import annotations

import base64

from nengtan.security import passwords, roles, totp
from nengtan.security.principal import Principal


def test_three_administrators_are_separate():
    assert roles.conflicts({"system_admin", "security_admin"}) == "separation.admins"
    assert roles.conflicts({"auditor", "park_manager"}) == "separation.admin_business"
    assert roles.conflicts({"energy_manager", "carbon_manager"}) is None
    assert roles.needs_second_factor({"auditor"}) and not roles.needs_second_factor({"viewer"})
    # the auditor reads the audit log and nothing else; no business role reads it
    assert roles.ROLES["auditor"] == {"audit.read"}
    assert not any("audit.read" in p for r, p in roles.ROLES.items() if r != "auditor")
    assert "data.approve" not in roles.ROLES["data_clerk"]
    assert not any(p.endswith((".write", ".submit", ".approve")) for p in roles.ROLES["verifier"])


def test_password_policy():
    assert passwords.problems("Nengtan@Demo2026", "park_admin") == []
    assert passwords.problems("short1A!") == ["password.too_short"]
    assert passwords.problems("alllowercaseletters") == ["password.too_simple"]
    assert passwords.problems("Wangfang2026!", "wangfang") == ["password.contains_username"]
    digest = passwords.hash_password("Nengtan@Demo2026")
    assert digest.startswith("$argon2id$") and "Nengtan" not in digest
    assert passwords.verify(digest, "Nengtan@Demo2026")
    assert not passwords.verify(digest, "nengtan@demo2026")
    assert not passwords.verify("not a hash", "x")


def test_totp_reproduces_rfc_6238():
    # RFC 6238 Appendix B: SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
    # the 6-digit code is its last six digits
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, 59) == "287082"
    assert totp.code_at(secret, 1111111109) == "081804"  # 07081804
    step = totp.matching_step(secret, "287082", at=59)
    assert step == 1
    assert totp.matching_step(secret, "287082", at=59 + 30) == 1  # one step of drift
    assert totp.matching_step(secret, "287082", at=59 + 90) is None
    assert totp.matching_step(secret, "28708", at=59) is None


def test_totp_qr_code_holds_the_provisioning_uri():
    from urllib.parse import unquote

    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "secadmin")
    assert uri.startswith("otpauth://totp/nengtan:secadmin?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    data = totp.qr_svg_data_uri(uri)
    assert data.startswith("data:image/svg+xml")
    svg = unquote(data.split(",", 1)[1])
    assert svg.startswith("<svg") and "</svg>" in svg
    # another URI draws another code; the same URI the same
    assert totp.qr_svg_data_uri(uri) == data != totp.qr_svg_data_uri(uri + "x")


def test_principal_scopes():
    p = Principal(1, "u", "u", frozenset({"energy_manager", "viewer"}),
                  permissions_by_tenant={10: frozenset({"energy.read", "energy.write"}),
                                         20: frozenset({"energy.read"})})
    assert p.can("energy.write") and p.can_in("energy.write", 10)
    assert not p.can_in("energy.write", 20) and p.can_in("energy.read", 20)
    assert p.tenants_for("energy.write") == {10}
    assert p.tenants_for("energy.read") == {10, 20}
    everywhere = Principal(2, "op", "op", frozenset({"park_manager"}),
                           everywhere=frozenset({"org.read"}))
    assert everywhere.tenants_for("org.read") is None and everywhere.tenant_ids is None
