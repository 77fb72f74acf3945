"""TLS for every port: the server context, the client context, and self-signed set-ups.

``tls_cert_file`` and ``tls_key_file`` (PEM, both or neither) turn every port into HTTPS;
``tls_ca_file`` adds CA certificates trusted for outgoing requests, beside the system's, so a
data space with a private CA works. Verification of outgoing requests is never switched off.

:func:`write_self_signed` writes a small private CA and a server certificate signed by it, for
local trials (``karez tls self-signed DIR``) and tests.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from connector.errors import ValidationFailure
from connector.identity.keys import save_private_key

if TYPE_CHECKING:
    from connector.config import Settings

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
CA_FILE = "ca.pem"
DEFAULT_HOSTS = ("127.0.0.1", "localhost")

log = logging.getLogger(__name__)


# --- contexts --------------------------------------------------------------------------------


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The context every port serves with, or ``None`` when TLS is not configured.

    TLS 1.2 at least. Missing, unreadable or malformed files and a key that does not belong to
    the certificate raise :class:`ValidationFailure` naming ``tls_cert_file`` or
    ``tls_key_file``.
    """
    if not (settings.tls_cert_file or settings.tls_key_file):
        return None
    if not settings.tls_cert_file:
        raise ValidationFailure(
            "tls_key_file is set but tls_cert_file is not", path="tls_cert_file"
        )
    if not settings.tls_key_file:
        raise ValidationFailure("tls_cert_file is set but tls_key_file is not", path="tls_key_file")
    cert_path = settings.resolve(settings.tls_cert_file)
    key_path = settings.resolve(settings.tls_key_file)
    certificate = _read_certificate(cert_path)
    key = _read_key(key_path)
    if _spki(certificate.public_key()) != _spki(key.public_key()):
        raise ValidationFailure(
            f"tls_key_file {key_path} does not match the certificate in {cert_path}",
            path="tls_key_file",
            invalid_value=str(key_path),
        )
    now = datetime.now(UTC)
    if certificate.not_valid_after_utc < now:
        log.warning("tls_cert_file %s expired on %s", cert_path, certificate.not_valid_after_utc)
    elif certificate.not_valid_before_utc > now:
        log.warning(
            "tls_cert_file %s is not valid before %s", cert_path, certificate.not_valid_before_utc
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
    except (ssl.SSLError, OSError) as exc:
        raise ValidationFailure(
            f"cannot use tls_cert_file {cert_path} with tls_key_file {key_path}: {_reason(exc)}",
            path="tls_cert_file",
            invalid_value=str(cert_path),
        ) from None
    return context


def client_context(settings: Settings) -> ssl.SSLContext | bool:
    """What outgoing requests pass as aiohttp's ``ssl=``: always verifying.

    ``True`` (aiohttp's default verifying context) without ``tls_ca_file``; otherwise a
    verifying context trusting the system's CAs plus those in ``tls_ca_file``.
    """
    if not settings.tls_ca_file:
        return True
    ca_path = settings.resolve(settings.tls_ca_file)
    _read_file(ca_path, "tls_ca_file")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=ca_path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ValidationFailure(
            f"tls_ca_file {ca_path} holds no usable PEM CA certificate: {_reason(exc)}",
            path="tls_ca_file",
            invalid_value=str(ca_path),
        ) from None
    return context


def _read_file(path: Path, field: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValidationFailure(
            f"{field} {path} does not exist", path=field, invalid_value=str(path)
        ) from None
    except OSError as exc:
        raise ValidationFailure(
            f"cannot read {field} {path}: {exc.strerror or exc}",
            path=field,
            invalid_value=str(path),
        ) from None


def _read_certificate(path: Path) -> x509.Certificate:
    data = _read_file(path, "tls_cert_file")
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError:
        chain = []
    if not chain:
        raise ValidationFailure(
            f"tls_cert_file {path} holds no PEM certificate",
            path="tls_cert_file",
            invalid_value=str(path),
        )
    return chain[0]


def _read_key(path: Path) -> PrivateKeyTypes:
    data = _read_file(path, "tls_key_file")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        message = f"tls_key_file {path} is encrypted; TLS needs an unencrypted key"
    except (ValueError, UnsupportedAlgorithm):
        message = f"tls_key_file {path} holds no PEM private key"
    raise ValidationFailure(message, path="tls_key_file", invalid_value=str(path))


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


# --- self-signed set-ups ---------------------------------------------------------------------


def write_self_signed(
    folder: str | os.PathLike[str],
    hosts: Iterable[str] = DEFAULT_HOSTS,
    days: int = 365,
) -> tuple[Path, Path, Path]:
    """Write a private CA (``ca.pem``) and a server certificate it signed (``cert.pem``,
    ``key.pem`` with mode 0600) for ``hosts`` into ``folder``; return ``(cert, key, ca)``.

    Host names become DNSName SANs, IP addresses IPAddress SANs. The CA's key is not kept: the
    CA signs this one certificate and nothing else. Existing files are replaced.
    """
    names = _subject_alt_names(hosts)
    if days < 1:
        raise ValueError("days must be at least 1")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    not_before = now - timedelta(minutes=5)  # tolerate a little clock skew
    not_after = now + timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Karez local CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Karez local CA {now:%Y-%m-%d %H:%M:%S}"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    first = next(iter(names))
    common_name = str(first.value)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    cert_path, key_path, ca_path = target / CERT_FILE, target / KEY_FILE, target / CA_FILE
    save_private_key(key, key_path)  # PKCS#8, mode 0600, atomic
    _write_pem(cert_path, cert)
    _write_pem(ca_path, ca_cert)
    return cert_path, key_path, ca_path


def _subject_alt_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for raw in [hosts] if isinstance(hosts, str) else hosts:
        host = raw.strip()
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        name = _ip_name(host) or _dns_name(host, raw)
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("at least one host is needed")
    return names


def _ip_name(host: str) -> x509.GeneralName | None:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return None


def _dns_name(host: str, raw: str) -> x509.GeneralName:
    try:
        dns = host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        dns = ""
    if not dns or any(c in dns for c in "/:@ ") or dns.startswith("."):
        raise ValueError(f"not a host name or IP address: '{raw}'")
    return x509.DNSName(dns)


def _write_pem(path: Path, cert: x509.Certificate) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)
