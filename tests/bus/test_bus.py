"""The bus port's promises, on the memory bus and on Redis. For Redis, two RedisBus instances on one Redis
are two nodes (each test has its own channel prefix); for memory, both "nodes" are the one bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from parley.bus.memory import MemoryBus
from parley.bus.port import DROP_CODE, Bus, BusUnavailable
from parley.bus.redis import RedisBus
from parley.settings import SettingsError, effective, load
from tests.backing import redis_url
from tests.bus.relay import Outage

KINDS = ["memory", pytest.param("redis", marks=pytest.mark.services)]


class FakeSocket:
    """A Subscriber that keeps what it was offered and how it was told to close."""

    def __init__(self, participant_id: str = "p1", limit: int = 10_000) -> None:
        self.participant_id = participant_id
        self.frames: list[str] = []
        self.closed: tuple[float, int] | None = None
        self.frames_when_closed: list[str] = []
        self._limit = limit

    def offer(self, frame: str) -> bool:
        if self.closed is not None:
            return True
        if len(self.frames) >= self._limit:
            return False
        self.frames.append(frame)
        return True

    def close_soon(self, grace: float, code: int) -> None:
        if self.closed is None:
            self.closed = (grace, code)
            self.frames_when_closed = list(self.frames)


def redis_bus(url: str, prefix: str, name: str) -> RedisBus:
    return RedisBus(url, prefix, backoff=(0.02, 0.2), first_link_wait=5.0, client_name=name)


@asynccontextmanager
async def two_nodes(kind: str) -> AsyncIterator[tuple[Bus, Bus]]:
    if kind == "memory":
        bus = MemoryBus()
        yield bus, bus
        return
    url, prefix = redis_url(), f"parley-test:{uuid4().hex}:"
    a, b = redis_bus(url, prefix, f"a-{uuid4().hex}"), redis_bus(url, prefix, f"b-{uuid4().hex}")
    await a.start()
    await b.start()
    try:
        assert a.connected and b.connected
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


async def settle() -> None:
    """Long enough for a duplicate to arrive, if one were coming."""
    await asyncio.sleep(0.2)


def run(kind: str, test: Callable[[Bus, Bus], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with two_nodes(kind) as (a, b):
            await test(a, b)

    asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_a_publish_reaches_every_socket_on_every_node_in_order_exactly_once(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        on_a, on_b, also_on_b, elsewhere = FakeSocket(), FakeSocket(), FakeSocket("p2"), FakeSocket()
        await a.subscribe("c1", on_a)
        await b.subscribe("c1", on_b)
        await b.subscribe("c1", also_on_b)
        await b.subscribe("c2", elsewhere)
        sent = [f"frame {n}" for n in range(300)]
        for frame in sent:
            a.publish("c1", frame)
        await eventually(lambda: all(len(s.frames) >= len(sent) for s in (on_a, on_b, also_on_b)))
        await settle()
        assert on_a.frames == on_b.frames == also_on_b.frames == sent
        assert elsewhere.frames == [] and elsewhere.closed is None

    run(kind, test)


@pytest.mark.parametrize("kind", KINDS)
def test_publishes_from_two_nodes_reach_every_socket_in_one_order(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        sockets = [FakeSocket(), FakeSocket()]
        await a.subscribe("c1", sockets[0])
        await b.subscribe("c1", sockets[1])
        for n in range(100):
            (a if n % 2 else b).publish("c1", f"frame {n}")
            if n % 7 == 0:
                await asyncio.sleep(0)
        await eventually(lambda: all(len(s.frames) >= 100 for s in sockets))
        await settle()
        assert sockets[0].frames == sockets[1].frames
        assert sorted(sockets[0].frames) == sorted(f"frame {n}" for n in range(100))

    run(kind, test)


@pytest.mark.parametrize("kind", KINDS)
def test_sockets_joining_mid_stream_get_their_greeting_first_then_every_later_frame(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        published: list[str] = []
        joined = asyncio.Event()

        async def stream() -> None:
            """Publishes until both sockets have joined, then 50 frames more (never runs out before they join)."""
            n, last = 0, None
            while last is None or n < last:
                published.append(f"{n}")
                a.publish("c1", f"{n}")
                await asyncio.sleep(0)
                n += 1
                if last is None and joined.is_set():
                    last = n + 50

        first, second = FakeSocket(), FakeSocket("p2")
        streaming = asyncio.get_running_loop().create_task(stream())
        await asyncio.sleep(0.01)
        await asyncio.gather(b.subscribe("c1", first, "hello"), b.subscribe("c1", second, "hello"))
        joined.set()
        await streaming
        await eventually(lambda: first.frames[-1:] == [published[-1]] and second.frames[-1:] == [published[-1]])
        for socket in (first, second):
            assert socket.frames[0] == "hello" and len(socket.frames) > 1
            tail = socket.frames[1:]
            assert tail == published[published.index(tail[0]) :]  # unbroken from where it joined

    run(kind, test)


@pytest.mark.parametrize("kind", KINDS)
def test_end_closes_every_node_s_sockets_after_the_frames_before_it(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        on_a, on_b = FakeSocket(), FakeSocket("p2")
        await a.subscribe("c1", on_a)
        await b.subscribe("c1", on_b)
        a.publish("c1", "chat.ended")
        a.end("c1", 2.5)
        await eventually(lambda: on_a.closed is not None and on_b.closed is not None)
        for socket in (on_a, on_b):
            assert socket.closed == (2.5, 1000)
            assert socket.frames_when_closed == ["chat.ended"]
        assert a.subscribers("c1") == b.subscribers("c1") == 0

    run(kind, test)


@pytest.mark.parametrize("kind", KINDS)
def test_drop_and_leave_reach_one_participant_s_sockets_on_every_node(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        leaver_a, leaver_b, dropped_b, staying = FakeSocket("p1"), FakeSocket("p1"), FakeSocket("p2"), FakeSocket("p3")
        for bus, socket in ((a, leaver_a), (b, leaver_b), (b, dropped_b), (a, staying)):
            await bus.subscribe("c1", socket)
        b.publish("c1", "participant.left")
        b.leave("c1", "p1", 1.0)
        assert a.drop("c1", DROP_CODE, "p2") == (1 if kind == "memory" else 0)  # a counts its own sockets
        await eventually(lambda: all(s.closed is not None for s in (leaver_a, leaver_b, dropped_b)))
        assert leaver_a.closed == leaver_b.closed == (1.0, 1000)
        assert leaver_a.frames_when_closed == leaver_b.frames_when_closed == ["participant.left"]
        assert dropped_b.closed == (0, DROP_CODE)
        a.publish("c1", "after")
        await eventually(lambda: staying.frames == ["participant.left", "after"])
        await settle()
        assert staying.closed is None and leaver_a.frames == ["participant.left"]

    run(kind, test)


@pytest.mark.parametrize("kind", KINDS)
def test_a_slow_subscriber_is_dropped_and_the_others_get_everything(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        slow, fine = FakeSocket(limit=3), FakeSocket()
        await b.subscribe("c1", slow)
        await b.subscribe("c1", fine)
        for n in range(10):
            a.publish("c1", f"frame {n}")
        await eventually(lambda: len(fine.frames) == 10)
        assert slow.closed == (0, 1008) and slow.frames == ["frame 0", "frame 1", "frame 2"]
        assert b.subscribers("c1") == 1

    run(kind, test)


@pytest.mark.parametrize("kind", KINDS)
def test_announce_reaches_every_node_s_listeners_once(kind: str) -> None:
    async def test(a: Bus, b: Bus) -> None:
        heard: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}

        def recorder(node: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
            async def listener(message: dict[str, Any]) -> None:
                heard[node].append(message)

            return listener

        a.listen(recorder("a"))
        if b is not a:
            b.listen(recorder("b"))
        await a.announce({"clock": 1})
        assert heard["a"] == [{"clock": 1}]  # the announcer's own listeners have run when it returns
        await b.announce({"reset": True})
        expected = [{"clock": 1}, {"reset": True}]
        await eventually(lambda: heard["a"] == expected and heard["b"] in ([], expected))
        await settle()
        assert heard["a"] == expected and heard["b"] == ([] if b is a else expected)

    run(kind, test)


@pytest.mark.services
def test_unsubscribing_the_last_socket_leaves_the_channel() -> None:
    async def test(a: Bus, b: Bus) -> None:
        admin = Redis.from_url(redis_url())
        channel = f"{a._contact_prefix.decode()}c1"  # type: ignore[attr-defined]
        try:
            first, second, third = FakeSocket(), FakeSocket(), FakeSocket()
            await a.subscribe("c1", first)
            await a.subscribe("c1", second)
            await b.subscribe("c1", third)
            assert await admin.pubsub_numsub(channel) == [(channel.encode(), 2)]  # one subscription per node
            a.unsubscribe("c1", first)
            b.unsubscribe("c1", third)
            await eventually_async(lambda: _numsub(admin, channel), 1)
            a.unsubscribe("c1", second)
            await eventually_async(lambda: _numsub(admin, channel), 0)
            b.publish("c1", "nobody hears this")
            await settle()
            assert second.frames == [] and a.subscribers("c1") == 0
        finally:
            await admin.aclose()

    run("redis", test)


async def _numsub(admin: Redis, channel: str) -> int:
    [(_, count)] = await admin.pubsub_numsub(channel)
    return int(count)


async def eventually_async(read: Callable[[], Awaitable[int]], expected: int, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"{found}, not {expected}"
        await asyncio.sleep(0.01)


async def kill_pubsub_connections(admin: Redis, client_name: str) -> int:
    """`CLIENT KILL` of one node's pub/sub connection, picked by its name so parallel tests are spared."""
    killed = 0
    for client in await admin.client_list(_type="pubsub"):
        if client.get("name") == client_name:
            killed += int(await admin.client_kill_filter(_id=client["id"], _type="pubsub"))
    return killed


