"""Parley's own SNS signing key: SHA1withRSA signatures (SignatureVersion 1) over HTTP notifications, and the
self-signed certificate served at /_parley/sns/cert.pem. Made on first use, once per process.

The key is 1,024 bits where AWS's certificates have 2,048: a signature then costs about 0.1 ms of CPU instead
of 0.7 ms, once per streamed message (measured in bench/stream_latency.py), and no local validator checks
the size; only Parley's own certificate can verify it anyway."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported on first use, not on `parley serve`'s startup path
    from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 1024


class SnsSigner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None
        self._cert: bytes | None = None

    def _ensure(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                from cryptography.hazmat.primitives.asymmetric import rsa

                self._key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
                self._cert = _certificate(self._key)
            return self._key

    def sign(self, text: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = self._ensure().sign(text.encode(), padding.PKCS1v15(), hashes.SHA1())
        return base64.b64encode(signature).decode()

    def certificate(self) -> bytes:
        self._ensure()
        assert self._cert is not None
        return self._cert


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parley-sns")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)
