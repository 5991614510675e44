"""SNS subscription filter policies on message attributes, as Parley applies them to its own targets."""

from __future__ import annotations

from parley.outbound.filter_policy import matches

CUSTOMER_MESSAGE = {"ParticipantRole": "CUSTOMER", "Type": "MESSAGE", "ContentType": "text/plain"}
BOT_MESSAGE = {"ParticipantRole": "CUSTOM_BOT", "Type": "MESSAGE", "ContentType": "text/plain"}
ENDED = {"Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.chat.ended"}


def test_the_aws_samples_policy_passes_only_customer_messages() -> None:
    policy = {"ParticipantRole": ["CUSTOMER"], "Type": ["MESSAGE"]}
    assert matches(policy, CUSTOMER_MESSAGE)
    assert not matches(policy, BOT_MESSAGE)
    assert not matches(policy, ENDED)


def test_anything_but_prefix_suffix_and_case() -> None:
    assert matches({"ParticipantRole": [{"anything-but": "CUSTOMER"}]}, BOT_MESSAGE)
    assert not matches({"ParticipantRole": [{"anything-but": ["CUSTOMER", "AGENT"]}]}, CUSTOMER_MESSAGE)
    assert not matches({"ParticipantRole": [{"anything-but": "CUSTOMER"}]}, ENDED)  # absent: no match
    assert matches({"ContentType": [{"prefix": "application/vnd.amazonaws.connect.event."}]}, ENDED)
    assert matches({"ContentType": [{"anything-but": {"prefix": "application/"}}]}, CUSTOMER_MESSAGE)
    assert matches({"ContentType": [{"suffix": "chat.ended"}]}, ENDED)
    assert matches({"Type": [{"equals-ignore-case": "message"}]}, BOT_MESSAGE)


def test_exists_and_or() -> None:
    assert matches({"ParticipantRole": [{"exists": False}]}, ENDED)
    assert not matches({"ParticipantRole": [{"exists": False}]}, CUSTOMER_MESSAGE)
    assert matches({"ParticipantRole": [{"exists": True}]}, BOT_MESSAGE)
    either = {"$or": [{"ParticipantRole": ["CUSTOMER"]}, {"Type": ["EVENT"]}]}
    assert matches(either, CUSTOMER_MESSAGE) and matches(either, ENDED) and not matches(either, BOT_MESSAGE)


def test_numbers_compare_numerically() -> None:
    assert matches({"n": [1]}, {"n": "1.0"})
    assert not matches({"n": [1]}, {"n": "one"})
