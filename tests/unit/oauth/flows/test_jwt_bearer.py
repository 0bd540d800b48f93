"""JwtBearerFlow built from fakes of its Protocols (Clients, OrgLookup, UserLookup, Consents,
OneTimeValues, LoginPolicy, TokenWriter, a clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import jwt as pyjwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.flows.conftest import KeyPair, make_key_pair
from tests.unit.oauth.flows.fakes import (
    APP,
    NOW,
    ORG,
    USER,
    Clients,
    Consents,
    Directory,
    Issuer,
    Jtis,
    Logins,
    clock,
    request,
)

from localforce.domain.models import PermittedUsers
from localforce.oauth import ports
from localforce.oauth.errors import InactiveUser, InvalidGrant
from localforce.oauth.flows.jwt_bearer import (
    BAD_AUDIENCE,
    INVALID_ASSERTION,
    ISSUE,
    NOT_APPROVED,
    JwtBearerFlow,
)

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCES = frozenset({"https://login.salesforce.com"})


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return make_key_pair("unit-jwt")


def assertion(keys: KeyPair, **claims: Any) -> str:
    body = {"iss": APP.consumer_key, "sub": USER.username, "aud": "https://login.salesforce.com",
            "exp": NOW + 120, **claims}
    return pyjwt.encode({k: v for k, v in body.items() if v is not None}, keys.private_pem,
                        algorithm="RS256")


def flow(keys, consents=None, jtis=None, logins=None,  # type: ignore[no-untyped-def]
         issuer=None, org=ORG, directory=None):
    directory = directory or Directory(orgs=[org])
    return JwtBearerFlow(Clients(replace(APP, certificate=keys.certificate_pem)), directory,
                         directory, consents or Consents({(USER.id, APP.id): ("api", "id")}),
                         jtis or Jtis(), logins or Logins(), issuer or Issuer(), clock,
                         AUDIENCES)


def grant(token: str):  # type: ignore[no-untyped-def]
    return request(secret=None, client_id=None, grant_type=GRANT, assertion=token)


def test_an_approved_user_gets_the_approved_scopes_unsigned(keys: KeyPair) -> None:
    directory, logins, issuer = Directory(), Logins(), Issuer()
    flow(keys, logins=logins, issuer=issuer, directory=directory).exchange(
        grant(assertion(keys)))
    assert issuer.issued == [(APP.id, USER.id, ("api",), ISSUE, None)]
    assert not ISSUE.signed and logins.names() == ["admit"]
    assert directory.finds == [(USER.username, False)]  # from the read cache


def test_a_jti_is_used_once(keys: KeyPair) -> None:
    jtis = Jtis()
    token = assertion(keys, jti="once")
    flow(keys, jtis=jtis).exchange(grant(token))
    with pytest.raises(InvalidGrant) as raised:
        flow(keys, jtis=jtis).exchange(grant(token))
    assert raised.value.description == INVALID_ASSERTION


def test_audience_the_org_my_domain_counts(keys: KeyPair) -> None:
    mine = "https://acme.my.salesforce.com"
    with pytest.raises(InvalidGrant) as raised:
        flow(keys).exchange(grant(assertion(keys, aud=mine)))
    assert raised.value.description == BAD_AUDIENCE
    flow(keys, org=replace(ORG, my_domain="acme")).exchange(grant(assertion(keys, aud=mine)))


@pytest.mark.parametrize("claims", [{"exp": NOW + 600}, {"exp": None}, {"iat": NOW + 600},
                                    {"exp": "soon"}])
def test_lifetimes_out_of_bounds(keys: KeyPair, claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidGrant):
        flow(keys).exchange(grant(assertion(keys, **claims)))


def test_another_key_signed_it(keys: KeyPair) -> None:
    forged = assertion(make_key_pair("attacker"))
    with pytest.raises(InvalidGrant) as raised:
        flow(keys).exchange(grant(forged))
    assert raised.value.description == INVALID_ASSERTION


def test_a_user_who_never_approved_is_recorded_and_refused(keys: KeyPair) -> None:
    logins = Logins()
    with pytest.raises(InvalidGrant) as raised:
        flow(keys, consents=Consents(), logins=logins).exchange(grant(assertion(keys)))
    assert raised.value.description == NOT_APPROVED
    assert logins.calls == [("record", ports.NOT_APPROVED, USER.id, None)]


def test_an_unknown_user_is_recorded_by_name(keys: KeyPair) -> None:
    logins = Logins()
    with pytest.raises(InvalidGrant):
        flow(keys, logins=logins).exchange(grant(assertion(keys, sub="nobody@acme.test")))
    assert logins.calls == [("record", ports.NOT_APPROVED, None, "nobody@acme.test")]


def test_admin_approved_apps_need_no_consent_and_the_login_policy_decides(
        keys: KeyPair) -> None:
    app = replace(APP, certificate=keys.certificate_pem,
                  permitted_users=PermittedUsers.ADMIN_APPROVED)
    issuer = Issuer()
    admin_approved = JwtBearerFlow(Clients(app), Directory(), Directory(), Consents(), Jtis(),
                                   Logins(refuse=InactiveUser()), issuer, clock, AUDIENCES)
    with pytest.raises(InactiveUser):
        admin_approved.exchange(grant(assertion(keys)))
    assert issuer.issued == []


def ec_certificate() -> str:
    """A self-signed certificate of a P-256 key: not a key RS256 can be checked against."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("certificate", [ec_certificate(), "-----BEGIN CERTIFICATE-----\nnope"])
def test_an_app_certificate_without_an_rsa_key_refuses_every_assertion(
        keys: KeyPair, certificate: str) -> None:
    """An EC key, or a certificate that does not load: the assertion (validly signed by an
    RSA key) is refused as invalid, never checked against something else or a 500."""
    broken = JwtBearerFlow(Clients(replace(APP, certificate=certificate)), Directory(orgs=[ORG]),
                           Directory(orgs=[ORG]), Consents({(USER.id, APP.id): ("api",)}),
                           Jtis(), Logins(), Issuer(), clock, AUDIENCES)
    with pytest.raises(InvalidGrant) as raised:
        broken.exchange(grant(assertion(keys)))
    assert raised.value.description == INVALID_ASSERTION
