"""``karez dataplane``: run a separate data plane, or set one up for a control plane.

    karez dataplane init --dir DIR --control-plane path/to/karez.toml [--name dp1]
    karez dataplane run --config DIR/dataplane.toml

``init`` writes ``DIR/dataplane.toml`` (free ports, a fresh shared key, the control plane's id,
public key and control API) and registers the data plane in the control plane's
configuration (``dataplane_url``, ``dataplane_public_url``, ``dataplane_key``, a free
``control_port``); restart the control plane to use it.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tomllib
from pathlib import Path
from typing import Any

from connector.config import _toml_value, load_settings, set_config_values

DATAPLANE_FILE = "dataplane.toml"


def add_dataplane_commands(subparsers: Any) -> None:
    dp = subparsers.add_parser("dataplane", help="a data plane in its own process")
    sub = dp.add_subparsers(dest="dataplane_command", required=True)
    init = sub.add_parser(
        "init",
        help="write a data plane configuration for a control plane (again: serve one more)",
    )
    init.add_argument("--dir", required=True)
    init.add_argument("--control-plane", required=True, help="the control plane's karez.toml")
    init.add_argument("--name", default="dataplane")
    init.set_defaults(func=cmd_init)
    run = sub.add_parser("run", help="run a data plane")
    run.add_argument("--config", default=DATAPLANE_FILE)
    run.set_defaults(func=cmd_run)


def cmd_init(args: argparse.Namespace) -> int:
    from connector.identity.keyring import KeyRing
    from connector.identity.keys import public_jwk
    from connector.setup_node import free_ports

    cp_config = Path(args.control_plane)
    cp = load_settings(cp_config, env={})
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / DATAPLANE_FILE
    existing = tomllib.loads(target.read_text(encoding="utf-8")) if target.exists() else None
    if existing is not None and any(
        plane.get("id") == cp.participant_id for plane in existing.get("control_planes", [])
    ):
        print(f"{target} already serves {cp.participant_id}")
        return 1
    public_port, signaling_port, control_port = free_ports(3)
    if existing is not None:  # one more control plane for a data plane already set up
        public_port, signaling_port = existing["public_port"], existing["signaling_port"]
    key = secrets.token_urlsafe(32)
    jwk = public_jwk(KeyRing.load(cp.resolve(cp.key_file)).current)
    scheme = cp.scheme
    control_url = f"{scheme}://{cp.public_host}:{control_port}/control/v1"
    if existing is None:
        lines = [
            "# A separate Karez data plane (written by `karez dataplane init`).",
            f"name = {_toml_value(args.name)}",
            f"host = {_toml_value(cp.host)}",
            f"public_host = {_toml_value(cp.public_host)}",
            f"public_port = {public_port}",
            f"signaling_port = {signaling_port}",
        ]
        for name in ("tls_cert_file", "tls_key_file", "tls_ca_file"):
            value = getattr(cp, name)
            if value:
                lines.append(f"{name} = {_toml_value(str(cp.resolve(value)))}")
    else:
        lines = [target.read_text(encoding="utf-8").rstrip("\n")]
    lines += [
        "",
        "[[control_planes]]",
        f"id = {_toml_value(cp.participant_id)}",
        f"control_url = {_toml_value(control_url)}",
        f"key = {_toml_value(key)}",
        f"public_jwk = {_toml_value(jwk)}",
    ]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target.chmod(0o600)
    host = f"{scheme}://{cp.public_host}"
    set_config_values(
        cp_config,
        dataplane_url=f"{host}:{signaling_port}/signaling/v1",
        dataplane_public_url=f"{host}:{public_port}/public",
        dataplane_key=key,
        control_port=control_port,
    )
    print(f"wrote {target}; registered it in {cp_config} (restart both to use it)")
    print(f"public API      {host}:{public_port}/public")
    print(f"signaling API   {host}:{signaling_port}/signaling/v1")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from connector.dataplane_config import load_dataplane_settings
    from connector.dataplane_node import run_dataplane
    from connector.logs import setup_logging

    settings = load_dataplane_settings(args.config)
    setup_logging(settings.log_format, settings.log_level, settings.name)
    asyncio.run(run_dataplane(settings))
    return 0
