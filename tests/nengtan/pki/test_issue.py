"""``nengtan pki init``: what the certificates carry, file modes, and kept on a second run."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from nengtan.pki import ADAPTER_URI, SERVER_URI, init_pki


def test_ca_signs_leaves_with_what_opcua_checks(tmp_path: Path) -> None:
    paths = init_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    for name, uri in (("server", SERVER_URI), ("client", ADAPTER_URI)):
        cert = x509.load_der_x509_certificate(paths.cert(name, der=True).read_bytes())
        cert.verify_directly_issued_by(ca)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert uri in san.get_values_for_type(x509.UniformResourceIdentifier)
        assert "localhost" in san.get_values_for_type(x509.DNSName)
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment
        assert usage.key_encipherment and usage.data_encipherment
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(eku)
        assert stat.S_IMODE(paths.key(name).stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.root.stat().st_mode) == 0o700
    assert (paths.trusted / "ca.der").read_bytes() == ca.public_bytes(Encoding.DER)


def test_second_init_keeps_force_replaces(tmp_path: Path) -> None:
    first = init_pki(tmp_path).ca_cert.read_bytes()
    assert init_pki(tmp_path).ca_cert.read_bytes() == first
    assert init_pki(tmp_path, force=True).ca_cert.read_bytes() != first
