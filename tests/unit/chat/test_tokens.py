"""Participant tokens: derived, verifiable, unforgeable, never stored."""

from __future__ import annotations

import uuid

from parley.chat.tokens import CONNECTION, PARTICIPANT, TokenSigner


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
