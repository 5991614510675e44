"""SigV4 verification of Connect requests, used when `--strict-auth` is on (conventions.md §5).

The canonical request is built by botocore's own signer (`SigV4Auth`, subclassed) from what arrived on the
wire: the RAW path (so a `%2F` inside an ARN label is signed as the client signed it), the query decoded and
re-encoded as SigV4 prescribes, exactly the headers the client lists in `SignedHeaders`, and the SHA-256 of
the body actually received. The timestamp must be within the clock-skew window of the host's real clock and
the signatures are compared in constant time. Every refusal is an AWS common error (auth errors come before
any operation runs). This module owns no settings and knows nothing about chat: it takes the key table.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, unquote

from parley.protocol.errors import ServiceError

if TYPE_CHECKING:
    from botocore.awsrequest import HTTPHeaders

ALGORITHM = "AWS4-HMAC-SHA256"
SKEW_SECONDS = 15 * 60
AMZ_DATE = "%Y%m%dT%H%M%SZ"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
# What the verifier can answer, with the status AWS sends each with (AWS common errors; the last one is
# the name AWS's JSON services use for a wrong signature).
AUTH_ERRORS: dict[str, int] = {
    "MissingAuthenticationToken": 403,
    "IncompleteSignature": 400,
    "InvalidClientTokenId": 403,
    "RequestExpired": 400,
    "InvalidSignatureException": 403,
}


def refusal(code: str, message: str) -> ServiceError:
    return ServiceError(code, AUTH_ERRORS[code], message)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as it arrived: raw path and query, headers in order (names lower-case), the body."""

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True, slots=True)
class Authorization:
    """The parts of an `Authorization: AWS4-HMAC-SHA256 …` header."""

    access_key: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization:
    """The header's parts; IncompleteSignature when one is missing or malformed."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise refusal("IncompleteSignature", f"Authorization header requires the {ALGORITHM} algorithm.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, text = item.strip().partition("=")
        if sep:
            parts[key] = text.strip()
    for needed in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(needed):
            raise refusal(
                "IncompleteSignature",
                f"Authorization header requires '{needed}' parameter. Authorization={value[:200]}",
            )
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        raise refusal(
            "IncompleteSignature",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{parts['Credential'][:200]}'",
        )
    headers = tuple(parts["SignedHeaders"].split(";"))
    key, date, region, service, terminator = scope
    return Authorization(key, date, region, service, terminator, headers, parts["Signature"])


def request_time(request: SignedRequest) -> tuple[str, datetime]:
    """The signing time from X-Amz-Date (or Date), as SigV4 text and as an instant."""
    amz = request.header("x-amz-date")
    try:
        if amz is not None:
            return amz, datetime.strptime(amz, AMZ_DATE).replace(tzinfo=UTC)
        date = request.header("date")
        if date is not None:
            instant = parsedate_to_datetime(date).astimezone(UTC)
            return instant.strftime(AMZ_DATE), instant
    except (ValueError, TypeError):
        raise refusal(
            "IncompleteSignature", "X-Amz-Date must be in ISO 8601 basic format (yyyyMMddTHHmmssZ)."
        ) from None
    raise refusal(
        "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def canonical_query(raw_query: str) -> str:
    """Each name and value percent-decoded, then encoded as SigV4 prescribes, sorted."""
    pairs = []
    for item in filter(None, raw_query.split("&")):
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


class _Botocore(NamedTuple):
    """botocore's signing parts, imported only when a verifier is made (--strict-auth): serving without it
    never imports botocore (start-up, BENCHMARKS.md)."""

    canonicalizer: Any
    request: Any
    credentials: Any
    headers: Any


@functools.cache
def _botocore() -> _Botocore:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest, HTTPHeaders
    from botocore.credentials import Credentials

    class Canonicalizer(SigV4Auth):  # type: ignore[misc]
        """botocore's SigV4 signer, told which headers were signed and what the query was."""

        def __init__(self, credentials: Credentials, auth: Authorization, signed: HTTPHeaders, query: str) -> None:
            super().__init__(credentials, auth.service, auth.region)
            self._signed = signed
            self._query = query

        def headers_to_sign(self, request: Any) -> HTTPHeaders:
            return self._signed

        def canonical_query_string(self, request: Any) -> str:
            return self._query

    return _Botocore(Canonicalizer, AWSRequest, Credentials, HTTPHeaders)


