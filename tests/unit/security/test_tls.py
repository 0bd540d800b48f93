"""The local CA behind ``serve --tls``: files, rights, names, renewal, real handshakes."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import stat
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localforce.security.tls import (
    TlsError,
    ensure_local_ca,
    operator_files,
    trust_instructions,
)

NOW = 1_790_000_000.0


def clock(at: float = NOW):  # type: ignore[no-untyped-def]
    return lambda: at


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_creates_ca_and_server_files_with_private_keys_0600(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    folder = tmp_path / "tls"
    assert sorted(p.name for p in folder.iterdir()) == ["ca.key", "ca.pem", "server.key",
                                                       "server.pem"]
    assert (files.certfile, files.keyfile, files.ca) == (
        folder / "server.pem", folder / "server.key", folder / "ca.pem")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "server.key").stat().st_mode) == 0o600


def test_server_certificate_names_loopback_only_and_is_signed_by_the_ca(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    assert files.ca is not None
    ca, server = cert(files.ca), cert(files.certfile)
    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert server.not_valid_after_utc - server.not_valid_before_utc <= dt.timedelta(days=398)


def test_ca_is_name_constrained_to_loopback(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    assert files.ca is not None
    ext = cert(files.ca).extensions.get_extension_for_class(x509.NameConstraints)
    assert ext.critical
    assert ext.value.permitted_subtrees == [
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
        x509.IPAddress(ipaddress.ip_network("::1/128"))]


def test_second_start_reuses_everything(tmp_path: Path) -> None:
    ensure_local_ca(tmp_path, clock())
    before = {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()}
    ensure_local_ca(tmp_path, clock(NOW + 86400))
    after = {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()}
    assert after == before


def test_server_certificate_is_renewed_before_expiry_under_the_same_ca(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    assert files.ca is not None
    ca_before, server_before = files.ca.read_bytes(), cert(files.certfile)
    ensure_local_ca(tmp_path, clock(NOW + 370 * 86400))
    server_after = cert(files.certfile)
    assert files.ca.read_bytes() == ca_before
    assert server_after.serial_number != server_before.serial_number
    assert server_after.not_valid_after_utc > server_before.not_valid_after_utc
    server_after.verify_directly_issued_by(cert(files.ca))


def test_a_new_ca_means_a_new_server_certificate(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    (tmp_path / "tls" / "ca.key").unlink()
    ensure_local_ca(tmp_path, clock())
    assert files.ca is not None
    cert(files.certfile).verify_directly_issued_by(cert(files.ca))


# Handshakes check validity against the real time, so their certificates are issued with it.
def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, name: str) -> None:
    """A real TLS handshake in memory: raises ssl.SSLCertVerificationError on a bad cert."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=name)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for side, obj, out, peer_in in (("client", client, c_out, s_in),
                                        ("server", server, s_out, c_in)):
            if not done[side]:
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
            peer_in.write(out.read())
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish")


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "::1"])
def test_clients_trusting_the_ca_verify_the_server_for_each_loopback_name(
        tmp_path: Path, name: str) -> None:
    files = ensure_local_ca(tmp_path, time.time)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.certfile, files.keyfile)
    client = ssl.create_default_context(cafile=str(files.ca))
    _handshake(server, client, name)


def test_the_server_certificate_is_refused_for_another_name(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, time.time)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.certfile, files.keyfile)
    client = ssl.create_default_context(cafile=str(files.ca))
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server, client, "login.salesforce.com")


def test_a_stolen_ca_key_cannot_impersonate_a_real_site(tmp_path: Path) -> None:
    """The name constraint: a certificate for login.salesforce.com issued with the CA's own
    key is refused by OpenSSL (``permitted subtree violation``)."""
    files = ensure_local_ca(tmp_path, time.time)
    assert files.ca is not None
    ca_cert = cert(files.ca)
    ca_key = serialization.load_pem_private_key((tmp_path / "tls" / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    forged = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                          "login.salesforce.com")]))
              .issuer_name(ca_cert.subject).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(hours=1))
              .not_valid_after(now + dt.timedelta(days=30))
              .add_extension(x509.SubjectAlternativeName(
                  [x509.DNSName("login.salesforce.com")]), critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    forged_pem, forged_key = tmp_path / "forged.pem", tmp_path / "forged.key"
    forged_pem.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    forged_key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(forged_pem, forged_key)
    client = ssl.create_default_context(cafile=str(files.ca))
    with pytest.raises(ssl.SSLCertVerificationError, match="subtree"):
        _handshake(server, client, "login.salesforce.com")


def test_operator_files_are_checked(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    assert operator_files(files.certfile, files.keyfile).ca is None
    with pytest.raises(TlsError, match="no such file"):
        operator_files(tmp_path / "missing.pem", files.keyfile)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(TlsError, match="cannot load"):
        operator_files(garbage, files.keyfile)
    with pytest.raises(TlsError, match="is not the private key"):
        operator_files(files.certfile, tmp_path / "tls" / "ca.key")


def test_trust_instructions_name_every_client_variable(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path, clock())
    assert files.ca is not None
    text = trust_instructions(files.ca)
    ca = str(files.ca.resolve())
    for line in (f"export REQUESTS_CA_BUNDLE={ca}", f"export SSL_CERT_FILE={ca}",
                 f"export NODE_EXTRA_CA_CERTS={ca}", f"curl --cacert {ca}"):
        assert line in text
