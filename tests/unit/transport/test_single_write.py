"""A response's head waits for its body and goes out in the same write; nothing else is held."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from parley.transport.single_write import HeldHeadTransport, hold_heads


@dataclass
class Recorder:
    writes: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


@dataclass
class Cycle:
    scope: dict[str, Any]
    response_started: bool = False
    transport: Any = None


def held(method: str = "POST") -> tuple[Recorder, Cycle, HeldHeadTransport]:
    recorder = Recorder()
    cycle = Cycle({"method": method}, transport=recorder)  # as uvicorn builds it, on the connection's transport
    hold_heads(cycle, cast(asyncio.Transport, recorder))
    return recorder, cycle, cycle.transport


def test_the_head_goes_out_with_the_body_in_one_write() -> None:
    recorder, cycle, transport = held()
    cycle.response_started = True
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert recorder.writes == []
    transport.write(b"{}")
    transport.write(b"more")
    assert recorder.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"more"]


def test_a_100_continue_before_the_response_is_not_held() -> None:
    recorder, _, transport = held()
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert recorder.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_closing_between_head_and_body_sends_the_head_first() -> None:
    recorder, cycle, transport = held()
    cycle.response_started = True
    transport.write(b"HEAD-BYTES")
    transport.close()
    assert recorder.writes == [b"HEAD-BYTES"]
    assert transport.is_closing()


def test_a_head_request_keeps_the_plain_transport() -> None:
    recorder, cycle, _ = held("HEAD")
    assert cycle.transport is recorder


def test_anything_else_is_the_real_transport_s() -> None:
    _, _, transport = held()
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)