@pytest.mark.services
def test_a_killed_pubsub_connection_closes_the_node_s_sockets_and_the_node_links_again() -> None:
    async def main() -> None:
        url, prefix, name = redis_url(), f"parley-test:{uuid4().hex}:", f"a-{uuid4().hex}"
        a, b = redis_bus(url, prefix, name), redis_bus(url, prefix, f"b-{uuid4().hex}")
        admin = Redis.from_url(url)
        await a.start()
        await b.start()
        try:
            on_a, on_b = FakeSocket(), FakeSocket()
            await a.subscribe("c1", on_a)
            await b.subscribe("c1", on_b)
            b.publish("c1", "before")
            await eventually(lambda: on_a.frames == ["before"])
            assert await kill_pubsub_connections(admin, name) == 1
            await eventually(lambda: on_a.closed is not None)
            assert on_a.closed == (0, DROP_CODE) and a.subscribers("c1") == 0
            await eventually(lambda: a.connected)
            again = FakeSocket()
            await a.subscribe("c1", again)
            b.publish("c1", "after")
            a.publish("c1", "from a")
            await eventually(lambda: again.frames == ["after", "from a"])
            await settle()
            assert on_b.frames == ["before", "after", "from a"] and on_b.closed is None
        finally:
            await admin.aclose()
            await a.aclose()
            await b.aclose()

    asyncio.run(main())


