"""A process-wide cache of signing keys fetched from a JWKS URL.

One cache per URL per process, so warm Lambda invocations and every app in a test
run reuse the keys. An unknown `kid` triggers one refetch, so a key the pool has just
rotated in is accepted at once. A fetch that fails, or that still lacks the `kid` it
was made for, starts a cool-down: no fetch for COOLDOWN seconds (RETRY_WITHOUT_KEYS
while no key was ever fetched), however many unknown `kid`s arrive (aws-jwt-verify's
penalty box). The first load and the hourly refresh start none. Cached keys keep
working while the endpoint is down.
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
COOLDOWN = 10  # seconds without fetches after a failed or fruitless one
RETRY_WITHOUT_KEYS = 1  # shorter while no key was ever fetched: nobody can log in
TIMEOUT = 3  # seconds for one fetch

clock = time.monotonic  # tests replace it to move time
_caches: dict[str, KeyCache] = {}
_caches_lock = threading.Lock()


class Unavailable(Exception):
    """The `kid` is unknown and the keys cannot be fetched now: judge it later."""


class KeyCache:
    """The RS256 signing keys published at one JWKS URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keys: dict[str, PyJWK] = {}
        self.fetched_at = float("-inf")  # last fetch that gave usable keys
        self.cooldown_from = float("-inf")  # last failed or fruitless fetch
        self.lacked: str | None = None  # a kid missing from a set fetched for it
        self.fetches = 0
        self._lock = threading.Lock()

    def get(self, kid: str) -> PyJWK | None:
        """The key for `kid`, refetched when stale or unknown unless cooling down.

        None means a set fetched for `kid` lacks it; `Unavailable` that no such set
        could be fetched (the endpoint failed, or the cool-down holds).
        """
        if not self._fresh(kid):
            with self._lock:
                wait = COOLDOWN if self.keys else RETRY_WITHOUT_KEYS
                if not self._fresh(kid) and clock() - self.cooldown_from >= wait:
                    self._fetch(kid)
        key = self.keys.get(kid)  # fresh, or stale while the endpoint is down
        if key is None and kid != self.lacked:
            raise Unavailable()
        return key

    def _fresh(self, kid: str) -> bool:
        return kid in self.keys and clock() - self.fetched_at < TTL

    def _fetch(self, kid: str) -> None:
        started = clock()
        self.fetches += 1
        try:
            response = requests.get(self.url, timeout=TIMEOUT, allow_redirects=False)
            response.raise_for_status()
            keys = parse_key_set(response.json())
        except (requests.RequestException, ValueError) as exc:
            self.cooldown_from = started
            log.warning(
                "JWKS fetch failed (%s); keeping %d cached keys",
                type(exc).__name__,
                len(self.keys),
            )
            return
        if keys:
            self.keys, self.fetched_at = keys, started
        else:
            log.warning("JWKS at %s holds no usable RS256 key", self.url)
        if kid not in keys:  # an attacker's kid, or a retired key
            self.lacked, self.cooldown_from = kid, started


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
