"""The `karez` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from connector.config import DEFAULT_CONFIG_NAME, load_settings
from connector.dataplane_cli import add_dataplane_commands
from connector.errors import KarezError
from connector.issuer_cli import add_issuer_commands
from connector.policy_cli import add_policy_commands
from connector.tls_cli import add_tls_commands


def cmd_init(args: argparse.Namespace) -> int:
    from connector.config import TrustAnchor
    from connector.identity.did import did_web_to_url
    from connector.node_identity import LOOPBACK_HOSTS
    from connector.setup_node import AUTHORITY_TYPES, DEFAULT_PORTS, plan_node, write_config

    folder = Path(args.dir)
    config = folder / DEFAULT_CONFIG_NAME
    if config.exists() and not args.force:
        print(f"{config} exists (use --force to overwrite)", file=sys.stderr)
        return 1
    # the ports and host this node will use (KAREZ_* overrides apply), since its DID names them
    ports = {k: int(os.environ.get(f"KAREZ_{k.upper()}", v)) for k, v in DEFAULT_PORTS.items()}
    host = os.environ.get("KAREZ_PUBLIC_HOST", "127.0.0.1")
    plan = plan_node(
        folder,
        args.name,
        ports,
        participant_id=args.participant_id,
        identity=args.identity,
        alg=args.alg,
        host=host,
    )
    anchors = [TrustAnchor(did, list(AUTHORITY_TYPES)) for did in args.trust_anchor]
    write_config(plan, [], anchors)
    print(f"wrote {config} and a new key in {folder / 'keys'}")
    print(f"participant id  {plan.participant_id}")
    print(f"management API  {plan.management_url}  (X-Api-Key: {plan.api_key})")
    print(f"protocol (DSP)  {plan.protocol_url}")
    if args.identity == "dcp":
        print(f"DID document    {did_web_to_url(plan.participant_id, LOOPBACK_HOSTS)}")
        print(
            f"credentials     put the authority's credentials (*.jwt) in {plan.credentials_folder}"
        )
        if not anchors:
            print("trust anchors   none yet: add [[trust_anchors]] (or --trust-anchor DID)")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from connector.identity.keyring import rotate

    settings = load_settings(args.config)
    old, new = rotate(settings.resolve(settings.key_file), args.alg)
    print(f"new signing key #{new}; #{old} stays in the DID document for verification")
    print("restart the node to publish and use it")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from connector.logs import setup_logging
    from connector.node import run_node

    config = Path(args.config)
    if not config.exists():
        if not args.init:
            print(
                f"{config} not found: run `karez init` first (or `karez run --init`)",
                file=sys.stderr,
            )
            return 1
        ns = init_parser().parse_args(["--dir", str(config.parent)])
        cmd_init(ns)
    settings = load_settings(config)
    setup_logging(settings.log_format, settings.log_level, settings.name)
    asyncio.run(run_node(settings))
    return 0


def cmd_dataspace(args: argparse.Namespace) -> int:
    from connector import dataspace

    folder = Path(args.dir)
    if args.action == "init":
        names = args.names.split(",") if args.names else None
        desc = dataspace.init_dataspace(
            folder, args.nodes, names, identity=args.identity, tls=args.tls
        )
        print(f"wrote {len(desc['nodes'])} node configurations and {folder / 'dataspace.json'}")
        if "authority" in desc:
            authority = desc["authority"]
            print(f"  {'authority':<10} {authority['did']}  (issued each node a membership)")
        for node in desc["nodes"]:
            print(f"  {node['name']:<10} {node['participantId']}  {node['managementUrl']}")
    elif args.action == "up":
        dataspace.up(folder)
    elif args.action == "token":
        print(dataspace.protocol_token(folder, args.sender, args.receiver, args.ttl))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from connector.demo import run_demo

    return 0 if run_demo(keep=args.keep) else 1


def _init_arguments(init: argparse.ArgumentParser) -> None:
    init.add_argument("--dir", default=".", help="folder for karez.toml, keys and data")
    init.add_argument("--name", default="karez")
    init.add_argument(
        "--participant-id", default=None, help="default: did:web:<host>%%3A<protocol port>"
    )
    init.add_argument("--identity", choices=("dcp", "keys"), default="dcp")
    init.add_argument("--alg", choices=("EdDSA", "ES256"), default="EdDSA", help="key type")
    init.add_argument(
        "--trust-anchor",
        action="append",
        default=[],
        metavar="DID",
        help="an authority trusted to issue membership and certification credentials",
    )
    init.add_argument("--force", action="store_true")


def init_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="karez init")
    _init_arguments(p)
    return p


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="karez", description="Karez data-space connector")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="write a node configuration with fresh keys")
    _init_arguments(init)
    init.set_defaults(func=cmd_init)

    keys = sub.add_parser("keys", help="the node's signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="new signing key; the old one stays listed")
    rotate.add_argument("--config", default=DEFAULT_CONFIG_NAME)
    rotate.add_argument("--alg", choices=("EdDSA", "ES256"), default="EdDSA")
    rotate.set_defaults(func=cmd_keys_rotate)

    run = sub.add_parser("run", help="run a node")
    run.add_argument("--config", default=DEFAULT_CONFIG_NAME)
    run.add_argument("--init", action="store_true", help="write a configuration first if none")
    run.set_defaults(func=cmd_run)

    ds = sub.add_parser("dataspace", help="a local data space of several nodes")
    ds_sub = ds.add_subparsers(dest="action", required=True)
    ds_init = ds_sub.add_parser("init", help="write N node configurations and dataspace.json")
    ds_init.add_argument("dir")
    ds_init.add_argument("--nodes", type=int, default=2)
    ds_init.add_argument("--names", default=None, help="comma-separated node names")
    ds_init.add_argument(
        "--identity",
        choices=("dcp", "keys"),
        default="dcp",
        help="dcp: an authority issues credentials (default); keys: a configured key list",
    )
    ds_init.add_argument(
        "--tls", action="store_true", help="serve HTTPS with certificates from a private CA"
    )
    ds_up = ds_sub.add_parser("up", help="run every node until Ctrl-C or SIGTERM")
    ds_up.add_argument("dir")
    ds_token = ds_sub.add_parser("token", help="an Authorization value B accepts from A")
    ds_token.add_argument("dir")
    ds_token.add_argument("--from", dest="sender", required=True)
    ds_token.add_argument("--to", dest="receiver", required=True)
    ds_token.add_argument("--ttl", type=int, default=300)
    ds.set_defaults(func=cmd_dataspace)

    demo = sub.add_parser("demo", help="walk through catalog, negotiation, transfer, download")
    demo.add_argument("--keep", action="store_true", help="keep the temporary folder")
    demo.set_defaults(func=cmd_demo)

    add_policy_commands(sub)
    add_issuer_commands(sub)
    add_dataplane_commands(sub)
    add_tls_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (KarezError, FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.message if isinstance(exc, KarezError) else str(exc)
        print(f"karez: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
