"""StartContactStreaming and StopContactStreaming (streaming.md §1), and the streaming part of StartChatContact:
the Connect handlers that open and close a chat's streams. Rules live in chat/streams.py; where a topic's
messages go is decided here, from the settings, when the stream starts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from parley.chat.model import Stream
from parley.lazy import LazyModule
from parley.services.base import Handler, Output, RequestContext, UnitRunner
from parley.services.deps import ServiceDeps
from parley.services.stream_routes import Routes
from parley.services.streams import Streamer

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import streams
else:
    streams = LazyModule("parley.chat.streams", globals())

log = logging.getLogger("parley.streams")


class StreamingOperations:
    def __init__(self, deps: ServiceDeps, units: UnitRunner, routes: Routes, streamer: Streamer) -> None:
        self._ids = deps.ids
        self._policy = deps.settings.policy
        self._units = units
        self.routes = routes
        self.streamer = streamer
        self.handlers: dict[str, Handler] = {
            "StartContactStreaming": self.start_contact_streaming,
            "StopContactStreaming": self.stop_contact_streaming,
        }

    def route(self, arn: str) -> streams.Route:
        if arn.endswith(".fifo"):
            log.warning("stream.fifo topic=%s — SNS does not stream chats to FIFO topics; Publish will fail", arn)
        return self.routes.route(arn)

    async def start_contact_streaming(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        arn = req["ChatStreamingConfiguration"]["StreamingEndpointArn"]
        opened: list[Stream] = []

        def unit(repo: Any) -> Stream:
            streams.check_topic(arn, ctx.scope)
            return streams.start(
                repo,
                ctx.scope,
                req["InstanceId"],
                req["ContactId"],
                arn,
                self.route(arn),
                ctx.now,
                self._ids,
                self._policy,
            )

        def present(stream: Stream) -> Output:
            opened[:] = [stream]  # present runs inside the unit, which a store may run again after a lost race
            return {"StreamingId": stream.id}

        output = await self._units.write(ctx, req, unit, present)
        for stream in opened:
            self.streamer.opened(stream.chain_id, stream.id)
        return output

    async def stop_contact_streaming(self, ctx: RequestContext, req: dict[str, Any]) -> Output:
        return await self._units.write(
            ctx,
            req,
            lambda repo: streams.stop(
                repo, ctx.scope, req["InstanceId"], req["ContactId"], req["StreamingId"], ctx.now
            ),
            lambda _: {},
        )
