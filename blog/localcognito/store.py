"""SQLite storage of the local user pool: one connection per request or operation."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from typing import Any

from flask import Flask
from flask import current_app
from flask import g

DB_NAME = "localcognito.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS client (
    id INTEGER PRIMARY KEY CHECK (id = 1), client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS client_url (
    kind TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (kind, url));
CREATE TABLE IF NOT EXISTS user (
    sub TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE, password_hash TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS user_group (
    sub TEXT NOT NULL REFERENCES user (sub), name TEXT NOT NULL,
    PRIMARY KEY (sub, name));
CREATE TABLE IF NOT EXISTS code (
    sub TEXT NOT NULL, purpose TEXT NOT NULL, code TEXT NOT NULL,
    expires_at INTEGER NOT NULL, PRIMARY KEY (sub, purpose));
CREATE TABLE IF NOT EXISTS auth_code (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL, sub TEXT NOT NULL, nonce TEXT, auth_time INTEGER NOT NULL,
    event_id TEXT NOT NULL, code_challenge TEXT, code_challenge_method TEXT,
    expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_token (
    token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, sub TEXT NOT NULL,
    scope TEXT NOT NULL, auth_time INTEGER NOT NULL, event_id TEXT NOT NULL,
    origin_jti TEXT NOT NULL, expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS login_session (
    sid_hash TEXT PRIMARY KEY, sub TEXT NOT NULL, auth_time INTEGER NOT NULL,
    event_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attempt (
    login TEXT NOT NULL, kind TEXT NOT NULL, failures INTEGER NOT NULL,
    locked_until REAL NOT NULL, last_failure REAL NOT NULL,
    PRIMARY KEY (login, kind));
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL,
    username TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
    code TEXT NOT NULL, sent_at TEXT NOT NULL);
-- Federated sign-in (federation.py): its users, and the app requests it keeps.
CREATE TABLE IF NOT EXISTS federated_user (
    sub TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    provider TEXT NOT NULL, provider_user_id TEXT NOT NULL, email TEXT NOT NULL,
    name TEXT NOT NULL, email_verified INTEGER NOT NULL,
    created_at INTEGER NOT NULL /* ms, as `identities` shows it */,
    UNIQUE (provider, provider_user_id));
CREATE TABLE IF NOT EXISTS federation (
    state_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, params TEXT NOT NULL,
    nonce TEXT NOT NULL, expires_at INTEGER NOT NULL);
-- The look-alike external providers (lookalike.py): their client, users and codes.
CREATE TABLE IF NOT EXISTS lookalike_client (
    provider TEXT PRIMARY KEY, client_id TEXT NOT NULL, client_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lookalike_redirect (
    provider TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (provider, uri));
CREATE TABLE IF NOT EXISTS lookalike_user (
    provider TEXT NOT NULL, sub TEXT NOT NULL, email TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (provider, sub),
    UNIQUE (provider, email));
CREATE TABLE IF NOT EXISTS lookalike_code (
    code_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL, sub TEXT NOT NULL, nonce TEXT,
    expires_at INTEGER NOT NULL);
"""
# Every user of the pool: its own (`user`) and federated ones (made at their first
# sign-in through an external provider; they have no password).
VIEWS = """
CREATE VIEW IF NOT EXISTS pool_user AS
    SELECT sub, username, email, name, confirmed, 1 AS email_verified,
        NULL AS provider, NULL AS provider_user_id, NULL AS linked_at FROM user
    UNION ALL
    SELECT sub, username, email, name, 1, email_verified, provider, provider_user_id,
        created_at FROM federated_user;
"""


def connect(app: Flask) -> sqlite3.Connection:
    """Open a connection in autocommit mode, creating the schema on first use."""
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, DB_NAME)
    db = sqlite3.connect(
        path, timeout=15, isolation_level=None, check_same_thread=False
    )
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=15000")
    db.executescript(SCHEMA)
    columns = {row["name"] for row in db.execute("PRAGMA table_info(user)")}
    if "name" not in columns:  # a pool made before display names
        try:
            db.execute("ALTER TABLE user ADD COLUMN name TEXT NOT NULL DEFAULT ''")
        except sqlite3.OperationalError:  # another connection added it first
            pass
    db.executescript(VIEWS)
    return db


def get_db() -> sqlite3.Connection:
    """Return this app context's connection, opening it on first use."""
    if "localcognito_db" not in g:
        g.localcognito_db = connect(current_app)
    return g.localcognito_db


def close_db(exc: BaseException | None = None) -> None:
    """Close this app context's connection, if any."""
    db = g.pop("localcognito_db", None)
    if db is not None:
        db.close()


def digest(value: str) -> str:
    """Hash a secret (code, token, session id) for storage and lookup."""
    return hashlib.sha256(value.encode()).hexdigest()


def one(sql: str, *params: Any) -> sqlite3.Row | None:
    """Run a query and return its first row."""
    return get_db().execute(sql, params).fetchone()


def all_rows(sql: str, *params: Any) -> list[sqlite3.Row]:
    """Run a query and return every row."""
    return get_db().execute(sql, params).fetchall()


def run(sql: str, *params: Any) -> int:
    """Run a statement and return the number of rows it changed."""
    return get_db().execute(sql, params).rowcount


def insert(table: str, **values: Any) -> None:
    """Insert one row from keyword arguments."""
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    run(f"INSERT INTO {table} ({names}) VALUES ({marks})", *values.values())
