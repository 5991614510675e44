"""Fan-out between nodes through Redis pub/sub (`--redis-url`): an item published on any node reaches every
subscribed socket on every node, in order, exactly once per socket, or the socket is closed.

How, and why this way:
- **Everything goes through Redis, nothing is delivered locally first.** A frame, a chat's end, a
  participant's leave and a drop are messages on the contact's channel (`<prefix>c:<contact id>`); each
  node applies them to its own sockets (`LocalSockets`) when they come back from Redis, the publishing
  node included. Redis orders the messages of one channel once, so every socket on every node sees
  the same order, and an end or a drop never overtakes the frames published before it.
- **One publishing connection and one publisher task per node**, sending what is queued as one pipeline:
  a node's messages reach Redis in the order it published them (its commit order, since the Pusher
  publishes after each commit). A PUBLISH is never retried: a retry after a lost reply could deliver
  twice. Items of one chat committed at once on two nodes are ordered by Redis, identically everywhere.
- **Per-contact channels, SUBSCRIBEd on one pub/sub connection while this node holds a subscribed socket
  of that contact** (UNSUBSCRIBEd when the last one goes): each node receives only the chats it serves
  (a pattern subscription would send every frame to every node), and each message once per node, so
  once per socket. A socket starts receiving when Redis has confirmed the channel's SUBSCRIBE, with its
  greeting (the `aws/subscribe` ack) first: nothing published after the ack can miss it, and no frame
  comes before it.
- **Redis pub/sub is at-most-once, so a lost link closes sockets.** When the pub/sub or the publishing
  connection fails (Redis restarted, the connection killed), every local socket is closed with
  `DROP_CODE`, as a dropped socket is: its client reconnects and refetches the transcript. The link is
  re-made with exponential backoff. What could not be published (the link was down, or the pipeline
  failed) never fails the request that committed it: it is logged, and its contacts get a
  cluster-wide drop as the first messages of the next link, so other nodes' sockets that missed it
  reconnect too. A socket subscribing while the link is down is closed the same way at once.
- **Control messages** (`announce`) travel on `<prefix>control`, which every node subscribes to for as
  long as it is linked; listeners run one message at a time, in Redis's order, on every node.

`drop` and `subscribers` count this node's sockets: the others' are not known without a round trip.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from parley.bus.local import LocalSockets
from parley.bus.port import DROP_CODE, BusUnavailable, Listener, Subscriber

log = logging.getLogger("parley.bus")

PIPELINE_LIMIT = 512  # messages sent in one pipeline
PING_SECONDS = 5.0  # an idle pub/sub link is pinged this often; silence for 3x that counts as lost
FRAME, END, LEAVE, DROP = "F", "E", "L", "D"
Outgoing = tuple[bytes, bytes, str | None]  # channel, payload, contact id (None: a control message)


def _where(url: str) -> str:
    """The URL without its credentials, for logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


