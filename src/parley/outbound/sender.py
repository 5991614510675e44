"""HTTP out of Parley, on the event loop: one pooled `httpx.AsyncClient`, bodies read up to a cap, and the retry
rule of flows.md §5.3 (429, 5xx and connection errors are retried up to 3 times; the caller's time limit bounds
the whole).

httpx is imported on first use, so a Parley that never calls out does not pay for it at startup. Proxy variables
are not honoured (`trust_env=False`): Lambda targets are local, and a CI runner's HTTP_PROXY must not swallow them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

RETRIES = 3
BACKOFF_SECONDS = 0.1  # doubled before each retry: 0.1, 0.2, 0.4
READ_CAP = 32 * 1024 + 1  # one byte over the response limit is enough to know it is too large


class Unreachable(Exception):
    """No HTTP answer at all (refused, reset, closed) after the retries."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    attempts: int


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


class Sender:
    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(trust_env=False, timeout=None, follow_redirects=False)
        return self._client

    async def post_once(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        import httpx

        try:
            async with self._http().stream("POST", url, content=body, headers=dict(headers)) as response:
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) >= READ_CAP:
                        break
                return response.status_code, {k.lower(): v for k, v in response.headers.items()}, bytes(data)
        except httpx.TransportError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc or 'no answer'}") from None

    async def post(self, url: str, body: bytes, headers: Callable[[], Mapping[str, str]]) -> Reply:
        """POST with retries: `headers` is called for every attempt (a SigV4 signature is dated)."""
        delay = BACKOFF_SECONDS
        for attempt in range(1, RETRIES + 2):
            last = attempt == RETRIES + 1
            try:
                status, answer_headers, data = await self.post_once(url, body, headers())
            except Unreachable:
                if last:
                    raise
            else:
                if last or not retryable(status):
                    return Reply(status, answer_headers, data, attempt)
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
