"""Attachments (participant-api.md §3.6-3.8): a participant starts an upload, PUTs the bytes to the
URL Parley hands out, and completes it; the completed file becomes an ATTACHMENT item of the chat."""

from __future__ import annotations

from datetime import datetime

from parley.chat import events
from parley.chat.conversation import Caller, Outcome, record
from parley.chat.errors import AccessDenied, ConstraintViolation, Invalid, QuotaExceeded, StateConflict
from parley.chat.model import Attachment, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

# The file types a chat accepts (.csv .doc .docx .heic .jfif .jpeg .jpg .mov .mp4 .pdf .png .ppt .pptx
# .rtf .txt .wav .xls .xlsx), matched by MIME type [Doc feature-limits].
ALLOWED_TYPES = frozenset(
    {
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/heic",
        "image/jpeg",
        "image/pjpeg",
        "image/jfif",
        "video/quicktime",
        "video/mp4",
        "application/pdf",
        "image/png",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/rtf",
        "text/rtf",
        "text/plain",
        "audio/wav",
        "audio/x-wav",
        "audio/wave",
        "audio/vnd.wave",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
SCAN_STATUS = {"approve": "APPROVED", "reject": "REJECTED", "pending": "IN_PROGRESS"}


class UploadRefused(AccessDenied):
    """A PUT to an upload URL that does not match what was started (S3 would answer 403)."""


def base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def start(
    repo: Repo,
    caller: Caller,
    content_type: str,
    size: int,
    name: str,
    now: datetime,
    ids: IdSource,
    policy: Policy,
) -> Attachment:
    """StartAttachmentUpload: type, size and the per-chat count are checked before anything is kept."""
    if base_type(content_type) not in ALLOWED_TYPES:
        raise ConstraintViolation(
            f"ContentType {content_type} is not an attachment type Amazon Connect accepts "
            "(csv, doc(x), heic, jfif, jp(e)g, mov, mp4, pdf, png, ppt(x), rtf, txt, wav, xls(x))"
        )
    if size > policy.attachment_max_bytes:
        raise ConstraintViolation(
            f"AttachmentSizeInBytes {size} is over the limit of {policy.attachment_max_bytes} bytes"
        )
    cap = policy.attachments_per_chat
    if cap and repo.count_attachments(caller.scope, caller.contact.id) >= cap:
        raise QuotaExceeded(f"This chat already has {cap} attachments, the most a chat can have")
    attachment = Attachment(
        id=ids(),
        contact_id=caller.contact.id,
        chain_id=caller.contact.chain_id,
        participant_id=caller.participant.id,
        name=name,
        content_type=content_type,
        size=size,
        started_at=now,
    )
    repo.put_attachment(caller.scope, attachment)
    return attachment


def check_upload(attachment: Attachment, size: int, content_type: str | None) -> None:
    """The PUT of the bytes: exactly the declared size and type, and only before completion."""
    if attachment.completed_at is not None:
        raise UploadRefused(f"Attachment {attachment.id} is already complete")
    if size != attachment.size:
        raise UploadRefused(f"The upload is {size} bytes; {attachment.size} were declared")
    if content_type is not None and base_type(content_type) != base_type(attachment.content_type):
        raise UploadRefused(f"Content-Type {content_type} does not match the declared {attachment.content_type}")


def _own(repo: Repo, caller: Caller, attachment_id: str) -> Attachment:
    attachment = repo.get_attachment(caller.scope, attachment_id)
    if attachment is None or attachment.participant_id != caller.participant.id:
        raise Invalid(f"AttachmentId {attachment_id} is not an upload this participant started")
    return attachment


def complete(
    repo: Repo, caller: Caller, attachment_ids: list[str], now: datetime, ids: IdSource, policy: Policy
) -> Outcome:
    """CompleteAttachmentUpload: the uploaded file joins the chat as an ATTACHMENT item."""
    if len(attachment_ids) != 1:
        raise ConstraintViolation("AttachmentIds takes exactly one id")
    attachment = _own(repo, caller, attachment_ids[0])
    if attachment.completed_at is not None:
        raise StateConflict(f"Attachment {attachment.id} has already been completed")
    if attachment.uploaded_at is None:
        raise Invalid(f"Attachment {attachment.id} has not been uploaded: PUT it to the upload URL first")
    status = SCAN_STATUS[policy.attachment_scan]
    attachment.completed_at, attachment.status = now, status
    repo.put_attachment(caller.scope, attachment)
    outcome = Outcome(caller)
    item = events.attachment(caller.contact, caller.participant, attachment, status, now, ids)
    outcome.item = record(repo, caller.scope, outcome.items, item)
    return outcome


def for_download(repo: Repo, caller: Caller, attachment_id: str) -> Attachment:
    """GetAttachment: any participant of the chain but a custom bot, once the file is approved."""
    if caller.participant.role == "CUSTOM_BOT":
        raise AccessDenied("Access denied: a custom bot cannot get attachments")
    attachment = repo.get_attachment(caller.scope, attachment_id)
    chains = {caller.contact.chain_id, caller.contact.continued_from}
    if attachment is None or attachment.chain_id not in chains or attachment.completed_at is None:
        raise Invalid(f"AttachmentId {attachment_id} is not an attachment of this chat")
    if attachment.status != "APPROVED":
        raise Invalid(f"Attachment {attachment_id} is {attachment.status}, not APPROVED")
    return attachment


def _find(repo: Repo, attachment_id: str) -> tuple[Scope, Attachment]:
    found = repo.find_attachment(attachment_id)
    if found is None:
        raise UploadRefused(f"No attachment {attachment_id}")
    return found


def accept_upload(repo: Repo, attachment_id: str, data: bytes, content_type: str | None, now: datetime) -> None:
    """The bytes PUT to an upload URL, kept beside the attachment; a second PUT replaces the first."""
    scope, attachment = _find(repo, attachment_id)
    check_upload(attachment, len(data), content_type)
    attachment.uploaded_at = now
    repo.put_attachment(scope, attachment)
    repo.put_attachment_data(scope, attachment.id, data)


def download(repo: Repo, attachment_id: str) -> tuple[Attachment, bytes]:
    """The bytes a download URL serves: an approved attachment's."""
    scope, attachment = _find(repo, attachment_id)
    data = repo.attachment_data(scope, attachment.id)
    if attachment.status != "APPROVED" or data is None:
        raise UploadRefused(f"Attachment {attachment_id} cannot be downloaded")
    return attachment, data
