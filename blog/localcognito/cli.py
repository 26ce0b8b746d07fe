"""`flask local-cognito ...`: manage users, groups and keys of the local pool."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import accounts
from . import keys
from . import store

cli = AppGroup("local-cognito", help="Manage the local Cognito user pool.")


@cli.command("add-user")
@click.argument("username")
@click.option("--email", required=True, help="The user's email address.")
@click.option("--password", required=True, help="Must meet the password policy.")
@click.option("--group", "groups", multiple=True, help="A group to join (repeatable).")
def add_user(username: str, email: str, password: str, groups: tuple[str, ...]) -> None:
    """Add a confirmed user."""
    try:
        sub = accounts.create_user(username, email, password, confirmed=True)
        for group in groups:
            accounts.add_to_group(username, group)
    except accounts.Invalid as invalid:
        raise click.ClickException(" ".join(invalid.errors.values())) from None
    click.echo(f"Added user {username} (sub {sub}).")


@cli.command("add-to-group")
@click.argument("username")
@click.argument("group")
def add_to_group(username: str, group: str) -> None:
    """Add a user to a group, creating the group if needed."""
    try:
        accounts.add_to_group(username, group)
    except accounts.Invalid as invalid:
        raise click.ClickException(" ".join(invalid.errors.values())) from None
    click.echo(f"Added {username} to {group}.")


@cli.command("list-users")
def list_users() -> None:
    """List users with status, email, groups and sub."""
    rows = store.all_rows(
        "SELECT u.*, group_concat(g.name, ',') AS groups FROM user u"
        " LEFT JOIN user_group g ON g.sub = u.sub GROUP BY u.sub ORDER BY u.username"
    )
    for row in rows:
        status = "CONFIRMED" if row["confirmed"] else "UNCONFIRMED"
        groups = row["groups"] or "-"
        click.echo(
            f"{row['username']}\t{status}\t{row['email']}\t{groups}\t{row['sub']}"
        )


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Add a new signing key; old public keys stay published until tokens expire."""
    kid = keys.rotate_keys(current_app)
    click.echo(f"New signing key {kid}.")
