"""Which origins CORS allows: loopback by default, exact origins, `*` and `null` when configured."""

from __future__ import annotations

import pytest

from parley.settings import SettingsError, configure, load
from parley.transport.cors import OriginPolicy


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://localhost:3000",
        "https://localhost:8443",
        "http://127.0.0.1:5173",
        "http://[::1]:8080",
        "HTTP://LocalHost:3000",
        "capacitor://localhost",
    ],
)
def test_loopback_origins_on_any_scheme_and_port_are_allowed_by_default(origin: str) -> None:
    assert OriginPolicy(configure().cors_origins).allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://example.com",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://evil.com#localhost",
        "http://localhost:3000/path",
        "http://user@localhost",
        "http://localhost:99999",
        "localhost:3000",
        "",
    ],
)
def test_other_origins_are_refused_by_default(origin: str) -> None:
    assert not OriginPolicy(("loopback",)).allows(origin)


def test_configured_origins_replace_the_default() -> None:
    policy = OriginPolicy(configure(cors_origins="https://app.example.com, http://intranet:8080").cors_origins)
    assert policy.allows("https://app.example.com") and policy.allows("http://intranet:8080")
    assert not policy.allows("http://localhost:3000")
    assert not policy.allows("http://app.example.com")


def test_loopback_can_be_kept_next_to_other_origins() -> None:
    policy = OriginPolicy(load({"cors_origins": "loopback,https://app.example.com"}, {}).cors_origins)
    assert policy.allows("http://localhost:3000") and policy.allows("https://app.example.com")


def test_star_allows_every_origin_and_null_is_explicit() -> None:
    assert OriginPolicy(("*",)).allows("https://anything.example")
    assert OriginPolicy(("*",)).allows("null")
    assert OriginPolicy(("null",)).allows("null")


def test_the_environment_twin_and_bad_values() -> None:
    assert load({}, {"PARLEY_CORS_ORIGINS": "*"}).cors_origins == ("*",)
    assert load({"cors_origins": "http://a:1"}, {"PARLEY_CORS_ORIGINS": "*"}).cors_origins == ("http://a:1",)
    with pytest.raises(SettingsError, match="PARLEY_CORS_ORIGINS"):
        load({}, {"PARLEY_CORS_ORIGINS": "http://localhost:3000/app"})
