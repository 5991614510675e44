"""flows.md §2: parsing normalizes console exports; content that cannot run is refused with DocumentError."""

from __future__ import annotations

import json

import pytest

from parley.chat.flowlang.document import DocumentError, parse
from tests.flowdocs import BYE, CHECK, CONSOLE_EXPORT, GREET, INVOKE, WAIT


def test_a_console_export_is_normalized() -> None:
    flow = parse(CONSOLE_EXPORT)
    assert flow.start == GREET and len(flow.actions) == 7
    wait = flow.actions[WAIT]
    assert wait.parameters == {"TimeoutSeconds": "900", "Events": ["BotParticipantDisconnected"]}
    assert [c.operands for c in wait.conditions] == [("BotParticipantDisconnected",), ("WaitCompleted",)]
    assert [e.error_type for e in wait.errors] == ["ParticipantNotFound", "NoMatchingError"]
    assert flow.actions[INVOKE].parameters["InvocationTimeLimitSeconds"] == "8"
    assert flow.actions[CHECK].error_route("NoMatchingCondition") is not None
    assert flow.actions[BYE].next_action is None and flow.actions[BYE].conditions == ()
    assert flow.metadata["name"] == "Custom bot chat"


def test_missing_members_read_as_empty_and_numbers_as_text() -> None:
    content = json.dumps(
        {
            "Version": "2019-10-30",
            "StartAction": "c",
            "Actions": [
                {
                    "Identifier": "c",
                    "Type": "Compare",
                    "Parameters": {"ComparisonValue": "$.Attributes.n"},
                    "Transitions": {
                        "Conditions": [
                            {"NextAction": "e", "Condition": {"Operator": "NumberGreaterThan", "Operands": [5]}}
                        ]
                    },
                },
                {"Identifier": "e", "Type": "EndFlowExecution"},
            ],
        }
    )
    flow = parse(content)
    assert flow.actions["c"].conditions[0].operands == ("5",) and flow.actions["c"].errors == ()
    assert flow.actions["e"].parameters == {} and flow.actions["e"].transitions == {}


@pytest.mark.parametrize(
    "content",
    ["{}", "[]", "nope", '{"Version":"2019-10-30","StartAction":"x","Actions":[{"Identifier":"y","Type":"Wait"}]}'],
)
def test_content_that_cannot_run(content: str) -> None:
    with pytest.raises(DocumentError):
        parse(content)
