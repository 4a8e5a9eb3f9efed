"""A CA and two leaf certificates (server, client) under ``{state_dir}/pki``, made with
``cryptography``.

The leaves carry what OPC UA's certificate checks want (asyncua's ``CertificateValidator`` with
``TRUSTED_VALIDATION``): the application URI and the host names in the subjectAltName, key
usage digitalSignature, nonRepudiation, keyEncipherment and dataEncipherment, and extended key
usage serverAuth and clientAuth. The same server certificate serves Mosquitto's TLS listener.
Keys are written readable by this user only; nothing here is ever committed. A site replaces
the CA with its own (the paths are settings).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_URI = "urn:nengtan:opcua:server"
ADAPTER_URI = "urn:nengtan:adapters"
VALID_DAYS = 825


@dataclass(frozen=True)
class PkiPaths:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key.pem"

    def cert(self, name: str, der: bool = False) -> Path:
        return self.root / f"{name}.{'der' if der else 'pem'}"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key.pem"

    @property
    def trusted(self) -> Path:
        """The OPC UA server's trust list: the certificates (or their CAs) it accepts."""
        return self.root / "trusted"


def pki_paths(state_dir: Path) -> PkiPaths:
    return PkiPaths(state_dir / "pki")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Nengtan"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _save_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    _write(path, pem, private=True)


def _issue_ca(paths: PkiPaths, now: dt.datetime) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    name = _name("Nengtan local CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    _save_key(paths.ca_key, key)
    _write(paths.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def issue_leaf(
    paths: PkiPaths,
    name: str,
    uri: str,
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
) -> None:
    """``{name}.pem``/``.der`` and ``{name}.key.pem`` signed by ``ca``."""
    ca_cert, ca_key = ca
    key = _key()
    now = dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri)]
    for host in dict.fromkeys((*hosts, socket.gethostname())):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Nengtan {name}"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _save_key(paths.key(name), key)
    _write(paths.cert(name), cert.public_bytes(serialization.Encoding.PEM))
    _write(paths.cert(name, der=True), cert.public_bytes(serialization.Encoding.DER))


def init_pki(state_dir: Path, *, force: bool = False) -> PkiPaths:
    """Make the CA, ``server`` and ``client`` certificates and the server's trust list (the
    CA), unless they exist (``force``: make new ones)."""
    paths = pki_paths(state_dir)
    if paths.ca_cert.exists() and not force:
        return paths
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o700)
    paths.trusted.mkdir(exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca = _issue_ca(paths, now)
    issue_leaf(paths, "server", SERVER_URI, ca)
    issue_leaf(paths, "client", ADAPTER_URI, ca)
    _write(paths.trusted / "ca.der", ca[0].public_bytes(serialization.Encoding.DER))
    return paths
