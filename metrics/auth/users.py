"""Accounts and sign-in under one name: re-exports of `accounts` (the users table and its management),
`signin` (passwords throttled by account and client, OIDC, refresh), `access_log` (logins and refused requests, `guarded`,
`logged_refusals`), `passwords` (the argon2id hasher) and `demo_accounts`.

Import from here or from the module itself. A test that replaces the hasher patches
`metrics.auth.passwords.HASHER`; rebinding the name here changes nothing.
"""

from __future__ import annotations

from metrics.auth.access_log import Clock, guarded, log_access, logged_refusals
from metrics.auth.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLE_NAMES_ZH,
    UserError,
    UserRecord,
    add_user,
    check_password_policy,
    disable_user,
    enable_user,
    list_users,
    reset_password,
    set_district,
)
from metrics.auth.demo_accounts import DEMO_ACCOUNTS, DemoAccount, create_demo_accounts
from metrics.auth.passwords import HASHER, MAX_PASSWORD_LENGTH
from metrics.auth.signin import (
    SignIn,
    accounts_under_attack,
    authenticate,
    principal_for_oidc,
    refresh_principal,
    sign_in,
)

__all__ = [
    "DEMO_ACCOUNTS",
    "HASHER",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLE_NAMES_ZH",
    "Clock",
    "DemoAccount",
    "SignIn",
    "UserError",
    "UserRecord",
    "accounts_under_attack",
    "add_user",
    "authenticate",
    "check_password_policy",
    "create_demo_accounts",
    "disable_user",
    "enable_user",
    "guarded",
    "list_users",
    "log_access",
    "logged_refusals",
    "principal_for_oidc",
    "refresh_principal",
    "reset_password",
    "set_district",
    "sign_in",
]
