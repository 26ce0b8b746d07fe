"""Our ID-token verifier vs a bare RSA-2048 signature check, and where the time goes."""

from __future__ import annotations

import base64
import cProfile
import pstats
from collections import defaultdict

from . import harness
from .common import CLIENT_ID
from .common import Row
from .common import compared
from .common import id_token
from .common import met
from .common import pyjwt_checks

TARGET = 2.5


def run(idp, quick: bool) -> tuple[list[Row], dict]:
    import jwt
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from blog import jwks
    from blog import tokens

    token = id_token(idp)
    signing_input, _, signature = token.rpartition(".")
    signing_input_bytes = signing_input.encode()
    signature_bytes = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public_key = idp.key.public_key()
    key = jwks.get_cache(idp.jwks_url).get(idp.kid)
    assert key is not None

    def bare() -> None:
        public_key.verify(
            signature_bytes, signing_input_bytes, padding.PKCS1v15(), hashes.SHA256()
        )

    def ours() -> None:
        tokens.verify_id_token(
            token, jwks_url=idp.jwks_url, issuer=idp.issuer, client_id=CLIENT_ID
        )

    checks = pyjwt_checks(idp)

    def pyjwt_decode() -> None:  # what PyJWT alone costs with our settings
        jwt.decode(token, key, **checks)

    regex_jwt = regex_segment_pyjwt()

    def pyjwt_regex() -> None:  # experiment: PyJWT with its segment check as one regex
        regex_jwt.decode(token, key, **checks)

    number = 200 if quick else 400
    samples = harness.compare(
        {
            "ours": (ours, number),
            "bare": (bare, number),
            "pyjwt": (pyjwt_decode, number),
            "pyjwt_regex": (pyjwt_regex, number),
        },
        rounds=9 if quick else 21,
    )
    shares, top = profile(ours, 1000 if quick else 3000)
    med = harness.median
    ratio = harness.ratio(samples, "ours", "bare")
    rows = [
        compared(
            f"ID-token verifier vs bare RSA-2048 verify ({len(token)}-char token)",
            samples,
            "ours",
            "bare",
            f"≤ {TARGET}",
            met(ratio <= TARGET),
        ),
        compared(
            "  PyJWT's jwt.decode alone (same checks) vs bare RSA",
            samples,
            "pyjwt",
            "bare",
        ),
        compared(
            "  experiment (bench only): PyJWT with a regex segment check",
            samples,
            "pyjwt_regex",
            "bare",
        ),
    ]
    extra = {
        "token_length": len(token),
        "profile_shares": shares,
        "profile_top": top,
        "ours": med(samples["ours"]),
        "bare": med(samples["bare"]),
        "pyjwt": med(samples["pyjwt"]),
        "pyjwt_regex": med(samples["pyjwt_regex"]),
        "own": harness.difference(samples, "ours", "pyjwt"),
        "per_char": harness.difference(samples, "pyjwt", "pyjwt_regex"),
    }
    return rows, extra


def regex_segment_pyjwt():
    """A private PyJWT whose base64url segment check is one regex, same rules as 2.15.1.

    PyJWT checks each character of the token in a Python generator (its fix for
    GHSA-hxm8-2xgr-2p9m); this measures what that check costs. Not used by the blog.
    """
    import re

    import jwt
    from jwt.api_jws import PyJWS
    from jwt.exceptions import DecodeError
    from jwt.utils import base64url_decode
    from jwt.utils import base64url_encode

    segment_shape = re.compile(rb"([A-Za-z0-9_-]*)(={0,2})")

    class RegexSegmentJWS(PyJWS):
        @staticmethod
        def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
            match = segment_shape.fullmatch(segment)
            if (
                match is None
                or (match[2] and len(segment) % 4)
                or len(match[1]) % 4 == 1
            ):
                raise DecodeError(f"Invalid {name} padding")
            decoded = base64url_decode(match[1])
            if base64url_encode(decoded) != match[1]:
                raise DecodeError(f"Invalid {name} padding")
            return decoded

    instance = jwt.PyJWT()
    instance._jws = RegexSegmentJWS(options=instance._get_sig_options())
    return instance


def group(filename: str) -> str:
    if "/jwt/" in filename:
        return "PyJWT (Python)"
    if "/blog/" in filename:
        return "blog (tokens.py, jwks.py)"
    if "/cryptography/" in filename:
        return "cryptography (Python)"
    return "stdlib (json, base64, ...)"


def profile(fn, number: int) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """The verifier's time by package (built-ins charged to their callers)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(number):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by_group: dict[str, float] = defaultdict(float)
    by_function: dict[str, float] = defaultdict(float)
    for (filename, line, name), (_, _, tottime, _, callers) in stats.items():
        if filename == "~":
            if "RSAPublicKey" in name and "verify" in name:
                label = "RSA verify (OpenSSL, the floor)"
                by_group[label] += tottime
                by_function[label] += tottime
                continue
            weights = {caller: c[2] + 1e-12 for caller, c in callers.items()}
            total = sum(weights.values()) or 1
            for caller, weight in weights.items():
                if caller[0] == "~":
                    continue
                by_group[group(caller[0])] += tottime * weight / total
            by_function[f"{name} (built-in)"] += tottime
            continue
        by_group[group(filename)] += tottime
        short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        by_function[f"{short}:{line} {name}"] += tottime
    total = sum(by_group.values())
    shares = {k: v / total for k, v in sorted(by_group.items(), key=lambda kv: -kv[1])}
    top = sorted(
        ((k, v / total) for k, v in by_function.items()), key=lambda kv: -kv[1]
    )
    return shares, top[:8]
