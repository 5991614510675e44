"""Instances, contact flows and tags through boto3."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, client, key_of, start_parley
from tests.flowdocs import FLOW


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def new_instance(connect: Any, alias: str) -> dict[str, Any]:
    result: dict[str, Any] = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=alias,
        InboundCallsEnabled=True,
        OutboundCallsEnabled=False,
    )
    return result


def test_describe_instance_reports_what_was_created(connect: Any) -> None:
    created = new_instance(connect, "desc")
    connect.tag_resource(resourceArn=created["Arn"], tags={"team": "chat"})
    instance = connect.describe_instance(InstanceId=created["Id"])["Instance"]
    assert instance["Arn"] == created["Arn"] and instance["Arn"].endswith(f":instance/{created['Id']}")
    assert instance["InstanceStatus"] == "ACTIVE"
    assert instance["InboundCallsEnabled"] is True and instance["OutboundCallsEnabled"] is False
    assert instance["InstanceAlias"] == "desc" and instance["Tags"] == {"team": "chat"}
    assert instance["CreatedTime"].year >= 2024


def test_a_new_instance_has_the_default_flows(connect: Any) -> None:
    created = new_instance(connect, "flows")
    summaries = connect.list_contact_flows(InstanceId=created["Id"])["ContactFlowSummaryList"]
    types = {s["ContactFlowType"] for s in summaries}
    assert {"CONTACT_FLOW", "CUSTOMER_QUEUE", "CUSTOMER_HOLD", "AGENT_WHISPER", "AGENT_TRANSFER"} <= types
    assert any(s["Name"] == "Default inbound flow" for s in summaries)
    queues = connect.list_contact_flows(InstanceId=created["Id"], ContactFlowTypes=["CUSTOMER_QUEUE"])
    assert [s["ContactFlowType"] for s in queues["ContactFlowSummaryList"]] == ["CUSTOMER_QUEUE"]
    # AWS's types (flows.md §7.1): a queue quick connect names Default queue transfer, a QUEUE_TRANSFER flow
    transfer = connect.list_contact_flows(InstanceId=created["Id"], ContactFlowTypes=["QUEUE_TRANSFER"])
    assert [s["Name"] for s in transfer["ContactFlowSummaryList"]] == ["Default queue transfer"]


def test_instance_quota_alias_rules_and_delete(connect: Any) -> None:
    first = new_instance(connect, "one")
    new_instance(connect, "two")
    with pytest.raises(ClientError) as excinfo:
        new_instance(connect, "three")
    assert code_of(excinfo) == ("ServiceQuotaExceededException", 402)
    connect.delete_instance(InstanceId=first["Id"])
    with pytest.raises(ClientError) as excinfo:
        connect.describe_instance(InstanceId=first["Id"])
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        new_instance(connect, "two")
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    assert new_instance(connect, "three")["Id"]


def test_alias_is_required_for_connect_managed(connect: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        connect.create_instance(IdentityManagementType="SAML", InboundCallsEnabled=True, OutboundCallsEnabled=True)
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    with pytest.raises(ClientError) as excinfo:
        connect.create_instance(
            IdentityManagementType="EXISTING_DIRECTORY", InboundCallsEnabled=True, OutboundCallsEnabled=True
        )
    assert code_of(excinfo) == ("InvalidRequestException", 400)


def test_alias_pattern_is_enforced(parley: RunningParley, connect: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        new_instance(connect, "d-starts-like-a-directory")
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    assert "regular expression pattern" in excinfo.value.response["Error"]["Message"]


def test_list_instances_paginates_without_repeats() -> None:
    server = start_parley("--quota-instances", "0")
    try:
        connect = client("connect", server.url)
        made = {new_instance(connect, f"page{i}")["Id"] for i in range(7)}
        seen: list[str] = []
        pages = 0
        for page in connect.get_paginator("list_instances").paginate(PaginationConfig={"PageSize": 3}):
            pages += 1
            seen.extend(s["Id"] for s in page["InstanceSummaryList"])
        assert pages == 3 and len(seen) == 7 and set(seen) == made
    finally:
        server.stop()


def test_a_forged_or_foreign_next_token_is_refused(parley: RunningParley, connect: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        connect.list_instances(NextToken="not-a-token")
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    created = new_instance(connect, "tok")
    token = connect.list_contact_flows(InstanceId=created["Id"], MaxResults=2)["NextToken"]
    other = client("connect", parley.url)
    with pytest.raises(ClientError) as excinfo:
        other.list_contact_flows(InstanceId=created["Id"], NextToken=token)
    assert code_of(excinfo)[1] in (400, 404)


def test_list_contact_flows_paginates(connect: Any) -> None:
    created = new_instance(connect, "pages")
    everything = connect.list_contact_flows(InstanceId=created["Id"], MaxResults=1000)["ContactFlowSummaryList"]
    paged = [
        s["Id"]
        for page in connect.get_paginator("list_contact_flows").paginate(
            InstanceId=created["Id"], PaginationConfig={"PageSize": 4}
        )
        for s in page["ContactFlowSummaryList"]
    ]
    assert paged == [s["Id"] for s in everything] and len(set(paged)) == len(paged)


def test_create_and_describe_a_contact_flow(connect: Any) -> None:
    created = new_instance(connect, "mkflow")
    content = FLOW
    flow = connect.create_contact_flow(
        InstanceId=created["Id"], Name="Mine", Type="CONTACT_FLOW", Content=content, Tags={"k": "v"}
    )
    assert len(flow["FlowContentSha256"]) == 64
    described = connect.describe_contact_flow(InstanceId=created["Id"], ContactFlowId=flow["ContactFlowId"])
    body = described["ContactFlow"]
    assert body["Content"] == content and body["Status"] == "PUBLISHED" and body["State"] == "ACTIVE"
    assert body["Arn"] == flow["ContactFlowArn"] and body["Tags"] == {"k": "v"}


def test_invalid_flow_content_reports_problems(connect: Any) -> None:
    created = new_instance(connect, "badflow")
    with pytest.raises(ClientError) as excinfo:
        connect.create_contact_flow(InstanceId=created["Id"], Name="Bad", Type="CONTACT_FLOW", Content="{not json")
    assert code_of(excinfo) == ("InvalidContactFlowException", 400)
    assert excinfo.value.response["problems"][0]["message"].startswith("Content is not valid JSON")


def test_saved_flows_skip_validation_and_need_the_saved_qualifier(connect: Any) -> None:
    created = new_instance(connect, "saved")
    flow = connect.create_contact_flow(
        InstanceId=created["Id"], Name="Draft", Type="CONTACT_FLOW", Content="[draft]", Status="SAVED"
    )
    with pytest.raises(ClientError) as excinfo:
        connect.describe_contact_flow(InstanceId=created["Id"], ContactFlowId=flow["ContactFlowId"])
    assert code_of(excinfo)[0] == "ContactFlowNotPublishedException"
    saved = connect.describe_contact_flow(InstanceId=created["Id"], ContactFlowId=flow["ContactFlowId"] + ":$SAVED")
    assert saved["ContactFlow"]["Content"] == "[draft]"


def test_duplicate_flow_name(connect: Any) -> None:
    created = new_instance(connect, "dupflow")
    with pytest.raises(ClientError) as excinfo:
        connect.create_contact_flow(
            InstanceId=created["Id"], Name="Default inbound flow", Type="CONTACT_FLOW", Content=FLOW
        )
    assert code_of(excinfo) == ("DuplicateResourceException", 409)


def test_tags_on_flows_and_unknown_arns(connect: Any) -> None:
    created = new_instance(connect, "tags")
    flow = connect.list_contact_flows(InstanceId=created["Id"])["ContactFlowSummaryList"][0]
    connect.tag_resource(resourceArn=flow["Arn"], tags={"a": "1", "b": "2"})
    connect.untag_resource(resourceArn=flow["Arn"], tagKeys=["a"])
    assert connect.list_tags_for_resource(resourceArn=flow["Arn"])["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as excinfo:
        connect.list_tags_for_resource(resourceArn=created["Arn"] + "0")
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        connect.tag_resource(resourceArn=created["Arn"], tags={"aws:reserved": "x"})
    assert code_of(excinfo) == ("InvalidParameterException", 400)


def test_accounts_and_regions_are_isolated(parley: RunningParley, connect: Any) -> None:
    created = new_instance(connect, "iso")
    stranger = client("connect", parley.url)
    with pytest.raises(ClientError) as excinfo:
        stranger.describe_instance(InstanceId=created["Id"])
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)
    elsewhere = boto3.client(
        "connect",
        endpoint_url=parley.url,
        region_name="eu-west-2",
        aws_access_key_id=key_of(connect),
        aws_secret_access_key="test",
    )
    with pytest.raises(ClientError) as excinfo:
        elsewhere.describe_instance(InstanceId=created["Id"])
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)
    assert connect.describe_instance(InstanceId=created["Id"])["Instance"]["Id"] == created["Id"]
