"""flows.md §2: every validation row, the three modes, the problem limits, and the documents that must pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.chat.defaults import DEFAULT_FLOWS, Refs, flow_content
from parley.chat.flowlang.catalog import ACTION_TYPES
from parley.chat.flowlang.validation import problems
from tests.flowdocs import CONSOLE_EXPORT, FLOW, console_export


def doc(*actions: dict[str, Any], start: str | None = None, **top: Any) -> str:
    body: dict[str, Any] = {
        "Version": "2019-10-30",
        "StartAction": start or actions[0]["Identifier"],
        "Actions": list(actions),
    }
    body.update(top)
    return json.dumps(body)


def act(identifier: str, type_: str, parameters: dict[str, Any] | None = None, **transitions: Any) -> dict[str, Any]:
    return {"Identifier": identifier, "Type": type_, "Parameters": parameters or {}, "Transitions": transitions}


END = act("end", "DisconnectParticipant")


def only(content: str, mode: str = "aws") -> str:
    found = problems(content, mode)
    assert len(found) == 1, found
    return found[0]


# -- documents that must pass ------------------------------------------------------------------------------
def test_a_console_export_is_accepted_unchanged() -> None:
    assert problems(CONSOLE_EXPORT, "aws") == []
    queued = json.dumps(console_export(queue_arn="arn:aws:connect:us-east-1:123456789012:instance/i/queue/q"))
    assert problems(queued, "aws") == []


@pytest.mark.parametrize(("name", "flow_type"), DEFAULT_FLOWS)
def test_the_default_flows_of_a_new_instance_pass(name: str, flow_type: str) -> None:
    refs = Refs(
        "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q",
        "arn:aws:connect:us-east-1:123456789012:instance/i/contact-flow/f",
    )
    assert problems(flow_content(name, flow_type, refs), "aws") == []


def test_hand_written_flows_may_omit_parameters_and_transitions() -> None:
    content = json.dumps(
        {
            "Version": "2019-10-30",
            "StartAction": "hi",
            "Actions": [
                {
                    "Identifier": "hi",
                    "Type": "MessageParticipant",
                    "Parameters": {"Text": "hi"},
                    "Transitions": {"NextAction": "bye"},
                },
                {"Identifier": "bye", "Type": "DisconnectParticipant"},
            ],
        }
    )
    assert problems(content, "aws") == []


# -- row 1 ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        (doc(END, Version="2020-01-01"), "Version must be '2019-10-30'"),
        (
            json.dumps({"Version": "2019-10-30", "StartAction": "x", "Actions": []}),
            "Actions must be a list of 1 to 250",
        ),
    ],
)
def test_row_1_document_shape(content: str, fragment: str) -> None:
    assert fragment in problems(content, "aws")[0]


def test_row_1_at_most_250_actions() -> None:
    actions = [act(f"m{i}", "MessageParticipant", {"Text": "x"}, NextAction="m0") for i in range(251)]
    assert "Actions must be a list of 1 to 250 actions" in problems(doc(*actions), "aws")


def test_row_1_actions_are_objects_with_identifier_and_type() -> None:
    content = json.dumps({"Version": "2019-10-30", "StartAction": "end", "Actions": [END, 3, {"Type": "Wait"}]})
    assert problems(content, "aws") == [
        "Actions[1] must be an object",
        "Actions[2] must have an Identifier and a Type, both strings",
    ]


# -- row 2 ---------------------------------------------------------------------------------------------------
def test_row_2_start_action_must_name_an_action() -> None:
    assert only(doc(END, start="nowhere")) == "StartAction 'nowhere' does not match the Identifier of any action"


# -- row 3 ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("identifier", "fragment"),
    [
        ("a" * 51, "1 to 50 characters"),
        ("", "1 to 50 characters"),
        ("a:b", "must not contain :"),
        ("x{y}", "must not contain { }"),
        ("toString", "reserved"),
    ],
)
def test_row_3_identifier_rules(identifier: str, fragment: str) -> None:
    found = problems(doc(act(identifier, "EndFlowExecution")), "aws")
    assert any(fragment in p for p in found), found


def test_row_3_identifiers_are_unique() -> None:
    assert only(doc(END, END)) == "Action 'end': Identifier is not unique"


# -- row 4 ---------------------------------------------------------------------------------------------------
def test_row_4_type_must_be_a_flow_language_action() -> None:
    assert only(doc(act("x", "PlayPrompt"))) == "Action 'x': Type 'PlayPrompt' is not a Flow language action type"


def test_row_4_types_parley_does_not_run_still_validate() -> None:
    assert {"CreateTask", "ShowView", "ConnectParticipantWithLexBot", "GetCustomerProfile", "Wait"} <= ACTION_TYPES
    assert problems(doc(act("t", "CreateTask", {"Name": "x"}, NextAction="end"), END), "aws") == []


# -- row 5 ---------------------------------------------------------------------------------------------------
def test_row_5_every_next_action_exists() -> None:
    greet = act(
        "greet",
        "MessageParticipant",
        {"Text": "hi"},
        NextAction="x",
        Errors=[{"NextAction": "y", "ErrorType": "NoMatchingError"}],
    )
    assert problems(doc(greet, END), "aws") == [
        "Action 'greet': NextAction 'x' does not match the Identifier of any action",
        "Action 'greet': NextAction 'y' does not match the Identifier of any action",
    ]


def test_row_5_terminal_actions_have_empty_transitions() -> None:
    found = only(doc(act("end", "EndFlowExecution", NextAction="end")))
    assert found == "Action 'end': EndFlowExecution ends the flow: its Transitions must be empty"


# -- row 6 ---------------------------------------------------------------------------------------------------
def compare(*conditions: dict[str, Any]) -> str:
    return doc(
        act("c", "Compare", {"ComparisonValue": "$.Attributes.x"}, NextAction="end", Conditions=list(conditions)), END
    )


def test_row_6_operators_are_those_of_the_language() -> None:
    bad = {"NextAction": "end", "Condition": {"Operator": "Matches", "Operands": ["x"]}}
    assert "Operator 'Matches' is not one of" in only(compare(bad), "structure")


def test_row_6_one_operand_each() -> None:
    two = {"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["a", "b"]}}
    assert only(compare(two), "structure") == "Action 'c': Operator 'Equals' takes exactly one operand"


def test_row_6_nesting_and_count_limits() -> None:
    nested: dict[str, Any] = {"Operator": "Equals", "Operands": ["x"]}
    for _ in range(5):
        nested = {"Operator": "Equals", "Operands": [nested]}
    deep = {"NextAction": "end", "Condition": nested}
    assert any("nest 6 deep" in p for p in problems(compare(deep), "structure"))
    many = [{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": [str(i)]}} for i in range(51)]
    assert any("51 sub-conditions" in p for p in problems(compare(*many), "structure"))


# -- row 7 ---------------------------------------------------------------------------------------------------
ROW_7 = [
    (act("m", "MessageParticipant", {}, NextAction="end"), "exactly one of Text, PromptId, SSML or Media"),
    (
        act("u", "UpdateContactAttributes", {"Attributes": {"a": 1}}, NextAction="end"),
        "Attributes must be an object of string values",
    ),
    (
        act("q", "UpdateContactTargetQueue", {"QueueId": "a", "AgentId": "b"}, NextAction="end"),
        "exactly one of QueueId or AgentId",
    ),
    (
        act("q", "UpdateContactTargetQueue", {"QueueId": "queue $.Attributes.q"}, NextAction="end"),
        "statically or as a single JSONPath",
    ),
    (
        act("t", "TransferContactToQueue", {}, Errors=[{"NextAction": "end", "ErrorType": "Busy"}]),
        "ErrorType 'Busy' is not an error",
    ),
    (
        act(
            "l", "InvokeLambdaFunction", {"LambdaFunctionARN": "f", "InvocationTimeLimitSeconds": "9"}, NextAction="end"
        ),
        "InvocationTimeLimitSeconds must be an integer from 1 to 8",
    ),
    (
        act(
            "l",
            "InvokeLambdaFunction",
            {"LambdaFunctionARN": "f", "InvocationTimeLimitSeconds": "$.Attributes.t"},
            NextAction="end",
        ),
        "defined statically",
    ),
    (act("l", "InvokeLambdaFunction", {}, NextAction="end"), "LambdaFunctionARN is required"),
    (
        act(
            "l",
            "InvokeLambdaFunction",
            {"LambdaFunctionARN": "f", "ResponseValidation": {"ResponseType": "XML"}},
            NextAction="end",
        ),
        "STRING_MAP or JSON",
    ),
    (act("c", "Compare", {"ComparisonValue": "plain"}, NextAction="end"), "ComparisonValue must be a single JSONPath"),
    (
        act(
            "w",
            "Wait",
            {"TimeoutSeconds": "604801"},
            Conditions=[{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}}],
        ),
        "TimeoutSeconds must be a number from 1 to 604800",
    ),
    (
        act(
            "w",
            "Wait",
            {"TimeoutSeconds": "60", "Events": ["Lunch"]},
            Conditions=[{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}}],
        ),
        "Events must be a static list",
    ),
    (act("w", "Wait", {"TimeoutSeconds": "60"}, NextAction="end"), "A condition Equals 'WaitCompleted' is required"),
    (
        act(
            "w",
            "Wait",
            {"TimeoutSeconds": "60", "Events": ["CustomerReturned"]},
            Conditions=[{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}}],
        ),
        "A condition Equals 'CustomerReturned' is required",
    ),
    (act("h", "UpdateContactEventHooks", {"EventHooks": {"Lunch": "f"}}, NextAction="end"), "EventHooks key 'Lunch'"),
    (act("h", "UpdateContactEventHooks", {"EventHooks": {}}, NextAction="end"), "exactly one entry"),
    (act("f", "TransferToFlow", {}, NextAction="end"), "ContactFlowId is required"),
    (
        act(
            "d",
            "DistributeByPercentage",
            {},
            Conditions=[{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["5"]}}],
        ),
        "take only NumberLessThan",
    ),
    (
        act(
            "o",
            "CheckHoursOfOperation",
            {},
            Conditions=[{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["Maybe"]}}],
        ),
        "is not one of False, True",
    ),
    (act("p", "Loop", {"LoopCount": "101"}, Conditions=[]), "LoopCount must be an integer from 0 to 100"),
    (act("g", "UpdateFlowLoggingBehavior", {"FlowLoggingBehavior": "Loud"}, NextAction="end"), "Enabled, Disabled"),
    (
        act(
            "i",
            "GetParticipantInput",
            {"Text": "?", "StoreInput": "True"},
            Conditions=[{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["1"]}}],
        ),
        "not allowed when StoreInput is True",
    ),
    (
        act("i", "GetParticipantInput", {"Text": "?", "InputTimeLimitSeconds": "0"}, NextAction="end"),
        "InputTimeLimitSeconds must be a number from 1",
    ),
    (
        act(
            "r",
            "UpdateContactRoutingBehavior",
            {"QueuePriority": "1", "QueueTimeAdjustmentSeconds": "5"},
            NextAction="end",
        ),
        "cannot both be given",
    ),
]


@pytest.mark.parametrize(("action", "fragment"), ROW_7, ids=[f"{a['Type']}-{i}" for i, (a, _) in enumerate(ROW_7)])
def test_row_7_per_type_parameter_rules(action: dict[str, Any], fragment: str) -> None:
    content = doc(action, END)
    found = problems(content, "aws")
    assert any(fragment in p for p in found), found
    assert not any(fragment in p for p in problems(content, "structure"))


def test_row_7_numbers_may_be_strings_or_numbers() -> None:
    wait = act(
        "w",
        "Wait",
        {"TimeoutSeconds": 60, "Events": ["CustomerReturned"]},
        Conditions=[
            {"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}},
            {"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["CustomerReturned"]}},
        ],
    )
    loop = act(
        "p",
        "Loop",
        {"LoopCount": 3},
        Conditions=[
            {"NextAction": "w", "Condition": {"Operator": "Equals", "Operands": ["ContinueLooping"]}},
            {"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["DoneLooping"]}},
        ],
    )
    assert problems(doc(loop, wait, END), "aws") == []


# -- row 8 ---------------------------------------------------------------------------------------------------
def test_row_8_json_paths_must_name_a_known_path() -> None:
    ok = act(
        "m", "MessageParticipant", {"Text": "Hi $.Attributes.stuff, $.External.a.b and $.Queue.Name."}, NextAction="end"
    )
    assert problems(doc(ok, END), "aws") == []
    bad = act("m", "MessageParticipant", {"Text": "Hi $.BadValue and $.Name.first"}, NextAction="end")
    assert problems(doc(bad, END), "aws") == [
        "Action 'm': JSONPath '$.BadValue' is not a valid path (for example $.Attributes.name)",
        "Action 'm': JSONPath '$.Name.first' is not a valid path (for example $.Attributes.name)",
    ]
    assert problems(doc(bad, END), "structure") == []


# -- modes and limits ----------------------------------------------------------------------------------------
def test_modes() -> None:
    assert problems("{}", "json") == []
    assert problems("[]", "json") == ["Content must be a JSON object"]
    assert len(problems("{}", "structure")) == 3
    assert problems(FLOW, "structure") == problems(FLOW, "aws") == []


def test_at_most_50_problems_of_at_most_256_characters() -> None:
    long_name = "p" * 50
    actions = [act(f"{i}{long_name}"[:50], "NoSuchType", NextAction="z" * 300) for i in range(40)]
    found = problems(doc(*actions), "aws")
    assert len(found) == 50
    assert all(1 <= len(p) <= 256 for p in found)
