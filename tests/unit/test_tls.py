"""TLS: self-signed set-ups, the server and client contexts, an HTTPS round trip."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509

from connector.cli import main
from connector.config import Settings
from connector.errors import ValidationFailure
from connector.tls import client_context, server_context, write_self_signed


def settings(tmp_path, cert="", key="", ca="") -> Settings:
    return Settings(
        api_key="x",
        tls_cert_file=str(cert),
        tls_key_file=str(key),
        tls_ca_file=str(ca),
        config_dir=str(tmp_path),
    )


@asynccontextmanager
async def https_server(context: ssl.SSLContext) -> AsyncIterator[int]:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": "tls"})

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def fetch(url: str, ssl_arg: ssl.SSLContext | bool) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session, session.get(url, ssl=ssl_arg) as resp:
        await resp.read()
        return resp


# --- write_self_signed ----------------------------------------------------------------------


def test_write_self_signed_writes_ca_signed_server_certificate(tmp_path):
    cert_path, key_path, ca_path = write_self_signed(
        tmp_path / "tls", hosts=("127.0.0.1", "localhost", "::1", "Node.Example")
    )
    assert [p.name for p in (cert_path, key_path, ca_path)] == ["cert.pem", "key.pem", "ca.pem"]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "node.example"]
    assert cert.issuer == ca.subject != cert.subject
    cert.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 365


def test_write_self_signed_rejects_bad_hosts_and_days(tmp_path):
    with pytest.raises(ValueError, match="at least one host"):
        write_self_signed(tmp_path, hosts=())
    with pytest.raises(ValueError, match="not a host name"):
        write_self_signed(tmp_path, hosts=("https://node.example/",))
    with pytest.raises(ValueError, match="days"):
        write_self_signed(tmp_path, days=0)


# --- HTTPS round trip -----------------------------------------------------------------------


async def test_https_round_trip_with_the_private_ca(tmp_path):
    write_self_signed(tmp_path)
    s = settings(tmp_path, "cert.pem", "key.pem", "ca.pem")
    context = server_context(s)
    assert context is not None
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    client = client_context(s)
    assert isinstance(client, ssl.SSLContext)
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname

    async with https_server(context) as port:
        resp = await fetch(f"https://127.0.0.1:{port}/", client)
    assert resp.status == 200


async def test_without_the_ca_the_certificate_is_not_trusted(tmp_path):
    write_self_signed(tmp_path)
    s = settings(tmp_path, "cert.pem", "key.pem")
    client = client_context(s)
    assert client is True  # aiohttp's default, verifying context

    async with https_server(server_context(s)) as port:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await fetch(f"https://127.0.0.1:{port}/", client)


async def test_a_host_missing_from_the_certificate_is_rejected(tmp_path):
    write_self_signed(tmp_path, hosts=("localhost",))
    s = settings(tmp_path, "cert.pem", "key.pem", "ca.pem")
    async with https_server(server_context(s)) as port:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await fetch(f"https://127.0.0.1:{port}/", client_context(s))


# --- configuration errors -------------------------------------------------------------------


def test_no_tls_configured(tmp_path):
    s = settings(tmp_path)
    assert server_context(s) is None
    assert client_context(s) is True


def test_mismatched_key_names_the_key_file(tmp_path):
    write_self_signed(tmp_path / "a")
    write_self_signed(tmp_path / "b")
    s = settings(tmp_path, "a/cert.pem", "b/key.pem")
    with pytest.raises(ValidationFailure, match="does not match") as info:
        server_context(s)
    assert info.value.path == "tls_key_file"


@pytest.mark.parametrize(
    ("cert", "key", "field"),
    [
        ("missing.pem", "key.pem", "tls_cert_file"),
        ("cert.pem", "missing.pem", "tls_key_file"),
        ("ca.pem", "key.pem", "tls_key_file"),  # a certificate, but not the key's
        ("key.pem", "key.pem", "tls_cert_file"),  # no certificate in it
        ("cert.pem", "cert.pem", "tls_key_file"),  # no key in it
        ("cert.pem", "", "tls_key_file"),
        ("", "key.pem", "tls_cert_file"),
    ],
)
def test_unusable_files_raise_validation_failure(tmp_path, cert, key, field):
    write_self_signed(tmp_path)
    with pytest.raises(ValidationFailure) as info:
        server_context(settings(tmp_path, cert, key))
    assert info.value.path == field


def test_missing_file_message_names_the_path(tmp_path):
    write_self_signed(tmp_path)
    with pytest.raises(ValidationFailure, match="does not exist") as info:
        server_context(settings(tmp_path, "nowhere/cert.pem", "key.pem"))
    assert "nowhere" in info.value.message


def test_unreadable_ca_file_raises_validation_failure(tmp_path):
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    for ca in ("missing.pem", "junk.pem"):
        with pytest.raises(ValidationFailure) as info:
            client_context(settings(tmp_path, ca=ca))
        assert info.value.path == "tls_ca_file"


# --- karez tls self-signed ------------------------------------------------------------------


def test_cli_self_signed(tmp_path, capsys):
    folder = tmp_path / "tls"

    def run(*extra: str) -> int:
        return main(["tls", "self-signed", str(folder), "--host", "node.example", *extra])

    assert run() == 0
    out = capsys.readouterr().out
    assert 'tls_cert_file = "' in out and 'tls_ca_file = "' in out
    cert = x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["node.example"]
    assert san.get_values_for_type(x509.IPAddress) == []

    assert run() == 2  # refuses to replace
    assert "already exist" in capsys.readouterr().err
    assert run("--force") == 0


def test_encrypted_key_is_refused_clearly(tmp_path):
    from connector.identity.keys import load_private_key, save_private_key

    _, key_path, _ = write_self_signed(tmp_path)
    save_private_key(load_private_key(key_path), key_path, password=b"secret")
    with pytest.raises(ValidationFailure, match="encrypted") as info:
        server_context(settings(tmp_path, "cert.pem", "key.pem"))
    assert info.value.path == "tls_key_file"
