"""The `karez` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from connector.config import DEFAULT_CONFIG_NAME, load_settings
from connector.errors import KarezError
from connector.issuer_cli import add_issuer_commands
from connector.policy_cli import add_policy_commands


def cmd_init(args: argparse.Namespace) -> int:
    from connector.setup_node import plan_node, write_config

    folder = Path(args.dir)
    config = folder / DEFAULT_CONFIG_NAME
    if config.exists() and not args.force:
        print(f"{config} exists (use --force to overwrite)", file=sys.stderr)
        return 1
    plan = plan_node(folder, args.name, participant_id=args.participant_id)
    write_config(plan, [])
    print(f"wrote {config} and a new key in {folder / 'keys'}")
    print(f"participant id  {plan.participant_id}")
    print(f"management API  {plan.management_url}  (X-Api-Key: {plan.api_key})")
    print(f"protocol (DSP)  {plan.protocol_url}")
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
        ns = argparse.Namespace(
            dir=str(config.parent), name="karez", participant_id=None, force=False
        )
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
        desc = dataspace.init_dataspace(folder, args.nodes, names)
        print(f"wrote {len(desc['nodes'])} node configurations and {folder / 'dataspace.json'}")
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="karez", description="Karez data-space connector")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="write a node configuration with fresh keys")
    init.add_argument("--dir", default=".", help="folder for karez.toml, keys and data")
    init.add_argument("--name", default="karez")
    init.add_argument("--participant-id", default=None)
    init.add_argument("--force", action="store_true")
    init.set_defaults(func=cmd_init)

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
