"""The cluster CA and serving certificate of the API stand-in's in-cluster endpoint (a
test stand-in, never a product component).

Pods reach a real API server only over TLS: client-go's in-cluster config is always
``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`` and trusts the service
account's ``ca.crt`` (fact: real-flannel.md §2, §6 "Why not https"). So each sandbox
cluster gets its own CA (like kubeadm's ``/etc/kubernetes/pki/ca.crt``) and a serving
certificate for the addresses pods use. ECDSA P-256 keys: fast to make, accepted by Go.

>>> pki = make_pki(["198.18.0.1"], ["kubernetes.default.svc"])   # doctest: +SKIP
>>> ssl_context = server_context(pki)                           # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["PKI", "load_or_create", "make_pki", "server_context"]

SERVICE_DNS = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
)
VALIDITY = dt.timedelta(days=3650)
FILES = ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key")


@dataclass(frozen=True)
class PKI:
    """PEM bytes of the cluster CA and the API server's certificate."""

    ca_cert: bytes
    ca_key: bytes
    server_cert: bytes
    server_key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_pki(ips: list[str], dns: list[str] | None = None) -> PKI:
    """A new CA and a serving certificate for ``ips`` + the kubernetes service names."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key, server_key = _key(), _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    names: list[x509.GeneralName] = [
        x509.DNSName(d) for d in (*SERVICE_DNS, *(dns or []))
    ]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    server = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
        )
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return PKI(
        ca.public_bytes(pem),
        _pem_key(ca_key),
        server.public_bytes(pem),
        _pem_key(server_key),
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def load_or_create(directory: Path, ips: list[str]) -> PKI:
    """The cluster's PKI from ``directory`` (``ca.crt``, ``ca.key``, ``apiserver.crt``,
    ``apiserver.key``), made and written there (keys 0600) on first use."""
    paths = [directory / name for name in FILES]
    if all(p.is_file() for p in paths):
        return PKI(*(p.read_bytes() for p in paths))
    pki = make_pki(ips)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    blobs = (pki.ca_cert, pki.ca_key, pki.server_cert, pki.server_key)
    for path, data in zip(paths, blobs, strict=True):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    return pki


def server_context(pki: PKI) -> ssl.SSLContext:
    """The TLS context that serves ``pki``'s certificate (no client certificates)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        cert.write_bytes(pki.server_cert + pki.ca_cert)
        key.write_bytes(pki.server_key)
        context.load_cert_chain(cert, key)
    return context
