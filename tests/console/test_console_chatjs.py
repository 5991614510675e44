"""amazon-connect-chatjs 5.0.0 under Node as the customer, the console in Chromium as the agent.

The customer is the chatjs harness of the interop suite (tests/interop/chatjs/harness.js); the agent accepts
the chat in the workspace and answers it from the browser. Both directions carry messages, typing and read
receipts; the customer leaves through chatjs and the console shows the chat ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.conftest import RunningParley, client, make_instance
from tests.console.conftest import ARTIFACTS
from tests.console.test_console_chat import accept, open_page
from tests.interop.test_chatjs import TYPING, Harness

READ = "application/vnd.amazonaws.connect.event.message.read"


def test_chatjs_customer_and_console_agent(browser: Any, server: RunningParley, tmp_path: Path) -> None:
    connect = client("connect", server.url, key="123456789012")
    setup = make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "Node"}
    )
    harness = Harness(server, started, tmp_path / "harness.stderr")
    try:
        harness.wait_for(lambda r: r["event"] == "ready", "chatjs ready")
        agent = open_page(browser, server, "agent")
        accept(agent, started["ContactId"], "Ann")
        chat = agent.get_by_role("region", name="Chat with Node")
        expect(chat.get_by_label("Chat state")).to_have_text("Connected")

        # chatjs -> console: typing, then a message the console marks read
        harness.command("typing")
        expect(chat.get_by_label("Typing")).to_have_text("Node is typing…")
        sent = harness.command("send", content="Hello from chatjs")
        expect(chat.get_by_role("log")).to_contain_text("Hello from chatjs")
        message_id = sent["Id"]
        harness.wait_for(
            lambda r: (
                r["event"] == "onReadReceipt"
                and ((r.get("item") or {}).get("MessageMetadata") or {}).get("MessageId") == message_id
            ),
            "the console's read receipt in chatjs",
        )

        # console -> chatjs: typing and a message; chatjs sends its read receipt, the console shows it
        since = len(harness.snapshot())
        chat.get_by_label("Message").press_sequentially("Hello from the console")
        harness.hook("onTyping", TYPING, since)
        chat.get_by_label("Message").press("Enter")
        got = harness.hook("onMessage", None, since, Content="Hello from the console")
        harness.command("read", messageId=got["item"]["Id"])
        expect(chat.locator(".msg.mine", has_text="from the console").locator(".receipt")).to_have_text("Read")

        harness.command("disconnect")
        expect(chat.get_by_label("Chat state")).to_have_text("Chat ended")
        harness.hook("onEnded")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(ARTIFACTS / "agent-with-chatjs.png"), full_page=True)
        assert agent.errors == []  # type: ignore[attr-defined]
        agent.context.close()
    finally:
        harness.close()
