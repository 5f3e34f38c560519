"""The gRPC target a device or the admin CLI dials for one or several hub replicas."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st
from printgate.hub_targets import HubTarget, balanced_target, split_addresses


def test_one_ip_address_is_dialled_as_it_is() -> None:
    assert balanced_target(["10.0.0.5:50051"]) == HubTarget("10.0.0.5:50051", "10.0.0.5")


def test_one_name_is_every_address_the_name_has() -> None:
    target = balanced_target(["hub.example:50051"])
    assert target == HubTarget("dns:///hub.example:50051", "hub.example")
    assert ("grpc.ssl_target_name_override", "hub.example") in target.channel_options()


def test_several_addresses_become_one_balanced_target_checked_against_the_first_name() -> None:
    target = balanced_target(["localhost:50051", "127.0.0.2:50052", "127.0.0.2:50052"])
    assert target.target == "ipv4:127.0.0.1:50051,127.0.0.2:50052"  # localhost resolved, duplicate dropped
    assert target.tls_name == "localhost"


def test_ipv6_replicas_only() -> None:
    target = balanced_target(["[::1]:50051", "[fd00::2]:50051"])
    assert target == HubTarget("ipv6:[::1]:50051,[fd00::2]:50051", "::1")


def test_a_name_that_does_not_resolve_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    target = balanced_target(["no-such-hub.invalid:50051", "127.0.0.3:50051"])
    assert target == HubTarget("ipv4:127.0.0.3:50051", "no-such-hub.invalid")
    assert "no-such-hub.invalid:50051 does not resolve" in caplog.text


def test_when_no_name_resolves_the_first_is_dialled_by_name() -> None:
    target = balanced_target(["a.invalid:1", "b.invalid:2"])
    assert target == HubTarget("dns:///a.invalid:1", "a.invalid")


@pytest.mark.parametrize("bad", [[], ["hub"], ["hub:"], [":50051"], ["hub:port"]])
def test_bad_addresses_are_refused(bad: list[str]) -> None:
    with pytest.raises(ValueError, match="hub address"):
        balanced_target(bad)


def test_split_addresses() -> None:
    assert split_addresses(" a:1, b:2 ,,") == ("a:1", "b:2")


@given(st.lists(st.ip_addresses(v=4), min_size=2, max_size=8), st.integers(1, 65535))
def test_every_ipv4_replica_is_in_the_target_once(addresses: list[object], port: int) -> None:
    target = balanced_target([f"{address}:{port}" for address in addresses])
    listed = target.target.removeprefix("ipv4:").split(",")
    assert listed == list(dict.fromkeys(f"{address}:{port}" for address in addresses))
    socket.inet_aton(target.tls_name)  # the first replica's address
