"""Demo users (DEMO ONLY: every account has the published password :data:`PASSWORD`).

* ``park_admin`` — park manager of the park QLP (all tenants);
* ``cement_manager`` / ``textile_manager`` — energy and carbon manager of the cement plant
  (CEM) / the dyeing plant (TEX) only;
* ``cement_clerk`` — data entry clerk of CEM (submits, cannot approve);
* ``park_viewer`` — read-only on the park;
* ``verifier`` — third-party verifier of CEM's last locked inventory, for 90 days;
* ``sysadmin``, ``secadmin``, ``auditor`` — the three administrators (三员分立), each with a
  TOTP second factor whose secret is fixed here (:data:`TOTP_SECRETS`) so that the demo can be
  used with any authenticator app; never use these secrets elsewhere.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nengtan.demo.context import Context
from nengtan.security import totp
from nengtan.services import identity
from nengtan.services.audit import Actor
from nengtan.store.base import utcnow
from nengtan.store.models.inventory import Inventory

PASSWORD = "Nengtan@Demo2026"
ACTOR = Actor("demo-builder", "demo")
TOTP_SECRETS = {"sysadmin": "NENGTANDEMOSYSADMINAAAAAAAAAAAAA",
                "secadmin": "NENGTANDEMOSECADMINAAAAAAAAAAAAA",
                "auditor": "NENGTANDEMOAUDITORAAAAAAAAAAAAAA"}
VERIFIER_DAYS = 90

#: user name → (display name, [(role, node code)])
USERS = {
    "park_admin": ("园区管理员（演示）", [("park_manager", "QLP")]),
    "cement_manager": ("水泥厂能源与碳管理员（演示）", [("energy_manager", "CEM"),
                                                ("carbon_manager", "CEM")]),
    "textile_manager": ("印染厂能源与碳管理员（演示）", [("energy_manager", "TEX"),
                                                 ("carbon_manager", "TEX")]),
    "cement_clerk": ("水泥厂填报员（演示）", [("data_clerk", "CEM")]),
    "park_viewer": ("园区只读用户（演示）", [("viewer", "QLP")]),
    "sysadmin": ("系统管理员（演示）", [("system_admin", None)]),
    "secadmin": ("安全管理员（演示）", [("security_admin", None)]),
    "auditor": ("安全审计员（演示）", [("auditor", None)]),
}


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    with Session(engine) as s, s.begin():
        for username, (display, grants) in USERS.items():
            identity.create_user(s, username, PASSWORD, display_name=display, actor=ACTOR)
            for role, node in grants:
                identity.grant(s, username, role, node_code=node, actor=ACTOR)
            if username in TOTP_SECRETS:
                identity.enrol_totp(s, username, actor=ACTOR, secret=TOTP_SECRETS[username])
                s.flush()
                _confirm(s, username)
        identity.create_user(s, "verifier", PASSWORD, display_name="第三方核查员（演示）",
                             actor=ACTOR)
        inventory = s.scalar(select(Inventory).where(Inventory.code.like("INV-CEM-%"))
                             .order_by(Inventory.id.desc()))
        if inventory is not None:
            identity.grant(s, "verifier", "verifier", inventory_id=inventory.id,
                           valid_until=utcnow() + timedelta(days=VERIFIER_DAYS), actor=ACTOR)


def _confirm(session: Session, username: str) -> None:
    identity.confirm_totp(session, username, totp.code_at(TOTP_SECRETS[username]), actor=ACTOR)
