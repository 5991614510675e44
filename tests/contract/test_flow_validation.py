"""flows.md §2 through boto3: CreateContactFlow and UpdateContactFlowContent validate published content under
PARLEY_FLOW_VALIDATION (aws | structure | json), list every problem, and leave SAVED content alone."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, Setup, client, make_instance, start_parley
from tests.flowdocs import CONSOLE_EXPORT, FLOW

BROKEN = json.dumps(
    {
        "Version": "2019-10-30",
        "StartAction": "greet",
        "Actions": [
            {
                "Identifier": "greet",
                "Type": "MessageParticipant",
                "Parameters": {"Text": "Hi $.BadValue"},
                "Transitions": {"NextAction": "x"},
            },
            {"Identifier": "play", "Type": "PlayPrompt", "Parameters": {}, "Transitions": {}},
        ],
    }
)
BROKEN_PROBLEMS = [
    "Action 'greet': NextAction 'x' does not match the Identifier of any action",
    "Action 'greet': JSONPath '$.BadValue' is not a valid path (for example $.Attributes.name)",
    "Action 'play': Type 'PlayPrompt' is not a Flow language action type",
]
# Rows 1-6 pass, row 8 fails: `structure` accepts it, `aws` does not.
BAD_PATH = json.dumps(
    {
        "Version": "2019-10-30",
        "StartAction": "hi",
        "Actions": [
            {"Identifier": "hi", "Type": "MessageParticipant", "Parameters": {"Text": "$.Nope"}, "Transitions": {}},
        ],
    }
)


def refused(call: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    response = excinfo.value.response
    assert response["Error"]["Code"] == "InvalidContactFlowException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return [problem["message"] for problem in response["problems"]]


def create(connect: Any, setup: Setup, content: str, name: str = "Mine", **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = connect.create_contact_flow(
        InstanceId=setup.instance_id, Name=name, Type="CONTACT_FLOW", Content=content, **extra
    )
    return result


def described(connect: Any, setup: Setup, flow_id: str) -> dict[str, Any]:
    flow: dict[str, Any] = connect.describe_contact_flow(InstanceId=setup.instance_id, ContactFlowId=flow_id)[
        "ContactFlow"
    ]
    return flow


# -- aws (the default) ---------------------------------------------------------------------------------------
def test_create_contact_flow_lists_every_problem(connect: Any, instance: Setup) -> None:
    problems = refused(
        connect.create_contact_flow, InstanceId=instance.instance_id, Name="Broken", Type="CONTACT_FLOW", Content=BROKEN
    )
    assert problems == BROKEN_PROBLEMS
    names = [f["Name"] for f in connect.list_contact_flows(InstanceId=instance.instance_id)["ContactFlowSummaryList"]]
    assert "Broken" not in names


def test_v1_placeholder_content_is_refused(connect: Any, instance: Setup) -> None:
    problems = refused(
        connect.create_contact_flow, InstanceId=instance.instance_id, Name="Empty", Type="CONTACT_FLOW", Content="{}"
    )
    assert problems[0].startswith("Version must be '2019-10-30'") and len(problems) == 3


def test_at_most_50_problems_of_at_most_256_characters(connect: Any, instance: Setup) -> None:
    actions = [
        {"Identifier": f"a{i}", "Type": "NoSuchType", "Transitions": {"NextAction": "n" * 300}} for i in range(40)
    ]
    content = json.dumps({"Version": "2019-10-30", "StartAction": "a0", "Actions": actions})
    problems = refused(
        connect.create_contact_flow, InstanceId=instance.instance_id, Name="Many", Type="CONTACT_FLOW", Content=content
    )
    assert len(problems) == 50 and all(1 <= len(p) <= 256 for p in problems)


def test_a_console_export_is_accepted_unchanged(connect: Any, instance: Setup) -> None:
    flow = create(connect, instance, CONSOLE_EXPORT, "Custom bot chat")
    assert flow["FlowContentSha256"] == hashlib.sha256(CONSOLE_EXPORT.encode()).hexdigest()
    body = described(connect, instance, flow["ContactFlowId"])
    assert body["Content"] == CONSOLE_EXPORT and body["Status"] == "PUBLISHED"


def test_the_default_flows_pass_validation(connect: Any, instance: Setup) -> None:
    summaries = connect.list_contact_flows(InstanceId=instance.instance_id)["ContactFlowSummaryList"]
    for summary in summaries:
        content = described(connect, instance, summary["Id"])["Content"]
        connect.update_contact_flow_content(
            InstanceId=instance.instance_id, ContactFlowId=summary["Id"], Content=content
        )


def test_update_contact_flow_content_validates_and_publishes(connect: Any, instance: Setup) -> None:
    flow = create(connect, instance, FLOW)
    problems = refused(
        connect.update_contact_flow_content,
        InstanceId=instance.instance_id,
        ContactFlowId=flow["ContactFlowId"],
        Content=BROKEN,
    )
    assert problems == BROKEN_PROBLEMS
    assert described(connect, instance, flow["ContactFlowId"])["Content"] == FLOW
    answer = connect.update_contact_flow_content(
        InstanceId=instance.instance_id, ContactFlowId=flow["ContactFlowArn"], Content=CONSOLE_EXPORT
    )
    assert {k: v for k, v in answer.items() if k != "ResponseMetadata"} == {}
    body = described(connect, instance, flow["ContactFlowId"])
    assert body["Content"] == CONSOLE_EXPORT and body["Status"] == "PUBLISHED"
    assert body["FlowContentSha256"] == hashlib.sha256(CONSOLE_EXPORT.encode()).hexdigest()


def test_saved_content_is_not_validated(connect: Any, instance: Setup) -> None:
    draft = create(connect, instance, "{}", "Draft", Status="SAVED")
    connect.update_contact_flow_content(
        InstanceId=instance.instance_id, ContactFlowId=draft["ContactFlowId"], Content="[draft]"
    )
    body = described(connect, instance, draft["ContactFlowId"] + ":$SAVED")
    assert (body["Content"], body["Status"]) == ("[draft]", "SAVED")


def test_a_saved_draft_of_a_published_flow_keeps_the_published_content(connect: Any, instance: Setup) -> None:
    flow = create(connect, instance, FLOW)
    saved_id = flow["ContactFlowId"] + ":$SAVED"
    connect.update_contact_flow_content(
        InstanceId=instance.instance_id, ContactFlowId=saved_id, Content="{ work in progress"
    )
    assert described(connect, instance, flow["ContactFlowId"])["Content"] == FLOW
    draft = described(connect, instance, saved_id)
    assert (draft["Content"], draft["Status"]) == ("{ work in progress", "SAVED")
    connect.update_contact_flow_content(
        InstanceId=instance.instance_id, ContactFlowId=flow["ContactFlowId"], Content=CONSOLE_EXPORT
    )
    assert described(connect, instance, saved_id)["Content"] == CONSOLE_EXPORT


def test_update_contact_flow_content_of_an_unknown_flow(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        connect.update_contact_flow_content(
            InstanceId=instance.instance_id, ContactFlowId="00000000-0000-0000-0000-000000000000", Content=FLOW
        )
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


# -- structure and json --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def structure() -> Iterator[RunningParley]:
    running = start_parley("--flow-validation", "structure")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def v1() -> Iterator[RunningParley]:
    running = start_parley(env={"PARLEY_FLOW_VALIDATION": "json"})
    yield running
    running.stop()


def test_structure_checks_rows_1_to_6_only(structure: RunningParley) -> None:
    connect = client("connect", structure.url)
    setup = make_instance(connect)
    create(connect, setup, BAD_PATH, "Bad path")
    problems = refused(
        connect.create_contact_flow, InstanceId=setup.instance_id, Name="Broken", Type="CONTACT_FLOW", Content=BROKEN
    )
    assert problems == [BROKEN_PROBLEMS[0], BROKEN_PROBLEMS[2]]


def test_json_accepts_any_json_object(v1: RunningParley) -> None:
    connect = client("connect", v1.url)
    setup = make_instance(connect)
    flow = create(connect, setup, "{}", "Placeholder")
    connect.update_contact_flow_content(
        InstanceId=setup.instance_id, ContactFlowId=flow["ContactFlowId"], Content='{"v": 1}'
    )
    problems = refused(
        connect.update_contact_flow_content,
        InstanceId=setup.instance_id,
        ContactFlowId=flow["ContactFlowId"],
        Content="[]",
    )
    assert problems == ["Content must be a JSON object"]


def test_an_unknown_setting_value_stops_parley() -> None:
    with pytest.raises(RuntimeError, match="PARLEY_FLOW_VALIDATION: expected one of aws, structure, json"):
        start_parley(env={"PARLEY_FLOW_VALIDATION": "lenient"}, timeout=10)
