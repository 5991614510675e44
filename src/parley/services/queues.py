"""Connect's queue, hours-of-operation and Lambda-association operations (flows.md §5.4, §7.1), and the
QueueInfo / AgentInfo members of DescribeContact. Handlers map; the rules are in `chat.queues` and
`chat.lambda_functions`. Each domain error becomes an error these operations declare in the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.chat.errors import AlreadyAssociated, ConstraintViolation, DomainError, Duplicate, Invalid, NotFound
from parley.chat.model import Contact, HoursOfOperation, Participant, Queue, Scope
from parley.lazy import LazyModule
from parley.services.base import VALIDATION, Handler, Output, Paging, RequestContext, UnitRunner
from parley.services.deps import AwsService, ServiceDeps

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import lambda_functions, queues
else:
    lambda_functions = LazyModule("parley.chat.lambda_functions", globals())
    queues = LazyModule("parley.chat.queues", globals())

ERRORS: dict[type[DomainError], str] = {
    NotFound: "ResourceNotFoundException",
    Invalid: "InvalidRequestException",
    ConstraintViolation: VALIDATION,
    Duplicate: "DuplicateResourceException",  # CreateQueue declares it
    AlreadyAssociated: "ResourceConflictException",  # AssociateLambdaFunction declares it
}


def queue_info(contact: Contact) -> Output | None:
    if contact.queue_id is None:
        return None
    return {"Id": contact.queue_id, "EnqueueTimestamp": contact.enqueued_at}


def agent_info(contact: Contact, people: list[Participant]) -> Output | None:
    """The agent who accepted the contact from its queue; else an agent who joined without routing
    (the admin `join` of a contact that was never queued), as before queues existed."""
    if contact.agent_id is not None:
        return {
            "Id": contact.agent_id,
            "AcceptedByAgentTimestamp": contact.accepted_at,
            "ConnectedToAgentTimestamp": contact.connected_to_agent_at,
        }
    agent = next((p for p in people if p.role == "AGENT"), None)
    if agent is None:
        return None
    joined, connected = agent.joined_at, agent.connected_at
    return {"Id": agent.id, "AcceptedByAgentTimestamp": joined, "ConnectedToAgentTimestamp": connected}


def queue_detail(scope: Scope, queue: Queue) -> Output:
    return {
        "Name": queue.name,
        "QueueArn": queue.arn(scope),
        "QueueId": queue.id,
        "Description": queue.description,
        "OutboundCallerConfig": queue.outbound_caller_config,
        "HoursOfOperationId": queue.hours_id,
        "MaxContacts": queue.max_contacts,
        "Status": queue.status,
        "Tags": queue.tags or None,
        "LastModifiedTime": queue.modified_at,
        "LastModifiedRegion": scope.region,
    }


def queue_summary(scope: Scope, queue: Queue) -> Output:
    return {
        "Id": queue.id,
        "Arn": queue.arn(scope),
        "Name": queue.name,
        "QueueType": queue.type,
        "LastModifiedTime": queue.modified_at,
        "LastModifiedRegion": scope.region,
    }


def hours_summary(scope: Scope, hours: HoursOfOperation) -> Output:
    return {
        "Id": hours.id,
        "Arn": hours.arn(scope),
        "Name": hours.name,
        "LastModifiedTime": hours.modified_at,
        "LastModifiedRegion": scope.region,
    }


class QueueOperations(AwsService):
    """Part of the Connect service: `handlers` joins ConnectService's table."""

    def __init__(self, deps: ServiceDeps, paging: Paging) -> None:
        super().__init__(deps)
        self._units = UnitRunner(deps.store, deps.settings, ERRORS, deps.after)
        self._paging = paging
        self.handlers: dict[str, Handler] = {
            "CreateQueue": self.create_queue,
            "DescribeQueue": self.describe_queue,
            "ListQueues": self.list_queues,
            "ListHoursOfOperations": self.list_hours_of_operations,
            "AssociateLambdaFunction": self.associate_lambda_function,
            "DisassociateLambdaFunction": self.disassociate_lambda_function,
            "ListLambdaFunctions": self.list_lambda_functions,
        }

    # -- queues --------------------------------------------------------------------------------
    async def create_queue(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        spec = queues.NewQueue(
            name=req["Name"],
            hours_id=req["HoursOfOperationId"],
            description=req.get("Description"),
            max_contacts=req.get("MaxContacts"),
            outbound_caller_config=req.get("OutboundCallerConfig"),
            quick_connect_ids=req.get("QuickConnectIds"),
            uses_email=bool(req.get("EmailAddressesConfig") or req.get("OutboundEmailConfig")),
            tags=req.get("Tags"),
        )
        return await self._units.write(
            ctx,
            req,
            lambda repo: queues.create_queue(repo, ctx.scope, req["InstanceId"], spec, ctx.now, self._ids),
            lambda queue: {"QueueArn": queue.arn(ctx.scope), "QueueId": queue.id},
        )

    async def describe_queue(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.read(
            ctx,
            lambda repo: queues.require_queue(repo, ctx.scope, req["InstanceId"], req["QueueId"]),
            lambda queue: {"Queue": queue_detail(ctx.scope, queue)},
        )

    async def list_queues(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        types = frozenset(req.get("QueueTypes") or ())
        binding = f"queues/{req['InstanceId']}/{','.join(sorted(types))}"
        after = self._paging.after(ctx, binding, req.get("NextToken"))
        limit = req.get("MaxResults") or 100
        return await self._units.read(
            ctx,
            lambda repo: queues.list_queues(repo, ctx.scope, req["InstanceId"], types, after, limit),
            lambda page: {
                "QueueSummaryList": [queue_summary(ctx.scope, q) for q in page.items],
                "NextToken": self._paging.next(ctx, binding, page.after),
            },
        )

    async def list_hours_of_operations(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        binding = f"hours/{req['InstanceId']}"
        after = self._paging.after(ctx, binding, req.get("NextToken"))
        limit = req.get("MaxResults") or 100
        return await self._units.read(
            ctx,
            lambda repo: queues.list_hours(repo, ctx.scope, req["InstanceId"], after, limit),
            lambda page: {
                "HoursOfOperationSummaryList": [hours_summary(ctx.scope, h) for h in page.items],
                "NextToken": self._paging.next(ctx, binding, page.after),
            },
        )

    # -- Lambda functions ----------------------------------------------------------------------
    async def associate_lambda_function(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: lambda_functions.associate(repo, ctx.scope, req["InstanceId"], req["FunctionArn"], ctx.now),
            lambda _: {},
        )

    async def disassociate_lambda_function(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: lambda_functions.disassociate(repo, ctx.scope, req["InstanceId"], req["FunctionArn"]),
            lambda _: {},
        )

    async def list_lambda_functions(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        binding = f"lambda-functions/{req['InstanceId']}"
        after = self._paging.after(ctx, binding, req.get("NextToken"))
        limit = req.get("MaxResults") or 25
        return await self._units.read(
            ctx,
            lambda repo: lambda_functions.list_functions(repo, ctx.scope, req["InstanceId"], after, limit),
            lambda page: {
                "LambdaFunctions": [f.arn for f in page.items],
                "NextToken": self._paging.next(ctx, binding, page.after),
            },
        )
