"""Settings of a separate data plane (``karez dataplane``): a TOML file.

```toml
name = "dataplane-1"
host = "127.0.0.1"          # bind address
public_host = "127.0.0.1"   # the host consumers use
public_port = 8186          # the public API consumers pull from
public_path = "/public"
signaling_port = 8190       # the signaling API control planes call (and /check/health)

[[control_planes]]
id = "did:web:provider.example"                       # signs the tokens it serves
control_url = "https://provider.example:8183/control/v1"
key = "..."                                            # shared with that control plane
public_jwk = { kty = "OKP", crv = "Ed25519", x = "..." }
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.dataplane.remote import ControlPlane
from connector.errors import ValidationFailure

DEFAULT_NAME = "dataplane.toml"


@dataclass
class DataPlaneSettings:
    name: str = "dataplane"
    host: str = "127.0.0.1"
    public_host: str = "127.0.0.1"
    public_port: int = 8186
    public_path: str = "/public"
    signaling_port: int = 8190
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_ca_file: str = ""
    log_format: str = "auto"
    log_level: str = "INFO"
    control_planes: list[ControlPlane] = field(default_factory=list)
    public_jwks: dict[str, dict[str, Any]] = field(default_factory=dict)  # plane id -> JWK
    config_dir: str = "."

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def public_url(self) -> str:
        return f"{self.scheme}://{self.public_host}:{self.public_port}{self.public_path}"

    @property
    def signaling_url(self) -> str:
        return f"{self.scheme}://{self.public_host}:{self.signaling_port}/signaling/v1"

    @property
    def health_url(self) -> str:
        return f"{self.scheme}://{self.public_host}:{self.signaling_port}/check/health"

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.config_dir) / p


_PLAIN = ("name", "host", "public_host", "public_path", "tls_cert_file", "tls_key_file",
          "tls_ca_file", "log_format", "log_level")  # fmt: skip


def load_dataplane_settings(path: str | Path) -> DataPlaneSettings:
    file = Path(path)
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    settings = DataPlaneSettings(config_dir=str(file.resolve().parent))
    for name in _PLAIN:
        if name in data:
            setattr(settings, name, str(data[name]))
    for name in ("public_port", "signaling_port"):
        if name in data:
            try:
                setattr(settings, name, int(data[name]))
            except (TypeError, ValueError):
                raise ValidationFailure(f"{name} must be a port number", path=name) from None
    for i, plane in enumerate(data.get("control_planes", [])):
        where = f"control_planes[{i}]"
        fields = ("id", "control_url", "key", "public_jwk")
        if not isinstance(plane, dict) or any(f not in plane for f in fields):
            raise ValidationFailure(f"{where} needs {', '.join(fields)}", path=where)
        settings.control_planes.append(
            ControlPlane(str(plane["id"]), str(plane["control_url"]), str(plane["key"]))
        )
        settings.public_jwks[str(plane["id"])] = dict(plane["public_jwk"])
    if not settings.control_planes:
        raise ValidationFailure("a data plane needs at least one [[control_planes]] entry")
    return settings
