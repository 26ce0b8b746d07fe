"""The ID-token verifier (blog/tokens.py) against known attacks on JWTs.

docs/SECURITY.md: Token verification, Signing keys.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding

from blog import tokens
from blog.tokens import ExpiredToken
from blog.tokens import InvalidToken
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import new_key
from tests.support.fakeidp import public_jwk

ATTACKER = new_key()
ATTACKER_EC = ec.generate_private_key(ec.SECP256R1())
POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCd"
REASONS = {"malformed", "algorithm", "header", "kid", "unknown-kid", "claims",
           "expired", "token-use", "audience", "subject", "issued-at", "nonce",
           "at-hash"}
GOOD = {"alg": "RS256", "kid": "key-1"}
BLOG = Path(__file__).resolve().parents[1] / "blog"


def b64(data: bytes | str | dict | list) -> str:
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header, claims, signature: bytes = b"") -> str:
    """A JWS built by hand, so that any header (even one PyJWT refuses) can be sent."""
    return f"{b64(header)}.{b64(claims)}.{b64(signature)}"


def rsa_signed(key, header: dict, claims: dict) -> str:
    """RSASSA-PKCS1-v1_5 SHA-256 over any header, computed by hand."""
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return compact(header, claims, signature)


def hmac_signed(secret: bytes, header: dict, claims: dict) -> str:
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return compact(header, claims, signature)


def hand_signed(idp, **overrides) -> str:
    """An ID token signed with the IdP key, with claims PyJWT's encoder would refuse."""
    return rsa_signed(idp.key, GOOD, idp.claims(**overrides))


def verify(idp, token, issuer=None, **checks) -> dict:
    return tokens.verify_id_token(token, jwks_url=idp.jwks_url, client_id=CLIENT_ID,
                                  issuer=issuer or idp.issuer, **checks)


def rejected(idp, token, **checks) -> InvalidToken:
    """Verify and expect InvalidToken (any other exception fails the test)."""
    with pytest.raises(InvalidToken) as info:
        verify(idp, token, **checks)
    # Item 41: the message is the short category, never the token.
    assert info.value.reason in REASONS and str(info.value) == info.value.reason
    return info.value


# --- B15: the positive case -----------------------------------------------------------

def test_valid_rs256_token_is_accepted_with_iss_and_sub(idp):
    claims = idp.claims(sub="user-1")
    assert verify(idp, idp.sign(claims)) == claims
    assert (claims["iss"], claims["sub"]) == (idp.issuer, "user-1")


# --- B16, C35: signatures -------------------------------------------------------------

@pytest.mark.parametrize("position", [0, 10, -3], ids=["first", "middle", "last"])
def test_flipped_signature_byte_is_rejected(idp, position):
    head, payload, sig = idp.id_token().split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[position] ^= 0x01
    assert rejected(idp, f"{head}.{payload}.{b64(bytes(raw))}").reason == "claims"


@pytest.mark.parametrize("change", [
    {"sub": "someone-else"}, {"cognito:groups": ["admins"]}, {"exp": 9_999_999_999},
], ids=["sub-changed", "admin-group-added", "exp-extended"])
def test_tampered_claims_with_original_signature_are_rejected(idp, change):
    claims = idp.claims()
    head, _, sig = idp.sign(claims).split(".")
    assert rejected(idp, f"{head}.{b64({**claims, **change})}.{sig}").reason == "claims"


# --- B17, C29: unsigned tokens --------------------------------------------------------

@pytest.mark.parametrize("alg", [
    "none", "None", "NONE", "nOnE", None, "RS256",
], ids=["none", "None", "NONE", "nOnE", "null", "RS256-empty-sig"])
def test_unsigned_token_is_rejected(idp, alg):
    token = compact({"alg": alg, "typ": "JWT", "kid": idp.kid}, idp.claims())
    assert rejected(idp, token).reason in {"algorithm", "claims"}


# --- C30: HS256 keyed with the public key ---------------------------------------------

def public_key_forms(idp) -> dict[str, bytes]:
    pub = idp.key.public_key()
    enc, fmt = serialization.Encoding, serialization.PublicFormat
    pem = pub.public_bytes(enc.PEM, fmt.SubjectPublicKeyInfo)
    return {
        "pem-spki": pem, "pem-spki-no-newline": pem.strip(),
        "pem-pkcs1": pub.public_bytes(enc.PEM, fmt.PKCS1),
        "der-spki": pub.public_bytes(enc.DER, fmt.SubjectPublicKeyInfo),
        "der-pkcs1": pub.public_bytes(enc.DER, fmt.PKCS1),
        "jwk-json-served": json.dumps(idp.keys[0]).encode(),
        "jwk-json-pyjwt": jwt.algorithms.RSAAlgorithm.to_jwk(pub).encode(),
        "openssh": pub.public_bytes(enc.OpenSSH, fmt.OpenSSH),
    }


