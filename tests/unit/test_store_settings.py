"""--store and --redis-url: parsed, with their environment twins, and shown without a password."""

from __future__ import annotations

import pytest

from parley.settings import SettingsError, effective, load


def test_store_takes_a_postgresql_url_by_flag_or_environment() -> None:
    assert (
        load({"store": "postgresql://parley@db:5432/parley"}, environ={}).store == "postgresql://parley@db:5432/parley"
    )
    from_env = load({}, environ={"PARLEY_STORE": "postgres://db/parley", "PARLEY_REDIS_URL": "redis://r:6379/0"})
    assert (from_env.store, from_env.redis_url) == ("postgres://db/parley", "redis://r:6379/0")
    assert load({}, environ={}).store is None


@pytest.mark.parametrize(
    ("name", "value", "flag"), [("store", "mysql://db/x", "--store"), ("redis_url", "db:6379", "--redis-url")]
)
def test_other_urls_are_refused_naming_the_flag(name: str, value: str, flag: str) -> None:
    with pytest.raises(SettingsError, match=f"^{flag}: expected a"):
        load({name: value}, environ={})


def test_the_config_shows_the_store_without_its_password() -> None:
    shown = effective(load({"store": "postgresql://parley:hunter2@db/parley"}, environ={}))["store"]
    assert shown["value"] == "postgresql://parley:***@db/parley" and shown["flag"] == "--store"
