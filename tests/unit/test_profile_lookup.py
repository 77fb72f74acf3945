"""connector.profile: finding the vocab folder, locating documents, SKOS helpers."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from rdflib import Graph

from connector import profile
from connector.domain import KAREZ_NS

NS = KAREZ_NS


def test_vocab_dir_is_the_checkout_folder_here() -> None:
    assert profile.vocab_dir() == Path(profile.__file__).resolve().parents[1] / "vocab"
    assert (profile.vocab_dir() / "index.json").is_file()


def test_vocab_dir_prefers_the_packaged_copy(tmp_path: Path) -> None:
    """The installed layout: connector/_vocab next to connector/profile.py (as in the wheel)."""
    package = tmp_path / "connector"
    package.mkdir()
    shutil.copy(profile.__file__, package / "profile.py")
    shutil.copytree(profile.vocab_dir(), package / "_vocab")
    spec = importlib.util.spec_from_file_location("karez_profile_copy", package / "profile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        assert module.vocab_dir() == package / "_vocab"
        assert module.document("skos/clusters.ttl")[1] == "text/turtle"
    finally:
        del sys.modules[spec.name]


@pytest.mark.parametrize(
    ("key", "file"),
    [
        (NS + "context.jsonld", "context.jsonld"),
        (NS + "skos/clusters.ttl", "skos/clusters.ttl"),
        ("skos/clusters.ttl", "skos/clusters.ttl"),
        ("/shapes/dataset.ttl", "shapes/dataset.ttl"),
        (NS + "compute", "karez.ttl"),
        (NS + "profile", "karez.ttl"),
        (NS, "karez.ttl"),
        (NS + "cluster/cotton", "skos/clusters.ttl"),
        (NS + "cluster10/logistics", "skos/clusters10.ttl"),
        (NS + "scheme/cluster", "skos/clusters.ttl"),
        (NS + "scheme/cluster10", "skos/clusters10.ttl"),
        (NS + "jurisdiction/CN-XJ", "skos/jurisdictions.ttl"),
        (NS + "purpose/research", "skos/purposes.ttl"),
        (NS + "level/important", "skos/levels.ttl"),
        (NS + "shapes/dataset.ttl#Dataset", "shapes/dataset.ttl"),
    ],
)
def test_locate(key: str, file: str) -> None:
    doc = profile.locate(key)
    assert doc is not None and doc.file == file


@pytest.mark.parametrize(
    "key",
    [NS + "nothing", NS + "cluster/unknown", "../pyproject.toml", "skos/../../pyproject.toml", ""],
)
def test_locate_unknown(key: str) -> None:
    assert profile.locate(key) is None
    assert profile.document(key) is None


def test_document_bytes_and_media_types() -> None:
    body, media = profile.document(NS + "context.jsonld") or (b"", "")
    assert media == "application/ld+json" and b'"@protected": true' in body
    body, media = profile.document(NS + "cluster/cotton-textiles") or (b"", "")
    assert media == "text/turtle" and "棉花和纺织服装".encode() in body
    assert Graph().parse(data=body, format="turtle")
    body, media = profile.document("index.json") or (b"", "")
    assert media == "application/json" and body.startswith(b"{")
    assert profile.document(profile.INDEX_IRI) == (body, media)


def test_concept_labels() -> None:
    assert profile.concept(NS + "cluster/cotton-textiles") == {
        "zh-Hans": "棉花和纺织服装",
        "en": "Cotton, textiles and garments",
    }
    assert profile.concept(NS + "level/core") == {"zh-Hans": "核心数据", "en": "Core data"}
    assert profile.concept(NS + "compute") is None  # an action, not a concept
    assert profile.concept("urn:nothing") is None


def test_broader_narrower_and_schemes() -> None:
    assert profile.broader(NS + "cluster/cotton") == {NS + "cluster/cotton-textiles"}
    assert profile.narrower(NS + "cluster/cotton-textiles") == {
        NS + "cluster/cotton",
        NS + "cluster/textiles",
        NS + "cluster/garments",
    }
    assert profile.broader(NS + "cluster/cotton-textiles") == frozenset()
    assert profile.schemes_of(NS + "cluster10/logistics") == {NS + "scheme/cluster10"}
    assert len(profile.concepts(NS + "scheme/cluster10")) == 10
    assert profile.concepts(NS + "scheme/level") == {
        NS + "level/core",
        NS + "level/important",
        NS + "level/general",
    }
    assert NS + "jurisdiction/KZ" in profile.concepts()


def test_mapped_includes_inverses() -> None:
    m = profile.mapped(NS + "cluster10/livestock-fruit-vegetables")
    assert m["narrowMatch"] >= {NS + "cluster/livestock", NS + "cluster/fruit-vegetables"}
    assert m["exactMatch"] == frozenset()
    assert profile.mapped(NS + "cluster/livestock")["broadMatch"] == {
        NS + "cluster10/livestock-fruit-vegetables"
    }
    assert profile.mapped(NS + "cluster/coal")["closeMatch"] == {NS + "cluster10/clean-coal"}
    assert profile.mapped(NS + "cluster10/power-system")["relatedMatch"] == {
        NS + "cluster/new-energy"
    }
    assert set(profile.mapped("urn:nothing")) == {
        "exactMatch",
        "closeMatch",
        "broadMatch",
        "narrowMatch",
        "relatedMatch",
    }


@pytest.mark.parametrize(
    ("concept", "ancestor", "expected"),
    [
        ("cluster/cotton", "cluster/cotton", True),
        ("cluster/cotton", "cluster/cotton-textiles", True),
        ("cluster/cotton-textiles", "cluster/cotton", False),
        # across the schemes, both ways where the cluster is unchanged
        ("cluster/cotton", "cluster10/cotton-textiles", True),
        ("cluster10/cotton-textiles", "cluster/cotton-textiles", True),
        ("cluster10/cotton-textiles", "cluster/cotton", False),
        # merged: each old cluster is within the new one, not the reverse
        ("cluster/livestock", "cluster10/livestock-fruit-vegetables", True),
        ("cluster/fruit", "cluster10/livestock-fruit-vegetables", True),
        ("cluster10/livestock-fruit-vegetables", "cluster/livestock", False),
        ("cluster/livestock", "cluster/fruit-vegetables", False),
        # renamed (closeMatch): both ways
        ("cluster10/clean-coal", "cluster/coal", True),
        ("cluster/coal-power", "cluster10/clean-coal", True),
        # widened (broadMatch): old within new only
        ("cluster/green-mining", "cluster10/green-mining", True),
        ("cluster10/green-mining", "cluster/green-mining", False),
        ("cluster/edible-oil", "cluster10/grain-food", True),
        # relatedMatch is never followed
        ("cluster/new-energy", "cluster10/power-system", False),
        ("cluster10/power-system", "cluster/new-energy", False),
        ("cluster10/logistics", "cluster/oil-gas", False),
        # jurisdictions
        ("jurisdiction/xinjiang-ftz-kashgar", "jurisdiction/CN", True),
        ("jurisdiction/xinjiang-ftz-horgos", "jurisdiction/CN-XJ", True),
        ("jurisdiction/CN-XJ", "jurisdiction/xinjiang-ftz", False),
        ("jurisdiction/KZ", "jurisdiction/central-asia", True),
        ("jurisdiction/KZ", "jurisdiction/CN", False),
        # purposes and PI
        ("purpose/public-welfare", "purpose/public-interest", True),
        ("purpose/research", "purpose/commercial", False),
        ("pi/minor-under-14", "pi/personal", True),
        ("pi/personal", "pi/sensitive", False),
    ],
)
def test_is_within(concept: str, ancestor: str, expected: bool) -> None:
    assert profile.is_within(NS + concept, NS + ancestor) is expected


def test_is_within_unknown_iris() -> None:
    assert profile.is_within("urn:a", "urn:a")
    assert not profile.is_within("urn:a", NS + "jurisdiction/CN")
    assert not profile.is_within(NS + "jurisdiction/CN", "urn:a")


def test_rank() -> None:
    assert profile.rank(NS + "level/core") == 3
    assert profile.rank(NS + "level/important") == 2
    assert profile.rank(NS + "level/general") == 1
    assert profile.rank(NS + "cluster/coal") is None


def test_graph_merges_all_turtle_and_is_cached() -> None:
    g = profile.graph()
    assert g is profile.graph()
    files = [d.file for d in profile.documents().values() if d.media_type == "text/turtle"]
    total = sum(len(Graph().parse(profile.vocab_dir() / f)) for f in files)
    assert len(g) == total  # no file repeats another's triples


def test_preload_parses_everything() -> None:
    profile.preload()
    assert profile.graph() is profile.graph()
    assert profile.shapes_graph() is profile.shapes_graph()


def test_context_prefixes_and_terms() -> None:
    prefixes = profile.context_prefixes()
    assert prefixes["karez"] == NS
    assert prefixes["cluster"] == NS + "cluster/"
    assert prefixes["purposes"] == NS + "purpose/"
    assert prefixes["cert"] == NS + "certification/"
    terms = profile.context_terms()
    assert terms["compute"] == NS + "compute"
    assert terms["clusterMembership"] == NS + "clusterMembership"
    assert terms["certification"] == NS + "certification"
    assert "anonymize" not in terms and "cluster" not in terms
