"""The Karez profile's left operands, resolved from the requester's verified claims and from
facts about the dataset, and widened over the profile's SKOS schemes.

A claimed concept stands for itself and for every concept it lies within: a member of the
nine-cluster ``cluster/cotton`` sub-sector is also in ``cluster10/cotton-textiles``, a party in
the Kashgar free-trade-zone area is also in ``jurisdiction/CN-XJ`` and ``jurisdiction/CN``. So a
policy written against either cluster scheme keeps working, and ``isAnyOf`` / ``isA`` test
membership. Right operands are full concept IRIs (see ``policies/``).

Claims (from the participant list until identity lands): ``clusters`` (list),
``organisationType``, ``jurisdiction``, ``processingLocation``, ``certifications`` (list),
``purposes`` (list: the purposes the participant declared, read by ``odrl:purpose``); each
value a full IRI, a prefixed name (``cluster10:cotton-textiles``) or a bare name.
Dataset facts come from the asset's properties (``karez:classificationLevel``,
``karez:industryCluster``, ``karez:personalInformation``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from rdflib import URIRef

from connector import profile
from connector.domain import KAREZ_NS, ODRL_NS, Asset
from connector.policy import OperandRegistry, RequestContext, default_registry
from connector.policy.actions import ActionTree, odrl_actions
from connector.policy.operands import UNKNOWN

CLUSTER_MEMBERSHIP = KAREZ_NS + "clusterMembership"
ORGANISATION_TYPE = KAREZ_NS + "organisationType"
CONSUMER_JURISDICTION = KAREZ_NS + "consumerJurisdiction"
PROCESSING_LOCATION = KAREZ_NS + "processingLocation"
CERTIFICATION = KAREZ_NS + "certification"
CLASSIFICATION_LEVEL = KAREZ_NS + "classificationLevel"
INDUSTRY_CLUSTER = KAREZ_NS + "industryCluster"
PERSONAL_INFORMATION = KAREZ_NS + "personalInformation"

#: The facts about a dataset the profile's operands read, by asset property IRI.
DATASET_FACTS = (CLASSIFICATION_LEVEL, INDUSTRY_CLUSTER, PERSONAL_INFORMATION)


def concept_iri(value: Any, *prefixes: str) -> str | None:
    """A claimed or stated value as a concept IRI: full, prefixed, or bare (tried under
    ``prefixes`` in order, the first known concept wins)."""
    if isinstance(value, dict):
        value = value.get("@id", value.get("@value"))
    if not isinstance(value, str) or not value:
        return None
    if "://" in value or value.startswith("urn:"):
        return value
    known = profile.context_prefixes()
    head, sep, tail = value.partition(":")
    if sep and head in known:
        return known[head] + tail
    for prefix in prefixes:
        iri = known.get(prefix, "") + value
        if prefix in known and profile.concept(iri) is not None:
            return iri
    return None  # a bare name that is no concept of the profile stays as it was written


@lru_cache(maxsize=4096)
def widened(iri: str) -> frozenset[str]:
    """``iri`` and every concept of the profile it lies within (across schemes too)."""
    return frozenset(
        {iri} | {c for c in profile.concepts() if c != iri and profile.is_within(iri, c)}
    )


def _values(written: Iterable[Any], prefixes: tuple[str, ...], widen: bool) -> Any:
    """What a left operand sees: the values as written (so a policy naming a purpose by a plain
    string still matches) and their concepts, widened where the scheme is hierarchical; one
    value alone stays a single value. ``UNKNOWN`` when nothing was given."""
    written = [w for w in written if w is not None]
    out: set[str] = {w for w in written if isinstance(w, str)}
    for iri in (concept_iri(v, *prefixes) for v in written):
        if iri:
            out |= widened(iri) if widen else {iri}
    if not out:
        return UNKNOWN
    return next(iter(out)) if len(out) == 1 else sorted(out)


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def _claimed(name: str, *prefixes: str, widen: bool = True):  # noqa: ANN202
    def resolve(ctx: RequestContext) -> Any:
        return _values(_many(ctx.claims.get(name)), prefixes, widen)

    return resolve


def _fact(iri: str, *prefixes: str, widen: bool = True):  # noqa: ANN202
    def resolve(ctx: RequestContext) -> Any:
        return _values(_many(ctx.values.get(iri)), prefixes, widen)

    return resolve


def _purpose(ctx: RequestContext) -> Any:
    """The purpose the request states, else the purposes the requester declared (claims)."""
    if ctx.purpose:
        return _values([ctx.purpose], ("purposes",), True)
    return _claimed("purposes", "purposes")(ctx)


def _processing_location(ctx: RequestContext) -> Any:
    stated = _fact(PROCESSING_LOCATION, "jurisdiction")(ctx)
    if stated is not UNKNOWN:
        return stated
    return _claimed("processingLocation", "jurisdiction")(ctx)


@lru_cache(maxsize=1)
def profile_registry() -> OperandRegistry:
    """The default ODRL resolvers plus the Karez profile's."""
    registry = default_registry().copy()
    registry.register(ODRL_NS + "purpose", _purpose)
    registry.register(CLUSTER_MEMBERSHIP, _claimed("clusters", "cluster10", "cluster"))
    registry.register(ORGANISATION_TYPE, _claimed("organisationType", "orgtype"))
    registry.register(CONSUMER_JURISDICTION, _claimed("jurisdiction", "jurisdiction"))
    registry.register(PROCESSING_LOCATION, _processing_location)
    registry.register(CERTIFICATION, _claimed("certifications", "cert", widen=False))
    registry.register(CLASSIFICATION_LEVEL, _fact(CLASSIFICATION_LEVEL, "level", widen=False))
    registry.register(INDUSTRY_CLUSTER, _fact(INDUSTRY_CLUSTER, "cluster10", "cluster"))
    registry.register(PERSONAL_INFORMATION, _fact(PERSONAL_INFORMATION, "pi", widen=False))
    return registry


@lru_cache(maxsize=1)
def profile_actions() -> ActionTree:
    """ODRL's action hierarchy plus the profile's actions (``odrl:includedIn`` in karez.ttl):
    the three data rights and the ``anonymize`` and ``compute`` duties."""
    tree = odrl_actions().copy()
    graph = profile.graph()
    for action, parent in graph.subject_objects(URIRef(ODRL_NS + "includedIn")):
        if str(action).startswith(KAREZ_NS):
            tree.add(str(action), str(parent))
    return tree


def dataset_facts(asset: Asset | None) -> dict[str, Any]:
    """The asset properties the profile's operands read, for ``RequestContext.values``."""
    if asset is None:
        return {}
    return {iri: asset.properties[iri] for iri in DATASET_FACTS if iri in asset.properties}
