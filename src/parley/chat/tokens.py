"""Tokens: derived from a server secret, never stored, verifiable on every node.

A token is `base64url(kind || participant uuid || [expiry] || HMAC-SHA256(secret, all before)[:20])`:
160 bits of MAC, so a guess succeeds with probability 2^-160; the same participant always gets
the same ParticipantToken (an idempotent retry returns it verbatim); a database leak reveals none.
A ConnectionToken and a WebSocket credential also carry the moment they stop (or started) being valid.
Each token has exactly one spelling (canonical.py): an altered string never verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from parley import canonical

_MAC_BYTES = 20
PARTICIPANT = b"P"
CONNECTION = b"C"
WEBSOCKET = b"W"


@dataclass(frozen=True, slots=True)
class Stamped:
    """A participant id and the instant the token carries (expiry or issue time)."""

    participant_id: str
    moment: datetime


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        # The key is padded and hashed once here; a MAC copies that state (hmac's own copy, a C call) instead of
        # keying again as hmac.digest does on every call: 1.8 µs a MAC against 2.8 µs.
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def _mac(self, kind: bytes, ident: bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(kind + ident)
        return mac.digest()[:_MAC_BYTES]

    def issue(self, kind: bytes, ident: str) -> str:
        raw = uuid.UUID(ident).bytes
        return canonical.encode(kind + raw + self._mac(kind, raw))

    def read(self, kind: bytes, token: str) -> str | None:
        """The id the token was issued for, or None for anything forged, truncated or of another kind."""
        blob = canonical.decode(token)
        if blob is None or len(blob) != 1 + 16 + _MAC_BYTES or blob[:1] != kind:
            return None
        raw, mac = blob[1:17], blob[17:]
        if not hmac.compare_digest(mac, self._mac(kind, raw)):
            return None
        return str(uuid.UUID(bytes=raw))

    def bearer_owner(self, token: str) -> str | None:
        """The participant a ConnectionToken or ParticipantToken was issued to (valid or expired), else None."""
        stamped = self.read_stamped(CONNECTION, token)
        return stamped.participant_id if stamped is not None else self.read(PARTICIPANT, token)

    def participant_token(self, participant_id: str) -> str:
        return self.issue(PARTICIPANT, participant_id)

    def issue_stamped(self, kind: bytes, ident: str, moment: datetime) -> str:
        raw = uuid.UUID(ident).bytes + struct.pack(">Q", int(moment.timestamp() * 1000))
        return canonical.encode(kind + raw + self._mac(kind, raw))

    def read_stamped(self, kind: bytes, token: str) -> Stamped | None:
        blob = canonical.decode(token)
        if blob is None or len(blob) != 1 + 24 + _MAC_BYTES or blob[:1] != kind:
            return None
        raw, mac = blob[1:25], blob[25:]
        if not hmac.compare_digest(mac, self._mac(kind, raw)):
            return None
        (millis,) = struct.unpack(">Q", raw[16:])
        return Stamped(str(uuid.UUID(bytes=raw[:16])), datetime.fromtimestamp(millis / 1000, UTC))
