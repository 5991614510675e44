"""A customer and an agent, each in their own browser context, chatting through the console.

The customer starts the chat from the customer test page (StartChatContact from the browser); the agent
takes it from the agent workspace with Accept (the queue when this Parley has queues, else the list of
open chats, which joins); then both speak only through the Participant Service and their own WebSockets.
Every page is screenshotted into test-artifacts/console/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import RunningParley, client, make_instance
from tests.console.conftest import WAIT_MS, console_url

PAGES = ("contacts", "agent", "customer", "flows", "requests", "faults", "clock")


def open_page(browser: Any, server: RunningParley, page: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened: Page = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.errors = errors  # type: ignore[attr-defined]
    opened.goto(console_url(server, page))
    return opened


def start_customer_chat(customer: Page, name: str) -> str:
    """Starts a chat on the customer page (creating an instance on an empty Parley); its ContactId."""
    create = customer.get_by_role("button", name="Create an instance")
    start = customer.get_by_role("button", name="Start chat")
    expect(create.or_(start)).to_be_visible()
    if create.is_visible():
        create.click()
    expect(customer.get_by_label("Flow")).not_to_be_empty()
    customer.get_by_label("Your name").fill(name)
    start.click()
    chat = customer.get_by_role("region", name=f"Chat as {name}").first
    expect(chat.get_by_label("Chat state")).to_have_text("Connected")
    contact_id = chat.get_attribute("data-contact")
    assert contact_id
    return contact_id


# Once Parley runs flows, a chat on the default inbound flow waits in BasicQueue and must be accepted from
# there: set this to True then. Until then the chat is taken from "Other open chats" (`join`).
QUEUE_REQUIRED = True


def has_queues(agent: Page) -> bool:
    status: int = agent.evaluate("fetch('/_parley/queues').then((r) => r.status)")
    return status == 200


def accept(agent: Page, contact_id: str, name: str) -> str:
    """Accept on the waiting chat: from its queue (`accept`) when the queue shows it, else from the other
    open chats (`join`). Returns where it was taken from."""
    agent.get_by_label("Agent name").fill(name)
    queued = agent.get_by_role("region", name=re.compile("^Queue ")).get_by_role(
        "listitem", name=f"Waiting chat {contact_id}"
    )
    if has_queues(agent):
        try:
            queued.wait_for(timeout=3000 if not QUEUE_REQUIRED else WAIT_MS)
        except PlaywrightTimeout:
            assert not QUEUE_REQUIRED, f"the chat {contact_id} never showed in a queue"
    if queued.count():
        queued.get_by_role("button", name="Accept").click()
        return "queue"
    others = agent.get_by_role("region", name="Other open chats")
    others.get_by_role("listitem", name=f"Waiting chat {contact_id}").get_by_role("button", name="Accept").click()
    return "other open chats"


def test_customer_and_agent_chat_with_typing_receipts_an_attachment_and_the_end(
    browser: Any, server: RunningParley, artifacts: Path
) -> None:
    customer = open_page(browser, server, "customer")
    expect(customer.get_by_role("button", name="Create an instance")).to_be_visible()  # an empty Parley
    contact_id = start_customer_chat(customer, "Cara")
    customer_chat = customer.get_by_role("region", name="Chat as Cara")

    agent = open_page(browser, server, "agent")
    accept(agent, contact_id, "Ann")
    agent_chat = agent.get_by_role("region", name="Chat with Cara")
    expect(agent_chat.get_by_label("Chat state")).to_have_text("Connected")
    expect(customer_chat.get_by_role("log")).to_contain_text("Ann joined")

    # the customer types (the agent sees it), sends with Enter, and the agent's read receipt comes back
    customer_chat.get_by_label("Message").press_sequentially("Hello, I need")
    expect(agent_chat.get_by_label("Typing")).to_have_text("Cara is typing…")
    customer_chat.get_by_label("Message").press_sequentially(" help")
    customer_chat.get_by_label("Message").press("Enter")
    expect(agent_chat.get_by_role("log")).to_contain_text("Hello, I need help")
    expect(agent_chat.get_by_label("Typing")).to_have_text("")
    mine = customer_chat.locator(".msg.mine", has_text="Hello, I need help")
    expect(mine.locator(".receipt")).to_have_text("Read")

    # and the other way round, with the Send button
    agent_chat.get_by_label("Message").press_sequentially("Hi Cara, here is the report")
    expect(customer_chat.get_by_label("Typing")).to_have_text("Ann is typing…")
    agent_chat.get_by_role("button", name="Send").click()
    expect(customer_chat.get_by_role("log")).to_contain_text("Hi Cara, here is the report")
    expect(agent_chat.locator(".msg.mine", has_text="here is the report").locator(".receipt")).to_have_text("Read")

    # the agent sends a file; the customer opens it (GetAttachment's URL, in a new tab)
    agent_chat.get_by_label("Attach file").set_input_files(
        {"name": "report.txt", "mimeType": "text/plain", "buffer": b"Quarterly report: all good.\n"}
    )
    opener = customer_chat.get_by_role("button", name="Open report.txt")
    expect(opener).to_be_visible()
    with customer.context.expect_page() as opened:
        opener.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert "Quarterly report: all good." in tab.content()
    tab.close()

    # the customer also sends one (attachments both ways); the agent sees it
    customer_chat.get_by_label("Attach file").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": PNG}
    )
    expect(agent_chat.get_by_role("button", name="Open photo.png")).to_be_visible()

    shoot(agent, artifacts / "agent.png")
    shoot(customer, artifacts / "customer.png")

    customer_chat.get_by_role("button", name="End chat").click()
    expect(customer_chat.get_by_label("Chat state")).to_have_text("Chat ended")
    expect(agent_chat.get_by_label("Chat state")).to_have_text("Chat ended")
    expect(agent_chat.get_by_label("Message")).to_be_disabled()

    contact_page(agent, contact_id, artifacts)
    assert customer.errors == [] and agent.errors == []  # type: ignore[attr-defined]
    customer.context.close()
    agent.context.close()


def test_an_agent_answers_several_chats_at_once(browser: Any, server: RunningParley) -> None:
    connect = client("connect", server.url)
    participant = client("connectparticipant", server.url)
    setup = make_instance(connect)
    customers = {}
    for name in ("Ada", "Bo", "Cy"):
        started = connect.start_chat_contact(
            InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": name}
        )
        answer = participant.create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
        )
        customers[name] = (started["ContactId"], answer["ConnectionCredentials"]["ConnectionToken"])
    agent = open_page(browser, server, "agent")
    for contact_id, _ in customers.values():
        accept(agent, contact_id, "Ann")
    for name in customers:
        chat = agent.get_by_role("region", name=f"Chat with {name}")
        expect(chat.get_by_label("Chat state")).to_have_text("Connected")
        chat.get_by_label("Message").fill(f"Hello {name}")
        chat.get_by_label("Message").press("Enter")
        expect(chat.get_by_role("log")).to_contain_text(f"Hello {name}")
    for name, (_, token) in customers.items():
        participant.send_message(ContentType="text/plain", Content=f"{name} here", ConnectionToken=token)
        said = participant.get_transcript(ConnectionToken=token)["Transcript"]
        spoken = [i["Content"] for i in said if i.get("ParticipantRole") == "AGENT" and i["Type"] == "MESSAGE"]
        assert spoken == [f"Hello {name}"]
    for name in customers:
        log = agent.get_by_role("region", name=f"Chat with {name}").get_by_role("log")
        expect(log).to_contain_text(f"{name} here")
        for other in set(customers) - {name}:
            expect(log).not_to_contain_text(f"{other} here")
    assert agent.errors == []  # type: ignore[attr-defined]
    agent.context.close()


def test_a_chat_that_connects_late_leaves_the_focus_where_the_agent_types(browser: Any, server: RunningParley) -> None:
    """Accepting a chat connects it in the background; the agent meanwhile writes in another chat. When the new
    chat is ready it must not take the focus, or the Enter meant for the first chat goes to the new one."""
    connect = client("connect", server.url)
    participant = client("connectparticipant", server.url)
    setup = make_instance(connect)
    contacts = {}
    for name in ("Dee", "Eli"):
        started = connect.start_chat_contact(
            InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": name}
        )
        participant.create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
        )
        contacts[name] = started["ContactId"]
    agent = open_page(browser, server, "agent")
    accept(agent, contacts["Dee"], "Ann")
    dee = agent.get_by_role("region", name="Chat with Dee")
    expect(dee.get_by_label("Chat state")).to_have_text("Connected")
    slow = {"match": {"service": "connectparticipant", "operation": "CreateParticipantConnection"}, "times": 1}
    rule = _admin(server, "POST", "faults", {**slow, "latencyMs": 1500})
    try:
        accept(agent, contacts["Eli"], "Ann")
        dee.get_by_label("Message").fill("Still with you, Dee")
        eli = agent.get_by_role("region", name="Chat with Eli")
        expect(eli.get_by_label("Chat state")).to_have_text("Connected")
        expect(dee.get_by_label("Message")).to_be_focused()
        agent.keyboard.press("Enter")
        expect(dee.get_by_role("log")).to_contain_text("Still with you, Dee")
        expect(eli.get_by_role("log")).not_to_contain_text("Still with you")
    finally:
        _admin(server, "DELETE", f"faults/{rule['id']}")
    assert agent.errors == []  # type: ignore[attr-defined]
    agent.context.close()


def test_the_transcript_arriving_late_leaves_a_live_typing_indicator(browser: Any, server: RunningParley) -> None:
    """A chat shows "Connected" once its socket is subscribed, and then reads the transcript. A customer who
    writes and types in between must still show as typing once the transcript is in (the customer's earlier
    messages in it are history, and say nothing about now), and the transcript goes before what came live."""
    connect = client("connect", server.url)
    participant = client("connectparticipant", server.url)
    setup = make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "Fay"}
    )
    token = participant.create_participant_connection(
        ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
    )["ConnectionCredentials"]["ConnectionToken"]
    participant.send_message(ConnectionToken=token, ContentType="text/plain", Content="Hello before you came")
    slow = {"match": {"service": "connectparticipant", "operation": "GetTranscript"}, "times": 1}
    rule = _admin(server, "POST", "faults", {**slow, "latencyMs": 2500})
    try:
        agent = open_page(browser, server, "agent")
        accept(agent, started["ContactId"], "Ann")
        fay = agent.get_by_role("region", name="Chat with Fay")
        expect(fay.get_by_label("Chat state")).to_have_text("Connected")
        participant.send_event(ConnectionToken=token, ContentType="application/vnd.amazonaws.connect.event.typing")
        expect(fay.get_by_label("Typing")).to_have_text("Fay is typing…")
        participant.send_message(ConnectionToken=token, ContentType="text/plain", Content="Are you there?")
        expect(fay.get_by_role("log")).to_contain_text("Are you there?")
        participant.send_event(ConnectionToken=token, ContentType="application/vnd.amazonaws.connect.event.typing")
        expect(fay.get_by_label("Typing")).to_have_text("Fay is typing…")
        expect(fay.get_by_role("log")).to_contain_text("Hello before you came")  # the transcript is in
        expect(fay.get_by_label("Typing")).to_have_text("Fay is typing…")
        text = fay.get_by_role("log").inner_text()
        assert text.index("Hello before you came") < text.index("Are you there?")  # history first, as sent
    finally:
        _admin(server, "DELETE", f"faults/{rule['id']}")
    assert agent.errors == []  # type: ignore[attr-defined]
    agent.context.close()


def contact_page(page: Page, contact_id: str, artifacts: Path) -> None:
    """The contact's page: the transcript as a chat, participants, its requests; optional views say so."""
    page.get_by_role("link", name="Contacts").click()
    row = page.get_by_role("row").filter(has_text=contact_id)
    expect(row).to_contain_text("ended")
    row.get_by_role("link", name=contact_id).click()
    expect(page.get_by_role("heading", name=f"Contact {contact_id}")).to_be_visible()
    transcript = page.get_by_role("region", name="Conversation").get_by_role("log")
    expect(transcript).to_contain_text("Hello, I need help")
    expect(transcript.get_by_role("button", name="Open report.txt")).to_be_visible()
    people = page.get_by_role("table", name="Participants")
    expect(people).to_contain_text("CUSTOMER")
    expect(people).to_contain_text("AGENT")
    expect(page.get_by_role("table", name="Requests of this contact")).to_contain_text("SendMessage")
    expect(page.get_by_role("region", name="Flow trail")).to_be_visible()
    shoot(page, artifacts / "contact.png")


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)


