"""A process-wide cache of signing keys fetched from a JWKS URL.

One cache per URL per process, so warm Lambda invocations and every app in a test
run reuse the keys. Unknown `kid`s trigger at most one refetch per cool-down, and
cached keys keep working while the endpoint is down.
"""

from __future__ import annotations

import logging
import threading
import time

import requests
from jwt import PyJWK
from jwt.exceptions import PyJWTError

log = logging.getLogger(__name__)

TTL = 3600  # seconds before a fetched key set is considered stale
COOLDOWN = 10  # at most one fetch per this many seconds, whatever the misses
RETRY_WITHOUT_KEYS = 1  # shorter while no key was ever fetched: nobody can log in
TIMEOUT = 3  # seconds for one fetch

clock = time.monotonic  # tests replace it to move time
_caches: dict[str, KeyCache] = {}
_caches_lock = threading.Lock()


class KeyCache:
    """The RS256 signing keys published at one JWKS URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keys: dict[str, PyJWK] = {}
        self.fetched_at = float("-inf")  # last successful fetch
        self.tried_at = float("-inf")  # last attempt, successful or not
        self.fetches = 0
        self.failing = False  # the last fetch failed
        self._lock = threading.Lock()

    def get(self, kid: str) -> PyJWK | None:
        """Return the key for `kid`, refetching when stale or unknown (rate-limited)."""
        now = clock()
        if kid in self.keys and now - self.fetched_at < TTL:
            return self.keys[kid]
        cooldown = COOLDOWN if self.keys else RETRY_WITHOUT_KEYS
        with self._lock:
            if now - self.tried_at >= cooldown and (
                kid not in self.keys or clock() - self.fetched_at >= TTL
            ):
                self._refresh()
        return self.keys.get(kid)

    def _refresh(self) -> None:
        self.tried_at = clock()
        self.fetches += 1
        try:
            response = requests.get(self.url, timeout=TIMEOUT, allow_redirects=False)
            response.raise_for_status()
            keys = parse_key_set(response.json())
        except (requests.RequestException, ValueError) as exc:
            self.failing = True
            log.warning(
                "JWKS fetch failed (%s); keeping %d cached keys",
                type(exc).__name__,
                len(self.keys),
            )
            return
        self.failing = False
        if keys:
            self.keys = keys
            self.fetched_at = self.tried_at
        else:
            log.warning("JWKS at %s holds no usable RS256 key", self.url)


def parse_key_set(document: object) -> dict[str, PyJWK]:
    """Map `kid` to key for each usable RS256 signing key; skip the rest."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", "RS256") != "RS256":
            continue
        try:
            keys[entry["kid"]] = PyJWK(entry, algorithm="RS256")
        except (PyJWTError, ValueError, TypeError, KeyError):
            continue
    return keys


def get_cache(url: str) -> KeyCache:
    """Return this process's cache for `url`, creating it on first use."""
    with _caches_lock:
        if url not in _caches:
            _caches[url] = KeyCache(url)
        return _caches[url]


def clear() -> None:
    """Forget every cached key set (for tests)."""
    with _caches_lock:
        _caches.clear()
