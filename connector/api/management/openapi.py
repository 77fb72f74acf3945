"""The Management API's OpenAPI 3.1 document (``openapi.json`` beside this module)."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def _document() -> dict[str, Any]:
    text = files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    return json.loads(text)


def openapi_document(base_path: str) -> dict[str, Any]:
    """The document, with its server set to the base path the API is served under."""
    doc = copy.deepcopy(_document())
    doc["servers"] = [{"url": base_path or "/"}]
    return doc
