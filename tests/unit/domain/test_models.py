from __future__ import annotations

import pytest

from localforce.domain.models import (
    Access,
    IpRange,
    ObjectPermissions,
    PermissionSet,
    Profile,
    RefreshTokenPolicy,
)


@pytest.mark.parametrize(("text", "kind", "seconds"), [
    ("valid_until_revoked", "valid_until_revoked", None),
    ("immediately_expire", "immediately_expire", None),
    ("expire_if_unused:30d", "expire_if_unused", 30 * 86400),
    ("expire_after:7d", "expire_after", 7 * 86400),
    ("expire_after:12h", "expire_after", 12 * 3600),
    ("expire_after:90m", "expire_after", 90 * 60),
])
def test_refresh_policy_round_trip(text: str, kind: str, seconds: int | None) -> None:
    policy = RefreshTokenPolicy.parse(text)
    assert (policy.kind, policy.seconds) == (kind, seconds)
    assert RefreshTokenPolicy.parse(policy.render()) == policy


@pytest.mark.parametrize("bad", ["forever", "expire_after", "expire_after:0d", "expire_after:3w",
                                 "valid_until_revoked:3d", "expire_if_unused:-1d"])
def test_refresh_policy_refuses_nonsense(bad: str) -> None:
    with pytest.raises(ValueError):
        RefreshTokenPolicy.parse(bad)


def test_ip_range_contains() -> None:
    r = IpRange("10.0.0.1", "10.0.0.20")
    assert r.contains("10.0.0.1") and r.contains("10.0.0.20") and r.contains("10.0.0.7")
    assert not r.contains("10.0.0.21") and not r.contains("::1") and not r.contains("junk")
    with pytest.raises(ValueError):
        IpRange("10.0.0.9", "10.0.0.1")


def test_access_merges_profile_and_permission_sets() -> None:
    profile = Profile("00e", "00D", "Integration",
                      objects=ObjectPermissions({"Account": frozenset({"read"})}))
    deleter = PermissionSet("0PS", "00D", "Deleter",
                            objects=ObjectPermissions({"account": frozenset({"delete"})}))
    alone = Access.of(profile, ())
    both = Access.of(profile, (deleter,))
    assert alone.can("Account", "read") and not alone.can("Account", "delete")
    assert both.can("ACCOUNT", "delete") and both.can("Account", "read")
    assert not both.can("Contact", "read")


def test_modify_all_implies_everything_on_that_object() -> None:
    perms = ObjectPermissions({"Case": frozenset({"modify_all"})})
    for p in ("read", "create", "edit", "delete", "view_all", "modify_all"):
        assert perms.allows("Case", p)
    assert not perms.allows("Account", "read")


def test_no_ip_ranges_means_unrestricted() -> None:
    access = Access.of(Profile("00e", "00D", "p"), ())
    assert access.ip_allowed("203.0.113.9")
    ranged = Access.of(Profile("00e", "00D", "p", login_ip_ranges=(IpRange("127.0.0.1", "127.0.0.1"),)), ())
    assert ranged.ip_allowed("127.0.0.1") and not ranged.ip_allowed("127.0.0.2")
