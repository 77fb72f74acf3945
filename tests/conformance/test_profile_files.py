"""The Karez profile files in vocab/: index, Turtle, SKOS schemes, mappings, context, shapes.

Facts encoded in the files are checked against /work/shared/regulatory.md (cited per test).
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SH, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from connector import profile
from connector.domain import KAREZ_NS, ODRL_NS
from connector.errors import ValidationFailure
from connector.jsonld import BundledLoader, JsonLdProcessor

K = Namespace(KAREZ_NS)
ODRL = Namespace(ODRL_NS)
NINE, TEN = KAREZ_NS + "scheme/cluster", KAREZ_NS + "scheme/cluster10"
MAPPINGS = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
UPSTREAM_DCAT_AP = Path("/work/shared/shapes/dcat-ap/3.0.1/html-shacl/shapes.ttl")

TURTLE = [doc.file for doc in profile.documents().values() if doc.media_type == "text/turtle"]


@pytest.fixture(scope="module")
def g() -> Graph:
    return profile.graph()


@pytest.fixture(scope="module")
def processor() -> JsonLdProcessor:
    ctx = profile.vocab_dir() / "context.jsonld"
    return JsonLdProcessor(BundledLoader(extra={profile.CONTEXT_URL: ctx}))


def concepts_of(g: Graph, scheme: str) -> set[URIRef]:
    return {c for c in g.subjects(SKOS.inScheme, URIRef(scheme)) if isinstance(c, URIRef)}


def all_concepts(g: Graph) -> set[URIRef]:
    return {c for c in g.subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef)}


def schemes(g: Graph) -> set[URIRef]:
    return {s for s in g.subjects(RDF.type, SKOS.ConceptScheme) if isinstance(s, URIRef)}


# -- index and files --------------------------------------------------------------------------


def test_index_lists_exactly_the_files_in_the_folder() -> None:
    root = profile.vocab_dir()
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != "index.json" and "__pycache__" not in p.parts
    }
    assert on_disk == {doc.file for doc in profile.documents().values()}


def test_index_iris_are_namespace_plus_file_with_the_right_media_type() -> None:
    types = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".md": "text/markdown"}
    for iri, doc in profile.documents().items():
        assert iri == KAREZ_NS + doc.file
        assert doc.media_type == types[Path(doc.file).suffix]
        assert doc.title


@pytest.mark.parametrize("file", TURTLE)
def test_every_turtle_file_parses(file: str) -> None:
    parsed = Graph().parse(profile.vocab_dir() / file, format="turtle")
    assert len(parsed) > 0


def test_every_defined_iri_prefix_has_subjects_in_its_file() -> None:
    for doc in profile.documents().values():
        if not doc.defines:
            continue
        assert doc.media_type == "text/turtle"
        subjects = {str(s) for s in Graph().parse(profile.vocab_dir() / doc.file).subjects()}
        for iri in doc.defines:
            assert any(s == iri or (iri.endswith("/") and s.startswith(iri)) for s in subjects), iri


# -- SKOS ---------------------------------------------------------------------------------------


def test_every_concept_has_exactly_one_pref_label_in_zh_hans_and_in_en(g: Graph) -> None:
    for c in all_concepts(g):
        labels = [lbl for lbl in g.objects(c, SKOS.prefLabel) if isinstance(lbl, Literal)]
        langs = sorted(lbl.language or "" for lbl in labels)
        assert langs == ["en", "zh-Hans"], (c, langs)


def test_every_scheme_has_labels_in_both_languages(g: Graph) -> None:
    for s in schemes(g):
        langs = sorted(lbl.language or "" for lbl in g.objects(s, SKOS.prefLabel))
        assert langs == ["en", "zh-Hans"], s


def test_every_concept_is_in_one_scheme_and_reachable_from_a_top_concept(g: Graph) -> None:
    for c in all_concepts(g):
        assert len(set(g.objects(c, SKOS.inScheme))) == 1, c
    for scheme in schemes(g):
        tops = set(g.objects(scheme, SKOS.hasTopConcept))
        assert tops == set(g.subjects(SKOS.topConceptOf, scheme)), scheme
        members = concepts_of(g, str(scheme))
        assert tops <= members
        seen, queue = set(tops), deque(tops)
        while queue:
            node = queue.popleft()
            children = set(g.objects(node, SKOS.narrower)) | set(g.subjects(SKOS.broader, node))
            for child in children - seen:
                seen.add(child)
                queue.append(child)
        assert seen == members, (scheme, members - seen)


def test_broader_and_narrower_agree_and_stay_within_a_scheme(g: Graph) -> None:
    for child, parent in g.subject_objects(SKOS.broader):
        assert (parent, SKOS.narrower, child) in g
        assert set(g.objects(child, SKOS.inScheme)) == set(g.objects(parent, SKOS.inScheme))
    for parent, child in g.subject_objects(SKOS.narrower):
        assert (child, SKOS.broader, parent) in g


def test_nine_and_ten_clusters_are_the_ones_regulatory_md_lists(g: Graph) -> None:
    # regulatory.md §6: eight clusters (V) + the inferred ninth; the ten clusters of 2025 (V).
    def zh(scheme: str) -> list[str]:
        return sorted(
            str(lbl)
            for c in g.objects(URIRef(scheme), SKOS.hasTopConcept)
            for lbl in g.objects(c, SKOS.prefLabel)
            if isinstance(lbl, Literal) and lbl.language == "zh-Hans"
        )

    eight = ["油气生产加工", "煤炭煤电煤化工", "绿色矿业", "粮油", "棉花和纺织服装", "绿色有机果蔬"]
    eight += ["优质畜产品", "新能源新材料等战略性新兴产业"]
    assert zh(NINE) == sorted([*eight, "文化旅游"])
    assert zh(TEN) == sorted(
        [
            "油气生产加工",
            "煤炭清洁高效利用",
            "新型电力系统",
            "绿色矿业及加工",
            "先进制造和新材料等战略性新兴产业",
            "粮食和食品加工",
            "棉花和纺织服装",
            "绿色畜牧产品和优质果蔬",
            "文化和旅游",
            "现代物流",
        ]
    )
    ninth = URIRef(KAREZ_NS + "cluster/culture-tourism")
    assert any("inferred" in str(n).lower() for n in g.objects(ninth, SKOS.editorialNote))


def test_every_nine_cluster_concept_maps_to_a_ten_cluster_concept_and_back(g: Graph) -> None:
    nine, ten = concepts_of(g, NINE), concepts_of(g, TEN)

    def targets(c: URIRef) -> set[URIRef]:
        found: set[URIRef] = set()
        for p in MAPPINGS:
            found |= {o for o in g.objects(c, p) if isinstance(o, URIRef)}
            found |= {s for s in g.subjects(p, c) if isinstance(s, URIRef)}
        return found

    for c in nine:
        assert targets(c) & ten, c
    # Modern logistics is new in 2025 and has no predecessor (regulatory.md §6).
    unmapped = {c for c in ten if not targets(c) & nine}
    assert unmapped == {URIRef(KAREZ_NS + "cluster10/logistics")}
    for c in nine | ten:
        for other in targets(c):
            assert other in nine | ten, other
            assert (other in nine) != (c in nine), f"mapping inside one scheme: {c} -> {other}"


def test_mappings_are_stated_in_both_directions(g: Graph) -> None:
    inverse = {
        SKOS.exactMatch: SKOS.exactMatch,
        SKOS.closeMatch: SKOS.closeMatch,
        SKOS.relatedMatch: SKOS.relatedMatch,
        SKOS.broadMatch: SKOS.narrowMatch,
        SKOS.narrowMatch: SKOS.broadMatch,
    }
    for p, q in inverse.items():
        for s, o in g.subject_objects(p):
            assert (o, q, s) in g, (s, p, o)


def test_exact_match_only_for_the_unchanged_clusters(g: Graph) -> None:
    # regulatory.md §6: exactMatch for rows 1 and 5; never across a merge.
    pairs = {
        (str(s).removeprefix(KAREZ_NS), str(o).removeprefix(KAREZ_NS))
        for s, o in g.subject_objects(SKOS.exactMatch)
        if str(s).startswith(KAREZ_NS + "cluster/")
    }
    assert pairs == {
        ("cluster/oil-gas", "cluster10/oil-gas"),
        ("cluster/cotton-textiles", "cluster10/cotton-textiles"),
    }


def test_is_within_inside_a_scheme_is_exactly_the_broader_closure(g: Graph) -> None:
    """The cross-scheme matches never make one concept 'within' another of its own scheme
    unless skos:broader says so."""
    for scheme in schemes(g):
        members = [str(c) for c in concepts_of(g, str(scheme))]
        for a in members:
            ancestors: set[str] = set()
            queue = deque([URIRef(a)])
            while queue:
                for parent in g.objects(queue.popleft(), SKOS.broader):
                    if str(parent) not in ancestors:
                        ancestors.add(str(parent))
                        queue.append(parent)
            for b in members:
                assert profile.is_within(a, b) == (a == b or b in ancestors), (a, b)


def test_every_nine_cluster_concept_is_within_some_ten_cluster_concept(g: Graph) -> None:
    ten = [str(c) for c in concepts_of(g, TEN)]
    for c in concepts_of(g, NINE):
        within = [t for t in ten if profile.is_within(str(c), t)]
        if str(c) == KAREZ_NS + "cluster/new-energy":  # via its parent's closeMatch
            assert within == [KAREZ_NS + "cluster10/advanced-manufacturing-materials"]
        assert within, c


def test_levels_are_ranked_core_important_general(g: Graph) -> None:
    # regulatory.md §1: core > important > general (V).
    ranks = {
        str(c).rsplit("/", 1)[1]: profile.rank(str(c)) for c in concepts_of(g, K["scheme/level"])
    }
    assert ranks == {"core": 3, "important": 2, "general": 1}


# -- ontology -----------------------------------------------------------------------------------

LEFT_OPERANDS = {
    "clusterMembership",
    "industryCluster",
    "organisationType",
    "consumerJurisdiction",
    "processingLocation",
    "classificationLevel",
    "personalInformation",
    "certification",
}
ADOPTED = {"purpose", "dateTime", "elapsedTime", "count"}
ACTIONS = {
    "holdData": ODRL.use,
    "processAndUseData": ODRL.use,
    "operateDataProduct": ODRL.distribute,
    "anonymize": ODRL.anonymize,
    "compute": ODRL.use,
}


def langs(g: Graph, s: URIRef, p: URIRef) -> list[str]:
    return sorted(o.language or "" for o in g.objects(s, p) if isinstance(o, Literal))


def test_left_operands_are_declared_with_labels_and_definitions(g: Graph) -> None:
    declared = {str(s) for s in g.subjects(RDF.type, ODRL.LeftOperand)}
    assert {KAREZ_NS + n for n in LEFT_OPERANDS} | {ODRL_NS + n for n in ADOPTED} == declared
    for name in LEFT_OPERANDS:
        s = K[name]
        assert langs(g, s, RDFS.label) == ["en", "zh-Hans"], name
        assert langs(g, s, SKOS.definition) == ["en", "zh-Hans"], name
        for scheme in g.objects(s, K.rightOperandScheme):
            assert scheme in schemes(g), (name, scheme)
    for name in ADOPTED:
        s = ODRL[name]
        assert "zh-Hans" in langs(g, s, RDFS.label), name
        assert langs(g, s, SKOS.scopeNote) == ["en", "zh-Hans"], name


def test_actions_are_declared_under_odrl_use_or_distribute(g: Graph) -> None:
    for name, parent in ACTIONS.items():
        s = K[name]
        assert (s, RDF.type, ODRL.Action) in g, name
        assert set(g.objects(s, ODRL.includedIn)) == {parent}, name
        assert langs(g, s, RDFS.label) == ["en", "zh-Hans"], name
        assert langs(g, s, SKOS.definition) == ["en", "zh-Hans"], name


def test_the_profile_lists_every_published_turtle_file(g: Graph) -> None:
    artifacts = {
        str(a)
        for r in g.objects(K.profile, URIRef("http://www.w3.org/ns/dx/prof/hasResource"))
        for a in g.objects(r, URIRef("http://www.w3.org/ns/dx/prof/hasArtifact"))
    }
    published = {
        iri for iri, d in profile.documents().items() if d.file.endswith((".ttl", ".jsonld"))
    }
    assert artifacts == published


# -- JSON-LD context ----------------------------------------------------------------------------


def context() -> dict[str, object]:
    return json.loads((profile.vocab_dir() / "context.jsonld").read_text(encoding="utf-8"))[
        "@context"
    ]


#: Types and subject properties of Karez credentials (``jurisdiction`` is also a prefix).
CREDENTIAL_TERMS = {
    "KarezMembershipCredential", "KarezCertificationCredential", "legalName", "uscc",
    "clusters", "organisationType", "certification", "certificationValidUntil", "reference",
}  # fmt: skip


def test_context_is_protected_json_ld_1_1_and_names_only_declared_terms(g: Graph) -> None:
    ctx = context()
    assert ctx["@version"] == 1.1 and ctx["@protected"] is True
    prefixes = dict(profile.context_prefixes())
    defined = [p for d in profile.documents().values() for p in d.defines]
    for name, ns in prefixes.items():
        assert ns == KAREZ_NS or any(d.startswith(ns) for d in defined), name
    terms = {k: v for k, v in ctx.items() if not k.startswith("@") and k not in prefixes}
    for name, definition in terms.items():
        iri = (definition["@id"] if isinstance(definition, dict) else definition).replace(
            "karez:", KAREZ_NS
        )
        assert (URIRef(iri), RDFS.isDefinedBy, URIRef(KAREZ_NS)) in g, name
    expected = (LEFT_OPERANDS | set(ACTIONS) | CREDENTIAL_TERMS) - {"anonymize"}  # README
    assert set(terms) == expected


SAMPLE_OFFER = {
    "@id": "urn:uuid:0e8d3a2c-5b1f-4c41-9a57-3d6a1f0c0001",
    "@type": "Offer",
    "target": "urn:uuid:0e8d3a2c-5b1f-4c41-9a57-3d6a1f0c0002",
    "assigner": "did:web:provider.example",
    "profile": "https://w3id.org/karez/ns/profile",
    "permission": [
        {
            "action": "processAndUseData",
            "constraint": [
                {
                    "leftOperand": "clusterMembership",
                    "operator": "isPartOf",
                    "rightOperand": {"@id": "cluster10:cotton-textiles"},
                },
                {
                    "leftOperand": "processingLocation",
                    "operator": "isPartOf",
                    "rightOperand": {"@id": "jurisdiction:CN-XJ"},
                },
                {
                    "leftOperand": "classificationLevel",
                    "operator": "lteq",
                    "rightOperand": {"@id": "level:important"},
                },
                {
                    "leftOperand": "certification",
                    "operator": "isAnyOf",
                    "rightOperand": [{"@id": "cert:pi-standard-contract"}],
                },
                {
                    "leftOperand": "odrl:purpose",
                    "operator": "isA",
                    "rightOperand": {"@id": "purposes:research"},
                },
            ],
            "duty": [{"action": "compute"}, {"action": "karez:anonymize"}],
        }
    ],
    "prohibition": [{"action": "operateDataProduct"}],
}


def _values(node: dict, key: str) -> list:
    return node[ODRL_NS + key]


def _check_expanded_offer(expanded: list) -> None:
    offer = expanded[0] if "@type" in expanded[0] else None
    assert offer is not None
    perm = _values(offer, "permission")[0]
    assert _values(perm, "action") == [{"@id": KAREZ_NS + "processAndUseData"}]
    constraints = _values(perm, "constraint")
    lefts = [_values(c, "leftOperand")[0]["@id"] for c in constraints]
    assert lefts == [
        KAREZ_NS + "clusterMembership",
        KAREZ_NS + "processingLocation",
        KAREZ_NS + "classificationLevel",
        KAREZ_NS + "certification",
        ODRL_NS + "purpose",
    ]
    rights = [_values(c, "rightOperand")[0]["@id"] for c in constraints]
    assert rights == [
        KAREZ_NS + "cluster10/cotton-textiles",
        KAREZ_NS + "jurisdiction/CN-XJ",
        KAREZ_NS + "level/important",
        KAREZ_NS + "certification/pi-standard-contract",
        KAREZ_NS + "purpose/research",
    ]
    duties = [_values(d, "action")[0]["@id"] for d in _values(perm, "duty")]
    assert duties == [KAREZ_NS + "compute", KAREZ_NS + "anonymize"]
    prohibited = _values(offer, "prohibition")[0]
    assert _values(prohibited, "action") == [{"@id": KAREZ_NS + "operateDataProduct"}]


@pytest.mark.parametrize("order", ["dsp-first", "karez-first"])
def test_context_expands_a_dsp_contract_request_with_karez_terms(
    processor: JsonLdProcessor, order: str
) -> None:
    contexts = [DSP_CONTEXT, profile.CONTEXT_URL]
    if order == "karez-first":
        contexts.reverse()
    message = {
        "@context": contexts,
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:0e8d3a2c-5b1f-4c41-9a57-3d6a1f0c0003",
        "callbackAddress": "https://consumer.example/callback",
        "offer": SAMPLE_OFFER,
    }
    expanded = processor.expand(message)
    offer = expanded[0]["https://w3id.org/dspace/2025/1/offer"]
    _check_expanded_offer(offer)


@pytest.mark.parametrize("order", ["odrl-first", "karez-first"])
def test_context_works_with_the_w3c_odrl_context_in_either_order(
    processor: JsonLdProcessor, order: str
) -> None:
    contexts = [ODRL_CONTEXT, profile.CONTEXT_URL]
    if order == "karez-first":
        contexts.reverse()
    expanded = processor.expand({"@context": contexts, **SAMPLE_OFFER})
    _check_expanded_offer(expanded)


def test_karez_terms_are_protected(processor: JsonLdProcessor) -> None:
    doc = {
        "@context": [profile.CONTEXT_URL, {"compute": "https://example.org/other"}],
        "compute": 1,
    }
    with pytest.raises(ValidationFailure, match="protected"):
        processor.expand(doc)


# -- SHACL shapes -------------------------------------------------------------------------------


def _in_list(shapes: Graph, path: URIRef) -> set[URIRef]:
    for shape in shapes.subjects(SH.path, path):
        members = shapes.value(shape, SH["in"])
        if members is not None:
            return set(Collection(shapes, members))
    raise AssertionError(f"no sh:in for {path}")


def test_shape_value_lists_match_the_schemes(g: Graph) -> None:
    shapes = profile.shapes_graph()
    assert _in_list(shapes, K.industryCluster) == concepts_of(g, NINE) | concepts_of(g, TEN)
    assert _in_list(shapes, K.classificationLevel) == concepts_of(g, K["scheme/level"])
    assert _in_list(shapes, K.personalInformation) == concepts_of(g, K["scheme/pi"])


def test_every_karez_property_shape_has_messages_in_both_languages() -> None:
    shapes = profile.shapes_graph()
    karez_shapes = [
        s for s in shapes.subjects(RDF.type, SH.PropertyShape) if str(s).startswith(KAREZ_NS)
    ]
    assert len(karez_shapes) >= 10
    for s in karez_shapes:
        assert langs(shapes, s, SH.message) == ["en", "zh-Hans"], s


@pytest.mark.skipif(not UPSTREAM_DCAT_AP.is_file(), reason="shared DCAT-AP copy not available")
def test_dcat_ap_dataset_shape_is_an_unchanged_copy_of_upstream() -> None:
    def dataset_shape(graph: Graph) -> Graph:
        root = URIRef(
            "https://semiceu.github.io/DCAT-AP/releases/3.0.0/html/shacl/shapes.ttl#Dataset_Shape"
        )
        out, queue, seen = Graph(), deque([root]), {root}
        while queue:
            node = queue.popleft()
            for p, o in graph.predicate_objects(node):
                out.add((node, p, o))
                if not isinstance(o, Literal) and o not in seen and (o, None, None) in graph:
                    if isinstance(o, URIRef) and o != root and "#" in str(o):
                        continue  # another upstream shape: not copied
                    seen.add(o)
                    queue.append(o)
        return out

    from rdflib.compare import isomorphic

    ours = Graph().parse(profile.vocab_dir() / "shapes/dcat-ap-dataset.ttl")
    upstream = Graph().parse(UPSTREAM_DCAT_AP)
    assert isomorphic(dataset_shape(ours), dataset_shape(upstream))