@pytest.mark.services
def test_while_redis_is_down_for_a_node_publishing_does_not_fail_and_missed_sockets_are_dropped() -> None:
    async def main() -> None:
        url, prefix = redis_url(), f"parley-test:{uuid4().hex}:"
        parts = Redis.from_url(url).connection_pool.connection_kwargs
        outage = Outage((parts.get("host", "127.0.0.1"), int(parts.get("port", 6379))))
        await outage.up()
        a = redis_bus(f"redis://127.0.0.1:{outage.port}/{parts.get('db', 0)}", prefix, f"a-{uuid4().hex}")
        b = redis_bus(url, prefix, f"b-{uuid4().hex}")
        await a.start()
        await b.start()
        try:
            on_a, on_b, other_chat = FakeSocket(), FakeSocket(), FakeSocket()
            await a.subscribe("c1", on_a)
            await b.subscribe("c1", on_b)
            await b.subscribe("c2", other_chat)
            await outage.down()
            await eventually(lambda: not a.connected)
            assert on_a.closed == (0, DROP_CODE)
            a.publish("c1", "lost")  # committed while Redis is unreachable: must not raise
            latecomer = FakeSocket()
            await a.subscribe("c1", latecomer)  # nothing could reach it: its client is told to come back
            assert latecomer.closed == (0, DROP_CODE) and a.subscribers("c1") == 0
            with pytest.raises(BusUnavailable):
                await a.announce({"clock": 1})
            await outage.up()
            await eventually(lambda: a.connected)
            await eventually(lambda: on_b.closed is not None)  # it missed "lost": its client must refetch
            assert on_b.closed == (0, DROP_CODE) and on_b.frames == []
            await settle()
            assert other_chat.closed is None
            again = FakeSocket()
            await b.subscribe("c1", again)
            a.publish("c1", "delivered")
            await eventually(lambda: again.frames == ["delivered"])
        finally:
            await a.aclose()
            await b.aclose()
            await outage.down()

    asyncio.run(main())


def test_redis_url_is_a_flag_with_an_environment_twin_and_is_checked() -> None:
    assert load({"redis_url": "redis://127.0.0.1:6379/0"}, environ={}).redis_url == "redis://127.0.0.1:6379/0"
    from_env = load({}, environ={"PARLEY_REDIS_URL": "rediss://user:pw@cache:6380"})
    assert effective(from_env)["redis_url"] == {
        "value": "rediss://user:***@cache:6380",
        "source": "env",
        "flag": "--redis-url",
        "env": "PARLEY_REDIS_URL",
    }
    with pytest.raises(SettingsError, match="PARLEY_REDIS_URL: expected a redis://"):
        load({}, environ={"PARLEY_REDIS_URL": "http://127.0.0.1:6379"})
