"""The connection blocks both services hand out: a WebSocket URL, ConnectionCredentials, and a WebRTC
call's meeting and attendee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.chat.model import Contact, Participant, Scope
from parley.chat.policy import Policy
from parley.chat.tokens import CONNECTION, WEBSOCKET, TokenSigner
from parley.services.base import Output, RequestContext

WEBSOCKET_URL_SECONDS = 100  # "a connect expiry timeout of 100s" [M-P]
MAX_TOKEN_DAYS = 23  # chatjs's setTimeout overflows past ~24.8 days (stream.md §6)
MIN_TOKEN_SECONDS = 120  # chatjs refreshes 60 s before expiry; less than that makes it spin
JOIN = b"J"
# Parley carries no media: the meeting's media URLs name hosts under `.invalid`, which never resolve
# (RFC 2606), so a media client fails at once instead of reaching somebody else's server.
MEDIA_HOST = "parley.invalid"


def wall_now() -> datetime:
    return datetime.now(UTC)


def websocket_base(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    return "ws://" + base_url.removeprefix("http://")


class ConnectionIssuer:
    def __init__(self, signer: TokenSigner, policy: Policy) -> None:
        self._signer = signer
        self._policy = policy

    def expiry(self, ctx: RequestContext) -> datetime:
        """Every Expiry sent to a client counts from max(virtual, wall) (stream.md §6)."""
        seconds = min(max(self._policy.connection_token_seconds, MIN_TOKEN_SECONDS), MAX_TOKEN_DAYS * 86400)
        return max(ctx.now, wall_now()) + timedelta(seconds=seconds)

    def websocket(self, ctx: RequestContext, participant_id: str) -> Output:
        issued = wall_now()  # URL age is real elapsed time, never the virtual clock
        credential = self._signer.issue_stamped(WEBSOCKET, participant_id, issued)
        return {
            "Url": f"{websocket_base(ctx.base_url)}/ws/chat?auth={credential}",
            "ConnectionExpiry": max(ctx.now, issued) + timedelta(seconds=WEBSOCKET_URL_SECONDS),
        }

    def credentials(self, ctx: RequestContext, participant_id: str) -> Output:
        expiry = self.expiry(ctx)
        return {"ConnectionToken": self._signer.issue_stamped(CONNECTION, participant_id, expiry), "Expiry": expiry}

    def meeting(self, scope: Scope, contact: Contact, connect_shape: bool) -> Output:
        """Connect's `Meeting` (with MediaRegion and TurnControlUrl) or the Participant Service's `WebRTCMeeting`."""
        meeting_id = contact.meeting_id or contact.id
        placement = {
            "AudioHostUrl": f"audio.{MEDIA_HOST}:3478",
            "AudioFallbackUrl": f"wss://audio.{MEDIA_HOST}:443/calls/{meeting_id}",
            "SignalingUrl": f"wss://signal.{MEDIA_HOST}/control/{meeting_id}",
            "EventIngestionUrl": f"https://data.{MEDIA_HOST}/v2/meetings/{meeting_id}/events",
        }
        out: Output = {
            "MediaPlacement": placement,
            "MeetingFeatures": {"Audio": {"EchoReduction": "AVAILABLE"}},
            "MeetingId": meeting_id,
        }
        if connect_shape:
            placement["TurnControlUrl"] = f"https://turn.{MEDIA_HOST}/v2/turn_sessions"
            out["MediaRegion"] = scope.region
        return out

    def attendee(self, participant: Participant) -> Output:
        return self.attendee_of(participant.attendee_id or participant.id)

    def attendee_of(self, attendee_id: str) -> Output:
        return {"AttendeeId": attendee_id, "JoinToken": self._signer.issue(JOIN, attendee_id)}

    def webrtc(self, scope: Scope, contact: Contact, participant: Participant, connect_shape: bool) -> Output:
        return {"Attendee": self.attendee(participant), "Meeting": self.meeting(scope, contact, connect_shape)}

    def blocks(
        self,
        ctx: RequestContext,
        participant_id: str,
        types: list[str],
        call: tuple[Contact, Participant] | None = None,
    ) -> Output:
        out: Output = {}
        if "WEBRTC_CONNECTION" in types and call is not None:
            out["WebRTCConnection"] = self.webrtc(ctx.scope, *call, connect_shape=False)
        if "WEBSOCKET" in types:
            out["Websocket"] = self.websocket(ctx, participant_id)
        if "CONNECTION_CREDENTIALS" in types:
            out["ConnectionCredentials"] = self.credentials(ctx, participant_id)
        return out
