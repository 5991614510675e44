"""The Connect service (`connect`, 2017-08-08): one async method per implemented operation.

Handlers map: the parsed request (model member names) to a domain call, the domain's records
to a dict keyed by the output shape's members. Rules live in `parley.chat`; formatting lives in
the serializer. Operations absent from `handlers` answer 501 NotImplementedException.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from parley.chat.errors import (
    ActiveLimitExceeded,
    CallNotActive,
    ConstraintViolation,
    DomainError,
    Duplicate,
    Invalid,
    InvalidFlowContent,
    NotFound,
    NotPublished,
    QuotaExceeded,
    StateConflict,
)
from parley.chat.model import Contact, ContactFlow, Instance, Participant, Scope
from parley.lazy import LazyModule
from parley.services.base import (
    VALIDATION,
    Handler,
    Output,
    Paging,
    RequestContext,
    UnitRunner,
)
from parley.services.connect_streaming import StreamingOperations
from parley.services.deps import AwsService, ServiceDeps
from parley.services.effects import Committed, Effects
from parley.services.queues import QueueOperations, agent_info, queue_info
from parley.services.stream_routes import Routes
from parley.services.streams import Streamer
from parley.settings import Settings

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import calls, contacts, conversation, flows, instances, participants, streams, tags
else:
    calls = LazyModule("parley.chat.calls", globals())
    contacts = LazyModule("parley.chat.contacts", globals())
    conversation = LazyModule("parley.chat.conversation", globals())
    flows = LazyModule("parley.chat.flows", globals())
    instances = LazyModule("parley.chat.instances", globals())
    participants = LazyModule("parley.chat.participants", globals())
    streams = LazyModule("parley.chat.streams", globals())
    tags = LazyModule("parley.chat.tags", globals())

ERRORS: dict[type[DomainError], str] = {
    NotFound: "ResourceNotFoundException",
    Invalid: "InvalidRequestException",
    ConstraintViolation: VALIDATION,
    StateConflict: "ConflictException",
    QuotaExceeded: "ServiceQuotaExceededException",
    ActiveLimitExceeded: "LimitExceededException",
    Duplicate: "DuplicateResourceException",
    NotPublished: "ContactFlowNotPublishedException",
    InvalidFlowContent: "InvalidContactFlowException",
    CallNotActive: "ContactNotFoundException",
}

# PARLEY_CREATE_PARTICIPANT_ERRORS situations -> the domain error kind they name.
PARTICIPANT_SITUATIONS: dict[str, type[DomainError]] = {
    "not_found": NotFound,
    "invalid": Invalid,
    "conflict": StateConflict,
    "quota": QuotaExceeded,
}


def _service_role(scope: Scope) -> str:
    return f"arn:aws:iam::{scope.account}:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect"


def instance_summary(scope: Scope, instance: Instance) -> Output:
    return {
        "Id": instance.id,
        "Arn": instance.arn(scope),
        "IdentityManagementType": instance.identity_management_type,
        "InstanceAlias": instance.alias,
        "CreatedTime": instance.created_at,
        "ServiceRole": _service_role(scope),
        "InstanceStatus": instance.status,
        "InboundCallsEnabled": instance.inbound_calls,
        "OutboundCallsEnabled": instance.outbound_calls,
        "InstanceAccessUrl": f"https://{instance.alias or instance.id}.my.connect.aws",
    }


def flow_summary(scope: Scope, flow: ContactFlow) -> Output:
    return {
        "Id": flow.id,
        "Arn": flow.arn(scope),
        "Name": flow.name,
        "ContactFlowType": flow.type,
        "ContactFlowState": flow.state,
        "ContactFlowStatus": flow.status,
    }


def flow_detail(scope: Scope, flow: ContactFlow) -> Output:
    return {
        "Arn": flow.arn(scope),
        "Id": flow.id,
        "Name": flow.name,
        "Type": flow.type,
        "State": flow.state,
        "Status": flow.status,
        "Description": flow.description,
        "Content": flow.content,
        "Tags": flow.tags or None,
        "FlowContentSha256": flow.content_sha256,
        "Version": flow.version,
        "LastModifiedTime": flow.modified_at,
        "LastModifiedRegion": scope.region,
    }


def contact_detail(scope: Scope, contact: Contact, ctx: RequestContext) -> Output:
    return {
        "Arn": contact.arn(scope),
        "Id": contact.id,
        "InitialContactId": contact.initial_contact_id,
        "PreviousContactId": contact.previous_contact_id,
        "RelatedContactId": contact.related_contact_id,
        "InitiationMethod": contact.initiation_method,
        "Channel": contact.channel,
        "Description": contact.description,
        "InitiationTimestamp": contact.initiated_at,
        "ConnectedToSystemTimestamp": contact.initiated_at,
        "LastUpdateTimestamp": contact.last_updated or contact.initiated_at,
        "DisconnectTimestamp": contact.end_time(ctx.now),
        "DisconnectReason": contact.end_reason(ctx.now),
        "CustomerId": contact.customer_id,
        "SegmentAttributes": contact.segment_attributes or None,
        "Attributes": contact.attributes or None,
        "QueueInfo": queue_info(contact),
    }


class ConnectService(AwsService):
    name = "connect"

    def __init__(self, deps: ServiceDeps, routes: Routes | None = None, streamer: Streamer | None = None) -> None:
        super().__init__(deps)
        self._units = UnitRunner(deps.store, deps.settings, ERRORS, deps.after)
        self._participant_units = UnitRunner(
            deps.store, deps.settings, self._participant_errors(deps.settings), deps.after
        )
        self._paging = Paging(deps.pages, deps.settings)
        self._streaming = (
            StreamingOperations(deps, self._units, routes, streamer) if routes is not None and streamer else None
        )
        self.handlers: dict[str, Handler] = {
            "CreateInstance": self.create_instance,
            "DescribeInstance": self.describe_instance,
            "ListInstances": self.list_instances,
            "DeleteInstance": self.delete_instance,
            "CreateContactFlow": self.create_contact_flow,
            "DescribeContactFlow": self.describe_contact_flow,
            "ListContactFlows": self.list_contact_flows,
            "UpdateContactFlowContent": self.update_contact_flow_content,
            "StartChatContact": self.start_chat_contact,
            "StartWebRTCContact": self.start_webrtc_contact,
            "CreateParticipant": self.create_participant,
            "StopContact": self.stop_contact,
            "DescribeContact": self.describe_contact,
            "GetContactAttributes": self.get_contact_attributes,
            "UpdateContactAttributes": self.update_contact_attributes,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
            **QueueOperations(deps, self._paging).handlers,
        }
        if self._streaming is not None:
            self.handlers.update(self._streaming.handlers)

    @staticmethod
    def _participant_errors(settings: Settings) -> dict[type[DomainError], str]:
        table = dict(ERRORS)
        for situation, code in settings.create_participant_errors.items():
            table[PARTICIPANT_SITUATIONS[situation]] = code
        return table

    # -- pagination ----------------------------------------------------------------------------
    def _after(self, ctx: RequestContext, binding: str, token: str | None) -> str | None:
        return self._paging.after(ctx, binding, token)

    def _next(self, ctx: RequestContext, binding: str, after: str | None) -> str | None:
        return self._paging.next(ctx, binding, after)

    # -- instances -----------------------------------------------------------------------------
    async def create_instance(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        spec = instances.NewInstance(
            identity_management_type=req["IdentityManagementType"],
            inbound_calls=req["InboundCallsEnabled"],
            outbound_calls=req["OutboundCallsEnabled"],
            alias=req.get("InstanceAlias"),
            directory_id=req.get("DirectoryId"),
            tags=req.get("Tags"),
        )
        return await self._units.write(
            ctx,
            req,
            lambda repo: instances.create_instance(repo, ctx.scope, spec, ctx.now, self._ids, self._policy),
            lambda inst: {"Id": inst.id, "Arn": inst.arn(ctx.scope)},
        )

    async def describe_instance(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        def present(inst: Instance) -> Output:
            return {"Instance": {**instance_summary(ctx.scope, inst), "Tags": inst.tags or None}}

        return await self._units.read(
            ctx, lambda repo: instances.require_instance(repo, ctx.scope, req["InstanceId"]), present
        )

    async def list_instances(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        after = self._after(ctx, "instances", req.get("NextToken"))
        limit = req.get("MaxResults") or 10
        return await self._units.read(
            ctx,
            lambda repo: instances.list_instances(repo, ctx.scope, after, limit),
            lambda page: {
                "InstanceSummaryList": [instance_summary(ctx.scope, i) for i in page.items],
                "NextToken": self._next(ctx, "instances", page.after),
            },
        )

    async def delete_instance(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: instances.delete_instance(repo, ctx.scope, req["InstanceId"], ctx.now),
            lambda _: {},
        )

    # -- flows ---------------------------------------------------------------------------------
    async def create_contact_flow(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        spec = flows.NewFlow(
            name=req["Name"],
            type=req["Type"],
            content=req["Content"],
            status=req.get("Status") or "PUBLISHED",
            description=req.get("Description"),
            tags=req.get("Tags"),
        )
        return await self._units.write(
            ctx,
            req,
            lambda repo: flows.create_flow(
                repo, ctx.scope, req["InstanceId"], spec, ctx.now, self._ids, self._policy.flow_validation
            ),
            lambda flow: {
                "ContactFlowId": flow.id,
                "ContactFlowArn": flow.arn(ctx.scope),
                "FlowContentSha256": flow.content_sha256,
            },
        )

    async def update_contact_flow_content(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: flows.update_flow_content(
                repo,
                ctx.scope,
                req["InstanceId"],
                req["ContactFlowId"],
                req["Content"],
                ctx.now,
                self._policy.flow_validation,
            ),
            lambda _: {},
        )

    async def describe_contact_flow(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.read(
            ctx,
            lambda repo: flows.describe_flow(repo, ctx.scope, req["InstanceId"], req["ContactFlowId"]),
            lambda flow: {"ContactFlow": flow_detail(ctx.scope, flow)},
        )

    async def list_contact_flows(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        types = frozenset(req.get("ContactFlowTypes") or ())
        binding = f"flows/{req['InstanceId']}/{','.join(sorted(types))}"
        after = self._after(ctx, binding, req.get("NextToken"))
        limit = req.get("MaxResults") or 100
        return await self._units.read(
            ctx,
            lambda repo: flows.list_flows(repo, ctx.scope, req["InstanceId"], types, after, limit),
            lambda page: {
                "ContactFlowSummaryList": [flow_summary(ctx.scope, f) for f in page.items],
                "NextToken": self._next(ctx, binding, page.after),
            },
        )

    # -- contacts ------------------------------------------------------------------------------
    async def start_chat_contact(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        spec = contacts.NewChat(
            instance_id=req["InstanceId"],
            flow_id=req["ContactFlowId"],
            display_name=req["ParticipantDetails"]["DisplayName"],
            attributes=req.get("Attributes") or {},
            initial_message=req.get("InitialMessage"),
            duration_minutes=req.get("ChatDurationInMinutes"),
            content_types=req.get("SupportedMessagingContentTypes"),
            persistent_chat=req.get("PersistentChat"),
            related_contact_id=req.get("RelatedContactId"),
            segment_attributes=req.get("SegmentAttributes") or {},
            customer_id=req.get("CustomerId"),
            disconnect_on_customer_exit=req.get("DisconnectOnCustomerExit") or [],
            connection_types=req.get("ConnectionTypes") or [],
            response_mode=(req.get("ParticipantConfiguration") or {}).get("ResponseMode"),
            streaming_endpoint=(req.get("ChatStreamingConfiguration") or {}).get("StreamingEndpointArn"),
        )

        streaming = self._streaming

        def unit(repo: Any) -> Committed:
            routed = spec
            if spec.streaming_endpoint and streaming is not None:
                streams.check_topic(spec.streaming_endpoint, ctx.scope)
                routed = dataclasses.replace(spec, streaming_route=streaming.route(spec.streaming_endpoint))
            started = contacts.start_chat(repo, ctx.scope, routed, ctx.now, self._ids, self._policy)
            contact = started.contact
            if contact.streaming_id and streaming is not None:  # known before its first items wake it
                streaming.streamer.opened(contact.chain_id, contact.streaming_id)
            # a contact just made has no participant but its customer: no need to read them back
            deadline = conversation.next_deadline(repo, ctx.scope, contact, ctx.now, self._policy, [started.customer])
            output = {
                "ContactId": contact.id,
                "ParticipantId": started.customer.id,
                "ContinuedFromContactId": contact.continued_from,
                "StreamingId": contact.streaming_id,
            }
            effects = Effects(items=started.items).deadline(ctx.scope, contact.id, deadline)
            return Committed(output, effects.kick(ctx.scope, contact.id, "started"))

        def reveal(stored: Output) -> Output:
            customer = stored["ParticipantId"]
            return {
                **stored,
                "ParticipantToken": self._signer.participant_token(customer),
                **self._issuer.blocks(ctx, customer, spec.connection_types),
            }

        return await self._units.commit(ctx, req, unit, reveal=reveal)

    async def start_webrtc_contact(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        spec = calls.NewCall(
            instance_id=req["InstanceId"],
            flow_id=req["ContactFlowId"],
            display_name=req["ParticipantDetails"]["DisplayName"],
            attributes=req.get("Attributes") or {},
            allowed_capabilities=req.get("AllowedCapabilities") or {},
            related_contact_id=req.get("RelatedContactId"),
            references=req.get("References") or {},
            description=req.get("Description"),
            segment_attributes=req.get("SegmentAttributes") or {},
        )

        def unit(repo: Any) -> Committed:
            started = calls.start_call(repo, ctx.scope, spec, ctx.now, self._ids, self._policy)
            data = self._issuer.webrtc(ctx.scope, started.contact, started.customer, connect_shape=True)
            data["Attendee"] = {"AttendeeId": data["Attendee"]["AttendeeId"]}  # its JoinToken is a secret
            output = {"ConnectionData": data, "ContactId": started.contact.id, "ParticipantId": started.customer.id}
            return Committed(output, Effects().deadline(ctx.scope, started.contact.id, started.contact.scheduled_end))

        def reveal(stored: Output) -> Output:
            attendee = self._issuer.attendee_of(stored["ConnectionData"]["Attendee"]["AttendeeId"])
            return {
                **stored,
                "ConnectionData": {**stored["ConnectionData"], "Attendee": attendee},
                "ParticipantToken": self._signer.participant_token(stored["ParticipantId"]),
            }

        return await self._units.commit(ctx, req, unit, reveal=reveal)

    async def create_participant(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        details = req["ParticipantDetails"]
        spec = participants.NewParticipant(
            role=details.get("ParticipantRole"),
            display_name=details.get("DisplayName"),
            capabilities=details.get("ParticipantCapabilities") or {},
        )

        def unit(repo: Any) -> Committed:
            added = participants.add_participant(
                repo, ctx.scope, req["InstanceId"], req["ContactId"], spec, ctx.now, self._ids, self._policy
            )
            deadline = conversation.next_deadline(repo, ctx.scope, added.contact, ctx.now, self._policy, added.present)
            output = {
                "ParticipantId": added.participant.id,
                "ParticipantCredentials": {"Expiry": added.contact.scheduled_end},
            }
            return Committed(output, Effects().deadline(ctx.scope, added.contact.id, deadline))

        def reveal(stored: Output) -> Output:
            token = self._signer.participant_token(stored["ParticipantId"])
            return {**stored, "ParticipantCredentials": {**stored["ParticipantCredentials"], "ParticipantToken": token}}

        return await self._participant_units.commit(ctx, req, unit, reveal=reveal)

    async def stop_contact(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        reason = (req.get("DisconnectReason") or {}).get("Code")

        def unit(repo: Any) -> Committed:
            stopped = contacts.stop_contact(
                repo, ctx.scope, req["InstanceId"], req["ContactId"], reason, ctx.now, self._ids, self._policy
            )
            effects = Effects(items=stopped.items).deadline(ctx.scope, stopped.contact.id, None)
            return Committed({}, effects.kick(ctx.scope, stopped.contact.id, "ended"))

        return await self._units.commit(ctx, req, unit)

    async def describe_contact(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        def unit(repo: Any) -> tuple[Contact, list[Participant]]:
            contact = contacts.find_contact(repo, ctx.scope, req["InstanceId"], req["ContactId"])
            return contact, repo.participants(ctx.scope, contact.id)

        def present(found: tuple[Contact, list[Participant]]) -> Output:
            contact, people = found
            detail = contact_detail(ctx.scope, contact, ctx)
            detail["AgentInfo"] = agent_info(contact, people)
            return {"Contact": detail}

        return await self._units.read(ctx, unit, present)

    async def get_contact_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.read(
            ctx,
            lambda repo: contacts.get_attributes(repo, ctx.scope, req["InstanceId"], req["InitialContactId"]),
            lambda attributes: {"Attributes": attributes},
        )

    async def update_contact_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: contacts.update_attributes(
                repo, ctx.scope, req["InstanceId"], req["InitialContactId"], req["Attributes"], ctx.now
            ),
            lambda _: {},
        )

    # -- tags ----------------------------------------------------------------------------------
    async def tag_resource(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: tags.tag_resource(repo, ctx.scope, req["resourceArn"], req["tags"]),
            lambda _: {},
        )

    async def untag_resource(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: tags.untag_resource(repo, ctx.scope, req["resourceArn"], req["tagKeys"]),
            lambda _: {},
        )

    async def list_tags_for_resource(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.read(
            ctx,
            lambda repo: tags.list_tags(repo, ctx.scope, req["resourceArn"]),
            lambda found: {"tags": found},
        )
