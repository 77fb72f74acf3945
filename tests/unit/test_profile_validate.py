"""connector.profile.validate_dataset: DCAT-AP 3 plus the Karez dataset shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rdflib import Graph

from connector import profile
from connector.errors import UnknownContext

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
FREQ = "http://publications.europa.eu/resource/authority/frequency/"

VALID: dict[str, Any] = {
    "@context": [DSP_CONTEXT, profile.CONTEXT_URL],
    "@id": "urn:uuid:6f1c2a9e-3d4b-4e8f-9a0b-1c2d3e4f5a6b",
    "@type": "Dataset",
    "dct:title": [
        {"@value": "县级棉花产量", "@language": "zh-Hans"},
        {"@value": "Cotton output by county", "@language": "en"},
    ],
    "dct:description": {"@value": "Monthly cotton output of Xinjiang counties", "@language": "en"},
    "classificationLevel": "level:general",
    "industryCluster": ["cluster:cotton", "cluster10:cotton-textiles"],
    "personalInformation": [],
    "dct:accrualPeriodicity": {"@id": FREQ + "MONTHLY"},
    "dct:publisher": {"@id": "did:web:provider.example"},
    "dct:license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
    "dct:issued": {"@value": "2025-03-01", "@type": "xsd:date"},
}

VALID_TURTLE = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix karez: <https://w3id.org/karez/ns/> .
<urn:example:ds> a dcat:Dataset ;
    dct:title "Fruit prices"@en ; dct:description "Daily wholesale prices"@en ;
    karez:classificationLevel <https://w3id.org/karez/ns/level/important> ;
    karez:industryCluster <https://w3id.org/karez/ns/cluster/fruit> ;
    karez:personalInformation <https://w3id.org/karez/ns/pi/personal> ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/DAILY> ;
    dct:publisher <did:web:market.example> ;
    dcat:distribution [ a dcat:Distribution ;
        dct:license <https://creativecommons.org/licenses/by/4.0/> ] .
"""


def changed(**edits: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    for key, value in edits.items():
        key = key.replace("__", ":")
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def test_a_valid_dataset_conforms() -> None:
    assert profile.validate_dataset(VALID) == []


def test_a_valid_graph_with_the_licence_on_its_distribution_conforms() -> None:
    assert profile.validate_dataset(Graph().parse(data=VALID_TURTLE, format="turtle")) == []


def test_a_relative_id_is_kept_in_messages() -> None:
    messages = profile.validate_dataset(changed(**{"@id": "asset-1", "classificationLevel": None}))
    assert len(messages) == 1 and messages[0].endswith("[dataset asset-1]")


def test_missing_classification_level() -> None:
    messages = profile.validate_dataset(changed(classificationLevel=None))
    assert messages == [
        "karez:classificationLevel: A dataset needs exactly one data classification level "
        "(GB/T 43697-2024): level:core, level:important or level:general. "
        f"[dataset {VALID['@id']}]"
    ]


def test_two_classification_levels() -> None:
    messages = profile.validate_dataset(
        changed(classificationLevel=["level:general", "level:important"])
    )
    assert len(messages) == 1 and "exactly one data classification level" in messages[0]


def test_unknown_classification_level() -> None:
    messages = profile.validate_dataset(changed(classificationLevel="level:secret"))
    assert len(messages) == 1
    assert messages[0].startswith("karez:classificationLevel: Unknown data classification level")
    assert "(value karez:level/secret)" in messages[0]


def test_unknown_cluster() -> None:
    messages = profile.validate_dataset(changed(industryCluster=["cluster:cotton", "cluster:tea"]))
    assert len(messages) == 1
    assert messages[0].startswith("karez:industryCluster: Unknown industry cluster")
    assert "(value karez:cluster/tea)" in messages[0]


def test_missing_cluster() -> None:
    messages = profile.validate_dataset(changed(industryCluster=None))
    assert len(messages) == 1 and "at least one industry cluster" in messages[0]


def test_no_licence() -> None:
    messages = profile.validate_dataset(changed(dct__license=None))
    assert messages == [
        "dct:license | dcat:distribution/dct:license: A dataset needs a licence (dct:license) "
        f"on the dataset or on its distributions. [dataset {VALID['@id']}]"
    ]


def test_a_licence_given_as_text_is_refused() -> None:
    messages = profile.validate_dataset(changed(dct__license="CC-BY-4.0"))
    assert len(messages) == 1 and "licence document given by IRI" in messages[0]


def test_update_frequency_must_come_from_the_eu_table() -> None:
    assert "update frequency" in profile.validate_dataset(changed(dct__accrualPeriodicity=None))[0]
    odd = changed(dct__accrualPeriodicity={"@id": "https://example.org/sometimes"})
    assert "update frequency" in profile.validate_dataset(odd)[0]


def test_missing_provider() -> None:
    messages = profile.validate_dataset(changed(dct__publisher=None))
    assert len(messages) == 1 and "provider (dct:publisher)" in messages[0]


def test_unknown_personal_information_category() -> None:
    messages = profile.validate_dataset(changed(personalInformation="pi:shoe-size"))
    assert len(messages) == 1 and "Unknown personal information category" in messages[0]


def test_bad_issued_date() -> None:
    messages = profile.validate_dataset(changed(dct__issued="last spring"))
    assert len(messages) == 1 and "(value 'last spring')" in messages[0]


def test_dcat_ap_rules_without_messages_get_readable_ones() -> None:
    messages = profile.validate_dataset(changed(dct__title=None, dct__description=None))
    assert f"dct:title: needs at least 1 value(s) [dataset {VALID['@id']}]" in messages
    assert f"dct:description: needs at least 1 value(s) [dataset {VALID['@id']}]" in messages


def test_several_problems_give_one_message_each() -> None:
    bad = changed(classificationLevel=None, industryCluster="cluster:tea", dct__license=None)
    messages = profile.validate_dataset(bad)
    assert len(messages) == 3
    assert [m.split(":", 2)[1] for m in messages] == [
        "license | dcat",
        "classificationLevel",
        "industryCluster",
    ]


def test_messages_in_chinese() -> None:
    messages = profile.validate_dataset(changed(classificationLevel=None), lang="zh-Hans")
    assert messages == [
        "karez:classificationLevel: 数据集须有且仅有一个数据级别（GB/T 43697-2024）："
        "level:core、level:important 或 level:general。"
        f" [dataset {VALID['@id']}]"
    ]
    messages = profile.validate_dataset(changed(dct__title=None), lang="zh-Hans")
    assert messages == [f"dct:title: 至少需要 1 个值 [dataset {VALID['@id']}]"]


def test_a_description_without_a_dataset_is_refused() -> None:
    doc = {"@context": profile.CONTEXT_URL, "@id": "urn:x", "classificationLevel": "level:core"}
    assert profile.validate_dataset(doc) == ["The description has no dcat:Dataset."]


def test_an_unknown_remote_context_is_an_error() -> None:
    with pytest.raises(UnknownContext):
        profile.validate_dataset({"@context": "https://example.org/ctx.jsonld", "@type": "x"})


def test_repeated_validations_with_warm_caches_give_the_same_answers() -> None:
    """Shapes and contexts are cached after the first call; later calls must not reuse a
    previous document's findings."""
    bad = changed(classificationLevel=None, industryCluster="cluster:tea")
    first_bad = profile.validate_dataset(bad)
    assert len(first_bad) == 2
    for _ in range(5):
        assert profile.validate_dataset(VALID) == []
        assert profile.validate_dataset(bad) == first_bad
