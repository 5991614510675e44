"""The Participant Service (`connectparticipant`, 2018-09-07): one async method per operation.

Authorised by `X-Amz-Bearer`: the ParticipantToken for CreateParticipantConnection, a
ConnectionToken for everything else. Any SigV4 signature is ignored. Items an operation creates
are pushed to the contact's sockets once its unit of work has committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parley.chat import events
from parley.chat.errors import (
    AccessDenied,
    ConstraintViolation,
    DomainError,
    Invalid,
    NotFound,
    QuotaExceeded,
    StateConflict,
)
from parley.chat.model import Item, Scope, View
from parley.chat.tokens import CONNECTION, PARTICIPANT
from parley.lazy import LazyModule
from parley.protocol.errors import modelled
from parley.protocol.pagination import InvalidToken
from parley.protocol.validate import parse_timestamp
from parley.services.base import VALIDATION, Handler, Output, RequestContext, UnitRunner
from parley.services.connections import wall_now
from parley.services.deps import AwsService, ServiceDeps
from parley.services.effects import Committed, Effects
from parley.services.push import item_output
from parley.services.signed_urls import SignedUrls

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import attachments, authentication, conversation, transcript
else:
    attachments = LazyModule("parley.chat.attachments", globals())
    authentication = LazyModule("parley.chat.authentication", globals())
    conversation = LazyModule("parley.chat.conversation", globals())
    transcript = LazyModule("parley.chat.transcript", globals())

ERRORS: dict[type[DomainError], str] = {
    AccessDenied: "AccessDeniedException",
    NotFound: VALIDATION,
    Invalid: VALIDATION,
    ConstraintViolation: VALIDATION,
    StateConflict: "ConflictException",
    QuotaExceeded: "ServiceQuotaExceededException",
}


class ParticipantService(AwsService):
    name = "connectparticipant"

    def __init__(self, deps: ServiceDeps, urls: SignedUrls) -> None:
        super().__init__(deps)
        self._urls = urls
        self._units = UnitRunner(deps.store, deps.settings, ERRORS, deps.after, mismatch_is_new=True)
        self.handlers: dict[str, Handler] = {
            "CreateParticipantConnection": self.create_participant_connection,
            "SendMessage": self.send_message,
            "SendEvent": self.send_event,
            "GetTranscript": self.get_transcript,
            "DisconnectParticipant": self.disconnect_participant,
            "StartAttachmentUpload": self.start_attachment_upload,
            "CompleteAttachmentUpload": self.complete_attachment_upload,
            "GetAttachment": self.get_attachment,
            "DescribeView": self.describe_view,
            "GetAuthenticationUrl": self.get_authentication_url,
            "CancelParticipantAuthentication": self.cancel_participant_authentication,
        }

    # -- tokens --------------------------------------------------------------------------------
    def _connection_participant(self, ctx: RequestContext, token: str) -> str | None:
        stamped = self._signer.read_stamped(CONNECTION, token)
        if stamped is None:
            return None
        if stamped.moment <= max(ctx.now, wall_now()):
            raise modelled(self.name, "AccessDeniedException", "Access denied: the ConnectionToken has expired")
        return stamped.participant_id

    def _owner(self, participant_id: str | None) -> Scope:
        """Participant ClientTokens are kept per participant (participant-api.md §7)."""
        return Scope("participant", participant_id or "-")

    # -- operations ----------------------------------------------------------------------------
    async def create_participant_connection(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        participant_id = self._signer.read(PARTICIPANT, req["ParticipantToken"])
        types: list[str] = req.get("Type") or []

        def unit(repo: Any) -> Committed:
            caller = conversation.resolve(repo, participant_id, ctx.now)
            strict = self._policy.connect_participant_strict
            wants = bool(req.get("ConnectParticipant"))
            outcome = conversation.connect(repo, caller, types, wants, ctx.now, self._ids, strict)
            deadline = conversation.next_deadline(repo, caller.scope, caller.contact, ctx.now, self._policy)
            output = self._issuer.blocks(ctx, caller.participant.id, types, (caller.contact, caller.participant))
            effects = Effects(items=outcome.items).deadline(caller.scope, caller.contact.id, deadline)
            return Committed(output, effects.kick(caller.scope, caller.contact.id, "connected"))

        return await self._units.commit(ctx, req, unit)

    async def _act(
        self,
        ctx: RequestContext,
        req: dict[str, Any],
        act: Callable[[Any, conversation.Caller], conversation.Outcome],
        answer: Callable[[conversation.Outcome], Output],
        kick: str | None = None,
    ) -> Output:
        """The shape of every ConnectionToken operation that changes the chat: verify the token, resolve the
        caller inside the unit of work, act, answer; push what it created once committed."""
        participant_id = self._connection_participant(ctx, req["ConnectionToken"])

        def unit(repo: Any) -> Committed:
            outcome = act(repo, conversation.resolve(repo, participant_id, ctx.now))
            effects = Effects(items=outcome.items)
            if kick is not None:
                effects.kick(outcome.caller.scope, outcome.caller.contact.id, kick)
            return Committed(answer(outcome), effects)

        return await self._units.commit(ctx, req, unit, owner=self._owner(participant_id))

    async def send_message(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._act(
            ctx,
            req,
            lambda repo, caller: conversation.send_message(
                repo, caller, req["ContentType"], req["Content"], ctx.now, self._ids, self._policy
            ),
            _item_answer,
        )

    async def send_event(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        # connection.acknowledged is a connection like CreateParticipantConnection's: it may start the flow
        kick = "connected" if req["ContentType"] == events.ACKNOWLEDGED else None
        return await self._act(
            ctx,
            req,
            lambda repo, caller: conversation.send_event(
                repo, caller, req["ContentType"], req.get("Content"), ctx.now, self._ids, self._policy
            ),
            _item_answer,
            kick,
        )

    async def disconnect_participant(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._act(
            ctx, req, lambda repo, caller: conversation.disconnect(repo, caller, ctx.now, self._ids), lambda _: {}
        )

    # -- attachments ---------------------------------------------------------------------------
    async def start_attachment_upload(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        participant_id = self._connection_participant(ctx, req["ConnectionToken"])

        def unit(repo: Any) -> Any:
            caller = conversation.resolve(repo, participant_id, ctx.now)
            return attachments.start(
                repo,
                caller,
                req["ContentType"],
                req["AttachmentSizeInBytes"],
                req["AttachmentName"],
                ctx.now,
                self._ids,
                self._policy,
            )

        def present(attachment: Any) -> Output:
            return {"AttachmentId": attachment.id}  # the upload URL is a capability: never stored

        def reveal(stored: Output) -> Output:
            upload = self._urls.upload_of(ctx, stored["AttachmentId"], req["ContentType"])
            return {**stored, "UploadMetadata": upload}

        owner = self._owner(participant_id)
        return await self._units.write(ctx, req, unit, present, owner=owner, reveal=reveal)

    async def complete_attachment_upload(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._act(
            ctx,
            req,
            lambda repo, caller: attachments.complete(
                repo, caller, req["AttachmentIds"], ctx.now, self._ids, self._policy
            ),
            lambda _: {},
        )

    async def get_attachment(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        participant_id = self._connection_participant(ctx, req["ConnectionToken"])

        def unit(repo: Any) -> Any:
            caller = conversation.resolve(repo, participant_id, ctx.now)
            return attachments.for_download(repo, caller, req["AttachmentId"])

        def present(attachment: Any) -> Output:
            seconds = req.get("UrlExpiryInSeconds") or 300
            return self._urls.download(ctx, attachment, seconds, req.get("UrlContentDisposition") or "ATTACHMENT")

        return await self._units.read(ctx, unit, present)

    # -- views and authentication --------------------------------------------------------------
    async def describe_view(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        participant_id = self._connection_participant(ctx, req["ConnectionToken"])
        token = req["ViewToken"]

        def unit(repo: Any) -> View | None:
            caller = conversation.resolve(repo, participant_id, ctx.now)
            return repo.get_view(caller.scope, token)  # type: ignore[no-any-return]

        def present(view: View | None) -> Output:
            if view is None:
                raise modelled(self.name, "ResourceNotFoundException", f"No view for ViewToken {token}")
            return {"View": view_output(view)}

        return await self._units.read(ctx, unit, present)

    async def get_authentication_url(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        participant_id = self._connection_participant(ctx, req["ConnectionToken"])
        session_id = req["SessionId"]

        def unit(repo: Any) -> str:
            caller = conversation.resolve(repo, participant_id, ctx.now)
            authentication.request_url(repo, caller, session_id, ctx.now)
            return caller.contact.id

        def present(contact_id: str) -> Output:
            return {"AuthenticationUrl": self._urls.sign_in(ctx, contact_id, session_id, req["RedirectUri"])}

        return await self._units.write(ctx, req, unit, present)

    async def cancel_participant_authentication(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._act(
            ctx,
            req,
            lambda repo, caller: authentication.cancel(repo, caller, req["SessionId"], ctx.now, self._ids),
            lambda _: {},
        )

    async def get_transcript(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        participant_id = self._connection_participant(ctx, req["ConnectionToken"])
        binding = self._transcript_binding(req, participant_id)
        query = self._transcript_query(req, binding)

        def unit(repo: Any) -> tuple[conversation.Caller, Any]:
            caller = conversation.resolve(repo, participant_id, ctx.now)
            return caller, conversation.transcript(repo, caller, req.get("ContactId"), query)

        def present(result: tuple[conversation.Caller, Any]) -> Output:
            caller, found = result
            current = caller.contact.chain_id
            return {
                "InitialContactId": current,
                "Transcript": [item_output(i, related=i.chain_id != current) for i in found.items],
                "NextToken": None if found.continue_at is None else self._pages.encode(binding, str(found.continue_at)),
            }

        return await self._units.read(ctx, unit, present)

    def _transcript_binding(self, req: dict[str, Any], participant_id: str | None) -> str:
        start = req.get("StartPosition") or {}
        parts = (participant_id, req.get("MaxResults"), req.get("ScanDirection"), req.get("SortOrder"), sorted(start))
        return "transcript/" + "/".join(str(p) for p in parts)

    def _transcript_query(self, req: dict[str, Any], binding: str) -> transcript.TranscriptQuery:
        start = req.get("StartPosition") or {}
        if len(start) > 1:
            raise modelled(self.name, "ValidationException", "StartPosition takes one of Id, AbsoluteTime, MostRecent")
        start_time = None
        if "AbsoluteTime" in start:
            start_time = parse_timestamp(start["AbsoluteTime"])
            if start_time is None:
                raise modelled(
                    self.name, "ValidationException", "StartPosition.AbsoluteTime is not an ISO-8601 instant"
                )
        continue_at = None
        if req.get("NextToken"):
            try:
                continue_at = int(self._pages.decode(binding, req["NextToken"]))
            except (InvalidToken, ValueError):
                raise modelled(self.name, "ValidationException", "NextToken is invalid for this request") from None
        return transcript.TranscriptQuery(
            max_results=10 if req.get("MaxResults") is None else req["MaxResults"],
            scan_direction=req.get("ScanDirection"),
            sort_order=req.get("SortOrder") or "DESCENDING",
            start_id=start.get("Id"),
            start_time=start_time,
            most_recent=start.get("MostRecent"),
            continue_at=continue_at,
        )

    # -- deadlines -----------------------------------------------------------------------------
    async def check_deadlines(self, scope: Scope, contact_id: str, now: datetime) -> datetime | None:
        """Run by the timers: enforce what is due, answer the contact's next deadline."""

        def unit(repo: Any) -> tuple[list[Item], datetime | None]:
            items = conversation.enforce_deadlines(repo, scope, contact_id, now, self._ids, self._policy)
            contact = repo.get_contact(scope, contact_id)
            following = None if contact is None else conversation.next_deadline(repo, scope, contact, now, self._policy)
            return items, following

        items, following = await self._units.store.run(unit)
        self._aftermath.apply(Effects(items=items).kick(scope, contact_id, "deadline"))
        return following


def _item_answer(outcome: conversation.Outcome) -> Output:
    """SendMessage's and SendEvent's answer: the item's Id and AbsoluteTime."""
    assert outcome.item is not None
    return {"Id": outcome.item.id, "AbsoluteTime": outcome.item.at}


def view_output(view: View) -> Output:
    return {"Id": view.id, "Arn": view.arn, "Name": view.name, "Version": view.version, "Content": view.content}
