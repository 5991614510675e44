"""flows.md §3.4 JSONPath and dynamic text, §5.2 the ContactFlowEvent, §5.3 the response -> $.External."""

from __future__ import annotations

from typing import Any

import pytest

from parley.chat.flowlang.event import external_from_response, lambda_event
from parley.chat.flowlang.paths import is_single_path, known, render, resolve
from parley.chat.flowlang.state import ContactData, QueueRef

ARN = "arn:aws:connect:us-east-1:123456789012:instance/inst-1"
QUEUE = QueueRef("q1", "BasicQueue", ARN + "/queue/q1")


def data(**changes: Any) -> ContactData:
    base = ContactData(
        contact_id="c2",
        initial_contact_id="c1",
        previous_contact_id="c1",
        instance_arn=ARN,
        name="Order",
        attributes={"customerName": "Ann", "tier": "gold"},
        external={"status": "success", "vanity1": "1-800-FLOWERS", "deep": {"n": 5, "list": [1, 2]}},
        references={"r": {"Value": "https://x", "Type": "URL"}},
        segment_attributes={"connect:Subtype": {"ValueString": "connect:Chat"}},
        tags={"team": "a"},
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$.ContactId", "c2"),
        ("$.InitialContactId", "c1"),
        ("$.Channel", "CHAT"),
        ("$.InitiationMethod", "API"),
        ("$.InstanceARN", ARN),
        ("$.LanguageCode", "en-US"),
        ("$.Name", "Order"),
        ("$.CustomerId", None),
        ("$.Attributes.customerName", "Ann"),
        ("$.Attributes.missing", None),
        ("$.External.status", "success"),
        ("$.External.deep.n", 5),
        ("$.References.r.Value", "https://x"),
        ("$.SegmentAttributes['connect:Subtype'].ValueString", "connect:Chat"),
        ("$.Tags.team", "a"),
        ("$.Queue.Name", None),
        ("$.Lex.IntentName", None),
        ("$.StoredCustomerInput", None),
    ],
)
def test_resolve(path: str, value: Any) -> None:
    assert resolve(path, data()) == value


def test_the_queue_once_set() -> None:
    assert resolve("$.Queue.ARN", data(queue=QUEUE)) == QUEUE.arn


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("My name is $.Attributes.customerName", "My name is Ann"),
        ("Your first vanity number is $.External.vanity1.", "Your first vanity number is 1-800-FLOWERS."),
        ("$.Attributes.customerName, you are $.Attributes.tier!", "Ann, you are gold!"),
        ("Missing: [$.Attributes.nope]", "Missing: []"),
        ("Deep $.External.deep.n and $.External.deep.list", "Deep 5 and [1,2]"),
        ("No paths, $5 and a.b", "No paths, $5 and a.b"),
        ("($.Attributes.tier) $.Attributes.tier-level", "(gold) "),
    ],
)
def test_render_substitutes_every_path(text: str, rendered: str) -> None:
    assert render(text, data()) == rendered


def test_single_paths_and_known_roots() -> None:
    assert is_single_path("$.Attributes.q") and is_single_path(" $.External.a.b ")
    assert not is_single_path("queue $.Attributes.q") and not is_single_path("static")
    assert known("$.Attributes.stuff") and known("$.Media.x") and known("$.FlowAttributes.y")
    assert not known("$.BadValue") and not known("$.ContactId.more")


def test_the_contact_flow_event() -> None:
    event = lambda_event(data(queue=QUEUE), {"k": "v"})
    assert event["Name"] == "ContactFlowEvent"
    assert event["Details"]["Parameters"] == {"k": "v"}
    contact = event["Details"]["ContactData"]
    assert contact["Channel"] == "CHAT" and contact["InitiationMethod"] == "API"
    assert contact["ContactId"] == "c2" and contact["InitialContactId"] == "c1" and contact["PreviousContactId"] == "c1"
    assert contact["CustomerEndpoint"] is None and contact["SystemEndpoint"] is None
    assert contact["MediaStreams"] == {"Customer": {"Audio": None}}
    assert contact["Queue"] == {"ARN": QUEUE.arn, "Name": "BasicQueue"}
    assert contact["Tags"] == {"aws:connect:instanceId": "inst-1", "team": "a"}
    assert contact["Attributes"] == {"customerName": "Ann", "tier": "gold"}
    assert contact["LanguageCode"] == "en-US" and contact["RelatedContactId"] is None
    assert "External" not in contact


def test_a_first_contact_names_itself_as_initial_and_previous() -> None:
    contact = lambda_event(ContactData(contact_id="c9", instance_arn=ARN), {})["Details"]["ContactData"]
    assert contact["InitialContactId"] == contact["PreviousContactId"] == "c9" and contact["Queue"] is None


@pytest.mark.parametrize(
    ("payload", "response_type", "string_map", "external"),
    [
        ({"status": "success"}, "STRING_MAP", "coerce", {"status": "success"}),
        ({"n": 5, "ok": True, "gone": None, "f": 1.5}, "STRING_MAP", "coerce", {"n": "5", "ok": "true", "f": "1.5"}),
        ({"nested": {"a": "b"}}, "STRING_MAP", "coerce", None),
        ({"n": 5}, "STRING_MAP", "strict", None),
        ({"gone": None}, "STRING_MAP", "strict", None),
        ({"nested": {"a": [1]}}, "JSON", "strict", {"nested": {"a": [1]}}),
        ("text", "STRING_MAP", "coerce", None),
        ([1, 2], "JSON", "coerce", None),
        (None, "JSON", "coerce", None),
    ],
)
def test_the_response_becomes_external(payload: Any, response_type: str, string_map: str, external: Any) -> None:
    assert external_from_response(payload, response_type, string_map) == external
