"""The console keeps up: 1,000 live chats, 20 messages a second across them, the contacts page open.

Each message's row must show it within 1 s of the SendMessage call (measured from just before the call to
the DOM change, seen by a MutationObserver in the page; both clocks are this machine's), and the page stays
responsive: a 50 ms timer in the page never stalls long, and filtering the list still answers at once.
The numbers are printed and written to test-artifacts/console/load.json for BENCHMARKS.md.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import RunningParley, client, make_instance
from tests.console.conftest import ARTIFACTS, console_url

CHATS = 1000
RATE = 20  # messages a second, across the chats
SECONDS = 10
OBSERVE = """() => {
  window.__seen = {};
  window.__gaps = [];
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    window.__gaps.push([Math.round(performance.timeOrigin + now), now - last - 50]);
    last = now;
  }, 50);
  const body = document.querySelector('[role="table"][aria-label="Contacts"] .rows');
  new MutationObserver((records) => {
    const at = performance.timeOrigin + performance.now();
    for (const record of records) {
      const cell = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (cell && cell.classList && cell.classList.contains("last")) {
        const text = cell.textContent;
        if (!(text in window.__seen)) window.__seen[text] = at;
      }
    }
  }).observe(body, { childList: true, subtree: true, characterData: true });
}"""


def start_chats(url: str) -> list[str]:
    """CHATS chats, each with its customer connected; their ConnectionTokens."""
    connect = client("connect", url)
    participant = client("connectparticipant", url)
    setup = make_instance(connect)
    tokens = []
    for n in range(CHATS):
        started = connect.start_chat_contact(
            InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": f"c{n}"}
        )
        answer = participant.create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
        )
        tokens.append(answer["ConnectionCredentials"]["ConnectionToken"])
    return tokens


def send_at_rate(url: str, tokens: list[str], sent: dict[str, float]) -> None:
    participant = client("connectparticipant", url)
    began = time.monotonic()
    for n in range(RATE * SECONDS):
        due = began + n / RATE
        time.sleep(max(0.0, due - time.monotonic()))
        text = f"load message {n}"
        sent[f"c{(n * 37) % CHATS}: {text}"] = time.time() * 1000
        participant.send_message(ContentType="text/plain", Content=text, ConnectionToken=tokens[(n * 37) % CHATS])


@pytest.mark.slow
def test_the_contacts_page_shows_each_message_within_a_second_with_1000_live_chats(
    browser: Any, server: RunningParley
) -> None:
    tokens = start_chats(server.url)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    loading, loading_wall = time.monotonic(), time.time()
    page.goto(console_url(server, "contacts"))
    expect(page.get_by_label("Contact count")).to_have_text(f"{CHATS} of {CHATS} contacts", timeout=30_000)
    first_load = time.monotonic() - loading
    page.evaluate(OBSERVE)

    sent: dict[str, float] = {}
    sender = threading.Thread(target=send_at_rate, args=(server.url, tokens, sent))
    sender.start()
    time.sleep(SECONDS / 2)
    filtering, filter_wall = time.monotonic(), time.time()
    page.get_by_label("Filter contacts").fill("c7 (CUSTOMER)")  # one participant
    expect(page.get_by_label("Contact count")).to_have_text(f"1 of {CHATS} contacts")
    filter_seconds = time.monotonic() - filtering
    page.get_by_label("Filter contacts").fill("")
    sender.join()
    page.wait_for_timeout(1500)
    seen: dict[str, float] = page.evaluate("window.__seen")
    gaps: list[float] = [gap for _, gap in page.evaluate("window.__gaps")]
    stalls = [
        (round(at / 1000 - loading_wall, 2), round(gap)) for at, gap in page.evaluate("window.__gaps") if gap > 200
    ]
    print("stalls (s after load start, ms):", stalls, "filter at", round(filter_wall - loading_wall, 2))
    context.close()

    latencies = sorted((seen[text] - at) / 1000 for text, at in sent.items() if text in seen)
    missing = [text for text in sent if text not in seen]
    report = {
        "chats": CHATS,
        "messages": len(sent),
        "rate_per_second": RATE,
        "first_load_seconds": round(first_load, 3),
        "latency_p50_seconds": round(statistics.median(latencies), 3),
        "latency_p95_seconds": round(latencies[int(len(latencies) * 0.95) - 1], 3),
        "latency_max_seconds": round(latencies[-1], 3),
        "filter_seconds": round(filter_seconds, 3),
        "page_timer_stall_max_ms": round(max(gaps), 1),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print("console load:", json.dumps(report))
    assert not missing, f"{len(missing)} messages never showed, e.g. {missing[:3]}"
    assert report["latency_p95_seconds"] < 1.0, report
    assert report["page_timer_stall_max_ms"] < 1000, report
    assert filter_seconds < 2.0, report
