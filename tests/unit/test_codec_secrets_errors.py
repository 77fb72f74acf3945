"""Secrets, IdResponse and the EDC error array."""

from __future__ import annotations

import pytest

from connector.errors import NotFound, ValidationFailure
from connector.management_codec import (
    RESPONSE_CONTEXT,
    parse_secret,
    render_error,
    render_exception,
    render_id_response,
    render_secret,
)

EDC = "https://w3id.org/edc/v0.0.1/ns/"


def test_secret_round_trip() -> None:
    secret = parse_secret(
        {"@context": {"@vocab": EDC}, "@type": "Secret", "@id": "s1", "value": "p4ss"}
    )
    assert (secret.id, secret.value) == ("s1", "p4ss")
    assert render_secret(secret) == {
        "@context": RESPONSE_CONTEXT,
        "@id": "s1",
        "@type": "Secret",
        "value": "p4ss",
    }
    assert parse_secret(render_secret(secret)).value == "p4ss"
    assert parse_secret({"value": "x"}).id.startswith("urn:uuid:")


@pytest.mark.parametrize("body", [{"@id": "s"}, {"@id": "s", "value": 5}, {"value": ""}])
def test_secret_value_is_required(body: dict) -> None:
    with pytest.raises(ValidationFailure) as err:
        parse_secret(body)
    assert err.value.path == "value"


def test_id_response() -> None:
    assert render_id_response("asset-1", 1700000000000) == {
        "@context": RESPONSE_CONTEXT,
        "@id": "asset-1",
        "@type": "IdResponse",
        "createdAt": 1700000000000,
    }


def test_error_array() -> None:
    assert render_error(
        [
            ("bad", "ValidationFailure", "dataAddress.type", 5),
            ("gone", "ObjectNotFound", None, None),
        ]
    ) == [
        {
            "message": "bad",
            "type": "ValidationFailure",
            "path": "dataAddress.type",
            "invalidValue": 5,
        },
        {"message": "gone", "type": "ObjectNotFound", "path": None, "invalidValue": None},
    ]
    assert render_error([("odd", "ValidationFailure", None, {1, 2})])[0]["invalidValue"] == (
        "{1, 2}"
    )
    assert render_exception(NotFound("no asset x", path="@id", invalid_value="x")) == [
        {"message": "no asset x", "type": "ObjectNotFound", "path": "@id", "invalidValue": "x"}
    ]
