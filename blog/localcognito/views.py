"""Cognito's protocol endpoints: discovery, JWKS, /oauth2/* (with the federated
sign-in's /oauth2/idpresponse), /logout, the outbox."""

from __future__ import annotations

from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import BadRequest

from . import cookies
from . import federation
from . import keys
from . import minting
from . import server as oauth
from . import store

bp = Blueprint(
    "localcognito",
    __name__,
    url_prefix="/_cognito",
    template_folder="templates",
    static_folder="static",
)


def auth_server() -> AuthorizationServer:
    """Return this app's authorization server."""
    return current_app.extensions["localcognito"]


@bp.after_request
def add_headers(response: Response) -> Response:
    """Never cache IdP answers; set the CSRF cookie a rendered form needs."""
    response.headers["Cache-Control"] = "no-store"
    cookies.save_csrf_cookie(response)
    return response


@bp.context_processor
def links() -> dict[str, Any]:
    """Give every hosted page the way back to the blog and to the outbox."""
    return {"blog_url": blog_url()}


def blog_url() -> str | None:
    """Return the blog's home: the app client's sign-out URL on this host, if any."""
    rows = store.all_rows(
        "SELECT url FROM client_url WHERE kind = 'logout' ORDER BY url"
    )
    urls = [row["url"] for row in rows]
    here = [url for url in urls if url.startswith(request.host_url)]
    return (here or urls or [None])[0]


def error_page(message: str, status: int = 400) -> tuple[str, int]:
    """Render the hosted error page."""
    return render_template("localcognito/error.html", message=message), status


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest) -> tuple[str, int]:
    return error_page(error.description or "Bad request.")


def oauth_error(error: OAuth2Error) -> Any:
    """Send an OAuth error to the client, or show it when the client is not trusted."""
    if error.redirect_uri:
        return auth_server().handle_error_response(None, error)
    client = oauth.query_client(request.args.get("client_id"))
    if client is None:
        return error_page("Unknown app client: this client_id is not registered.")
    if request.args.get("redirect_uri") not in client.callback_urls:
        return error_page("redirect_mismatch: this redirect_uri is not registered.")
    return error_page(f"{error.error}: {error.description or 'invalid request.'}")


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    iss = minting.issuer()
    return jsonify(
        issuer=iss,
        jwks_uri=f"{iss}/.well-known/jwks.json",
        authorization_endpoint=f"{iss}/oauth2/authorize",
        token_endpoint=f"{iss}/oauth2/token",
        userinfo_endpoint=f"{iss}/oauth2/userInfo",
        revocation_endpoint=f"{iss}/oauth2/revoke",
        end_session_endpoint=f"{iss}/logout",
        id_token_signing_alg_values_supported=["RS256"],
        token_endpoint_auth_methods_supported=oauth.AUTH_METHODS,
        code_challenge_methods_supported=["S256"],
        scopes_supported=oauth.SCOPES,
        response_types_supported=["code"],
        subject_types_supported=["public"],
    )


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    return jsonify(keys.public_jwks(current_app))


@bp.get("/oauth2/authorize")
def authorize() -> Any:
    """Issue a code to a signed-in browser, or send it to the login page; with
    `identity_provider`, to that external provider's sign-in page."""
    login = cookies.current_login()
    try:
        grant = auth_server().get_consent_grant(end_user=login)
    except OAuth2Error as error:
        return oauth_error(error)
    provider = request.args.get("identity_provider")
    if provider and provider != "COGNITO":
        return start_federation(provider)
    if login is None:
        return redirect(url_for(".login") + "?" + request.query_string.decode())
    return auth_server().create_authorization_response(grant=grant, grant_user=login)


OAUTH_PARAMS = (
    "response_type client_id redirect_uri scope state nonce code_challenge"
    " code_challenge_method"
).split()


def start_federation(provider: str) -> Any:
    """Keep the app's request and go to the provider, bound to this browser."""
    params = {k: request.args[k] for k in OAUTH_PARAMS if k in request.args}
    try:
        url, state = federation.begin(provider, params)
    except federation.Refused as refused:
        return error_page(str(refused))
    response = redirect(url)
    cookies.remember_federation(response, state)
    return response


@bp.get("/oauth2/idpresponse")
def idpresponse() -> Any:
    """The provider's answer: sign the federated user in and answer the app's
    original request (a code and its `state`), or send it the provider's error."""
    try:
        outcome = federation.finish(request.args.to_dict(), cookies.federation_state())
    except federation.Refused as refused:
        return error_page(str(refused))
    params = outcome.params
    if outcome.sub is None:
        sent = [("error", outcome.error), ("error_description", outcome.description)]
        sent += [("state", params["state"])] if "state" in params else []
        response = redirect(add_params_to_uri(params["redirect_uri"], sent))
    else:
        sid, login = cookies.record_login(outcome.sub)
        response = answer_request(params, login)
        cookies.set_login(response, sid)
    cookies.forget_federation(response)
    return response


def answer_request(params: dict[str, str], login: dict) -> Response:
    """Answer the app's kept /oauth2/authorize request for a signed-in user, as that
    endpoint would: the request is replayed in a request context of its own."""
    with current_app.test_request_context(
        url_for(".authorize"), base_url=request.host_url, query_string=params
    ):
        server = auth_server()
        try:
            grant = server.get_consent_grant(end_user=login)
        except OAuth2Error as error:
            return oauth_error(error)
        return server.create_authorization_response(grant=grant, grant_user=login)


@bp.post("/oauth2/token")
def token() -> Response:
    return auth_server().create_token_response()


@bp.post("/oauth2/revoke")
def revoke() -> Response:
    return auth_server().create_endpoint_response("revocation")


@bp.route("/oauth2/userInfo", methods=["GET", "POST"])
def userinfo() -> Response:
    return auth_server().create_endpoint_response("userinfo")


@bp.get("/logout")
def logout() -> Any:
    """End the login session and go to an allowed sign-out URL."""
    client = oauth.query_client(request.args.get("client_id"))
    logout_uri = request.args.get("logout_uri")
    if client is None:
        return error_page("Unknown app client: this client_id is not registered.")
    if logout_uri not in client.logout_urls:
        return error_page("This logout_uri is not an allowed sign-out URL.")
    response = redirect(logout_uri)
    cookies.end_login(response)
    return response


@bp.get("/outbox")
def outbox() -> Any:
    """The local "emails": a page, or JSON (oldest first) when asked for JSON."""
    mail = read_mail()
    wanted = request.accept_mimetypes.best_match(["text/html", "application/json"])
    if wanted == "application/json":
        return jsonify(mail)
    return render_template("localcognito/outbox.html", mail=mail[::-1])


def read_mail() -> list[dict[str, str]]:
    """Return every local email, oldest first."""
    rows = store.all_rows("SELECT * FROM outbox ORDER BY id")
    fields = ("username", "subject", "body", "code", "sent_at")
    return [{"to": row["recipient"], **{f: row[f] for f in fields}} for row in rows]
