"""--lease-ttl: seconds a node's hold on shared work lasts unrenewed; the sweep runs every half of it."""

from __future__ import annotations

import pytest

from parley.services.leases import NodeLeases
from parley.settings import SettingsError, effective, load
from parley.store.sqlite import SqliteStore


def test_the_lease_ttl_defaults_to_ten_seconds_and_comes_from_the_flag_or_the_environment() -> None:
    assert load({}, environ={}).lease_ttl == 10.0
    assert load({}, environ={"PARLEY_LEASE_TTL": "2.5"}).lease_ttl == 2.5
    flagged = load({"lease_ttl": "3"}, environ={"PARLEY_LEASE_TTL": "2.5"})
    assert flagged.lease_ttl == 3.0
    assert effective(flagged)["lease_ttl"]["source"] == "flag"


@pytest.mark.parametrize("text", ["0", "0.1", "-1", "nan", "inf", "3601", "ten"])
def test_a_lease_ttl_out_of_range_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(SettingsError, match="PARLEY_LEASE_TTL"):
        load({}, environ={"PARLEY_LEASE_TTL": text})


def test_the_sweep_runs_every_half_lease() -> None:
    store = SqliteStore(None)
    try:
        assert NodeLeases(store, "node", 10.0).sweep_seconds == 5.0
    finally:
        store.close()