class RedisBus:
    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        backoff: tuple[float, float] = (0.05, 2.0),
        connect_timeout: float = 2.0,
        first_link_wait: float = 5.0,
        client_name: str = "parley-bus",
    ) -> None:
        """`prefix` names this cluster's channels (`parley:<cluster id>:`); `backoff` is the first and the
        longest wait between attempts to re-link; `start` waits up to `first_link_wait` for the first;
        `client_name` is what `CLIENT LIST` shows for its connections."""
        self._pool = ConnectionPool.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=None,  # a pub/sub read waits for as long as it takes; PING_SECONDS finds a dead link
            protocol=2,  # RESP2: pub/sub messages are plain replies on the connection, not RESP3 pushes
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
            client_name=client_name,
        )
        self._where = _where(url)
        self._contact_prefix = f"{prefix}c:".encode()
        self._control = f"{prefix}control".encode()
        self._backoff = backoff
        self._first_link_wait = first_link_wait
        self._node = uuid4().hex
        self._local = LocalSockets()
        self._listeners: list[Listener] = []
        self._channels: dict[str, asyncio.Future[None]] = {}  # contact -> its SUBSCRIBE's confirmation
        self._confirming: dict[bytes, deque[asyncio.Future[None]]] = {}  # channel -> SUBSCRIBEs in flight
        self._joining: dict[str, list[tuple[Subscriber, str | None]]] = {}  # contact -> waiting for its channel
        self._commands: asyncio.Queue[tuple[str, bytes]] | None = None  # for the pub/sub connection
        self._outgoing: list[Outgoing] = []
        self._wake = asyncio.Event()
        self._linked = asyncio.Event()
        self._missed: set[str] = set()  # contacts some message of which may not have reached Redis
        self._announced: dict[int, asyncio.Future[None]] = {}
        self._sequence = 0
        self._controls: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._linked.is_set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._dispatch()), loop.create_task(self._keep_linked())]
        try:
            await asyncio.wait_for(self._linked.wait(), self._first_link_wait)
        except TimeoutError:
            log.warning("Redis at %s does not answer yet; /_parley/ready answers 503 until it does", self._where)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._linked.clear()
        self._fail_announced("the bus is closed")
        await self._pool.disconnect()

    # -- the port ------------------------------------------------------------------------------------
    async def subscribe(self, contact_id: str, subscriber: Subscriber, greeting: str | None = None) -> None:
        commands = self._commands
        if commands is None or not self.connected:
            subscriber.close_soon(0, DROP_CODE)  # nothing can reach it: its client retries later
            return
        ready = self._channels.get(contact_id)
        if ready is not None and ready.done():
            self._admit(contact_id, subscriber, greeting)
            return
        self._joining.setdefault(contact_id, []).append((subscriber, greeting))
        if ready is None:
            ready = asyncio.get_running_loop().create_future()
            channel = self._contact_prefix + contact_id.encode()
            self._confirming.setdefault(channel, deque()).append(ready)
            self._channels[contact_id] = ready
            commands.put_nowait(("SUBSCRIBE", channel))
        await asyncio.shield(ready)

    def unsubscribe(self, contact_id: str, subscriber: Subscriber) -> None:
        self._local.unsubscribe(contact_id, subscriber)
        joining = self._joining.get(contact_id)
        if joining is not None:
            joining[:] = [entry for entry in joining if entry[0] is not subscriber]
            if not joining:
                del self._joining[contact_id]
        self._release_if_idle(contact_id)

    def publish(self, contact_id: str, frame: str) -> None:
        self._send(contact_id, FRAME + frame)

    def end(self, contact_id: str, grace: float) -> None:
        self._send(contact_id, END + json.dumps(grace))

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        self._send(contact_id, LEAVE + json.dumps([participant_id, grace]))

    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int:
        self._send(contact_id, DROP + json.dumps([code, participant_id]))
        return len(self._local.matching(contact_id, participant_id))

    def subscribers(self, contact_id: str) -> int:
        return self._local.subscribers(contact_id) + len(self._joining.get(contact_id, ()))

    async def announce(self, message: dict[str, Any]) -> None:
        if not self.connected:
            raise BusUnavailable(f"Redis at {self._where} is not reachable")
        self._sequence += 1
        done = asyncio.get_running_loop().create_future()
        self._announced[self._sequence] = done
        envelope = {"node": self._node, "sequence": self._sequence, "message": message}
        self._enqueue((self._control, json.dumps(envelope).encode(), None))
        await done

    def listen(self, callback: Listener) -> None:
        self._listeners.append(callback)

    # -- sending ----------------------------------------------------------------------------------------
    def _send(self, contact_id: str, payload: str) -> None:
        if not self.connected:
            if not self._missed:
                log.warning("Redis at %s is not reachable: frames are not delivered until it is", self._where)
            self._missed.add(contact_id)
            return
        body = payload.encode("utf-8", "surrogatepass")
        self._enqueue((self._contact_prefix + contact_id.encode(), body, contact_id))

    def _enqueue(self, message: Outgoing) -> None:
        self._outgoing.append(message)
        self._wake.set()

    async def _publish_loop(self, connection: AbstractConnection) -> None:
        while True:
            if not self._outgoing:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._outgoing[:PIPELINE_LIMIT]
            del self._outgoing[:PIPELINE_LIMIT]
            try:
                commands = [("PUBLISH", channel, body) for channel, body, _ in batch]
                await connection.send_packed_command(connection.pack_commands(commands), check_health=False)
                for _ in batch:
                    await connection.read_response()
            except BaseException:
                self._missed.update(contact_id for _, _, contact_id in batch if contact_id is not None)
                raise

    def _drop_missed(self) -> None:
        """First on a new link: a cluster-wide drop for every contact whose messages may have been lost."""
        missed, self._missed = self._missed, set()
        drops: list[Outgoing] = [
            (self._contact_prefix + contact_id.encode(), (DROP + json.dumps([DROP_CODE, None])).encode(), contact_id)
            for contact_id in sorted(missed)
        ]
        if drops:
            log.warning("dropping the sockets of %d chats on every node: their frames may be lost", len(drops))
        self._outgoing[:0] = drops
        self._wake.set()

    # -- receiving -------------------------------------------------------------------------------------
    async def _read_loop(self, connection: AbstractConnection) -> None:
        while True:
            reply = await connection.read_response(timeout=3 * PING_SECONDS)
            if reply is None:
                raise ConnectionError(f"Redis at {self._where} went silent")
            kind, channel = reply[0], reply[1]
            if kind == b"message":
                self._deliver(channel, reply[2])
            elif kind == b"subscribe":
                self._confirmed(channel)

    def _deliver(self, channel: bytes, body: bytes) -> None:
        if channel == self._control:
            self._controls.put_nowait(json.loads(body))
            return
        contact_id = channel[len(self._contact_prefix) :].decode()
        text = body.decode("utf-8", "surrogatepass")
        kind, rest = text[:1], text[1:]
        if kind == FRAME:
            self._local.publish(contact_id, rest)
        elif kind == END:
            self._local.end(contact_id, float(rest))
        elif kind == LEAVE:
            participant_id, grace = json.loads(rest)
            self._local.leave(contact_id, participant_id, grace)
        elif kind == DROP:
            code, participant_id = json.loads(rest)
            self._local.drop(contact_id, code, participant_id)
        self._release_if_idle(contact_id)

    def _confirmed(self, channel: bytes) -> None:
        """Redis confirmed a SUBSCRIBE: if it is the channel's current one, the sockets waiting for it start
        receiving now, before the reader takes the channel's next message, each greeted first."""
        waiting = self._confirming.get(channel)
        if not waiting:
            return
        ready = waiting.popleft()
        if not waiting:
            del self._confirming[channel]
        contact_id = channel[len(self._contact_prefix) :].decode()
        if self._channels.get(contact_id) is ready:
            for subscriber, greeting in self._joining.pop(contact_id, ()):
                self._admit(contact_id, subscriber, greeting)
        if not ready.done():
            ready.set_result(None)

    def _admit(self, contact_id: str, subscriber: Subscriber, greeting: str | None) -> None:
        self._local.subscribe(contact_id, subscriber)
        if greeting is not None:
            subscriber.offer(greeting)

    def _release_if_idle(self, contact_id: str) -> None:
        """The last local socket of the contact went: this node stops receiving its channel."""
        if self.subscribers(contact_id) or contact_id not in self._channels:
            return
        del self._channels[contact_id]
        if self._commands is not None:
            self._commands.put_nowait(("UNSUBSCRIBE", self._contact_prefix + contact_id.encode()))

    async def _command_loop(self, connection: AbstractConnection, commands: asyncio.Queue[tuple[str, bytes]]) -> None:
        """(UN)SUBSCRIBEs in the order asked, and a PING when idle so a dead link is noticed."""
        while True:
            try:
                command = await asyncio.wait_for(commands.get(), PING_SECONDS)
            except TimeoutError:
                await connection.send_command("PING", check_health=False)
                continue
            await connection.send_command(*command, check_health=False)

    async def _dispatch(self) -> None:
        """Announced messages to the listeners, one at a time; the announcer learns when its own ran."""
        while True:
            envelope = await self._controls.get()
            for listener in tuple(self._listeners):
                try:
                    await listener(envelope["message"])
                except Exception:  # one listener's failure must not keep the message from the others
                    log.exception("a bus listener failed on %r", envelope["message"])
            if envelope["node"] == self._node:
                done = self._announced.pop(envelope["sequence"], None)
                if done is not None and not done.done():
                    done.set_result(None)

    # -- the link ------------------------------------------------------------------------------------------
    async def _keep_linked(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                await self._link()
            except Exception as error:  # any failure of the link is survived the same way
                log.warning("the Redis link to %s failed: %s", self._where, error)
            if self._unlink():
                delay = self._backoff[0]  # it was up: try again soon
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(2 * delay, self._backoff[1])

    def _connection(self) -> AbstractConnection:
        """A connection of its own, outside the pool: the link's two are never shared or retried."""
        connection: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        return connection

    async def _link(self) -> None:
        subscriber, publisher = self._connection(), self._connection()
        try:
            for connection in (subscriber, publisher):
                await connection.connect()  # type: ignore[no-untyped-call]
            await subscriber.send_command("SUBSCRIBE", self._control, check_health=False)
            await subscriber.read_response()
            await self._run_linked(subscriber, publisher)
        finally:
            for connection in (subscriber, publisher):
                await connection.disconnect(nowait=True)

    async def _run_linked(self, subscriber: AbstractConnection, publisher: AbstractConnection) -> None:
        commands: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._commands = commands
        self._drop_missed()
        self._linked.set()
        log.info("bus linked to Redis at %s", self._where)
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self._read_loop(subscriber)),
            loop.create_task(self._command_loop(subscriber, commands)),
            loop.create_task(self._publish_loop(publisher)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()

    def _unlink(self) -> bool:
        """After a lost link: every local socket closes (it may have missed frames); what waited on the link
        is released. Whether the link had been up."""
        was_up = self.connected
        self._linked.clear()
        self._commands = None
        closed = self._local.drop_all(DROP_CODE)
        if was_up:
            log.warning("bus unlinked from Redis at %s: closed %d sockets", self._where, closed)
        for joining in self._joining.values():
            for subscriber, _ in joining:
                subscriber.close_soon(0, DROP_CODE)
        self._joining.clear()
        self._channels.clear()
        for waiting in self._confirming.values():
            for ready in waiting:
                if not ready.done():
                    ready.set_result(None)
        self._confirming.clear()
        self._fail_announced(f"the link to Redis at {self._where} was lost")
        self._missed.update(contact_id for _, _, contact_id in self._outgoing if contact_id is not None)
        self._outgoing.clear()
        return was_up

    def _fail_announced(self, reason: str) -> None:
        for done in self._announced.values():
            if not done.done():
                done.set_exception(BusUnavailable(reason))
        self._announced.clear()
