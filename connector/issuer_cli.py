"""``karez issuer``: run a data-space authority from a folder.

    karez issuer init DIR --did did:web:authority.example
    karez issuer issue-membership DIR --subject DID --legal-name NAME --uscc CODE \\
        --cluster cluster10:cotton-textiles [--cluster ...] --jurisdiction jurisdiction:CN-XJ \\
        --organisation-type orgtype:data-merchant [--valid-until DATE]
    karez issuer issue-certification DIR --subject DID --kind cert:export-security-assessment \\
        --valid-until 2028-06-30 [--reference NUMBER]
    karez issuer revoke DIR --id urn:uuid:...
    karez issuer serve DIR [--host 127.0.0.1] [--port 8383] [--tls-cert PEM --tls-key PEM]

Issuing prints the credential (a ``vc+jwt``) on stdout and its id on stderr. A date without a
time means the end of that day, UTC.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time
from typing import Any

DEFAULT_PORT = 8383


def add_issuer_commands(subparsers: Any) -> None:
    """Register ``issuer init|issue-membership|issue-certification|revoke|serve``."""
    issuer = subparsers.add_parser("issuer", help="run a data-space authority (issue, revoke)")
    sub = issuer.add_subparsers(dest="issuer_command", required=True)

    init = sub.add_parser("init", help="create an authority folder with a fresh key")
    init.add_argument("dir")
    init.add_argument("--did", required=True, help="the authority's did:web DID")
    init.add_argument("--status-list-url", help="default: <DID document origin>/status/1")
    init.add_argument("--alg", choices=("EdDSA", "ES256"), default="EdDSA")
    init.set_defaults(func=cmd_init)

    member = sub.add_parser("issue-membership", help="issue a membership credential")
    member.add_argument("dir")
    member.add_argument("--subject", required=True, help="the participant's DID")
    member.add_argument("--legal-name", required=True)
    member.add_argument("--uscc", required=True, help="unified social credit code")
    member.add_argument("--cluster", action="append", required=True, help="repeatable")
    member.add_argument("--jurisdiction", required=True)
    member.add_argument("--organisation-type", required=True)
    member.add_argument("--valid-until", type=parse_when, help="default: one year")
    member.set_defaults(func=cmd_issue_membership)

    cert = sub.add_parser("issue-certification", help="issue a certification credential")
    cert.add_argument("dir")
    cert.add_argument("--subject", required=True, help="the participant's DID")
    cert.add_argument("--kind", required=True, help="e.g. cert:export-security-assessment")
    cert.add_argument("--valid-until", type=parse_when, required=True)
    cert.add_argument("--reference", help="filing or approval number")
    cert.set_defaults(func=cmd_issue_certification)

    revoke = sub.add_parser("revoke", help="revoke a credential by id")
    revoke.add_argument("dir")
    revoke.add_argument("--id", required=True, dest="credential_id")
    revoke.set_defaults(func=cmd_revoke)

    serve = sub.add_parser("serve", help="serve the DID document and status list until Ctrl-C")
    serve.add_argument("dir")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.set_defaults(func=cmd_serve)


def parse_when(text: str) -> datetime:
    """``YYYY-MM-DD`` (end of that day, UTC) or an ISO date-time with a time zone."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or date-time: '{text}'") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"date-time needs a time zone: '{text}'")
    return value.astimezone(UTC)


def cmd_init(args: argparse.Namespace) -> int:
    from connector.issuer import Authority, did_document_url

    authority = Authority.init(
        args.dir, args.did, status_list_url=args.status_list_url, alg=args.alg
    )
    print(f"authority {authority.did} in {authority.folder}")
    print(f"DID document  {did_document_url(authority.did)}")
    print(f"status list   {authority.status_list_url}")
    return 0


def cmd_issue_membership(args: argparse.Namespace) -> int:
    from connector.issuer import Authority

    token = Authority.open(args.dir).issue_membership(
        args.subject,
        args.legal_name,
        args.uscc,
        args.cluster,
        args.jurisdiction,
        args.organisation_type,
        valid_until=args.valid_until,
    )
    return _print_issued(token)


def cmd_issue_certification(args: argparse.Namespace) -> int:
    from connector.issuer import Authority

    token = Authority.open(args.dir).issue_certification(
        args.subject, args.kind, args.valid_until, reference=args.reference
    )
    return _print_issued(token)


def cmd_revoke(args: argparse.Namespace) -> int:
    from connector.issuer import Authority

    Authority.open(args.dir).revoke(args.credential_id)
    print(f"revoked {args.credential_id}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from connector.api.authority import build_authority_app
    from connector.config import Settings
    from connector.issuer import Authority
    from connector.tls import server_context

    authority = Authority.open(args.dir)
    tls = server_context(
        Settings(api_key="-", tls_cert_file=args.tls_cert or "", tls_key_file=args.tls_key or "")
    )
    scheme = "https" if tls else "http"
    print(f"serving {authority.did} on {scheme}://{args.host}:{args.port} (Ctrl-C to stop)")
    web.run_app(
        build_authority_app(authority),
        host=args.host,
        port=args.port,
        ssl_context=tls,
        print=None,
    )
    return 0


def _print_issued(token: str) -> int:
    from connector.identity.jose import decode_unverified

    print(token)
    print(f"issued {decode_unverified(token)[1]['id']}", file=sys.stderr)
    return 0
