"""flows.md §6.1: how a LambdaFunctionARN is read and which target runs it, in the spec's order."""

from __future__ import annotations

from parley.chat.model import Scope
from parley.outbound.functions import candidate_keys, missing_message, parse_function, resolve

SCOPE = Scope("111122223333", "eu-central-1")
ARN = "arn:aws:lambda:us-west-2:123456789012:function:startBot"


def test_an_arn_is_split_into_region_account_name_and_qualifier() -> None:
    ref = parse_function(f"{ARN}:prod", SCOPE)
    assert (ref.region, ref.account, ref.name, ref.qualifier) == ("us-west-2", "123456789012", "startBot", "prod")
    assert ref.unqualified_arn == ARN and ref.arn == f"{ARN}:prod" and ref.is_arn


def test_a_value_that_is_not_an_arn_is_the_name_signed_for_the_callers_region() -> None:
    ref = parse_function("startBot", SCOPE)
    assert (ref.name, ref.qualifier, ref.region, ref.is_arn) == ("startBot", None, "eu-central-1", False)
    assert ref.arn == "arn:aws:lambda:eu-central-1:111122223333:function:startBot"
    assert parse_function("arn:aws:lambda:us-east-1:12:function:x", SCOPE).name.startswith("arn:")


def test_keys_are_tried_full_arn_then_name_qualifier_then_name() -> None:
    assert candidate_keys(parse_function(f"{ARN}:7", SCOPE)) == (f"{ARN}:7", "startBot:7", "startBot")
    assert candidate_keys(parse_function(ARN, SCOPE)) == (ARN, "startBot")


def test_resolution_order() -> None:
    qualified = parse_function(f"{ARN}:prod", SCOPE)
    everything = {f"{ARN}:prod": "by-arn", "startBot:prod": "by-qualifier", "startBot": "by-name"}
    assert resolve(qualified, everything, "http://api").target == "by-arn"
    assert resolve(qualified, {"startBot:prod": "q", "startBot": "n"}, "http://api").key == "startBot:prod"
    assert resolve(qualified, {"startBot": "n"}, None).target == "n"
    assert resolve(qualified, {"otherFunction": "x"}, "http://api").kind == "endpoint"
    assert resolve(qualified, {}, None).kind == "none"
    # a mapping by name wins over the endpoint: local overrides for some functions, the rest on sam local
    assert resolve(parse_function(ARN, SCOPE), {"startBot": "n"}, "http://api").kind == "mapped"


def test_the_missing_warning_says_how_to_map_the_function() -> None:
    ref = parse_function("arn:aws:lambda:us-east-1:123456789012:function:startBot", SCOPE)
    assert missing_message(ref, "c-1") == (
        "lambda.missing function=arn:aws:lambda:us-east-1:123456789012:function:startBot contact=c-1 — map it with "
        "--lambda startBot=http://HOST/PATH or --lambda startBot=package.module:handler, or point --lambda-endpoint "
        "at sam local start-lambda"
    )