@pytest.mark.parametrize("form", [
    "pem-spki", "pem-spki-no-newline", "pem-pkcs1", "der-spki", "der-pkcs1",
    "jwk-json-served", "jwk-json-pyjwt", "openssh"])
def test_hs256_keyed_with_public_key_is_rejected(idp, form):
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.kid}
    token = hmac_signed(public_key_forms(idp)[form], header, idp.claims())
    assert rejected(idp, token).reason == "algorithm"


# --- C31: other algorithms with the real kid ------------------------------------------

@pytest.mark.parametrize("alg, key", [
    ("RS512", "test"), ("RS512", "attacker"), ("PS256", "test"), ("PS256", "attacker"),
    ("ES256", "attacker-ec"),
], ids=["RS512-test-key", "RS512-attacker-key", "PS256-test-key", "PS256-attacker-key",
        "ES256-attacker-key"])
def test_other_algorithm_with_real_kid_is_rejected(idp, alg, key):
    signer = {"test": idp.key, "attacker": ATTACKER, "attacker-ec": ATTACKER_EC}[key]
    token = idp.sign(idp.claims(), key=signer, algorithm=alg)
    assert rejected(idp, token).reason == "algorithm"


def test_es256_header_over_test_key_rsa_signature_is_rejected(idp):
    token = rsa_signed(idp.key, {"alg": "ES256", "kid": idp.kid}, idp.claims())
    assert rejected(idp, token).reason == "algorithm"


# --- C32, C33, B26: header parameters that would bring their own key ------------------

SIGNERS = pytest.mark.parametrize("signer", ["attacker-key", "test-key"])


def signing_key(idp, signer: str):
    return ATTACKER if signer == "attacker-key" else idp.key


@SIGNERS
@pytest.mark.parametrize("kid", ["key-1", "attacker-kid"], ids=["real-kid", "own-kid"])
def test_embedded_jwk_header_is_never_used(idp, signer, kid):
    key = signing_key(idp, signer)
    token = idp.sign(idp.claims(), key=key, headers={"kid": kid,
                                                     "jwk": public_jwk(key, kid)})
    assert rejected(idp, token).reason == "header"


@SIGNERS
@pytest.mark.parametrize("name", ["jku", "x5u", "x5c"])
def test_key_url_header_is_rejected_without_fetching_it(idp, name, signer):
    url = idp.url + "/attacker"
    value = [url] if name == "x5c" else url
    token = idp.sign(idp.claims(), key=signing_key(idp, signer), headers={name: value})
    assert rejected(idp, token).reason == "header"
    assert idp.count("/attacker") == 0


def test_unknown_critical_header_is_rejected(idp):
    header = {**GOOD, "crit": ["bork"], "bork": 1}
    token = rsa_signed(idp.key, header, idp.claims())
    assert rejected(idp, token).reason in {"malformed", "header"}


# --- B23, C34: kid --------------------------------------------------------------------

@pytest.mark.parametrize("extra_keys", [0, 1], ids=["single-jwks", "multiple-jwks"])
def test_token_without_kid_is_rejected(idp, extra_keys):
    idp.keys += [public_jwk(ATTACKER, "key-2")] * extra_keys
    assert rejected(idp, idp.sign(idp.claims(), headers={"kid": None})).reason == "kid"


@pytest.mark.parametrize("kid", [
    "../../../../dev/null", "' OR '1'='1", "x|sleep 10", "k" * 10_240, 7,
    {"kid": "key-1"}, "", ["key-1"],
], ids=["path-traversal", "sql", "shell", "10KB", "int", "object", "empty", "list"])
def test_kid_injection_is_rejected_quickly(idp, kid):
    token = rsa_signed(idp.key, {"alg": "RS256", "kid": kid}, idp.claims())
    start = time.monotonic()
    assert rejected(idp, token).reason in {"malformed", "kid", "unknown-kid"}
    assert time.monotonic() - start < 2


# --- B18: issuer, compared as an exact string -----------------------------------------

def test_exact_pool_issuer_is_accepted(idp):
    assert verify(idp, idp.id_token(iss=POOL), issuer=POOL)["iss"] == POOL