def test_every_page_opens_with_its_navigation_and_is_screenshotted(
    browser: Any, server: RunningParley, artifacts: Path
) -> None:
    page = open_page(browser, server, "contacts")
    nav = page.get_by_role("navigation")
    for name in ("Contacts", "Agent", "Customer", "Flows", "Requests"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_label("Live updates")).to_have_text("live")
    for name in PAGES:
        page.get_by_role("link", name=re.compile(f"^{name}$", re.IGNORECASE)).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        if name == "faults":
            add_and_clear_a_fault(page)
        shoot(page, artifacts / f"page-{name}.png")
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


def add_and_clear_a_fault(page: Page) -> None:
    page.get_by_label("Service").select_option("connect")
    page.get_by_label("Operation").fill("StopContact")
    page.get_by_role("button", name="Add rule").click()
    rules = page.get_by_role("table", name="Fault rules")
    expect(rules).to_contain_text("connect.StopContact")
    expect(rules).to_contain_text("ThrottlingException")
    page.get_by_role("button", name="Clear all rules").click()
    expect(page.get_by_text("No fault rules.")).to_be_visible()
    page.get_by_role("button", name="Add rule").click()  # left in place for the screenshot


def _admin(server: RunningParley, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}/_parley/{path}", data=data, method=method)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# the smallest valid PNG: one transparent pixel
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
