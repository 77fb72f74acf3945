"""The offline document loader: bundled contexts, operator extras, unknown URLs."""

from __future__ import annotations

import json

import pytest

from connector.errors import UnknownContext, ValidationFailure
from connector.jsonld.imports import inline_context
from connector.jsonld.loader import CONTEXTS_DIR, BundledLoader, bundled_index

REQUIRED_URLS = [
    "https://w3id.org/dspace/2025/1/context.jsonld",
    "https://w3id.org/dspace/2025/1/odrl-profile.jsonld",
    "https://w3id.org/dspace/2024/1/context.json",
    "https://w3id.org/edc/connector/management/v0.0.1",
    "https://w3id.org/edc/v0.0.1",
    "https://w3id.org/tractusx/auth/v1.0.0",
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/catenax/2025/9/policy/context.jsonld",
    "https://w3id.org/catenax/2025/9/policy/odrl.jsonld",
    "http://www.w3.org/ns/odrl.jsonld",
    "https://www.w3.org/ns/odrl.jsonld",
    "https://semiceu.github.io/DCAT-AP/releases/3.0.0/context/dcat-ap.jsonld",
    "https://semiceu.github.io/DCAT-AP/releases/3.0.1/context/dcat-ap.jsonld",
]


@pytest.mark.parametrize("url", REQUIRED_URLS)
def test_required_contexts_are_bundled(url: str) -> None:
    remote = BundledLoader()(url, {})
    assert remote["documentUrl"] == url
    assert remote["contextUrl"] is None
    assert isinstance(remote["document"]["@context"], dict)


def test_every_index_entry_is_a_file_with_a_source_note() -> None:
    sources = (CONTEXTS_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for name in set(bundled_index().values()):
        assert (CONTEXTS_DIR / name).is_file()
        assert f"`{name}`" in sources
        json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))


def test_unknown_url_raises_unknown_context_naming_it() -> None:
    with pytest.raises(UnknownContext) as err:
        BundledLoader()("https://example.com/ctx.jsonld", {})
    assert err.value.path == "@context"
    assert err.value.invalid_value == "https://example.com/ctx.jsonld"
    assert "https://example.com/ctx.jsonld" in err.value.message
    assert err.value.status == 400


def test_each_call_returns_a_private_copy() -> None:
    loader = BundledLoader()
    url = "http://www.w3.org/ns/odrl.jsonld"
    first = loader(url, {})["document"]
    first["@context"]["uid"] = None
    assert loader(url, {})["document"]["@context"]["uid"] == "@id"


def test_extra_contexts_are_served_and_checked_at_start(tmp_path) -> None:
    path = tmp_path / "ctx.jsonld"
    path.write_text(json.dumps({"@context": {"ex": "https://example.com/ns/"}}))
    loader = BundledLoader({"https://example.com/ctx": path})
    assert loader("https://example.com/ctx", {})["document"]["@context"]["ex"]
    assert "https://example.com/ctx" in loader.known_urls()
    with pytest.raises(ValueError, match="cannot be read"):
        BundledLoader({"https://example.com/missing": tmp_path / "missing.jsonld"})
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValueError, match="not a JSON object"):
        BundledLoader({"https://example.com/list": tmp_path / "list.json"})


def test_imports_are_merged_into_served_documents() -> None:
    management = BundledLoader().document("https://w3id.org/edc/connector/management/v0.0.1")
    scoped = management["@context"]["PolicyDefinition"]["@context"]
    assert "@import" not in scoped
    assert scoped["permission"]["@id"] == "odrl:permission"  # from the ODRL context
    assert scoped["uid"] is None and scoped["type"] is None  # the importer's own entries win
    dsp = BundledLoader().document("https://w3id.org/dspace/2025/1/context.jsonld")
    assert "@import" not in json.dumps(dsp)


def test_import_of_an_unknown_url_fails_in_the_loader() -> None:
    loader = BundledLoader()
    with pytest.raises(UnknownContext):
        inline_context({"@import": "https://example.com/other"}, loader.document)
    with pytest.raises(ValidationFailure, match="single context"):
        inline_context({"@import": "x"}, lambda url: {"@context": ["a", "b"]})