@pytest.mark.parametrize("iss", [
    POOL.replace("us-east-1.", "eu-west-1."), POOL.replace("_AbCd", "_XyZw"),
    POOL + "/", POOL.replace("https://", "http://"), POOL.replace("_AbCd", "_abcd"),
    POOL.upper(), POOL[:-1], POOL + "e", [POOL], "", None,
], ids=["other-region", "other-pool", "trailing-slash", "http", "case-change-pool-id",
        "upper-case", "prefix-of-pool-id", "pool-id-suffixed", "array", "empty",
        "missing"])
def test_issuer_variant_is_rejected(idp, iss):
    with pytest.raises(InvalidToken):
        verify(idp, hand_signed(idp, iss=iss), issuer=POOL)


# --- B19, C38: audience ---------------------------------------------------------------

@pytest.mark.parametrize("aud", [
    None, "otherclient456", [CLIENT_ID, "evilclient"], ["evilclient", CLIENT_ID], [],
    [CLIENT_ID, CLIENT_ID],
], ids=["missing", "other-client", "list-ours-plus-untrusted",
        "list-untrusted-plus-ours", "empty-list", "list-ours-twice"])
def test_audience_other_than_exactly_ours_is_rejected(idp, aud):
    assert rejected(idp, idp.id_token(aud=aud)).reason in {"claims", "audience"}


@pytest.mark.parametrize("azp", [
    "other456", "", [CLIENT_ID], CLIENT_ID.upper(), 7,
], ids=["other-client", "empty", "list", "case-change", "int"])
def test_authorized_party_other_than_ours_is_rejected(idp, azp):
    assert rejected(idp, idp.id_token(azp=azp)).reason == "audience"


@pytest.mark.parametrize("overrides", [
    {"aud": CLIENT_ID}, {"aud": [CLIENT_ID]}, {"aud": CLIENT_ID, "azp": CLIENT_ID},
], ids=["string", "single-item-list", "azp-ours"])
def test_audience_exactly_ours_is_accepted(idp, overrides):
    assert verify(idp, idp.id_token(**overrides))["aud"] == overrides["aud"]


# --- B20, B21, C27, C36: required claims and lifetimes --------------------------------

@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "token_use"])
def test_missing_required_claim_is_rejected(idp, claim):
    assert rejected(idp, idp.id_token(**{claim: None})).reason == "claims"


@pytest.mark.parametrize("sub", ["", 42, ["user"]], ids=["empty", "int", "list"])
def test_bad_sub_is_rejected(idp, sub):
    assert rejected(idp, hand_signed(idp, sub=sub)).reason in {"claims", "subject"}


DATE_CLAIMS = ["exp", "iat", "nbf", "auth_time"]
NOT_NUMBERS = ["string", "true", "false", "null", "infinity"]


def with_date(idp, claim: str, kind: str, **claims) -> dict:
    """Claims whose `claim` holds a sound time in a type RFC 7519 does not allow."""
    claims = idp.claims(nbf=int(time.time()), **claims)
    sound = claims[claim]
    value = {"string": str(sound), "true": True, "false": False, "null": None,
             "infinity": float("inf")}[kind]
    return {**claims, claim: value}  # idp.claims() would drop a None


@pytest.mark.parametrize("kind", NOT_NUMBERS)
@pytest.mark.parametrize("claim", DATE_CLAIMS)
def test_id_token_date_that_is_not_a_json_number_is_rejected(idp, claim, kind):
    token = rsa_signed(idp.key, GOOD, with_date(idp, claim, kind))
    error = rejected(idp, token)
    assert type(error) is InvalidToken and error.reason == "claims"


@pytest.mark.parametrize("kind", NOT_NUMBERS)
@pytest.mark.parametrize("claim", DATE_CLAIMS)
def test_access_token_date_that_is_not_a_json_number_is_rejected(idp, claim, kind):
    claims = with_date(idp, claim, kind, token_use="access", aud=None,
                       client_id=CLIENT_ID)
    with pytest.raises(InvalidToken) as info:
        tokens.verify_access_token(rsa_signed(idp.key, GOOD, claims),
                                   jwks_url=idp.jwks_url, issuer=idp.issuer,
                                   client_ids=[CLIENT_ID])
    assert type(info.value) is InvalidToken and info.value.reason == "claims"


def test_dates_may_be_fractional_seconds(idp):
    now = time.time()
    claims = idp.claims(iat=now - 0.5, nbf=now - 0.5, auth_time=now - 0.5,
                        exp=now + 3600.5)
    assert verify(idp, idp.sign(claims))["exp"] == claims["exp"]


