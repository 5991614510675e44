"""A Parley served from a thread of the test process, whose store a test can run a unit of work on.

Until the flow runner queues chats itself, nothing over HTTP calls `queues.enqueue`; tests put a chat in a
queue by running that domain call as a unit on the server's own event loop (so it is serialized with the
requests, exactly as a unit the runner commits), then drive everything else over real sockets.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from parley.app import Parley, build_app
from parley.chat import queues
from parley.chat.model import Contact, Scope
from parley.chat.ports import UnitOfWork
from parley.serving import UvicornServer, bind, run, url_of, uvicorn_server
from parley.settings import configure

T = TypeVar("T")


class InProcessParley:
    def __init__(self, **settings: Any) -> None:
        self.settings = configure(host="127.0.0.1", port=0, **settings)
        self.app: Parley | None = None
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._server: UvicornServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> InProcessParley:
        sock = bind(self.settings.host, 0)
        self.app = build_app(self.settings)
        self._server = uvicorn_server(self.app)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(sock, ready), daemon=True)
        self._thread.start()
        assert ready.wait(10), "the in-process Parley did not start"
        self.url = url_of(sock)
        return self

    def _serve(self, sock: Any, ready: threading.Event) -> None:
        assert self._server is not None and self.app is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(run(self._server, sock, ready.set))
        finally:
            self.app.close()
            sock.close()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
            ready.set()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(15)

    def unit(self, work: Callable[[UnitOfWork], T]) -> T:
        """Runs `work` as one writing unit of work on the server's loop; returns its result."""
        assert self.app is not None
        store = self.app.store
        return asyncio.run_coroutine_threadsafe(store.run(work), self._loop).result(10)

    def now(self) -> datetime:
        assert self.app is not None
        return self.app.clock.now()

    def enqueue(self, account: str, contact_id: str, queue_id: str, region: str = "us-east-1") -> Contact:
        """What TransferContactToQueue does to the contact: it waits in the queue."""
        scope, now = Scope(account, region), self.now()

        def work(repo: UnitOfWork) -> Contact:
            contact = repo.get_contact(scope, contact_id)
            assert contact is not None, contact_id
            return queues.enqueue(repo, scope, contact, queue_id, now)

        return self.unit(work)

    def on_accepted(self, callback: Callable[[Scope, str], Any] | None) -> None:
        """Plays the flow runner's part: `callback` is awaited after each accept has committed."""
        assert self.app is not None
        self.app.admin._actions.on_accepted = callback
