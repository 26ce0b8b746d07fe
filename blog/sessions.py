"""Server-side sessions through Flask-Session, chosen by BLOG_SESSION_TYPE."""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from typing import Any

from cachelib import FileSystemCache
from flask import Flask
from flask import Request
from flask import Response
from flask import request
from flask import session
from flask_session.base import ServerSideSession
from flask_session.base import ServerSideSessionInterface
from flask_session.cachelib import CacheLibSessionInterface
from itsdangerous import want_bytes
from werkzeug.exceptions import ServiceUnavailable

from . import backends

log = logging.getLogger(__name__)
LOGIN_LIFETIME = timedelta(minutes=10)  # a login in progress, in the filesystem store


def init_app(app: Flask) -> None:
    """Bind Flask-Session to `app` with the configured backend."""
    kind = app.config["SESSION_TYPE"]
    if kind == "dynamodb":
        app.session_interface = DynamoDBSessions(
            app, backends.dynamodb(app), app.config["SESSION_TABLE"])
        app.before_request(refuse_unreadable)
        return
    if kind == "filesystem":
        # Flask-Session 0.8's own "filesystem" type is deprecated; cachelib's is not.
        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = SessionFiles(
            os.path.join(app.instance_path, "sessions"),
            threshold=app.config.get("SESSION_FILE_THRESHOLD", 10_000))
    app.session_interface = CacheLibSessions(
        app, app.config["SESSION_CACHELIB"], permanent=app.config["SESSION_PERMANENT"])


class Sessions(ServerSideSessionInterface):
    """Flask-Session's interface, ending a session by touching only what exists.

    Flask-Session deletes an emptied session's record and cookie even when neither
    exists, e.g. when `login_required` clears the new session of a visitor who sent no
    cookie: a store write per anonymous hit. Both backends' interfaces derive from this.
    """

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Save as Flask-Session does, except that an emptied session goes to `end`."""
        if session or not session.modified:
            super().save_session(app, session, response)
        else:
            self.end(app, session, response)

    def end(self, app: Flask, session: Any, response: Response) -> None:
        """Delete the session's record if it was stored, its cookie if one was sent."""
        sent = request.cookies.get(self.get_cookie_name(app))
        response.vary.add("Cookie")
        if sent == session.sid:  # open_session found this id in the store
            self._delete_session(self._get_store_id(session.sid))
        if sent:  # with the attributes it was set with: browsers ignore a __Host-
            response.delete_cookie(  # cookie without Secure, deletions included
                self.get_cookie_name(app),
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )


class CacheLibSessions(Sessions, CacheLibSessionInterface):
    """Flask-Session's cachelib backend (the filesystem store).

    A session without a user, a login in progress, is kept for LOGIN_LIFETIME only,
    unless it holds the text of a writer whose session ended (blog/kept.py).
    """

    def _upsert_session(self, session_lifetime: timedelta, session: Any,
                        store_id: str) -> None:
        if "user" not in session and "kept" not in session:  # kept.py: a writer's text
            session_lifetime = min(session_lifetime, LOGIN_LIFETIME)
        super()._upsert_session(session_lifetime, session, store_id)


class SessionFiles(FileSystemCache):
    """cachelib's FileSystemCache, except that it never deletes a live session.

    Past `threshold` entries, cachelib deletes the expired ones and then the oldest
    live ones, members' included: 10,000 anonymous GET /auth/login requests would log
    everybody out. Here a write past `threshold` deletes only expired entries, scanning
    the folder at most once a minute. With the defaults (threshold 10,000, logins in
    progress kept 10 minutes, members' sessions 12 hours from their last write) the
    folder holds the members' sessions and the logins begun in the last 10 minutes or
    so, more than 10,000 files if that many are live; nothing live is ever evicted.
    """

    prune_every = 60  # seconds between two scans of the folder
    pruned_at = float("-inf")

    def _prune(self) -> None:
        now = time.time()
        if self._over_threshold() and now - self.pruned_at >= self.prune_every:
            self.pruned_at = now
            self._remove_expired(now)


class SessionsUnavailable(ServiceUnavailable):
    description = ("Signing in is not possible right now because the session store is "
                   "busy. Please go back and try again in a moment.")


class DynamoDBSession(ServerSideSession):
    """A session kept in the DynamoDB table."""


class UnreadableSession(DynamoDBSession):
    """Stands in for a session the store could not return; its request gets a 503."""


def refuse_unreadable() -> None:
    """Answer 503 rather than treat the visitor as logged out (and lose a posted
    form)."""
    if isinstance(session, UnreadableSession):
        raise SessionsUnavailable()


def store_errors_as_503() -> Any:
    """The session table's failures as `SessionsUnavailable`."""
    return backends.failures_as(SessionsUnavailable, "session table")


class DynamoDBSessions(Sessions):
    """Flask-Session's DynamoDB backend, redone for a table made by serverless.yml.

    Unlike Flask-Session's it never calls CreateTable, treats items past `expiration` as
    absent (DynamoDB's TTL deletes them only eventually) and turns store failures into
    503s. Not a subclass of it: importing flask_session.dynamodb imports the
    mypy_boto3_dynamodb stubs, about 25 ms of every cold start (bench/RESULTS.md).
    """

    session_class = DynamoDBSession

    def __init__(self, app: Flask, resource: Any, table_name: str) -> None:
        super().__init__(app, permanent=app.config["SESSION_PERMANENT"])
        self.client = resource
        self.store = resource.Table(table_name)

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        with store_errors_as_503():
            item = self.store.get_item(
                Key={"id": store_id}, ConsistentRead=True
            ).get("Item")
        if not item or item.get("expiration", 0) <= time.time():
            return None
        return self.serializer.decode(want_bytes(item["val"].value))

    def _delete_session(self, store_id: str) -> None:
        with store_errors_as_503():
            self.store.delete_item(Key={"id": store_id})

    def _upsert_session(self, session_lifetime: timedelta, session: Any,
                        store_id: str) -> None:
        expiration = int(time.time() + session_lifetime.total_seconds())
        with store_errors_as_503():
            self.store.update_item(
                Key={"id": store_id},
                UpdateExpression="SET val = :value, expiration = :exp",
                ExpressionAttributeValues={":value": self.serializer.encode(session),
                                           ":exp": expiration})

    def open_session(self, app: Flask, request: Request) -> Any:
        try:
            return super().open_session(app, request)
        except SessionsUnavailable:
            return UnreadableSession(sid=self._generate_sid(self.sid_length))

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if isinstance(session, UnreadableSession):
            return
        try:
            super().save_session(app, session, response)
        except SessionsUnavailable as error:
            # The view has run but its session change is lost: say so, not "done".
            page = app.make_response(app.handle_user_exception(error))
            response.status_code = page.status_code
            response.headers = page.headers
            response.set_data(page.get_data())
