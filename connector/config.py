"""One settings object: a TOML file plus ``KAREZ_*`` environment variables.

Every top-level field of :class:`Settings` can be overridden by ``KAREZ_<FIELD>`` (upper
case), e.g. ``KAREZ_MANAGEMENT_PORT=9181``. Relative paths in the file are resolved against
the file's folder.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from connector.errors import ValidationFailure

DEFAULT_CONFIG_NAME = "karez.toml"


@dataclass
class TrustedPeer:
    """A participant whose protocol requests this node accepts (until DCP lands)."""

    participant_id: str
    keys: list[dict[str, Any]]  # public JWKs
    protocol_url: str | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)  # profile claims (clusters, ...)


@dataclass
class Settings:
    name: str = "karez"
    participant_id: str = "urn:karez:participant:karez"
    host: str = "127.0.0.1"  # bind address of every port
    public_host: str = "127.0.0.1"  # host name peers use to reach this node
    management_port: int = 8181
    protocol_port: int = 8282
    public_port: int = 8185
    observability_port: int = 8080
    management_path: str = "/management"
    protocol_path: str = "/protocol"
    public_path: str = "/public"
    api_key: str = ""
    data_dir: str = "karez-data"
    store_url: str = ""  # default: sqlite file in data_dir
    key_file: str = "keys/node.pem"
    approval: str = "auto"  # "auto" or "manual": the default for negotiations and transfers
    asset_validation: str = "profile"  # SHACL on assets: "profile", "always" or "off"
    max_body_bytes: int = 1024 * 1024
    edr_ttl_s: int = 600
    protocol_token_ttl_s: int = 60
    outbox_max_attempts: int = 8
    outbox_base_delay_ms: int = 200
    outbox_max_delay_ms: int = 30_000
    peer_timeout_s: float = 10.0
    log_format: str = "auto"  # "json", "text" or "auto" (text on a terminal)
    log_level: str = "INFO"
    extra_contexts: dict[str, str] = field(default_factory=dict)  # JSON-LD URL -> file path
    trusted: list[TrustedPeer] = field(default_factory=list)
    config_dir: str = "."

    # --- derived addresses -------------------------------------------------------------
    @property
    def protocol_url(self) -> str:
        """The DSP base a peer uses as ``counterPartyAddress``."""
        return f"http://{self.public_host}:{self.protocol_port}{self.protocol_path}"

    @property
    def management_url(self) -> str:
        return f"http://{self.public_host}:{self.management_port}{self.management_path}"

    @property
    def public_url(self) -> str:
        return f"http://{self.public_host}:{self.public_port}{self.public_path}"

    @property
    def health_url(self) -> str:
        return f"http://{self.public_host}:{self.observability_port}/check/health"

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.config_dir) / p

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)

    @property
    def effective_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.data_path / 'karez.db'}"


_SCALARS = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, str):
            if not isinstance(value, str | int | float):
                raise TypeError
            return str(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailure(
            f"configuration field {name!r} has an invalid value", path=name
        ) from exc
    return value


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the TOML file (if given) and apply ``KAREZ_*`` overrides."""
    env = dict(os.environ) if env is None else env
    data: dict[str, Any] = {}
    config_dir = Path(".")
    if path is not None:
        p = Path(path)
        with p.open("rb") as fh:
            data = tomllib.load(fh)
        config_dir = p.resolve().parent
    defaults = Settings()
    kwargs: dict[str, Any] = {"config_dir": str(config_dir)}
    for f in fields(Settings):
        if f.name in ("trusted", "extra_contexts", "config_dir"):
            continue
        if f.name in data:
            kwargs[f.name] = _coerce(f.name, data[f.name], getattr(defaults, f.name))
        env_value = env.get(f"KAREZ_{f.name.upper()}")
        if env_value is not None:
            kwargs[f.name] = _coerce(f.name, env_value, getattr(defaults, f.name))
    contexts = data.get("extra_contexts", {})
    if not isinstance(contexts, dict):
        raise ValidationFailure(
            "extra_contexts must be a table of URL = file", path="extra_contexts"
        )
    kwargs["extra_contexts"] = {
        str(url): str((config_dir / str(file)).resolve()) for url, file in contexts.items()
    }
    trusted = []
    for i, peer in enumerate(data.get("trusted", [])):
        if not isinstance(peer, dict) or "participant_id" not in peer or "keys" not in peer:
            raise ValidationFailure(
                "each [[trusted]] entry needs participant_id and keys", path=f"trusted[{i}]"
            )
        trusted.append(
            TrustedPeer(
                participant_id=str(peer["participant_id"]),
                keys=list(peer["keys"]),
                protocol_url=peer.get("protocol_url"),
                name=peer.get("name"),
                claims=dict(peer.get("claims", {})),
            )
        )
    kwargs["trusted"] = trusted
    settings = Settings(**kwargs)
    if settings.approval not in ("auto", "manual"):
        raise ValidationFailure("approval must be 'auto' or 'manual'", path="approval")
    if not settings.api_key:
        raise ValidationFailure(
            "api_key is empty: the Management API needs a key (run `karez init`)", path="api_key"
        )
    return settings


def new_api_key() -> str:
    return secrets.token_urlsafe(32)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def dump_settings(values: dict[str, Any], trusted: list[TrustedPeer]) -> str:
    """Write a TOML document for ``values`` (top-level fields) and the trusted peers."""
    lines = ["# Karez node configuration (written by `karez init`).", ""]
    for key, value in values.items():
        if key in _SCALARS:
            lines.append(f"{key} = {_toml_value(value)}")
    for peer in trusted:
        lines += ["", "[[trusted]]", f"participant_id = {_toml_value(peer.participant_id)}"]
        if peer.name:
            lines.append(f"name = {_toml_value(peer.name)}")
        if peer.protocol_url:
            lines.append(f"protocol_url = {_toml_value(peer.protocol_url)}")
        lines.append(f"keys = {_toml_value(peer.keys)}")
        if peer.claims:
            lines.append(f"claims = {_toml_value(peer.claims)}")
    return "\n".join(lines) + "\n"