@pytest.fixture
def now(time_machine) -> int:
    """Frozen wall clock, so that leeway boundaries are exact."""
    moment = int(time.time())
    time_machine.move_to(moment, tick=False)
    return moment


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_issued_or_valid_from_beyond_leeway_in_future_is_rejected(idp, now, claim):
    token = idp.id_token(**{claim: now + tokens.LEEWAY + 1})
    assert rejected(idp, token).reason in {"claims", "issued-at"}


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_issued_or_valid_from_within_leeway_is_accepted(idp, now, claim):
    assert verify(idp, idp.id_token(**{claim: now + tokens.LEEWAY}))[claim] > now


def test_expired_beyond_leeway_raises_expired_token(idp, now):
    with pytest.raises(ExpiredToken) as info:
        verify(idp, idp.id_token(iat=now - 3600, exp=now - tokens.LEEWAY - 1))
    assert info.value.reason == "expired"


def test_expired_within_leeway_is_accepted(idp, now):
    assert verify(idp, idp.id_token(iat=now - 3600, exp=now - tokens.LEEWAY + 1))


def test_leeway_is_at_most_60_seconds_and_the_default():
    assert 0 <= tokens.LEEWAY <= 60
    assert tokens.decode.__kwdefaults__["leeway"] == tokens.LEEWAY


@pytest.mark.parametrize("claims", [
    {"token_use": "access", "aud": None, "client_id": CLIENT_ID},
    {"token_use": "access"}, {"token_use": "ID"}, {"token_use": ["id"]},
], ids=["access-token-shape", "access-with-our-aud", "upper-case", "list"])
def test_wrong_token_use_is_rejected(idp, claims):
    assert rejected(idp, idp.id_token(**claims)).reason in {"claims", "token-use"}


def test_token_use_is_checked_even_with_our_audience(idp):
    assert rejected(idp, idp.id_token(token_use="access")).reason == "token-use"


# --- B22: nonce; at_hash --------------------------------------------------------------

@pytest.mark.parametrize("sent", [
    "other-nonce", None, "", 12345, ["expected-nonce"], "expected-nonce ", "nönce",
], ids=["mismatch", "missing", "empty", "int", "list", "trailing-space", "non-ascii"])
def test_nonce_other_than_expected_is_rejected(idp, sent):
    token = idp.id_token(nonce=sent)
    assert rejected(idp, token, nonce="expected-nonce").reason == "nonce"


def test_expected_nonce_is_accepted(idp):
    assert verify(idp, idp.id_token(nonce="n-123"), nonce="n-123")["nonce"] == "n-123"


@pytest.mark.parametrize("value", [
    "wrong", tokens.at_hash("other-access-token"), 7, "hâsh",
], ids=["garbage", "hash-of-other-token", "int", "non-ascii"])
def test_at_hash_mismatch_is_rejected(idp, value):
    token = idp.id_token(at_hash=value)
    assert rejected(idp, token, access_token="access-token").reason == "at-hash"


def test_matching_at_hash_is_accepted(idp):
    token = idp.id_token(at_hash=tokens.at_hash("access-token"))
    assert verify(idp, token, access_token="access-token")["at_hash"]


def test_at_hash_is_left_half_of_sha256_base64url():
    assert tokens.at_hash("abc") == b64(hashlib.sha256(b"abc").digest()[:16])


# --- C28: malformed input -------------------------------------------------------------

NOT_UTF8 = b"\xff\xfe"


def malformed(idp) -> dict[str, object]:
    claims, good = idp.claims(), GOOD
    head, payload, sig = idp.sign(claims).split(".")
    return {
        "none": None, "empty": "", "bytes": idp.id_token().encode(), "int": 42,
        "two-segments": f"{head}.{payload}",
        "four-segments": f"{head}.{payload}.{sig}.{sig}",
        "jwe-five-parts": f"{b64({'alg': 'RSA-OAEP', 'enc': 'A256GCM'})}.a.b.c.d",
        "bad-base64url": f"{head}.{payload}.!!!*",
        "bad-base64-header": f"@@.{payload}.{sig}",
        "header-not-json": f"{b64('not json')}.{payload}.{sig}",
        "header-not-utf8": f"{b64(NOT_UTF8)}.{payload}.{sig}",
        "header-json-array": f"{b64([good])}.{payload}.{sig}",
        "header-json-string": f"{b64(json.dumps('RS256'))}.{payload}.{sig}",
        "payload-json-array": rsa_signed(idp.key, good, [claims]),
        "alg-not-string": rsa_signed(idp.key, {**good, "alg": ["RS256"]}, claims),
        "kid-not-string": rsa_signed(idp.key, {**good, "kid": 1}, claims),
        "exp-not-numeric": idp.id_token(exp="tomorrow"),
        "iat-not-numeric": idp.id_token(iat="yesterday"),
        "iat-numeric-string": idp.id_token(iat=str(claims["iat"])),
        "100KB-validly-signed": idp.id_token(padding="x" * 75_000),
        "empty-segments": "..",
    }