class SigV4Verifier:
    """Checks a Connect request's SigV4 signature against a table of access key id -> secret key."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        service: str = "connect",
        wall_clock: Callable[[], float] = time.time,
        skew_seconds: int = SKEW_SECONDS,
    ) -> None:
        self._keys = dict(credentials)
        self._botocore = _botocore()
        self._service = service
        self._now = wall_clock  # the host's real clock: SDKs sign with it, even under --clock virtual
        self._skew = skew_seconds

    def verify(self, request: SignedRequest) -> Authorization:
        """The verified authorization; raises the AWS error a refused request gets."""
        header = request.header("authorization")
        if header is None:
            raise refusal("MissingAuthenticationToken", "Missing Authentication Token")
        auth = parse_authorization(header)
        secret = self._keys.get(auth.access_key)
        if secret is None:
            raise refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
        self._check_scope(auth)
        stamp, instant = request_time(request)
        self._check_time(auth, stamp, instant)
        signed = self._signed_headers(request, auth)
        self._check_body_hash(request)
        expected = self._signature(request, auth, secret, signed, stamp)
        if not hmac.compare_digest(expected.encode(), auth.signature.encode("utf-8", "replace")):
            raise refusal("InvalidSignatureException", SIGNATURE_MISMATCH)
        return auth

    def _check_scope(self, auth: Authorization) -> None:
        if auth.service != self._service:
            raise refusal(
                "InvalidSignatureException", f"Credential should be scoped to correct service: '{self._service}'."
            )
        if auth.terminator != "aws4_request":
            raise refusal(
                "InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request'."
            )

    def _check_time(self, auth: Authorization, stamp: str, instant: datetime) -> None:
        if auth.date != stamp[:8]:
            raise refusal(
                "InvalidSignatureException",
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{auth.date[:16]}' != '{stamp[:8]}'",
            )
        now = self._now()
        drift = instant.timestamp() - now
        if abs(drift) > self._skew:
            shown = datetime.fromtimestamp(now, UTC).strftime(AMZ_DATE)
            which = "earlier" if drift < 0 else "later"
            raise refusal(
                "RequestExpired",
                f"Signature expired: {stamp} is now {which} than {shown} "
                f"({'-' if drift < 0 else '+'} {self._skew // 60} min.)",
            )

    def _signed_headers(self, request: SignedRequest, auth: Authorization) -> HTTPHeaders:
        names = set(auth.signed_headers)
        if "host" not in names:
            raise refusal(
                "IncompleteSignature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        signed = self._botocore.headers()
        for name, value in request.headers:
            if name in names:
                signed[name] = value
        missing = sorted(names - set(signed))
        if missing:
            raise refusal(
                "InvalidSignatureException",
                f"{SIGNATURE_MISMATCH} Signed headers not in the request: {';'.join(missing)[:200]}",
            )
        return signed

    def _check_body_hash(self, request: SignedRequest) -> None:
        claimed = request.header("x-amz-content-sha256")
        if claimed is not None and not hmac.compare_digest(
            claimed.encode("utf-8", "replace"), hashlib.sha256(request.body).hexdigest().encode()
        ):
            raise refusal(
                "InvalidSignatureException",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )

    def _signature(
        self, request: SignedRequest, auth: Authorization, secret: str, signed: HTTPHeaders, stamp: str
    ) -> str:
        botocore = self._botocore
        credentials = botocore.credentials(auth.access_key, secret)
        canonicalizer = botocore.canonicalizer(credentials, auth, signed, canonical_query(request.raw_query))
        # No headers on the AWSRequest: botocore then hashes the body it is given instead of trusting a header.
        url = f"http://parley{request.raw_path}"
        aws = botocore.request(method=request.method, url=url, headers={}, data=request.body)
        aws.context["timestamp"] = stamp
        canonical = canonicalizer.canonical_request(aws)
        return str(canonicalizer.signature(canonicalizer.string_to_sign(aws, canonical), aws))
