"""`kpi user add|district|disable|enable|reset|list`: account management from the server's shell.

Whoever can run the CLI on the server already holds the database file, so these commands act without a
principal (actor None); the change log records them as `cli:<OS user>`. Passwords are never taken as a
command-line argument: they are prompted for twice (hidden) or read from stdin with --password-stdin.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from metrics.auth import accounts
from metrics.auth.access import ROLES
from metrics.cli.common import DB_OPTION, open_store
from metrics.storage import clock

__all__ = ["user"]

_DB = DB_OPTION
_PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="从标准输入读取密码（一行）/ read the password from stdin (one line)."
)


_open = open_store


def _read_password(from_stdin: bool, user_name: str) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
    else:
        password = click.prompt("密码 / password", hide_input=True, confirmation_prompt="再次输入密码 / repeat")
    try:
        return accounts.check_password_policy(password, user_name)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from exc


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _login_methods(u: accounts.UserRecord) -> str:
    methods = (["密码"] if u.has_password else []) + (["OIDC"] if u.oidc_subject else [])
    return "/".join(methods) or "—"


def _table(users: list[accounts.UserRecord]) -> str:
    now = clock.now()
    headers = ["用户名", "显示名称", "角色", "所属区", "单位", "状态", "登录方式", "创建时间"]
    rows = [
        [
            u.user_name,
            u.display_name,
            f"{u.role}（{accounts.ROLE_NAMES_ZH[u.role]}）",
            u.district or ("未绑定" if u.role == "department" else "—"),
            u.unit or "—",
            ("启用" if u.active else "停用") + ("，已锁定" if u.is_locked(now) else ""),
            _login_methods(u),
            f"{u.created_at:%Y-%m-%d %H:%M}",
        ]
        for u in users
    ]
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [headers, *rows]]
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def user() -> None:
    """账号管理 / Manage user accounts."""


@user.command("add")
@click.argument("user_name")
@click.option("--role", type=click.Choice(list(ROLES)), required=True, help="leader, office, department, press, admin")
@click.option("--unit", default=None, help="部门账号所属单位，例如 区人力社保局 (department accounts only).")
@click.option("--district", default=None, help="部门账号所属区，例如 通州区 (department accounts only).")
@click.option("--display-name", default=None, help="显示名称 / display name.")
@_PASSWORD_STDIN
@click.option("--no-password", is_flag=True, help="只允许统一身份认证（OIDC）登录 / OIDC-only account.")
@click.option("--oidc-subject", default=None, help="预先绑定的 OIDC subject / pre-bound OIDC subject.")
@_DB
def add_cmd(
    user_name: str,
    role: str,
    unit: str | None,
    district: str | None,
    display_name: str | None,
    password_stdin: bool,
    no_password: bool,
    oidc_subject: str | None,
    db: Path | None,
) -> None:
    """添加账号 / Add an account."""
    if no_password and password_stdin:
        raise click.UsageError("--no-password 与 --password-stdin 不能同时使用。")
    if (role == "department") != bool(unit and unit.strip()):  # say so before asking for a password
        msg = (
            "部门账号必须绑定一个单位（--unit，例如 区人力社保局）。"
            if role == "department"
            else "只有部门账号绑定单位。"
        )
        raise click.ClickException(msg)
    if (role == "department") != bool(district and district.strip()):
        msg = (
            "部门账号必须绑定所属区（--district，例如 通州区）：各区都有同名单位。"
            if role == "department"
            else "只有部门账号绑定所属区。"
        )
        raise click.ClickException(msg)
    password = None if no_password else _read_password(password_stdin, user_name)
    with _open(db) as store:
        try:
            rec = accounts.add_user(
                store, None, user_name, role, unit=unit, password=password, display_name=display_name,
                district=district, oidc_subject=oidc_subject,
            )  # fmt: skip
        except accounts.UserError as exc:
            raise click.ClickException(str(exc)) from exc
    where = f"，{rec.district} {rec.unit}" if rec.unit else ""
    click.echo(f"已添加账号 {rec.user_name}（{accounts.ROLE_NAMES_ZH[rec.role]}{where}）。")


@user.command("district")
@click.argument("user_name")
@click.argument("district")
@_DB
def district_cmd(user_name: str, district: str, db: Path | None) -> None:
    """绑定部门账号的所属区 / Bind a department account to a district."""
    with _open(db) as store:
        try:
            rec = accounts.set_district(store, None, user_name, district)
        except accounts.UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"账号 {rec.user_name} 的所属区为 {rec.district}。")


@user.command("disable")
@click.argument("user_name")
@_DB
def disable_cmd(user_name: str, db: Path | None) -> None:
    """停用账号 / Disable an account."""
    with _open(db) as store:
        try:
            rec = accounts.disable_user(store, None, user_name)
        except accounts.UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已停用账号 {rec.user_name}。")


@user.command("enable")
@click.argument("user_name")
@_DB
def enable_cmd(user_name: str, db: Path | None) -> None:
    """启用账号 / Enable a disabled account."""
    with _open(db) as store:
        try:
            rec = accounts.enable_user(store, None, user_name)
        except accounts.UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已启用账号 {rec.user_name}。")


@user.command("reset")
@click.argument("user_name")
@_PASSWORD_STDIN
@_DB
def reset_cmd(user_name: str, password_stdin: bool, db: Path | None) -> None:
    """重置密码并解除锁定 / Set a new password and clear any lockout."""
    password = _read_password(password_stdin, user_name)
    with _open(db) as store:
        try:
            rec = accounts.reset_password(store, None, user_name, password)
        except accounts.UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已重置账号 {rec.user_name} 的密码。")


@user.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@_DB
def list_cmd(fmt: str, db: Path | None) -> None:
    """列出账号 / List accounts."""
    with _open(db) as store:
        users = accounts.list_users(store, None)
    if fmt == "json":
        out = [
            {
                "user_name": u.user_name,
                "display_name": u.display_name,
                "role": u.role,
                "unit": u.unit,
                "district": u.district,
                "active": u.active,
                "has_password": u.has_password,
                "oidc": u.oidc_subject is not None,
                "created_at": u.created_at.isoformat(),
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
            }
            for u in users
        ]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not users:
        click.echo("还没有账号。用 `kpi user add` 添加。")
        return
    click.echo(_table(users))
