"""``portico admin create`` and ``portico user create|list|update|disable|enable|delete|
unlock|reset-password``. The host operator acts on every organization
(``admin_users.host_actor``); audit events name no actor and say ``via=cli``."""

from __future__ import annotations

import click

from portico.accounts import admin_users
from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.cli.common import emit, read_secret_stdin, run_with_services
from portico.errors import NotFound
from portico.services import Services
from portico.storage.models import User
from portico.storage.repositories.users import Organizations, Users


def _policy(svc: Services) -> PasswordPolicy:
    return PasswordPolicy(svc.settings.password_min_length, svc.settings.password_require_classes)


def is_locked(user: User) -> bool:
    """Whether a sign-in lockout is in force (shown by `user list`)."""
    from portico.accounts.signin import is_locked as locked

    return locked(user)


async def find_user(svc: Services, user_ref: str) -> User:
    """A user by id, username or email (what an operator has at hand)."""
    from portico.accounts.users import username_key

    async with svc.db.session() as session:
        users = Users(session)
        found = await users.get(user_ref) or await users.find_by_login(
            username_key(user_ref), user_ref.strip().lower()
        )
    if found is None:
        raise NotFound(f"no user {user_ref}")
    return found


@click.group()
def admin() -> None:
    """Administrators (recovery from the host, never over the network)."""


@admin.command("create")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option(
    "--password-stdin", is_flag=True, required=True, help="Read the password from standard input."
)
@click.option("--json", "as_json", is_flag=True)
def admin_create(username: str, email: str, password_stdin: bool, as_json: bool) -> None:
    """Create an instance superadmin (the first one, or a new one after a lost password)."""
    password = read_secret_stdin("password")

    async def work(svc: Services) -> dict[str, str]:
        user = await create_user(
            svc.db,
            username=username,
            email=email,
            password=password,
            policy=_policy(svc),
            role="admin",
            email_verified=True,
            rounds=svc.settings.bcrypt_rounds,
            audit_action="admin.created_from_cli",
            superadmin=True,
        )
        return {"id": user.id, "username": user.username, "email": user.email, "role": "admin"}

    emit(run_with_services(work), as_json, lambda d: f"created administrator {d['username']}")


@click.group()
def user() -> None:
    """Local accounts."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, required=True)
@click.option("--org", "org_slug", default=None, help="Organization slug (default: default).")
@click.option("--role", type=click.Choice(["member", "admin"]), default="member", show_default=True)
@click.option("--name", default=None, help="Display name.")
@click.option("--json", "as_json", is_flag=True)
def user_create(
    username: str,
    email: str,
    password_stdin: bool,
    org_slug: str | None,
    role: str,
    name: str | None,
    as_json: bool,
) -> None:
    """Create a user."""
    password = read_secret_stdin("password")

    async def work(svc: Services) -> dict[str, str]:
        created = await create_user(
            svc.db,
            username=username,
            email=email,
            password=password,
            policy=_policy(svc),
            role=role,
            org_slug=org_slug,
            name=name,
            rounds=svc.settings.bcrypt_rounds,
            audit_action="user.created_from_cli",
        )
        return {
            "id": created.id,
            "username": created.username,
            "email": created.email,
            "role": role,
        }

    emit(run_with_services(work), as_json, lambda d: f"created user {d['username']} ({d['id']})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
def user_list(as_json: bool) -> None:
    """List users."""

    async def work(svc: Services) -> list[dict[str, object]]:
        async with svc.db.session() as session:
            rows = []
            for u in await Users(session).list(limit=1000):
                roles = [
                    f"{o.slug}:{m.role}" for m, o in await Organizations(session).memberships(u.id)
                ]
                rows.append(
                    {
                        "id": u.id,
                        "username": u.username,
                        "email": u.email,
                        "disabled": u.disabled,
                        "locked": is_locked(u),
                        "roles": roles,
                    }
                )
            return rows

    emit(
        run_with_services(work),
        as_json,
        lambda rows: (
            "\n".join(
                f"{r['id']}  {r['username']:<20} {r['email']:<30} {','.join(r['roles'])}"
                f"{'  (disabled)' if r['disabled'] else ''}"
                for r in rows
            )
            or "no users"
        ),
    )


def account(view: admin_users.AccountView) -> dict[str, object]:
    """An account as the CLI prints it (``--json``)."""
    u = view.user
    return {"id": u.id, "username": u.username, "email": u.email,
            "email_verified": u.email_verified, "name": u.name, "disabled": u.disabled,
            "locked": is_locked(u), "must_change_password": u.must_change_password,
            "roles": [f"{o.slug}:{m.role}{'(owner)' if m.is_owner else ''}"
                      for m, o in view.memberships]}


@user.command("update")
@click.argument("user_ref", metavar="USER")
@click.option("--username", default=None)
@click.option("--email", default=None, help="A new address is unverified unless "
              "--email-verified is given too.")
@click.option("--name", default=None, help="Display name ('' clears it).")
@click.option("--email-verified/--email-unverified", "email_verified", default=None)
@click.option("--json", "as_json", is_flag=True)
def user_update(user_ref: str, username: str | None, email: str | None, name: str | None,
                email_verified: bool | None, as_json: bool) -> None:
    """Change a user's username, email, display name or email verification."""
    changes = {k: v for k, v in {"username": username, "email": email, "name": name,
                                 "email_verified": email_verified}.items() if v is not None}
    if not changes:
        raise click.UsageError("nothing to change: give --username, --email, --name or "
                               "--email-verified/--email-unverified")

    async def work(svc: Services) -> dict[str, object]:
        found = await find_user(svc, user_ref)
        view = await admin_users.update_account(svc.db, admin_users.host_actor(), found.id,
                                                changes)
        return account(view)

    emit(run_with_services(work), as_json, lambda d: f"updated {d['username']} ({d['id']})")


