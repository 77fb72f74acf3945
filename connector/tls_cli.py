"""``karez tls``: certificates for local TLS set-ups.

    karez tls self-signed DIR [--host 127.0.0.1 --host localhost ...] [--days 365] [--force]

writes ``ca.pem`` (a private CA), ``cert.pem`` and ``key.pem`` (a server certificate that CA
signed, for every ``--host``) into DIR and prints the ``karez.toml`` lines that use them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from connector.tls import CA_FILE, CERT_FILE, DEFAULT_HOSTS, KEY_FILE, write_self_signed


def add_tls_commands(subparsers: Any) -> None:
    """Register ``tls self-signed``."""
    tls = subparsers.add_parser("tls", help="certificates for local TLS set-ups")
    sub = tls.add_subparsers(dest="tls_command", required=True)

    self_signed = sub.add_parser(
        "self-signed", help="write a private CA and a server certificate it signed"
    )
    self_signed.add_argument("dir")
    self_signed.add_argument(
        "--host",
        action="append",
        dest="hosts",
        metavar="HOST",
        help=f"host name or IP address, repeatable (default: {' '.join(DEFAULT_HOSTS)})",
    )
    self_signed.add_argument("--days", type=int, default=365, help="validity (default: 365)")
    self_signed.add_argument("--force", action="store_true", help="replace existing files")
    self_signed.set_defaults(func=cmd_self_signed)


def cmd_self_signed(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    existing = [folder / n for n in (CERT_FILE, KEY_FILE, CA_FILE) if (folder / n).exists()]
    if existing and not args.force:
        names = ", ".join(str(p) for p in existing)
        raise ValueError(f"{names} already exist (--force replaces them)")
    cert, key, ca = write_self_signed(folder, hosts=args.hosts or DEFAULT_HOSTS, days=args.days)
    print(f"certificate  {cert}")
    print(f"key          {key}")
    print(f"CA           {ca}")
    print()
    print("# karez.toml: serve every port over HTTPS and trust this CA for outgoing requests")
    print(f"tls_cert_file = {json.dumps(str(cert.resolve()))}")
    print(f"tls_key_file = {json.dumps(str(key.resolve()))}")
    print(f"tls_ca_file = {json.dumps(str(ca.resolve()))}")
    return 0
