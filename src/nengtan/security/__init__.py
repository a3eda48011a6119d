"""Identity and access control (GB/T 22239-2019 身份鉴别、访问控制、安全审计).

* :mod:`~nengtan.security.roles` — the roles, their permissions and the 三员分立 rule;
* :mod:`~nengtan.security.principal` — who is asking: roles, permissions and visible tenants;
* :mod:`~nengtan.security.passwords` — argon2id hashes and the password policy;
* :mod:`~nengtan.security.totp` — RFC 6238 one-time codes (the second factor).

Pure code: no database, no request.  :mod:`nengtan.services.identity` stores users, grants and
sessions; :mod:`nengtan.api.auth` applies all of it to every request.
"""
