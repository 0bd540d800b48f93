"""A local certificate authority for ``localforce serve --tls``.

Clients that insist on ``https://`` (simple-salesforce builds every URL as
``https://{domain}.salesforce.com/...``; ``sf org login sfdx-url`` forces https) need a server
certificate they trust. On first use this module creates, under ``{home}/tls/``:

- ``ca.pem`` / ``ca.key``: a CA certificate (10 years) and its key (mode 0600). The CA carries a
  critical *name constraint* (RFC 5280 §4.2.1.10) limiting it to ``localhost``, 127.0.0.0/8 and
  ``::1``, so trusting it cannot let anyone who steals the key impersonate a real site.
- ``server.pem`` / ``server.key``: a server certificate for ``localhost``, ``127.0.0.1`` and
  ``::1`` (SAN entries, RFC 6125 §6.4), valid 397 days (the CA/Browser Forum maximum), signed by
  the CA. It is reissued when it is due to expire within 30 days or was not signed by the
  current CA.

Keys are ECDSA P-256: every client here (OpenSSL in Python and Node) supports it and it is
generated in microseconds. Operators with their own certificate pass ``--tls-cert/--tls-key``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The names the server certificate is valid for.
SERVER_DNS_NAMES = ("localhost",)
SERVER_IPS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))

CA_DAYS = 3650
SERVER_DAYS = 397
RENEW_BEFORE_DAYS = 30

Now = Callable[[], float]


@dataclass(frozen=True)
class TlsFiles:
    """What uvicorn needs (``certfile``/``keyfile``) and, for a local CA, what clients trust."""

    certfile: Path
    keyfile: Path
    ca: Path | None = None


class TlsError(ValueError):
    pass


def operator_files(cert: Path, key: Path) -> TlsFiles:
    """The operator's own certificate and key (``--tls-cert``/``--tls-key``), checked to load."""
    for path in (cert, key):
        if not path.is_file():
            raise TlsError(f"{path}: no such file")
    try:
        leaf = x509.load_pem_x509_certificates(cert.read_bytes())[0]
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise TlsError(f"cannot load the certificate or key: {exc}") from exc
    if leaf.public_key() != private.public_key():
        raise TlsError(f"{key} is not the private key of the first certificate in {cert}")
    return TlsFiles(cert, key)


def ensure_local_ca(home: Path, now: Now) -> TlsFiles:
    """Create (once) the local CA and a current server certificate under ``home/tls``."""
    folder = home / "tls"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = TlsFiles(folder / "server.pem", folder / "server.key", folder / "ca.pem")
    assert files.ca is not None
    ca_key_path = folder / "ca.key"
    when = dt.datetime.fromtimestamp(now(), dt.UTC)
    if not (files.ca.exists() and ca_key_path.exists()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, when)
        _write(ca_key_path, _key_pem(ca_key), private=True)
        _write(files.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
    else:
        ca_cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
        loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise TlsError(f"{ca_key_path}: not an EC key")
        ca_key = loaded
    if not _server_is_current(files, ca_cert, when):
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = _server_certificate(server_key, ca_key, ca_cert, when)
        _write(files.keyfile, _key_pem(server_key), private=True)
        _write(files.certfile, server_cert.public_bytes(serialization.Encoding.PEM))
    return files


def trust_instructions(ca: Path) -> str:
    """How each client family is told to trust the CA (printed by ``serve --tls``)."""
    path = ca.resolve()
    return "\n".join((
        f"TLS: certificates from the local CA {path}. Trust it with:",
        f"  export REQUESTS_CA_BUNDLE={path}   # requests, simple-salesforce, requests-oauthlib",
        f"  export SSL_CERT_FILE={path}        # httpx, authlib, Python's ssl",
        f"  export NODE_EXTRA_CA_CERTS={path}  # jsforce, the sf CLI",
        f"  curl --cacert {path} ...",
    ))


# -- certificates -------------------------------------------------------------------------


def _ca_certificate(key: ec.EllipticCurvePrivateKey, when: dt.datetime) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localforce"),
        x509.NameAttribute(NameOID.COMMON_NAME, "localforce local CA"),
    ])
    permitted: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_DNS_NAMES]
    permitted += [x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
                  x509.IPAddress(ipaddress.ip_network("::1/128"))]
    public = key.public_key()
    return (
        _builder(name, name, public, when, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=permitted,
                                            excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey,
                        ca_cert: x509.Certificate, when: dt.datetime) -> x509.Certificate:
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localforce"),
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
    ])
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_DNS_NAMES]
    names += [x509.IPAddress(ip) for ip in SERVER_IPS]
    public = key.public_key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        _builder(subject, ca_cert.subject, public, when, SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _builder(subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey,
             when: dt.datetime, days: int) -> x509.CertificateBuilder:
    # Backdated an hour so a client whose clock is slightly behind still accepts it.
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(when - dt.timedelta(hours=1))
            .not_valid_after(when + dt.timedelta(days=days)))


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
        crl_sign=cert_sign, encipher_only=False, decipher_only=False)


def _server_is_current(files: TlsFiles, ca_cert: x509.Certificate, when: dt.datetime) -> bool:
    if not (files.certfile.exists() and files.keyfile.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.certfile.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc - when > dt.timedelta(days=RENEW_BEFORE_DAYS)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Write atomically; a private key is created 0600 and never exists with wider rights."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
