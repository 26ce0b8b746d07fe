"""The original tutorial's verification (a new PyJWKClient per request) vs ours."""

from __future__ import annotations

from . import harness
from .common import CLIENT_ID
from .common import Row
from .common import compared
from .common import id_token
from .common import met
from .common import pyjwt_checks

LATENCY = 0.02  # seconds: a modest HTTPS round trip from Lambda to Cognito's JWKS


def run(idp, quick: bool) -> tuple[list[Row], dict]:
    import jwt

    from blog import tokens

    token = id_token(idp)

    checks = pyjwt_checks(idp)

    def naive() -> None:
        # The seed's approach: the client, and so its key cache, lives for one request.
        client = jwt.PyJWKClient(idp.jwks_url)
        key = client.get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, **checks)

    def ours() -> None:
        tokens.verify_id_token(
            token, jwks_url=idp.jwks_url, issuer=idp.issuer, client_id=CLIENT_ID
        )

    ours()  # the cache's one fetch happens here, outside the measurement
    before = idp.count("/jwks.json")
    rounds, naive_number = (7, 10) if quick else (15, 20)
    samples = harness.compare(
        {"naive": (naive, naive_number), "ours": (ours, 200)}, rounds=rounds, warmup=1
    )
    fetches = idp.count("/jwks.json") - before
    calls = rounds * naive_number + 1
    ratio = harness.ratio(samples, "naive", "ours")
    idp.delay = (
        LATENCY  # every answer of the fake Cognito now takes a network round trip
    )
    try:
        far = harness.compare(
            {"naive": (naive, 2), "ours": (ours, 50)}, rounds=3, warmup=1
        )
    finally:
        idp.delay = 0.0
    rows = [
        compared(
            "Naive verification (new PyJWKClient per request) vs ours",
            samples,
            "naive",
            "ours",
            "large",
            met(ratio >= 10),
        ),
        compared(
            f"  same, JWKS answered after {LATENCY * 1000:.0f} ms (Cognito round trip)",
            far,
            "naive",
            "ours",
        ),
    ]
    extra = {"naive_fetches": fetches, "naive_calls": calls, "ratio": ratio}
    return rows, extra
