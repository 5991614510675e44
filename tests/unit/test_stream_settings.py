"""The streaming settings (streaming.md §7): --sns routes with filters, the SNS endpoint's sources."""

from __future__ import annotations

import pytest

from parley.app import build_app
from parley.settings import SettingsError, SnsRoute, configure, load

TOPIC = "arn:aws:sns:us-east-1:123456789012:chatStreaming"


def test_sns_routes_from_repeated_flags_and_the_newline_separated_variable() -> None:
    flags = [f'{TOPIC}=lambda:chatBot;filter={{"ParticipantRole":["CUSTOMER"],"Type":["MESSAGE"]}}', "other=drop"]
    settings = load({"sns_targets": flags}, environ={})  # type: ignore[dict-item]
    assert settings.sns_targets == (
        SnsRoute(TOPIC, "lambda:chatBot", {"ParticipantRole": ["CUSTOMER"], "Type": ["MESSAGE"]}),
        SnsRoute("other", "drop", None),
    )
    from_env = load({}, environ={"PARLEY_SNS_TARGETS": "a=http://127.0.0.1:9/x\nb=capture\n"})
    assert [(r.topic, r.target) for r in from_env.sns_targets] == [("a", "http://127.0.0.1:9/x"), ("b", "capture")]


@pytest.mark.parametrize("text", ["no-target", "t=ftp://x", "t=capture;filter={", "t=capture;filter=[1]"])
def test_bad_sns_routes_are_refused(text: str) -> None:
    with pytest.raises(SettingsError, match="PARLEY_SNS_TARGETS"):
        load({}, environ={"PARLEY_SNS_TARGETS": text})


def test_the_sns_endpoint_comes_from_the_flag_then_parley_then_aws_endpoint_url_sns_never_aws_endpoint_url() -> None:
    assert load({}, environ={"AWS_ENDPOINT_URL": "http://x:1"}).sns_endpoint is None
    assert load({}, environ={"AWS_ENDPOINT_URL_SNS": "http://moto:5000/"}).sns_endpoint == "http://moto:5000"
    both = {"AWS_ENDPOINT_URL_SNS": "http://moto:5000", "PARLEY_SNS_ENDPOINT": "http://ls:4566"}
    assert load({}, environ=both).sns_endpoint == "http://ls:4566"
    assert load({"sns_endpoint": "aws"}, environ=both).sns_endpoint == "aws"
    with pytest.raises(SettingsError):
        load({}, environ={"PARLEY_SNS_ENDPOINT": "moto:5000"})


def test_an_sns_endpoint_that_is_parley_itself_is_refused() -> None:
    with pytest.raises(SettingsError, match="own address"):
        build_app(configure(port=4599, sns_endpoint="http://127.0.0.1:4599"))
