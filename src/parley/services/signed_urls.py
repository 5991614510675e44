"""The URLs Parley hands out and serves itself: attachment bytes under `/_parley/blobs/`, and the
sign-in page of an authentication session under `/_parley/authenticate/`.

A blob URL's `sig` is a stamped token (tokens.py) naming the attachment, what the URL may do
(upload, or download inline / as an attachment) and when it stops working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from parley.chat.model import Attachment
from parley.chat.tokens import TokenSigner
from parley.services.base import Output, RequestContext
from parley.services.connections import wall_now

UPLOAD = b"U"
SIGN_IN = b"S"
DOWNLOADS = {"INLINE": b"I", "ATTACHMENT": b"A"}
UPLOAD_URL_SECONDS = 300  # participant-api.md §3.6
PATH = "/_parley/blobs/"
SIGN_IN_PATH = "/_parley/authenticate/"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a verified URL allows."""

    attachment_id: str
    upload: bool
    disposition: str  # for downloads: INLINE | ATTACHMENT


class SignedUrls:
    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer

    def _url(self, ctx: RequestContext, attachment_id: str, kind: bytes, expiry: datetime) -> str:
        sig = self._signer.issue_stamped(kind, attachment_id, expiry)
        return f"{ctx.base_url}{PATH}{quote(attachment_id)}?sig={sig}"

    def upload(self, ctx: RequestContext, attachment: Attachment) -> Output:
        return self.upload_of(ctx, attachment.id, attachment.content_type)

    def upload_of(self, ctx: RequestContext, attachment_id: str, content_type: str) -> Output:
        expiry = max(ctx.now, wall_now()) + timedelta(seconds=UPLOAD_URL_SECONDS)
        return {
            "Url": self._url(ctx, attachment_id, UPLOAD, expiry),
            "UrlExpiry": expiry,
            "HeadersToInclude": {"Content-Type": content_type},
        }

    def download(self, ctx: RequestContext, attachment: Attachment, seconds: int, disposition: str) -> Output:
        expiry = max(ctx.now, wall_now()) + timedelta(seconds=seconds)
        return {
            "Url": self._url(ctx, attachment.id, DOWNLOADS[disposition], expiry),
            "UrlExpiry": expiry,
            "AttachmentSizeInBytes": attachment.size,
        }

    def verify(self, attachment_id: str, sig: str, now: datetime) -> Grant | str:
        """The grant a URL carries, or why it is refused."""
        for kind in (UPLOAD, *DOWNLOADS.values()):
            stamped = self._signer.read_stamped(kind, sig)
            if stamped is None:
                continue
            if stamped.participant_id != attachment_id:
                return "The signature does not match this attachment"
            if stamped.moment <= max(now, wall_now()):
                return "The URL has expired"
            disposition = next((d for d, k in DOWNLOADS.items() if k == kind), "ATTACHMENT")
            return Grant(attachment_id, kind == UPLOAD, disposition)
        return "The signature is not valid"

    def sign_in(self, ctx: RequestContext, contact_id: str, session_id: str, redirect_uri: str) -> str:
        query = urlencode({"redirect_uri": redirect_uri, "sig": self._signer.issue(SIGN_IN, session_id)})
        return f"{ctx.base_url}{SIGN_IN_PATH}{quote(contact_id)}/{quote(session_id)}?{query}"

    def verify_sign_in(self, session_id: str, sig: str) -> bool:
        return self._signer.read(SIGN_IN, sig) == session_id
