"""Stateless NextTokens: the position to continue after, bound to the caller and the query, HMAC-signed.

Valid on every node that shares the secret, and across restarts of a durable server.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from parley import canonical


class InvalidToken(ValueError):
    pass


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"parley/next-token/" + secret).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, hashlib.sha256)[:16]  # one C call: the same bytes as hmac.new

    def encode(self, binding: str, after: str) -> str:
        payload = json.dumps([binding, after], separators=(",", ":")).encode()
        return canonical.encode(self._mac(payload) + payload)

    def decode(self, binding: str, token: str) -> str:
        """The position inside `token`; raises InvalidToken for a forged token or one from another query."""
        try:
            blob = canonical.decode(token)
            if blob is None:
                raise InvalidToken("NextToken is invalid")
            mac, payload = blob[:16], blob[16:]
            if not hmac.compare_digest(mac, self._mac(payload)):
                raise InvalidToken("NextToken is invalid")
            bound, after = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise InvalidToken("NextToken is invalid") from exc
        if bound != binding or not isinstance(after, str):
            raise InvalidToken("NextToken belongs to another request")
        return after