def _set_disabled(user_ref: str, disabled: bool, as_json: bool) -> None:
    async def work(svc: Services) -> dict[str, object]:
        found = await find_user(svc, user_ref)
        view = await admin_users.set_disabled(svc.db, admin_users.host_actor(), found.id,
                                              disabled)
        return account(view)

    verb = "disabled" if disabled else "enabled"
    emit(run_with_services(work), as_json, lambda d: f"{verb} {d['username']} ({d['id']})")


@user.command("disable")
@click.argument("user_ref", metavar="USER")
@click.option("--json", "as_json", is_flag=True)
def user_disable(user_ref: str, as_json: bool) -> None:
    """Disable a user (id, username or email): sign-in stops, and every session,
    token and API key of theirs is revoked at once."""
    _set_disabled(user_ref, True, as_json)


@user.command("enable")
@click.argument("user_ref", metavar="USER")
@click.option("--json", "as_json", is_flag=True)
def user_enable(user_ref: str, as_json: bool) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(user_ref, False, as_json)


@user.command("delete")
@click.argument("user_ref", metavar="USER")
@click.option("--yes", is_flag=True, help="Confirm: deleting an account cannot be undone.")
@click.option("--json", "as_json", is_flag=True)
def user_delete(user_ref: str, yes: bool, as_json: bool) -> None:
    """Delete a user and everything of theirs. Refused for an organization's owner
    (transfer ownership first) and for the last admin of an organization."""
    if not yes:
        raise click.UsageError("deleting an account cannot be undone: add --yes")

    async def work(svc: Services) -> dict[str, object]:
        found = await find_user(svc, user_ref)
        await admin_users.delete_account(svc.db, admin_users.host_actor(), found.id)
        return {"id": found.id, "username": found.username, "deleted": True}

    emit(run_with_services(work), as_json, lambda d: f"deleted {d['username']} ({d['id']})")


@user.command("unlock")
@click.argument("user_ref", metavar="USER")
@click.option("--json", "as_json", is_flag=True)
def user_unlock(user_ref: str, as_json: bool) -> None:
    """Lift a sign-in lockout now; USER is an id, a username or an email."""

    async def work(svc: Services) -> dict[str, object]:
        from portico.accounts.signin import unlock

        found = await find_user(svc, user_ref)
        await unlock(svc.db, found.id)
        return {"id": found.id, "username": found.username, "unlocked": True}

    emit(run_with_services(work), as_json, lambda d: f"unlocked {d['username']} ({d['id']})")


@user.command("reset-password")
@click.argument("user_ref", metavar="USER_ID_OR_USERNAME")
@click.option("--json", "as_json", is_flag=True)
def user_reset_password(user_ref: str, as_json: bool) -> None:
    """Give a user a random temporary password, printed once; they must change it at
    their next sign-in, and every session of theirs is signed out now."""

    async def work(svc: Services) -> dict[str, object]:
        from portico.accounts.password_change import reset_password_by_admin

        found = await find_user(svc, user_ref)
        password = await reset_password_by_admin(
            svc.db, found.id, policy=_policy(svc), rounds=svc.settings.bcrypt_rounds, via="cli"
        )
        return {
            "id": found.id,
            "username": found.username,
            "temporary_password": password,
            "must_change_password": True,
        }

    emit(
        run_with_services(work),
        as_json,
        lambda d: (
            f"temporary password for {d['username']} ({d['id']}): {d['temporary_password']}\n"
            "It is shown only this once; they must change it at their next sign-in."
        ),
    )


COMMANDS = [admin, user]
