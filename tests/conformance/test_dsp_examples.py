"""The official DSP 2025-1 examples against our bundled schemas, validator and parser.

Reads the reference data in ``../shared/dsp/2025-1`` (next to the repository).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ValidationFailure
from connector.protocol import messages, validation

DSP = Path(__file__).parents[2].parent / "shared" / "dsp" / "2025-1"
EXAMPLES = DSP / "examples"

pytestmark = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"DSP 2025-1 reference data not found at {DSP}"
)

# Examples without a DSP @type, by file name.
UNTYPED = {
    "protocol-version.json": "VersionResponse",
    "catalogservice-did-service.json": "DidService",
    "dataservice-did-service.json": "DidService",
}
# Documented upstream defect: the schema wants serviceEndpoint to end in "/catalog".
BROKEN = {"dataservice-did-service.json": "serviceEndpoint"}


def _examples() -> list[Path]:
    return sorted(EXAMPLES.rglob("*.json")) if EXAMPLES.is_dir() else []


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _type_of(path: Path, body: dict[str, Any]) -> str:
    return UNTYPED.get(path.name) or body["@type"]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_examples() -> None:
    assert len(_examples()) >= 25


@pytest.mark.parametrize("path", _examples(), ids=_id)
def test_example_validates(path: Path) -> None:
    body = _load(path)
    message_type = _type_of(path, body)
    if path.name in BROKEN:
        with pytest.raises(ValidationFailure) as caught:
            validation.validate(message_type, body)
        assert caught.value.path == BROKEN[path.name]
        assert not validation.validator_for(message_type).is_valid(body)
        return
    validation.validate(message_type, body)
    assert validation.validator_for(message_type).is_valid(body)  # jsonschema agrees


@pytest.mark.parametrize(
    "path",
    [p for p in _examples() if p.name not in UNTYPED or p.name == "protocol-version.json"],
    ids=_id,
)
def test_parse_accepts_every_message_example(path: Path) -> None:
    body = _load(path)
    message_type = _type_of(path, body)
    assert messages.parse(message_type, body) == body


def test_bundled_schemas_are_the_official_ones() -> None:
    official = {p.relative_to(DSP / "schemas"): p for p in (DSP / "schemas").rglob("*.json")}
    bundled = {
        p.relative_to(validation.SCHEMA_DIR): p for p in validation.SCHEMA_DIR.rglob("*.json")
    }
    assert official.keys() == bundled.keys()
    for relative, path in official.items():
        assert bundled[relative].read_bytes() == path.read_bytes(), relative


def test_every_schema_is_reachable_by_a_type() -> None:
    documents = validation._documents()
    used = {validation.SCHEMA_BASE + file for file, _ in validation._SCHEMAS.values()}
    # context-schema and transfer-schema are only referenced from other schemas.
    helpers = {"common/context-schema.json", "transfer/transfer-schema.json"}
    assert set(documents) - used == {validation.SCHEMA_BASE + h for h in helpers}
