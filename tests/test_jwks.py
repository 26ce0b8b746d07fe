"""The process-wide JWKS cache (blog/jwks.py): pinned source, rotation, rate limit.

docs/SECURITY.md: Signing keys.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from blog import cognito
from blog import jwks
from blog import tokens
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import new_key
from tests.support.fakeidp import public_jwk

JWKS_PATH = "/pool/.well-known/jwks.json"
ROTATED = new_key()


def verify(idp, token) -> dict:
    return tokens.verify_id_token(token, jwks_url=idp.jwks_url, issuer=idp.issuer,
                                  client_id=CLIENT_ID)


def reason(idp, token) -> str:
    with pytest.raises(tokens.InvalidToken) as info:
        verify(idp, token)
    return info.value.reason


def fetches(idp) -> int:
    return idp.count(JWKS_PATH)


def with_kid(token: str, kid: str) -> str:
    """The same token under another kid (its signature no longer matters)."""
    header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode()
    head = base64.urlsafe_b64encode(header).rstrip(b"=").decode()
    return head + token[token.index("."):]


def rotated_token(idp, kid: str = "key-2") -> str:
    return idp.sign(idp.claims(), key=ROTATED, headers={"kid": kid})


# --- D43: pinned source ---------------------------------------------------------------

@pytest.mark.parametrize("claims, headers", [
    ({}, {"kid": "attacker-kid"}),
    ({"iss": "ATTACKER/pool"}, {"kid": "attacker-kid"}),
    ({}, {"jku": "ATTACKER/pool/.well-known/jwks.json"}),
    ({}, {"x5u": "ATTACKER/cert.pem"}),
], ids=["unknown-kid", "iss-of-attacker", "jku", "x5u"])
def test_keys_come_only_from_the_configured_url(idp, claims, headers):
    attacker = idp.url + "/attacker"
    claims = {k: v.replace("ATTACKER", attacker) for k, v in claims.items()}
    headers = {k: v.replace("ATTACKER", attacker) for k, v in headers.items()}
    with pytest.raises(tokens.InvalidToken):
        verify(idp, idp.sign(idp.claims(**claims), key=ROTATED, headers=headers))
    assert {path for _, path, _ in idp.requests} <= {JWKS_PATH}


def test_fetch_uses_tls_short_timeout_and_no_redirects(idp, monkeypatch):
    calls, real_get = [], requests.get

    def spy(url, **kwargs):
        calls.append((url, kwargs))
        return real_get(url, **kwargs)

    monkeypatch.setattr(requests, "get", spy)
    verify(idp, idp.id_token())
    [(url, kwargs)] = calls
    assert url == idp.jwks_url and kwargs["allow_redirects"] is False
    assert kwargs.get("verify", True) is True
    assert kwargs["timeout"] == jwks.TIMEOUT and 0 < jwks.TIMEOUT <= 5


def test_cached_key_is_reused_without_fetching(idp, clock):
    for _ in range(5):
        verify(idp, idp.id_token())
    clock.advance(jwks.TTL - 1)
    verify(idp, idp.id_token())
    assert fetches(idp) == 1


# --- D44: rotation --------------------------------------------------------------------

def test_rotated_key_is_fetched_once_after_cooldown_and_accepted(idp, clock):
    verify(idp, idp.id_token())
    idp.keys.append(public_jwk(ROTATED, "key-2"))
    clock.advance(jwks.COOLDOWN + 1)
    assert verify(idp, rotated_token(idp))["iss"] == idp.issuer
    assert fetches(idp) == 2
    verify(idp, rotated_token(idp))
    verify(idp, idp.id_token())
    assert fetches(idp) == 2


def test_kid_still_unknown_after_refetch_is_rejected(idp, clock):
    verify(idp, idp.id_token())
    clock.advance(jwks.COOLDOWN + 1)
    assert reason(idp, rotated_token(idp, kid="key-never")) == "unknown-kid"
    assert reason(idp, rotated_token(idp, kid="key-never")) == "unknown-kid"
    assert fetches(idp) == 2


@pytest.mark.parametrize("after", ["first-load", "ttl-refresh"])
def test_key_rotated_a_second_after_a_fetch_is_fetched_and_accepted(idp, clock, after):
    verify(idp, idp.id_token())
    if after == "ttl-refresh":
        clock.advance(jwks.TTL)
        verify(idp, idp.id_token())
    idp.keys.append(public_jwk(ROTATED, "key-2"))
    clock.advance(1)
    assert verify(idp, rotated_token(idp))["iss"] == idp.issuer
    assert fetches(idp) == (2 if after == "first-load" else 3)


def test_fruitless_refetch_holds_back_other_unknown_kids(idp, clock):
    verify(idp, idp.id_token())
    clock.advance(1)
    assert reason(idp, rotated_token(idp, kid="attacker-kid")) == "unknown-kid"
    idp.keys.append(public_jwk(ROTATED, "key-2"))
    clock.advance(1)
    assert reason(idp, rotated_token(idp)) == "keys-unavailable"  # judged later
    assert verify(idp, idp.id_token()) and fetches(idp) == 2
    clock.advance(jwks.COOLDOWN)
    assert verify(idp, rotated_token(idp)) and fetches(idp) == 3


def test_failed_refetch_holds_back_unknown_kids_and_keeps_cached_ones(idp, clock):
    verify(idp, idp.id_token())
    idp.keys.append(public_jwk(ROTATED, "key-2"))
    idp.jwks_status = 500
    clock.advance(1)
    assert reason(idp, rotated_token(idp)) == "keys-unavailable"
    idp.jwks_status = 200
    clock.advance(1)
    assert reason(idp, rotated_token(idp)) == "keys-unavailable"
    assert verify(idp, idp.id_token()) and fetches(idp) == 2
    clock.advance(jwks.COOLDOWN)
    assert verify(idp, rotated_token(idp)) and fetches(idp) == 3


# --- D45: flood of unknown kids -------------------------------------------------------

@pytest.mark.parametrize("warm", [True, False], ids=["keys-cached", "cold"])
def test_flood_of_random_kids_fetches_at_most_once_per_cooldown(
    idp, clock, monkeypatch, warm
):
    token, moments, real_get = idp.id_token(), [], requests.get

    def spy(url, **kwargs):
        moments.append(clock.now)
        return real_get(url, **kwargs)

    monkeypatch.setattr(requests, "get", spy)
    if warm:
        verify(idp, token)  # the first load starts no cool-down
        moments.clear()
    for i in range(1000):
        clock.advance(0.019)  # 19 s in all: a second cool-down window opens
        with pytest.raises(tokens.InvalidToken):
            verify(idp, with_kid(token, uuid.uuid4().hex))
        if i % 100 == 0:
            assert verify(idp, token)["sub"]
    assert len(moments) == 2
    assert moments[1] - moments[0] >= jwks.COOLDOWN


def test_concurrent_first_verifications_fetch_once(idp):
    token = idp.id_token()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: verify(idp, token), range(20)))
    assert len(results) == 20 and fetches(idp) == 1


# --- D46: endpoint failures -----------------------------------------------------------

def ec_jwk(kid: str) -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return {**json.loads(ECAlgorithm.to_jwk(key)), "kid": kid, "use": "sig"}


FAULTS = {
    "status-500": lambda idp: setattr(idp, "jwks_status", 500),
    "body-not-json": lambda idp: setattr(idp, "jwks_body", "<html>down</html>"),
    "keys-empty": lambda idp: setattr(idp, "jwks_body", {"keys": []}),
    "keys-not-a-list": lambda idp: setattr(idp, "jwks_body", {"keys": idp.keys[0]}),
    "document-a-list": lambda idp: setattr(idp, "jwks_body", idp.keys),
    "only-enc-key": lambda idp: setattr(idp, "jwks_body",
                                        {"keys": [{**idp.keys[0], "use": "enc"}]}),
    "only-ec-key": lambda idp: setattr(idp, "jwks_body", {"keys": [ec_jwk(idp.kid)]}),
    "only-rs512-key": lambda idp: setattr(idp, "jwks_body",
                                          {"keys": [{**idp.keys[0], "alg": "RS512"}]}),
    "only-malformed-rsa-key": lambda idp: setattr(idp, "jwks_body", {"keys": [
        {**idp.keys[0], "n": "!!"}]}),
}


@pytest.mark.parametrize("fault", ["status-500", "body-not-json", "keys-empty"])
def test_outage_after_caching_keeps_cached_key_with_bounded_retries(idp, clock, fault):
    token = idp.id_token()
    verify(idp, token)
    FAULTS[fault](idp)
    clock.advance(jwks.TTL + 1)
    for _ in range(5):
        assert verify(idp, token)
    assert fetches(idp) == 2
    clock.advance(jwks.COOLDOWN)
    assert verify(idp, token) and fetches(idp) == 3


UNREADABLE = {"status-500", "body-not-json", "keys-not-a-list", "document-a-list"}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_first_fetch_failure_rejects_without_crashing(idp, clock, fault):
    FAULTS[fault](idp)
    token = idp.id_token()
    # An unreadable endpoint means "try later"; a readable set without our key, "no".
    expected = "keys-unavailable" if fault in UNREADABLE else "unknown-kid"
    assert reason(idp, token) == expected
    assert reason(idp, token) == expected
    assert fetches(idp) == 1


def test_recovery_after_first_fetch_failure_is_retried_soon(idp, clock):
    idp.jwks_status = 500
    assert reason(idp, idp.id_token()) == "keys-unavailable"
    idp.jwks_status = 200
    assert reason(idp, idp.id_token()) == "keys-unavailable"  # no retry storm
    clock.advance(jwks.RETRY_WITHOUT_KEYS)
    assert verify(idp, idp.id_token()) and fetches(idp) == 2


def test_slow_endpoint_is_abandoned_after_timeout(idp, monkeypatch):
    monkeypatch.setattr(jwks, "TIMEOUT", 0.3)
    idp.delay = 1.5
    start = time.monotonic()
    assert reason(idp, idp.id_token()) == "keys-unavailable"
    assert time.monotonic() - start < 1.0


# --- D47: unusable extra keys ---------------------------------------------------------

@pytest.mark.parametrize("extra", [
    {"kty": "AKP", "kid": "pq-1", "alg": "ML-DSA-44", "pub": "AAAA"},
    {"kty": "oct", "kid": "hmac-1", "k": "c2VjcmV0"},
    {"kty": "RSA", "use": "sig"},
    "not-an-object",
    {"kty": "RSA", "kid": "bad-n", "n": "!!", "e": "AQAB"},
    {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
    {"kty": "RSA", "kid": "int-n", "n": 5, "e": "AQAB"},
    {"kty": "RSA", "kid": "half-private", "n": "AQAB", "e": "AQAB", "d": "AQAB"},
], ids=["kty-AKP", "kty-oct", "rsa-without-kid", "not-an-object", "rsa-malformed-n",
        "rsa-missing-n", "rsa-n-not-string", "rsa-bad-private-parts"])
def test_unusable_extra_key_is_ignored(idp, extra):
    idp.keys.append(extra)
    assert verify(idp, idp.id_token())["iss"] == idp.issuer


# --- one cache per URL per process ----------------------------------------------------

def test_one_cache_per_url(idp):
    cache = jwks.get_cache(idp.jwks_url)
    assert jwks.get_cache(idp.jwks_url) is cache
    assert jwks.get_cache(idp.jwks_url + "?other") is not cache
    jwks.clear()
    assert jwks.get_cache(idp.jwks_url) is not cache


def test_two_apps_share_the_cache(idp, make_app, tmp_path):
    token = idp.id_token()
    for name in ("first", "second"):
        app = make_app(INSTANCE_PATH=str(tmp_path / name / "instance"))
        with app.app_context():
            assert cognito.verify_id_token(token)["aud"] == CLIENT_ID
    assert fetches(idp) == 1


def test_no_keys_yet_and_endpoint_down_is_unavailable_not_invalid(idp, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(jwks, "clock", lambda: now[0])
    idp.jwks_status = 500
    with pytest.raises(tokens.KeysUnavailable):
        tokens.verify_id_token(idp.id_token(), jwks_url=idp.jwks_url,
                               issuer=idp.issuer, client_id=CLIENT_ID)
    idp.jwks_status = 200
    now[0] += jwks.RETRY_WITHOUT_KEYS + 0.1  # recovers well before the 10 s cooldown
    assert tokens.verify_id_token(idp.id_token(), jwks_url=idp.jwks_url,
                                  issuer=idp.issuer, client_id=CLIENT_ID)
    assert idp.count("jwks.json") == 2
