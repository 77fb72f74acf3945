"""Karez verifiable credentials read as JSON-LD through the Karez context (vocab/context.jsonld).

Credentials are issued with ``connector.identity.vc``; their JWT payload (which is the unsecured
VC 2.0 credential) is expanded offline with the project's ``BundledLoader``, serving the Karez
context from vocab/ and the W3C VC 2.0 context from the copy PyLD ships (Karez bundles no copy).
Every subject claim and type must expand to the Karez IRI the ontology (karez.ttl) declares.

``jurisdiction`` is both a concept prefix (``jurisdiction:CN-XJ``) and a membership claim. A term
used as a prefix expands, as a property, to its own IRI, so the claim's property IRI is the
namespace of the jurisdiction concepts. For its value to be typed as an IRI the term needs an
expanded definition with ``"@prefix": true`` (JSON-LD 1.1: only simple terms are prefixes by
default). The context keeps the simple form until ``connector.profile.context_prefixes`` reads the
expanded one; ``test_the_prefix_form_of_jurisdiction_serves_both_uses`` checks that form now.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyld.documentloader.frozen import BUNDLED_CONTEXTS
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef

from connector import profile
from connector.domain import KAREZ_NS, ODRL_NS
from connector.identity import jose
from connector.identity.keys import generate_key
from connector.identity.vc import (
    CERTIFICATION_TYPE,
    KAREZ_CONTEXT,
    MEMBERSHIP_TYPE,
    VC_CONTEXT_V2,
    certification_subject,
    expand_iri,
    issue_credential,
    membership_subject,
)
from connector.jsonld import BundledLoader, JsonLdProcessor

K = Namespace(KAREZ_NS)
CRED = Namespace("https://www.w3.org/2018/credentials#")
ODRL = Namespace(ODRL_NS)
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
JURISDICTION_NS = KAREZ_NS + "jurisdiction/"
XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")

ISSUER = "did:web:authority.example"
ASSOCIATION = "did:web:textiles-association.example"
HOLDER = "did:web:cotton.example"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
USCC = "91350100M000100Y43"
KEY = generate_key()

#: The credential terms of the context, their IRIs, and what the ontology must declare them as.
CREDENTIAL_TERMS = {
    "KarezMembershipCredential": (K.KarezMembershipCredential, OWL.Class),
    "KarezCertificationCredential": (K.KarezCertificationCredential, OWL.Class),
    "legalName": (K.legalName, OWL.DatatypeProperty),
    "uscc": (K.uscc, OWL.DatatypeProperty),
    "clusters": (K.clusters, OWL.ObjectProperty),
    "jurisdiction": (URIRef(JURISDICTION_NS), OWL.ObjectProperty),
    "organisationType": (K.organisationType, OWL.ObjectProperty),
    "certification": (K.certification, OWL.ObjectProperty),
    "certificationValidUntil": (K.certificationValidUntil, OWL.DatatypeProperty),
    "reference": (K.reference, OWL.DatatypeProperty),
}
#: JWT claims VC-JOSE-COSE adds; ``jti`` has no term in the VC 2.0 context (not Karez's to add).
UNDEFINED_IN_VC_CONTEXT = {"jti"}


def context_file() -> Path:
    return profile.vocab_dir() / "context.jsonld"


def make_processor(karez_context: Path) -> JsonLdProcessor:
    return JsonLdProcessor(
        BundledLoader(
            extra={KAREZ_CONTEXT: karez_context, VC_CONTEXT_V2: BUNDLED_CONTEXTS[VC_CONTEXT_V2]}
        )
    )


@pytest.fixture(scope="module")
def processor() -> JsonLdProcessor:
    return make_processor(context_file())


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(profile.vocab_dir() / "karez.ttl", format="turtle")


def payload_of(token: str) -> dict[str, Any]:
    return json.loads(jose.b64url_decode(token.split(".")[1]))


def membership_payload() -> dict[str, Any]:
    claims = membership_subject(
        HOLDER,
        "Kashgar Cotton Co.",
        USCC,
        ["cluster10:cotton-textiles", "cluster:cotton"],
        "jurisdiction:xinjiang-ftz-kashgar",
        "orgtype:data-merchant",
    )
    token = issue_credential(
        KEY,
        ISSUER,
        f"{ISSUER}#key-1",
        HOLDER,
        [MEMBERSHIP_TYPE],
        claims,
        T0,
        T0 + timedelta(days=365),
        credential_id="urn:uuid:m1",
        issued_at=T0,
    )
    return payload_of(token)


def certification_payload() -> dict[str, Any]:
    claims = certification_subject(
        "cert:export-security-assessment", T0 + timedelta(days=3 * 365), reference="XJ-2025-001"
    )
    token = issue_credential(
        KEY,
        ASSOCIATION,
        f"{ASSOCIATION}#key-1",
        HOLDER,
        [CERTIFICATION_TYPE],
        claims,
        T0,
        None,
        credential_id="urn:uuid:c1",
        issued_at=T0,
    )
    return payload_of(token)


def expand_one(processor: JsonLdProcessor, payload: dict[str, Any]) -> dict[str, Any]:
    expanded = processor.expand(copy.deepcopy(payload))
    assert len(expanded) == 1
    return expanded[0]


def subject_of(credential: dict[str, Any]) -> dict[str, Any]:
    subjects = credential[str(CRED.credentialSubject)]
    assert len(subjects) == 1
    return subjects[0]


def ids(values: list[dict[str, Any]]) -> list[str]:
    return [v["@id"] for v in values]


# -- what the credentials expand to -------------------------------------------------------------


def test_membership_credential_expands_to_karez_iris(processor: JsonLdProcessor) -> None:
    credential = expand_one(processor, membership_payload())
    assert credential["@type"] == [str(CRED.VerifiableCredential), str(K.KarezMembershipCredential)]
    subject = subject_of(credential)
    assert subject["@id"] == HOLDER
    assert subject[str(K.legalName)] == [{"@value": "Kashgar Cotton Co."}]
    assert subject[str(K.uscc)] == [{"@value": USCC}]
    assert ids(subject[str(K.clusters)]) == [
        KAREZ_NS + "cluster10/cotton-textiles",
        KAREZ_NS + "cluster/cotton",
    ]
    assert ids(subject[str(K.organisationType)]) == [KAREZ_NS + "orgtype/data-merchant"]
    assert JURISDICTION_NS in subject  # its value: see the jurisdiction tests below
    assert set(subject) == {
        "@id",
        str(K.legalName),
        str(K.uscc),
        str(K.clusters),
        str(K.organisationType),
        JURISDICTION_NS,
    }


def test_certification_credential_expands_to_karez_iris(processor: JsonLdProcessor) -> None:
    credential = expand_one(processor, certification_payload())
    assert credential["@type"] == [
        str(CRED.VerifiableCredential),
        str(K.KarezCertificationCredential),
    ]
    subject = subject_of(credential)
    assert subject == {
        "@id": HOLDER,
        str(K.certification): [{"@id": KAREZ_NS + "certification/export-security-assessment"}],
        str(K.certificationValidUntil): [
            {"@type": str(XSD_DATETIME), "@value": "2028-01-01T00:00:00Z"}
        ],
        str(K.reference): [{"@value": "XJ-2025-001"}],
    }


def test_compact_claim_values_expand_through_the_prefixes(processor: JsonLdProcessor) -> None:
    """``membership_subject`` writes full IRIs, but a hand-written credential may use CURIEs."""
    payload = membership_payload()
    payload["credentialSubject"].update(
        clusters=["cluster10:cotton-textiles"], organisationType="orgtype:ciio"
    )
    payload_cert = certification_payload()
    payload_cert["credentialSubject"]["certification"] = "cert:pi-standard-contract"
    subject = subject_of(expand_one(processor, payload))
    assert ids(subject[str(K.clusters)]) == [KAREZ_NS + "cluster10/cotton-textiles"]
    assert ids(subject[str(K.organisationType)]) == [KAREZ_NS + "orgtype/ciio"]
    cert_subject = subject_of(expand_one(processor, payload_cert))
    assert ids(cert_subject[str(K.certification)]) == [
        KAREZ_NS + "certification/pi-standard-contract"
    ]


@pytest.mark.parametrize("make", [membership_payload, certification_payload])
def test_no_claim_or_type_is_dropped(processor: JsonLdProcessor, make: Any) -> None:
    payload = make()
    credential = expand_one(processor, payload)
    subject = payload["credentialSubject"]
    expanded_subject = subject_of(credential)
    # one expanded property per claim, with one value per claimed value
    assert len(expanded_subject) == len(subject)
    for name, value in subject.items():
        if name == "id":
            continue
        values = expanded_subject[str(CREDENTIAL_TERMS[name][0])]
        assert len(values) == (len(value) if isinstance(value, list) else 1), name
    types = credential["@type"]
    assert len(types) == len(payload["type"])
    assert all(t.startswith(("https://www.w3.org/2018/credentials#", KAREZ_NS)) for t in types)
    # top level: every member but the JWT's jti (id and type become @id and @type)
    assert len(credential) == len(set(payload) - {"@context"} - UNDEFINED_IN_VC_CONTEXT)


def test_compaction_gives_back_the_claim_names(processor: JsonLdProcessor) -> None:
    """A JSON-LD processor that compacts a credential with the same contexts returns the names
    ``trust_anchors`` reads (``clusters`` stays a list)."""
    payload = membership_payload()
    compacted = processor.compact(expand_one(processor, payload), payload["@context"])
    subject = compacted["credentialSubject"]
    assert set(subject) == set(payload["credentialSubject"])
    assert isinstance(subject["clusters"], list)
    for name, value in payload["credentialSubject"].items():
        got = subject[name]
        as_iri = [expand_iri(v) for v in got] if isinstance(got, list) else expand_iri(got)
        assert as_iri == value, name


# -- jurisdiction: prefix and claim -------------------------------------------------------------


def test_jurisdiction_is_a_prefix_for_concept_iris(processor: JsonLdProcessor) -> None:
    node = expand_one(
        processor,
        {
            "@context": membership_payload()["@context"],
            "@id": "jurisdiction:xinjiang-ftz-kashgar",
            "legalName": "Kashgar area, China (Xinjiang) Pilot Free Trade Zone",
        },
    )
    assert node["@id"] == JURISDICTION_NS + "xinjiang-ftz-kashgar"


@pytest.mark.parametrize(
    "value", [JURISDICTION_NS + "xinjiang-ftz-kashgar", "jurisdiction:xinjiang-ftz-kashgar"]
)
def test_jurisdiction_claim_value_is_an_iri(processor: JsonLdProcessor, value: str) -> None:
    payload = membership_payload()
    payload["credentialSubject"]["jurisdiction"] = value
    subject = subject_of(expand_one(processor, payload))
    assert subject[JURISDICTION_NS] == [{"@id": JURISDICTION_NS + "xinjiang-ftz-kashgar"}]


def _context_with_jurisdiction(tmp_path: Path, definition: Any) -> Path:
    document = json.loads(context_file().read_text(encoding="utf-8"))
    document["@context"]["jurisdiction"] = definition
    path = tmp_path / "context.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


PREFIX_FORM = {"@id": JURISDICTION_NS, "@type": "@id", "@prefix": True}


@pytest.mark.parametrize(
    "value", [JURISDICTION_NS + "xinjiang-ftz-kashgar", "jurisdiction:xinjiang-ftz-kashgar"]
)
def test_the_prefix_form_of_jurisdiction_serves_both_uses(tmp_path: Path, value: str) -> None:
    processor = make_processor(_context_with_jurisdiction(tmp_path, PREFIX_FORM))
    payload = membership_payload()
    payload["credentialSubject"]["jurisdiction"] = value
    subject = subject_of(expand_one(processor, payload))
    assert subject[JURISDICTION_NS] == [{"@id": JURISDICTION_NS + "xinjiang-ftz-kashgar"}]
    # ... and policies still name jurisdiction concepts with the prefix
    for contexts in ([ODRL_CONTEXT, KAREZ_CONTEXT], [KAREZ_CONTEXT, ODRL_CONTEXT]):
        constraint = {
            "@context": contexts,
            "leftOperand": "consumerJurisdiction",
            "operator": "isPartOf",
            "rightOperand": {"@id": "jurisdiction:CN-XJ"},
        }
        node = expand_one(processor, constraint)
        assert node[str(ODRL.leftOperand)] == [{"@id": KAREZ_NS + "consumerJurisdiction"}]
        assert node[str(ODRL.rightOperand)] == [{"@id": JURISDICTION_NS + "CN-XJ"}]


def test_an_expanded_definition_without_prefix_true_is_no_prefix(tmp_path: Path) -> None:
    """Why the expanded form needs ``@prefix``: JSON-LD 1.1 makes only simple terms prefixes."""
    without = {k: v for k, v in PREFIX_FORM.items() if k != "@prefix"}
    processor = make_processor(_context_with_jurisdiction(tmp_path, without))
    node = expand_one(
        processor,
        {
            "@context": [ODRL_CONTEXT, KAREZ_CONTEXT],
            "leftOperand": "consumerJurisdiction",
            "rightOperand": {"@id": "jurisdiction:CN-XJ"},
        },
    )
    assert node[str(ODRL.rightOperand)] == [{"@id": "jurisdiction:CN-XJ"}]


# -- the ontology declares what the context maps ------------------------------------------------


def _context_terms() -> dict[str, tuple[URIRef, dict[str, Any]]]:
    """Term -> (IRI, expanded definition) for every term of the context that is no prefix."""
    ctx = json.loads(context_file().read_text(encoding="utf-8"))["@context"]
    prefixes = {}
    for name, definition in ctx.items():
        if isinstance(definition, str) and definition.endswith("/"):
            prefixes[name] = definition
        elif isinstance(definition, dict) and definition.get("@prefix") is True:
            prefixes[name] = definition["@id"]
    terms = {}
    for name, definition in ctx.items():
        if name.startswith("@") or name in prefixes:
            continue
        definition = definition if isinstance(definition, dict) else {"@id": definition}
        head, _, local = definition["@id"].partition(":")
        terms[name] = (URIRef(prefixes[head] + local), definition)
    return terms


def test_the_context_maps_every_credential_term() -> None:
    terms = _context_terms()
    ctx = json.loads(context_file().read_text(encoding="utf-8"))["@context"]
    for name, (iri, _) in CREDENTIAL_TERMS.items():
        if name == "jurisdiction":
            definition = ctx[name]
            mapped = definition if isinstance(definition, str) else definition["@id"]
            assert mapped == str(iri)
        else:
            assert terms[name][0] == iri, name


def test_no_two_terms_share_an_iri() -> None:
    """Otherwise compaction may pick the other term (a policy's ``clusterMembership`` written
    back as a claim name)."""
    iris = [iri for iri, _ in _context_terms().values()]
    assert len(iris) == len(set(iris))


def test_the_ontology_declares_every_term_the_context_maps(ontology: Graph) -> None:
    declared = set(ontology.subjects(RDFS.isDefinedBy, URIRef(KAREZ_NS)))
    terms = _context_terms()
    iris = {iri for iri, _ in terms.values()} | {iri for iri, _ in CREDENTIAL_TERMS.values()}
    assert iris <= declared, iris - declared
    for iri in iris:
        labels = sorted(
            o.language for o in ontology.objects(iri, RDFS.label) if isinstance(o, Literal)
        )
        assert labels == ["en", "zh-Hans"], iri
        definitions = {
            o.language for o in ontology.objects(iri, SKOS.definition) if isinstance(o, Literal)
        }
        assert definitions == {"en", "zh-Hans"}, iri


def test_credential_terms_have_the_right_kind_and_range(ontology: Graph) -> None:
    terms = _context_terms()
    for name, (iri, kind) in CREDENTIAL_TERMS.items():
        assert (iri, RDF.type, kind) in ontology, name
        if kind == OWL.Class:
            assert (iri, RDFS.subClassOf, CRED.VerifiableCredential) in ontology, name
            continue
        range_ = ontology.value(iri, RDFS.range)
        if name == "jurisdiction":  # the simple-prefix form has no @type yet
            assert range_ == SKOS.Concept
            continue
        declared_type = terms[name][1].get("@type")
        if kind == OWL.ObjectProperty:
            assert declared_type == "@id" and range_ == SKOS.Concept, name
        elif declared_type is not None:
            assert URIRef(declared_type) == range_, name
        else:
            assert range_ == XSD_STRING, name
