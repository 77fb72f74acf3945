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
    """A known participant: its address and name (both modes), and in ``identity = "keys"``
    mode the keys its protocol tokens are checked against and the claims it is granted."""

    participant_id: str
    keys: list[dict[str, Any]] = field(default_factory=list)  # public JWKs ("keys" mode)
    protocol_url: str | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)  # profile claims (clusters, ...)


@dataclass
class TrustAnchor:
    """An issuer DID trusted to issue the listed credential types."""

    issuer: str
    credential_types: list[str]


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
    inbox_max_bytes: int = 100 * 1024**3  # the most one pushed body may write (bytes)
    public_max_request_bytes: int = 10 * 1024**2  # request bodies through the public API
    # --- a separate data plane (``karez dataplane``); empty: the embedded one serves pulls
    dataplane_url: str = ""  # its signaling API, e.g. http://127.0.0.1:8190/signaling/v1
    dataplane_public_url: str = ""  # where consumers pull from it
    dataplane_key: str = ""  # shared secret: signaling calls and its calls to the control API
    control_port: int = 8183  # the control API the data plane asks (only with dataplane_url)
    dataplane_resignal_s: float = 15.0  # how often STARTED pushes lost by the data plane resume
    protocol_token_ttl_s: int = 60
    outbox_max_attempts: int = 8
    outbox_base_delay_ms: int = 200
    outbox_max_delay_ms: int = 30_000
    peer_timeout_s: float = 10.0
    log_format: str = "auto"  # "json", "text" or "auto" (text on a terminal)
    log_level: str = "INFO"
    extra_contexts: dict[str, str] = field(default_factory=dict)  # JSON-LD URL -> file path
    trusted: list[TrustedPeer] = field(default_factory=list)
    # --- identity (DCP) ----------------------------------------------------------------
    identity: str = "dcp"  # "dcp" (DIDs + verifiable credentials) or "keys" (configured keys)
    credentials_dir: str = "credentials"  # the node's own credentials (*.jwt), its wallet
    required_credentials: list[str] = field(default_factory=lambda: ["KarezMembershipCredential"])
    # queried too, and their claims used when presented, but not required
    optional_credentials: list[str] = field(
        default_factory=lambda: ["KarezCertificationCredential"]
    )
    trust_anchors: list[TrustAnchor] = field(default_factory=list)
    # hosts whose DIDs resolve over plain HTTP (loopback only; any other host needs HTTPS)
    did_http_hosts: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost", "[::1]"])
    did_cache_ttl_s: float = 300.0
    status_list_cache_ttl_s: float = 300.0
    # reuse a peer's verified claims this long instead of querying its presentation on every
    # request (0, the default: every request); revocation then takes up to this much longer
    dcp_claims_ttl_s: float = 0.0
    # --- TLS -------------------------------------------------------------------------
    tls_cert_file: str = ""  # PEM certificate chain; with tls_key_file, every port serves HTTPS
    tls_key_file: str = ""
    tls_ca_file: str = ""  # extra CA certificates trusted for outgoing requests
    # --- Management API authentication -----------------------------------------------
    management_auth: str = "api_key"  # "api_key", "oauth2" or "api_key+oauth2"
    oauth2_issuer: str = ""  # expected "iss" of bearer tokens
    oauth2_audience: str = ""  # expected "aud" (default: none checked)
    oauth2_jwks_file: str = ""  # the issuer's public keys (a JWKS file)
    oauth2_jwks_url: str = ""  # or where the issuer publishes them (https; http on loopback)
    oauth2_jwks_refresh_s: float = 600.0  # how often keys from oauth2_jwks_url are refetched
    oauth2_read_scope: str = "management:read"
    oauth2_write_scope: str = "management:write"
    config_dir: str = "."

    # --- derived addresses -------------------------------------------------------------
    @property
    def tls(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def _url(self, port: int, path: str = "") -> str:
        return f"{self.scheme}://{self.public_host}:{port}{path}"

    @property
    def protocol_root(self) -> str:
        """The protocol port's root (version discovery, the DID document)."""
        return self._url(self.protocol_port)

    @property
    def protocol_url(self) -> str:
        """The DSP base a peer uses as ``counterPartyAddress``."""
        return self._url(self.protocol_port, self.protocol_path)

    @property
    def management_url(self) -> str:
        return self._url(self.management_port, self.management_path)

    @property
    def public_url(self) -> str:
        return self._url(self.public_port, self.public_path)

    @property
    def health_url(self) -> str:
        return self._url(self.observability_port, "/check/health")

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
_LISTS = ("required_credentials", "optional_credentials", "did_http_hosts")
MANAGEMENT_AUTH_MODES = ("api_key", "oauth2", "api_key+oauth2")


def _string_list(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailure(
            f"configuration field {name!r} must be a list of strings", path=name
        )
    return list(value)


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValidationFailure(f"{name} must be one of {', '.join(choices)}", path=name)


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


#: Durations that may be 0 (meaning: off); every other ``*_s`` field must be more than 0.
_MAY_BE_ZERO = ("dcp_claims_ttl_s",)


def _check_durations(settings: Settings) -> None:
    """Every ``*_s`` field is a number of seconds: positive, or 0 where 0 means off."""
    for f in fields(Settings):
        if not f.name.endswith("_s"):
            continue
        value = getattr(settings, f.name)
        if f.name in _MAY_BE_ZERO:
            if value < 0:
                raise ValidationFailure(f"{f.name} must be at least 0 seconds", path=f.name)
        elif value <= 0:
            raise ValidationFailure(f"{f.name} must be more than 0 seconds", path=f.name)


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
        if f.name in ("trusted", "extra_contexts", "config_dir", "trust_anchors"):
            continue
        if f.name in _LISTS:
            if f.name in data:
                kwargs[f.name] = _string_list(f.name, data[f.name])
            env_value = env.get(f"KAREZ_{f.name.upper()}")
            if env_value is not None:
                kwargs[f.name] = [v.strip() for v in env_value.split(",") if v.strip()]
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
        if not isinstance(peer, dict) or "participant_id" not in peer:
            raise ValidationFailure(
                "each [[trusted]] entry needs participant_id", path=f"trusted[{i}]"
            )
        trusted.append(
            TrustedPeer(
                participant_id=str(peer["participant_id"]),
                keys=list(peer.get("keys", [])),
                protocol_url=peer.get("protocol_url"),
                name=peer.get("name"),
                claims=dict(peer.get("claims", {})),
            )
        )
    kwargs["trusted"] = trusted
    anchors = []
    for i, anchor in enumerate(data.get("trust_anchors", [])):
        if not isinstance(anchor, dict) or not isinstance(anchor.get("issuer"), str):
            raise ValidationFailure(
                "each [[trust_anchors]] entry needs issuer and credential_types",
                path=f"trust_anchors[{i}]",
            )
        types = _string_list(f"trust_anchors[{i}].credential_types", anchor.get("credential_types"))
        anchors.append(TrustAnchor(anchor["issuer"], types))
    kwargs["trust_anchors"] = anchors
    settings = Settings(**kwargs)
    _check_durations(settings)
    _check_choice(settings.approval, ("auto", "manual"), "approval")
    _check_choice(settings.identity, ("dcp", "keys"), "identity")
    _check_choice(settings.management_auth, MANAGEMENT_AUTH_MODES, "management_auth")
    if settings.dataplane_url and not (settings.dataplane_public_url and settings.dataplane_key):
        raise ValidationFailure(
            "dataplane_url needs dataplane_public_url and dataplane_key", path="dataplane_url"
        )
    if bool(settings.tls_cert_file) != bool(settings.tls_key_file):
        raise ValidationFailure("tls_cert_file and tls_key_file go together", path="tls_cert_file")
    if "oauth2" in settings.management_auth and not (
        settings.oauth2_issuer and (settings.oauth2_jwks_file or settings.oauth2_jwks_url)
    ):
        raise ValidationFailure(
            "management_auth with oauth2 needs oauth2_issuer and"
            " oauth2_jwks_file or oauth2_jwks_url",
            path="oauth2_issuer",
        )
    if not settings.api_key and "api_key" in settings.management_auth:
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


def pop_tables(data: dict[str, Any]) -> tuple[list[TrustedPeer], list[TrustAnchor]]:
    """Take the ``[[trusted]]`` and ``[[trust_anchors]]`` tables out of a parsed TOML file
    (to write it again with :func:`dump_settings`)."""
    trusted = [
        TrustedPeer(
            p["participant_id"],
            p.get("keys", []),
            p.get("protocol_url"),
            p.get("name"),
            dict(p.get("claims", {})),
        )  # fmt: skip
        for p in data.pop("trusted", [])
    ]
    anchors = [
        TrustAnchor(a["issuer"], list(a["credential_types"])) for a in data.pop("trust_anchors", [])
    ]
    return trusted, anchors


def dump_settings(
    values: dict[str, Any],
    trusted: list[TrustedPeer],
    anchors: list[TrustAnchor] | None = None,
) -> str:
    """Write a TOML document for ``values`` (top-level fields), trust anchors and peers."""
    lines = ["# Karez node configuration (written by `karez init`).", ""]
    for key, value in values.items():
        if key in _SCALARS and key not in ("trusted", "trust_anchors"):
            lines.append(f"{key} = {_toml_value(value)}")
    for anchor in anchors or []:
        lines += [
            "",
            "[[trust_anchors]]",
            f"issuer = {_toml_value(anchor.issuer)}",
            f"credential_types = {_toml_value(anchor.credential_types)}",
        ]
    for peer in trusted:
        lines += ["", "[[trusted]]", f"participant_id = {_toml_value(peer.participant_id)}"]
        if peer.name:
            lines.append(f"name = {_toml_value(peer.name)}")
        if peer.protocol_url:
            lines.append(f"protocol_url = {_toml_value(peer.protocol_url)}")
        if peer.keys:
            lines.append(f"keys = {_toml_value(peer.keys)}")
        if peer.claims:
            lines.append(f"claims = {_toml_value(peer.claims)}")
    return "\n".join(lines) + "\n"


def set_config_values(path: str | Path, **values: Any) -> None:
    """Set top-level fields of a node's TOML file, keeping its tables (and mode 0600)."""
    file = Path(path)
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    trusted, anchors = pop_tables(data)
    data.update(values)
    file.write_text(dump_settings(data, trusted, anchors), encoding="utf-8")
    file.chmod(0o600)
