"""The consumer's inbox on its public port: where a provider pushes into a local folder.

``PUT|POST /inbox/{transferId}[/<relative path>]`` with the inbox token the consumer sent in its
transfer request. The body is written below the transfer's destination folder (a body without a
path is named after the asset); each write answers ``201`` with the file's path, size and
SHA-256, which the transfer records.
"""

from __future__ import annotations

import logging

from aiohttp import web

from connector.api.body import json_response
from connector.controlplane.transfers import TransferManager
from connector.dataplane.inbox import safe_name, write_into
from connector.dataplane.tokens import AccessTokenService
from connector.errors import Forbidden, KarezError

log = logging.getLogger(__name__)
CHUNK = 256 * 1024


def build_inbox_routes(
    tokens: AccessTokenService, transfers: TransferManager, max_bytes: int | None = None
) -> list[web.RouteDef]:
    async def receive(request: web.Request) -> web.Response:
        try:
            transfer_id, provider = tokens.verify_inbox(request.headers.get("Authorization"))
            if transfer_id != request.match_info["tid"]:
                raise Forbidden("the token was issued for another transfer")
            folder, asset_name = await transfers.inbox_folder(transfer_id, provider)
            relative = request.match_info.get("tail") or safe_name(asset_name)
            chunks = request.content.iter_chunked(CHUNK)
            written = await write_into(folder, relative, chunks, max_bytes)
            entry = {"path": written.path, "size": written.size, "sha256": written.sha256}
            await transfers.record_received(transfer_id, entry)
            return json_response(entry, status=201)
        except KarezError as exc:
            log.info("push into the inbox refused (%s): %s", exc.status, exc.message)
            return json_response({"errors": [exc.message]}, status=exc.status)

    return [
        web.route(method, path, receive)
        for method in ("PUT", "POST")
        for path in ("/inbox/{tid}", "/inbox/{tid}/{tail:.+}")
    ]
