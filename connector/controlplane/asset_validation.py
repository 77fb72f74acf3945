"""Dataset metadata checks on asset create and update: DCAT-AP 3 plus the Karez profile's SHACL
shapes (``vocab/shapes``).

Which assets are checked is the node's ``asset_validation`` setting:
``profile`` (the default) checks an asset that describes itself with DCAT or the Karez profile
(any ``dct:``, ``dcat:`` or ``karez:`` property), so an EDC client's minimal asset is still
accepted; ``always`` checks every asset; ``off`` checks none.
"""

from __future__ import annotations

import asyncio
from typing import Any

from connector import profile
from connector.domain import EDC_NS, KAREZ_NS, Asset, Json
from connector.errors import ValidationFailure

DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset"
_DESCRIBING = (KAREZ_NS, "http://purl.org/dc/terms/", "http://www.w3.org/ns/dcat#")
MODES = ("profile", "always", "off")


def describes_itself(asset: Asset) -> bool:
    return any(key.startswith(_DESCRIBING) for key in asset.properties)


def dataset_jsonld(asset: Asset) -> Json:
    """The asset's public properties as a ``dcat:Dataset`` node (full IRIs, no context)."""
    node: dict[str, Any] = {"@id": asset.id, "@type": DCAT_DATASET}
    for key, value in asset.properties.items():
        if key.startswith("@") or key == "id":
            continue
        node[key if ":" in key else EDC_NS + key] = value
    return node


class AssetValidator:
    def __init__(self, mode: str = "profile") -> None:
        if mode not in MODES:
            raise ValidationFailure(
                f"asset_validation must be one of {', '.join(MODES)}", path="asset_validation"
            )
        self.mode = mode

    def applies(self, asset: Asset) -> bool:
        return self.mode == "always" or (self.mode == "profile" and describes_itself(asset))

    async def check(self, asset: Asset) -> None:
        """Refuse an asset whose description breaks the shapes, with their messages."""
        if not self.applies(asset):
            return
        # pyshacl is CPU work of several milliseconds: keep it off the event loop
        problems = await asyncio.to_thread(profile.validate_dataset, dataset_jsonld(asset))
        if problems:
            raise ValidationFailure(
                "the asset's dataset description does not conform to the Karez profile: "
                + "; ".join(problems),
                path="properties",
                reasons=problems,
            )