MALFORMED = [
    "none", "empty", "bytes", "int", "two-segments", "four-segments", "jwe-five-parts",
    "bad-base64url", "bad-base64-header", "header-not-json", "header-not-utf8",
    "header-json-array", "header-json-string", "payload-json-array", "alg-not-string",
    "kid-not-string", "exp-not-numeric", "iat-not-numeric", "iat-numeric-string",
    "100KB-validly-signed", "empty-segments"]


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_input_is_rejected_as_invalid_token(idp, case):
    token = malformed(idp)[case]
    start = time.monotonic()
    rejected(idp, token)
    assert time.monotonic() - start < 2


# --- C37: another user pool -----------------------------------------------------------

@pytest.mark.parametrize("kid, iss", [
    ("attacker-kid", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil"),
    ("attacker-kid", "ours"), ("key-1", "ours"),
], ids=["own-kid-own-iss", "own-kid-iss-edited-to-ours", "our-kid-iss-edited-to-ours"])
def test_token_from_another_pool_is_rejected(idp, kid, iss):
    claims = idp.claims(iss=idp.issuer if iss == "ours" else iss)
    token = idp.sign(claims, key=ATTACKER, headers={"kid": kid})
    assert rejected(idp, token).reason in {"unknown-kid", "claims"}


# --- I66: static check of the trust path ----------------------------------------------

def kid_reads(tree: ast.AST) -> set[int]:
    """Names in `get_unverified_header(token).get("kid")`, a mere kid lookup."""
    return {id(call.func.value.func) for call in ast.walk(tree)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "get" and isinstance(call.func.value, ast.Call)
            and [ast.unparse(arg) for arg in call.args] == ["'kid'"]}


def trust_path_problems(source: str, path: str) -> list[str]:
    """Unsafe PyJWT usage in one module of blog/ (path relative to blog/)."""
    tree, problems = ast.parse(source), []
    # The local Cognito stand-in is the issuer, not the relying party: kid lookups only.
    allowed = kid_reads(tree) if path.startswith("localcognito/") else set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            pairs = [(getattr(k, "value", None), v)
                     for k, v in zip(node.keys, node.values, strict=False)]
        else:
            pairs = [(node.arg, node.value)] if isinstance(node, ast.keyword) else []
        for name, value in pairs:
            if name == "verify_signature" and ast.unparse(value) != "True":
                problems.append(f"{path}: verify_signature={ast.unparse(value)}")
            if name == "algorithms" and ast.unparse(value) != "['RS256']":
                problems.append(f"{path}: algorithms={ast.unparse(value)}")
        used = getattr(node, "attr", None) or getattr(node, "id", None) or (
            node.name if isinstance(node, ast.alias) else None)
        if (used == "get_unverified_header" and path != "tokens.py"
                and id(node) not in allowed):
            problems.append(f"{path}: get_unverified_header outside blog/tokens.py")
    return problems


@pytest.mark.parametrize("source, path", [
    ('jwt.decode(t, k, algorithms=["RS256"], options={"verify_signature": False})',
     "auth.py"),
    ("jwt.decode(t, k, algorithms=['RS256'], options=dict(verify_signature=False))",
     "tokens.py"),
    ('jwt.decode(t, k, algorithms=[jwt.get_unverified_header(t)["alg"]])', "tokens.py"),
    ("jwt.decode(t, k, algorithms=[header['alg']])", "tokens.py"),
    ("from jwt import get_unverified_header", "auth.py"),
    ("header = jwt.get_unverified_header(token)", "auth.py"),
    ('alg = jwt.get_unverified_header(token).get("alg")', "localcognito/keys.py"),
    ('kid = jwt.get_unverified_header(token).get("kid")', "auth.py"),
], ids=["options-dict", "options-kwargs", "alg-from-unverified-header",
        "alg-from-header", "import-unverified", "unverified-header",
        "local-issuer-reads-alg", "kid-read-outside-tokens"])
def test_static_check_flags_unsafe_code(source, path):
    assert trust_path_problems(source, path)


def test_static_check_allows_kid_lookup_in_local_issuer():
    source = 'kid = jwt.get_unverified_header(token).get("kid")'
    assert trust_path_problems(source, "localcognito/keys.py") == []


@pytest.mark.parametrize("path", sorted(p.relative_to(BLOG).as_posix()
                                        for p in BLOG.rglob("*.py")))
def test_trust_path_never_disables_signature_or_trusts_header(path):
    assert trust_path_problems((BLOG / path).read_text(), path) == []
