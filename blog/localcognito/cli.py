"""`flask local-cognito ...`: manage users, groups and keys of the local pool, and the
accounts of its look-alike external providers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import accounts
from . import keys
from . import lookalike
from . import store

cli = AppGroup("local-cognito", help="Manage the local Cognito user pool.")


def _refused(invalid: accounts.Invalid) -> click.ClickException:
    return click.ClickException(" ".join(invalid.errors.values()))


@cli.command("add-user")
@click.argument("email")
@click.option("--name", required=True, help="The display name other members see.")
@click.option("--password", required=True, help="Must meet the pool's password policy.")
@click.option("--group", "groups", multiple=True, help="A group to join (repeatable).")
def add_user(email: str, name: str, password: str, groups: tuple[str, ...]) -> None:
    """Add a confirmed user who signs in with EMAIL (the username is generated)."""
    try:
        username = accounts.create_user(email, name, password, confirmed=True)
        for group in groups:
            accounts.add_to_group(username, group)
    except accounts.Invalid as invalid:
        raise _refused(invalid) from None
    click.echo(f"Added user {email} (username {username}).")


@cli.command("add-to-group")
@click.argument("email")
@click.argument("group")
def add_to_group(email: str, group: str) -> None:
    """Add a user (by email or username) to a group, creating the group if needed."""
    try:
        accounts.add_to_group(email, group)
    except accounts.Invalid as invalid:
        raise _refused(invalid) from None
    click.echo(f"Added {email} to {group}.")


@cli.command("add-federated-user")
@click.option("--provider", required=True, help="An enabled provider, such as Google.")
@click.argument("email")
@click.option("--name", required=True, help="The name the provider gives.")
def add_federated_user(provider: str, email: str, name: str) -> None:
    """Add an account to the local stand-in for an external provider.

    It joins the pool as <provider>_<its id> the first time it signs in, as on AWS.
    """
    names = lookalike.enabled()
    if provider not in names:
        enabled = ", ".join(names) or "none (set BLOG_COGNITO_IDENTITY_PROVIDERS)"
        raise click.ClickException(
            f"{provider!r} is not an enabled identity provider. Enabled: {enabled}."
        )
    try:
        sub = lookalike.add_user(provider, email, name)
    except accounts.Invalid as invalid:
        raise _refused(invalid) from None
    click.echo(
        f"Added {email} to the local stand-in for {provider} (id {sub}); it joins "
        f"the pool as {provider}_{sub} when it first signs in."
    )


@cli.command("list-users")
def list_users() -> None:
    """List users: email, name, username, groups and status, tab-separated.

    Users of external providers have the status EXTERNAL_PROVIDER, as on AWS.
    """
    rows = store.all_rows(
        "SELECT u.*, group_concat(g.name, ',') AS groups FROM pool_user u"
        " LEFT JOIN user_group g ON g.sub = u.sub GROUP BY u.sub"
        " ORDER BY u.email, u.provider IS NOT NULL, u.username"
    )
    for row in rows:
        status = "CONFIRMED" if row["confirmed"] else "UNCONFIRMED"
        if row["provider"]:
            status = "EXTERNAL_PROVIDER"
        fields = (row["email"], row["name"], row["username"], row["groups"] or "-")
        click.echo("\t".join((*fields, status)))


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Add new ID and access token signing keys; old ones stay published a while."""
    id_kid, access_kid = keys.rotate_keys(current_app)
    click.echo(f"New signing keys: {id_kid} (ID tokens), {access_kid} (access tokens).")
