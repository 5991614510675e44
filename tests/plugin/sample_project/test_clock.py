"""`parley_clock`: a test moves the server's virtual clock instead of sleeping."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

INSTANCE: dict[str, Any] = {
    "IdentityManagementType": "CONNECT_MANAGED",
    "InboundCallsEnabled": True,
    "OutboundCallsEnabled": True,
}


@pytest.mark.parley(clock="virtual")
def test_a_chat_expires_when_the_clock_says_so(parley_clock: Any, connect_client: Any, participant_client: Any) -> None:
    instance = connect_client.create_instance(InstanceAlias="clocked", **INSTANCE)["Id"]
    flows = connect_client.list_contact_flows(InstanceId=instance, ContactFlowTypes=["CONTACT_FLOW"])
    chat = connect_client.start_chat_contact(
        InstanceId=instance,
        ContactFlowId=next(f["Id"] for f in flows["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow"),
        ParticipantDetails={"DisplayName": "Customer"},
        ChatDurationInMinutes=60,
    )
    before = parley_clock.now()
    assert parley_clock.advance("PT61M") > before
    contact = connect_client.describe_contact(InstanceId=instance, ContactId=chat["ContactId"])["Contact"]
    assert contact["DisconnectReason"] == "EXPIRED"
    with pytest.raises(ClientError):
        participant_client.create_participant_connection(
            ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )


def test_a_real_clock_is_refused(parley_clock: Any) -> None:
    """The session's server runs on the real clock: the fixture says how to get a virtual one."""
