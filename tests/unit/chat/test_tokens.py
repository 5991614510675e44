"""Participant tokens: derived, verifiable, unforgeable, never stored."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

import pytest

from parley.chat.tokens import _MAC_BYTES, CONNECTION, PARTICIPANT, TokenSigner
from parley.protocol.pagination import InvalidToken, PageTokens


def test_a_token_names_its_participant_and_is_stable() -> None:
    signer = TokenSigner(b"k" * 32)
    pid = str(uuid.uuid4())
    token = signer.participant_token(pid)
    assert signer.participant_token(pid) == token
    assert signer.read(PARTICIPANT, token) == pid


def test_forged_truncated_foreign_and_wrong_kind_tokens_are_refused() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.participant_token(str(uuid.uuid4()))
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert signer.read(PARTICIPANT, flipped) is None
    assert signer.read(PARTICIPANT, token[:-4]) is None
    assert TokenSigner(b"other" * 8).read(PARTICIPANT, token) is None
    assert signer.read(CONNECTION, token) is None
    assert signer.read(PARTICIPANT, "garbage!!") is None


def test_the_mac_carries_at_least_128_bits() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.participant_token(str(uuid.uuid4()))
    # 1 kind byte + 16 id bytes + the MAC, base64url: the MAC part alone is >= 128 bits.
    assert (len(token) * 6) // 8 - 17 >= 16


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_spellings(token: str) -> list[str]:
    """Strings that decode to the same bytes as `token` under a lenient base64 decoder: the unused
    low bits of the last character set differently, padding, and characters outside the alphabet."""
    last = B64URL.index(token[-1])
    unused = {2: 4, 3: 2}.get(len(token) % 4, 0)  # 50 characters: the last one carries 4 unused bits
    spellings = [token[:-1] + B64URL[last ^ bit] for bit in range(1, 1 << unused)]
    return [*spellings, token + "==", token[:10] + "!" + token[10:], token[:10] + "\n" + token[10:]]


def test_every_token_has_exactly_one_spelling() -> None:
    """Issue 12, defect 1: a one-bit-altered ParticipantToken (last `i` -> `j`) was accepted."""
    signer = TokenSigner(b"k" * 32)
    pid = str(uuid.uuid4())
    for kind, token in (
        (PARTICIPANT, signer.participant_token(pid)),
        (b"J", signer.issue(b"J", pid)),
    ):
        assert signer.read(kind, token) == pid
        spellings = other_spellings(token)
        assert len(spellings) >= 4
        assert [s for s in spellings if signer.read(kind, s) is not None] == []
    stamped = signer.issue_stamped(CONNECTION, pid, datetime(2026, 1, 1, tzinfo=UTC))
    assert signer.read_stamped(CONNECTION, stamped) is not None
    assert [s for s in other_spellings(stamped) if signer.read_stamped(CONNECTION, s) is not None] == []


def test_a_next_token_has_exactly_one_spelling() -> None:
    pages = PageTokens(b"k" * 32)
    token = pages.encode("binding", "after-this")
    assert pages.decode("binding", token) == "after-this"
    for spelling in other_spellings(token):
        with pytest.raises(InvalidToken):
            pages.decode("binding", spelling)


@pytest.mark.parametrize("key_length", [0, 1, 32, 63, 64, 65, 200])
def test_the_token_mac_is_hmac_sha256_under_the_secret(key_length: int) -> None:
    key = bytes(range(256))[:key_length]
    signer = TokenSigner(key)
    for message in (b"", b"P" + bytes(16), bytes(range(100))):
        assert signer._mac(message[:1], message[1:]) == hmac.digest(key, message, hashlib.sha256)[:_MAC_BYTES]
