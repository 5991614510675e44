"""What one client may hold or send: sizes, rates and timeouts at the edge (SECURITY.md, "Limits").

A frozen value read by settings.py (flags and PARLEY_* twins) and used by serving.py (uvicorn's
protocols) and transport/ (the HTTP and WebSocket handlers). Pure data: no I/O, no parsing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int = 16 * 1024 * 1024  # PARLEY_MAX_BODY_BYTES: an AWS API request body
    max_header_bytes: int = 64 * 1024  # PARLEY_MAX_HEADER_BYTES: all header lines of one request
    max_target_bytes: int = 16 * 1024  # PARLEY_MAX_TARGET_BYTES: the request line's path and query
    header_timeout: float = 10.0  # PARLEY_HEADER_TIMEOUT: connection open (or first byte) -> headers complete
    body_timeout: float = 60.0  # PARLEY_BODY_TIMEOUT: headers complete -> whole body received
    idle_timeout: float = 5.0  # PARLEY_IDLE_TIMEOUT: a kept-alive connection waiting for its next request
    ws_max_frame_bytes: int = 64 * 1024  # PARLEY_WS_MAX_FRAME_BYTES: one client message (close 1009 beyond)
    ws_max_depth: int = 32  # PARLEY_WS_MAX_DEPTH: JSON nesting of one client message (close 1008 beyond)
    ws_messages_per_second: float = 20.0  # PARLEY_WS_RATE: client messages per socket, burst of twice that
    ws_idle_timeout: float = 300.0  # PARLEY_WS_IDLE_TIMEOUT: no byte from the client (pings count); 0 = off
    ws_close_timeout: float = 10.0  # a closed socket's last frames get this long to drain, then it is cut
    # PARLEY_WS_COMPRESSION: "on" accepts a client's permessage-deflate offer with a fresh zlib context per
    # message both ways (no context takeover), so an idle socket holds no compression state; "off" declines it.
    ws_compression: str = "on"
    max_sockets_per_participant: int = 20  # PARLEY_MAX_SOCKETS_PER_PARTICIPANT: the oldest is closed; 0 = no cap
