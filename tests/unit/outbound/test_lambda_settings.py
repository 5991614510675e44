"""The Lambda settings (flows.md §1): flags, PARLEY_* twins, AWS_ENDPOINT_URL_LAMBDA, Python keywords, bad values."""

from __future__ import annotations

import argparse

import pytest

from parley.settings import (
    Settings,
    SettingsError,
    add_arguments,
    configure,
    handler_environment,
    load,
)


def flags(*words: str) -> dict[str, str | None]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return dict(vars(parser.parse_args(list(words))))


def test_defaults() -> None:
    settings = load({}, {})
    assert settings.lambdas == {} and settings.lambda_endpoint is None and settings.lambda_timeout is None
    assert (settings.lambda_workers, settings.lambda_function_name) == (8, "name")


def test_lambda_is_repeatable_and_takes_urls_modules_and_arns() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:startBot:prod"
    given = flags("--lambda", "startBot=http://127.0.0.1:9000/bot", "--lambda", f"{arn}=bots.start:handler")
    assert load(given, {}).lambdas == {"startBot": "http://127.0.0.1:9000/bot", arn: "bots.start:handler"}


def test_parley_lambdas_is_comma_or_newline_separated_and_the_flag_wins() -> None:
    environ = {"PARLEY_LAMBDAS": "a=pkg.mod:fn, b=https://example.test/x\nc=mod:Class.method\n"}
    assert load({}, environ).lambdas == {"a": "pkg.mod:fn", "b": "https://example.test/x", "c": "mod:Class.method"}
    assert load(flags("--lambda", "z=m:f"), environ).lambdas == {"z": "m:f"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("startBot", "expected NAME=TARGET"),
        ("=m:f", "expected NAME=TARGET"),
        ("startBot=handler", "http:// or https:// URL or package.module:function"),
        ("startBot=ftp://host/x", "http:// or https:// URL or package.module:function"),
        ("startBot=http://", "http:// or https:// URL or package.module:function"),
        ("startBot=m:f,startBot=n:g", "startBot is mapped twice"),
    ],
)
def test_bad_mappings_are_refused_naming_the_setting(text: str, words: str) -> None:
    with pytest.raises(SettingsError, match="PARLEY_LAMBDAS: .*" + words.replace("(", r"\(").replace(")", r"\)")):
        load({}, {"PARLEY_LAMBDAS": text})
    with pytest.raises(SettingsError, match=r"^--lambda: "):
        load({"lambdas": text}, {})


def test_endpoint_from_the_flag_its_twin_then_aws_endpoint_url_lambda_never_the_generic_one() -> None:
    aws = {"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:3001/", "AWS_ENDPOINT_URL": "http://generic:1"}
    assert load({}, aws).lambda_endpoint == "http://127.0.0.1:3001"
    assert load({}, {**aws, "PARLEY_LAMBDA_ENDPOINT": "http://localstack:4566"}).lambda_endpoint == (
        "http://localstack:4566"
    )
    assert load(flags("--lambda-endpoint", "https://x:1"), aws).lambda_endpoint == "https://x:1"
    assert load({}, {"AWS_ENDPOINT_URL": "http://generic:1"}).lambda_endpoint is None
    with pytest.raises(SettingsError, match=r"^AWS_ENDPOINT_URL_LAMBDA: expected an http"):
        load({}, {"AWS_ENDPOINT_URL_LAMBDA": "localhost:3001"})


@pytest.mark.parametrize(("text", "value"), [("flow", None), ("30", 30.0), ("0.5", 0.5), ("900", 900.0)])
def test_lambda_timeout_is_flow_or_seconds(text: str, value: float | None) -> None:
    assert load({}, {"PARLEY_LAMBDA_TIMEOUT": text}).lambda_timeout == value


@pytest.mark.parametrize(
    ("env", "text"),
    [
        ("PARLEY_LAMBDA_TIMEOUT", "0"),
        ("PARLEY_LAMBDA_TIMEOUT", "901"),
        ("PARLEY_LAMBDA_TIMEOUT", "soon"),
        ("PARLEY_LAMBDA_WORKERS", "0"),
        ("PARLEY_LAMBDA_WORKERS", "many"),
        ("PARLEY_LAMBDA_FUNCTION_NAME", "qualified"),
    ],
)
def test_bad_values_are_refused(env: str, text: str) -> None:
    with pytest.raises(SettingsError, match=f"^{env}: "):
        load({}, {env: text})


def test_python_keywords_go_through_the_same_parsers() -> None:
    settings = configure(
        lambdas={"startBot": "http://127.0.0.1:1/x"}, lambda_timeout=30, lambda_workers=2, lambda_function_name="arn"
    )
    assert settings.lambdas == {"startBot": "http://127.0.0.1:1/x"}
    assert (settings.lambda_timeout, settings.lambda_workers, settings.lambda_function_name) == (30.0, 2, "arn")
    assert configure(lambda_timeout="flow").lambda_timeout is None
    with pytest.raises(SettingsError, match="lambda-workers"):
        configure(lambda_workers=0)


def test_the_handler_environment_fills_only_what_is_unset() -> None:
    settings = Settings(region="eu-west-2")
    added = handler_environment(settings, "http://127.0.0.1:4599", {"AWS_ACCESS_KEY_ID": "mine"})
    assert added == {
        "AWS_ENDPOINT_URL_CONNECT": "http://127.0.0.1:4599",
        "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": "http://127.0.0.1:4599",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }
