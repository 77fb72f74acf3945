"""The Karez profile files (``vocab/``): finding them, serving them and reading them.

The files live in ``vocab/`` in a source checkout and in ``connector/_vocab`` in an installed
wheel; :func:`vocab_dir` finds either. ``index.json`` lists every published document by IRI
(under ``https://w3id.org/karez/ns/``) with its file and media type, and the IRIs each document
defines. Everything parsed here is parsed once and cached: the graphs are shared, do not modify
them.

For the policy engine: :func:`is_within` answers ``isA``/``isPartOf`` over the SKOS schemes,
following ``skos:broader`` (and inverse ``skos:narrower``) transitively and, across the nine- and
ten-cluster schemes, ``exactMatch``/``closeMatch`` (both ways), ``broadMatch`` and inverse
``narrowMatch``. ``relatedMatch`` is never followed. For asset creation: :func:`validate_dataset`
checks a dataset description against DCAT-AP 3 plus the Karez dataset shape.
"""

from __future__ import annotations

import json
import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rdflib import RDF, SH, SKOS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from connector.domain import KAREZ_NS

if TYPE_CHECKING:  # imported where used: pyshacl and PyLD are slow to import
    from connector.jsonld import JsonLdProcessor

CONTEXT_URL = KAREZ_NS + "context.jsonld"
PROFILE_IRI = KAREZ_NS + "profile"
INDEX_IRI = KAREZ_NS + "index.json"
KAREZ = Namespace(KAREZ_NS)
DCAT = Namespace("http://www.w3.org/ns/dcat#")

#: Prefixes used to shorten IRIs in validation messages.
_PREFIXES = {
    "karez": KAREZ_NS,
    "dcat": str(DCAT),
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
#: Base for relative ``@id``s (``"asset-1"``) while validating; stripped again in messages.
_RELATIVE_BASE = "https://relative.invalid/"
_MAPPINGS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")


# -- files ------------------------------------------------------------------------------------


@cache
def vocab_dir() -> Path:
    """The folder holding ``index.json`` and the profile files (wheel first, then checkout)."""
    here = Path(__file__).resolve()
    for candidate in (here.parent / "_vocab", here.parents[1] / "vocab"):
        if (candidate / "index.json").is_file():
            return candidate
    raise FileNotFoundError("Karez profile files not found in connector/_vocab or vocab/")


@dataclass(frozen=True)
class Document:
    """One published file: its IRI, path under :func:`vocab_dir` and media type."""

    iri: str
    file: str
    media_type: str
    title: str
    defines: tuple[str, ...] = ()  # IRIs (exact) and IRI prefixes (ending in "/") defined here

    def defines_iri(self, iri: str) -> bool:
        return any(iri == d or (d.endswith("/") and iri.startswith(d)) for d in self.defines)


@cache
def index() -> Mapping[str, Any]:
    """The parsed ``index.json``."""
    return json.loads(_read("index.json"))


@cache
def documents() -> Mapping[str, Document]:
    """Every published document, by IRI."""
    docs = {
        iri: Document(
            iri=iri,
            file=entry["file"],
            media_type=entry["mediaType"],
            title=entry.get("title", ""),
            defines=tuple(entry.get("defines", ())),
        )
        for iri, entry in index()["documents"].items()
    }
    return MappingProxyType(docs)


@cache
def _read(file: str) -> bytes:
    return (vocab_dir() / file).read_bytes()


@cache
def _by_file() -> Mapping[str, Document]:
    return {doc.file: doc for doc in documents().values()}


@cache
def _defined_in() -> Mapping[str, Document]:
    """Subject IRI -> the document that defines it (by the documents' ``defines``)."""
    found: dict[str, Document] = {}
    for doc in documents().values():
        if not doc.defines:
            continue
        for subject in set(_file_graph(doc.file).subjects()):
            if isinstance(subject, URIRef) and doc.defines_iri(str(subject)):
                found.setdefault(str(subject), doc)
    return found


def locate(iri_or_path: str) -> Document | None:
    """The document that is, or that defines, ``iri_or_path``; ``None`` if there is none.

    Accepts a document IRI, a term or concept IRI (``karez:compute``, a cluster, a shape
    ``...dataset.ttl#Dataset``) or a path relative to the namespace (``skos/clusters.ttl``).
    """
    if iri_or_path.startswith(KAREZ_NS):
        iri = iri_or_path.split("#", 1)[0] if "#" in iri_or_path else iri_or_path
        return documents().get(iri) or _defined_in().get(iri)
    return _by_file().get(iri_or_path.lstrip("/"))


def document(iri_or_path: str) -> tuple[bytes, str] | None:
    """The bytes and media type of the document that is or defines ``iri_or_path``.

    ``index.json`` (by IRI or path) is served as ``application/json``. Only files listed in the
    index are ever read, so a path cannot escape the vocab folder.
    """
    if iri_or_path in (INDEX_IRI, "index.json", "/index.json"):
        return _read("index.json"), "application/json"
    doc = locate(iri_or_path)
    return None if doc is None else (_read(doc.file), doc.media_type)


# -- graphs -----------------------------------------------------------------------------------


@cache
def _file_graph(file: str) -> Graph:
    return Graph().parse(data=_read(file), format="turtle")


def _turtle_files(folder: str | None = None) -> list[str]:
    return [
        doc.file
        for doc in documents().values()
        if doc.media_type == "text/turtle" and (folder is None or doc.file.startswith(folder))
    ]


@cache
def graph() -> Graph:
    """All the profile's Turtle (ontology, schemes, mappings, shapes) in one graph."""
    merged = Graph()
    for file in _turtle_files():
        merged += _file_graph(file)
    return merged


@cache
def shapes_graph() -> Graph:
    """The SHACL shapes graph: DCAT-AP 3 dataset shape plus the Karez dataset shape."""
    merged = Graph()
    for file in _turtle_files("shapes/"):
        merged += _file_graph(file)
    return merged


@cache
def _context() -> Mapping[str, Any]:
    return json.loads(_read("context.jsonld"))["@context"]


def _expand_compact(value: str, prefixes: Mapping[str, str]) -> str:
    prefix, sep, local = value.partition(":")
    return prefixes[prefix] + local if sep and prefix in prefixes else value


@cache
def context_prefixes() -> Mapping[str, str]:
    """Prefix -> namespace from the Karez context (``karez``, ``cluster``, ``level``, ...)."""
    found = {}
    for key, value in _context().items():
        if key.startswith("@"):
            continue
        if isinstance(value, str) and value.endswith("/"):
            found[key] = value
        elif isinstance(value, dict) and value.get("@prefix") is True:
            namespace = value.get("@id")
            if isinstance(namespace, str):  # a term that is also a prefix (``jurisdiction``)
                found[key] = namespace
    return MappingProxyType(found)


@cache
def context_terms() -> Mapping[str, str]:
    """Short term -> full IRI from the Karez context (``compute`` -> ``karez:compute``, ...),
    for code that reads compact policies without running JSON-LD."""
    terms = {}
    for name, definition in _context().items():
        if name.startswith("@") or name in context_prefixes():
            continue
        iri = definition["@id"] if isinstance(definition, dict) else definition
        terms[name] = _expand_compact(iri, context_prefixes())
    return MappingProxyType(terms)


def preload() -> None:
    """Parse every file and import the validator now (at node start-up), so that the first
    policy decision or asset creation does not pay for it (about 0.3 s)."""
    import pyshacl  # noqa: F401

    _defined_in()
    _skos()
    shapes_graph()
    _default_processor()


# -- SKOS -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Skos:
    labels: Mapping[str, Mapping[str, str]]
    schemes: Mapping[str, frozenset[str]]
    broader: Mapping[str, frozenset[str]]
    narrower: Mapping[str, frozenset[str]]
    mappings: Mapping[str, Mapping[str, frozenset[str]]]
    up: Mapping[str, frozenset[str]]
    rank: Mapping[str, int]


def _iris(nodes: Any) -> frozenset[str]:
    return frozenset(str(n) for n in nodes if isinstance(n, URIRef))


@cache
def _skos() -> _Skos:
    g = graph()
    concepts = sorted(str(c) for c in g.subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef))

    def both(c: URIRef, forward: URIRef, inverse: URIRef) -> frozenset[str]:
        return _iris(g.objects(c, forward)) | _iris(g.subjects(inverse, c))

    labels, schemes, broader, narrower, mappings, up, rank = {}, {}, {}, {}, {}, {}, {}
    for iri in concepts:
        c = URIRef(iri)
        labels[iri] = MappingProxyType(
            {
                (label.language or ""): str(label)
                for label in g.objects(c, SKOS.prefLabel)
                if isinstance(label, Literal)
            }
        )
        schemes[iri] = _iris(g.objects(c, SKOS.inScheme))
        broader[iri] = both(c, SKOS.broader, SKOS.narrower)
        narrower[iri] = both(c, SKOS.narrower, SKOS.broader)
        maps = {
            "exactMatch": both(c, SKOS.exactMatch, SKOS.exactMatch),
            "closeMatch": both(c, SKOS.closeMatch, SKOS.closeMatch),
            "relatedMatch": both(c, SKOS.relatedMatch, SKOS.relatedMatch),
            "broadMatch": both(c, SKOS.broadMatch, SKOS.narrowMatch),
            "narrowMatch": both(c, SKOS.narrowMatch, SKOS.broadMatch),
        }
        mappings[iri] = MappingProxyType(maps)
        up[iri] = broader[iri] | maps["broadMatch"] | maps["exactMatch"] | maps["closeMatch"]
        for value in g.objects(c, KAREZ.rank):
            if isinstance(value, Literal) and isinstance(value.toPython(), int):
                rank[iri] = int(value.toPython())
    return _Skos(labels, schemes, broader, narrower, mappings, up, rank)


def concept(iri: str) -> Mapping[str, str] | None:
    """The preferred labels of a concept by language tag (``zh-Hans``, ``en``); ``None`` if
    ``iri`` is not a concept of the profile."""
    return _skos().labels.get(iri)


def concepts(scheme_iri: str | None = None) -> frozenset[str]:
    """Every concept of the profile, or of one scheme (``karez:scheme/cluster``, ...)."""
    s = _skos()
    if scheme_iri is None:
        return frozenset(s.labels)
    return frozenset(c for c, schemes in s.schemes.items() if scheme_iri in schemes)


def schemes_of(iri: str) -> frozenset[str]:
    """The concept schemes ``iri`` is in (``skos:inScheme``)."""
    return _skos().schemes.get(iri, frozenset())


def broader(iri: str) -> frozenset[str]:
    """Direct broader concepts in the same scheme (``skos:broader`` and inverse ``narrower``)."""
    return _skos().broader.get(iri, frozenset())


def narrower(iri: str) -> frozenset[str]:
    """Direct narrower concepts in the same scheme."""
    return _skos().narrower.get(iri, frozenset())


def mapped(iri: str) -> Mapping[str, frozenset[str]]:
    """SKOS mappings of ``iri`` to other schemes, by kind (``exactMatch``, ``closeMatch``,
    ``broadMatch``, ``narrowMatch``, ``relatedMatch``), inverses and symmetry included."""
    found = _skos().mappings.get(iri)
    return found if found is not None else {kind: frozenset() for kind in _MAPPINGS}


@lru_cache(maxsize=4096)
def is_within(concept_iri: str, ancestor_iri: str) -> bool:
    """True if ``concept_iri`` is ``ancestor_iri`` or lies within it.

    Follows broader concepts transitively and, across schemes, exact and close matches (both
    ways) and broad matches, so ``cluster:cotton`` is within ``cluster10:cotton-textiles`` and
    ``cluster:livestock`` within ``cluster10:livestock-fruit-vegetables`` (not the reverse).
    """
    if concept_iri == ancestor_iri:
        return True
    up = _skos().up
    seen = {concept_iri}
    queue = deque([concept_iri])
    while queue:
        for parent in up.get(queue.popleft(), ()):
            if parent == ancestor_iri:
                return True
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return False


def rank(iri: str) -> int | None:
    """The ``karez:rank`` of a concept (data classification levels: core 3 > important 2 >
    general 1); ``None`` for unranked concepts."""
    return _skos().rank.get(iri)


# -- SHACL ------------------------------------------------------------------------------------

_COMPONENT_TEXT = {
    "MinCountConstraintComponent": (
        "needs at least {minCount} value(s)",
        "至少需要 {minCount} 个值",
    ),
    "MaxCountConstraintComponent": (
        "allows at most {maxCount} value(s)",
        "至多允许 {maxCount} 个值",
    ),
    "NodeKindConstraintComponent": ("value must be a {nodeKind}", "值的节点类型须为 {nodeKind}"),
    "DatatypeConstraintComponent": ("value must be a {datatype}", "值的数据类型须为 {datatype}"),
    "ClassConstraintComponent": ("value must be a {class}", "值须为 {class} 的实例"),
    "InConstraintComponent": ("value is not one of the allowed values", "值不在允许的取值中"),
    "PatternConstraintComponent": ("value does not match {pattern}", "值不符合 {pattern}"),
}


@cache
def _own_processor() -> JsonLdProcessor:
    from connector.jsonld import BundledLoader, JsonLdProcessor

    return JsonLdProcessor(BundledLoader(extra={CONTEXT_URL: vocab_dir() / "context.jsonld"}))


def _default_processor() -> JsonLdProcessor:
    """The node's processor if its loader knows the Karez context, else one that does."""
    from connector.jsonld import BundledLoader, default_processor

    node = default_processor()
    if isinstance(node.loader, BundledLoader) and CONTEXT_URL in node.loader.known_urls():
        return node
    return _own_processor()


def _short(node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        text = str(node)
        if text.startswith(_RELATIVE_BASE):
            return text[len(_RELATIVE_BASE) :]
        for prefix, ns in _PREFIXES.items():
            if text.startswith(ns) and len(text) > len(ns):
                return f"{prefix}:{text[len(ns) :]}"
        return text
    if isinstance(node, Literal):
        return (
            repr(str(node)) if node.datatype is None else f"{str(node)!r}^^{_short(node.datatype)}"
        )
    return "(blank node)"


def _path_text(g: Graph, path: Node | None) -> str:
    """A SHACL property path as text: ``dct:license | dcat:distribution/dct:license``."""
    if path is None or isinstance(path, URIRef):
        return _short(path)
    if (path, RDF.first, None) in g:
        return "/".join(_path_text(g, p) for p in Collection(g, path))
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        return " | ".join(_path_text(g, p) for p in Collection(g, alternatives))
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{_path_text(g, inverse)}"
    return "(path)"


def _pick(messages: list[Literal], lang: str) -> str | None:
    for wanted in (lang, "en", None):
        for message in messages:
            if message.language == wanted:
                return str(message)
    return str(messages[0]) if messages else None


def _result_text(report: Graph, result: Node, lang: str) -> str:
    shapes = shapes_graph()
    source = report.value(result, SH.sourceShape)
    own = (
        [m for m in shapes.objects(source, SH.message) if isinstance(m, Literal)] if source else []
    )
    text = _pick(own, lang)
    if text is None:
        component = str(report.value(result, SH.sourceConstraintComponent) or "").rsplit("#", 1)[-1]
        forms = _COMPONENT_TEXT.get(component)
        if forms and source is not None:
            params = {
                str(p).rsplit("#", 1)[-1]: str(o) if isinstance(o, Literal) else _short(o)
                for p, o in shapes.predicate_objects(source)
                if isinstance(o, URIRef | Literal)
            }
            try:
                text = forms[1 if lang.startswith("zh") else 0].format_map(params)
            except KeyError:
                text = None
        if text is None:
            text = str(report.value(result, SH.resultMessage) or component or "invalid")
    path = _path_text(report, report.value(result, SH.resultPath))
    value = report.value(result, SH.value)
    focus = _short(report.value(result, SH.focusNode))
    out = f"{path}: {text}" if path else text
    if value is not None and not isinstance(value, BNode):
        out += f" (value {_short(value)})"
    return f"{out} [dataset {focus}]"


def _to_graph(data: Mapping[str, Any] | list[Any], processor: JsonLdProcessor | None) -> Graph:
    expanded = (processor or _default_processor()).expand(data)  # no @context left to fetch
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        return Graph().parse(data=json.dumps(expanded), format="json-ld", base=_RELATIVE_BASE)


def validate_dataset(
    data: Mapping[str, Any] | list[Any] | Graph,
    *,
    lang: str = "en",
    processor: JsonLdProcessor | None = None,
) -> list[str]:
    """Check a dataset description against DCAT-AP 3 and the Karez dataset shape.

    ``data`` is JSON-LD (compacted or expanded; contexts come from the offline loader, which
    also knows the Karez context) or an rdflib graph. Returns readable messages, one per
    violation, in ``lang`` (``en`` or ``zh-Hans``) where the shape has them; empty if the
    description conforms. JSON-LD that cannot be expanded raises
    :class:`connector.errors.ValidationFailure` (an unknown remote context: ``UnknownContext``).
    """
    from pyshacl import validate

    g = data if isinstance(data, Graph) else _to_graph(data, processor)
    if (None, RDF.type, DCAT.Dataset) not in g:
        return [
            "数据描述中没有 dcat:Dataset。"
            if lang.startswith("zh")
            else "The description has no dcat:Dataset."
        ]
    conforms, report, _ = validate(
        g,
        shacl_graph=shapes_graph(),
        inference="none",
        advanced=False,
        allow_warnings=True,
        allow_infos=True,
        inplace=not isinstance(data, Graph),
    )
    if conforms:
        return []
    assert isinstance(report, Graph)
    results = [
        r
        for r in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(r, SH.resultSeverity) == SH.Violation
    ]
    return sorted({_result_text(report, r, lang) for r in results})
