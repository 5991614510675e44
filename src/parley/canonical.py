"""Canonical unpadded base64url: every value Parley signs has exactly one spelling.

A lenient decoder accepts many strings for the same bytes (unused low bits of the last character,
padding, characters outside the alphabet), so a token altered by one bit would still verify. Here a
string decodes only if encoding the result gives the string back. Pure; imported by chat and protocol.
"""

from __future__ import annotations

import base64
import binascii


def encode(blob: bytes) -> str:
    return base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")


def decode(text: str) -> bytes | None:
    """The bytes `text` spells, or None unless `text` is exactly their unpadded base64url encoding."""
    if not text.isascii():
        return None
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return blob if encode(blob) == text else None
