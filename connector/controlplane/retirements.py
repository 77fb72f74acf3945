"""Agreement retirement: an agreement ended before its terms did (Tractus-X's extension).

Retiring refuses every new transfer under the agreement (``agreement_problem`` reads the
retirement), terminates the running ones (the counter-party is told over DSP) and stops their
downloads at once. Reactivating lets new transfers start again; terminated ones stay ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from connector.controlplane.transfers import TransferManager
from connector.domain import AgreementRetirement, ContractAgreement
from connector.errors import Conflict, InvalidStateTransition, NotFound
from connector.protocol.transfer import TransferState as T
from connector.store.base import Store

log = logging.getLogger(__name__)

#: ``(agreement id, reason)``: stop the agreement's running downloads in this process.
StopDownloads = Callable[[str, str], object]
_ENDED = frozenset({T.COMPLETED, T.TERMINATED})


class RetirementService:
    def __init__(
        self, store: Store, transfers: TransferManager, stop_downloads: StopDownloads
    ) -> None:
        self._store = store
        self._transfers = transfers
        self._stop_downloads = stop_downloads

    async def retire(self, entry: AgreementRetirement) -> list[str]:
        """Retire ``entry.id``; returns the ids of the transfers it terminated."""
        async with self._store.session() as s:
            if await s.get(ContractAgreement, entry.id) is None:
                raise NotFound(
                    f"contract agreement {entry.id} not found",
                    path="agreementId",
                    invalid_value=entry.id,
                )
            if await s.get(AgreementRetirement, entry.id) is not None:
                raise Conflict(
                    f"contract agreement {entry.id} is already retired",
                    path="agreementId",
                    invalid_value=entry.id,
                )
            await s.insert(entry)
            running = [
                t for t in await s.transfers_for_agreement(entry.id) if t.state not in _ENDED
            ]
        reason = f"agreement retired: {entry.reason}"
        self._stop_downloads(entry.id, reason)
        terminated = []
        for transfer in running:
            try:
                await self._transfers.command(transfer.id, "terminate", reason=reason)
                terminated.append(transfer.id)
            except (InvalidStateTransition, NotFound):
                log.info("transfer %s could not be terminated (already ending)", transfer.id)
        return terminated

    async def reactivate(self, agreement_id: str) -> None:
        async with self._store.session() as s:
            if not await s.delete(AgreementRetirement, agreement_id):
                raise NotFound(
                    f"contract agreement {agreement_id} is not retired",
                    path="id",
                    invalid_value=agreement_id,
                )

    async def list(self) -> list[AgreementRetirement]:
        async with self._store.session() as s:
            return await s.list(AgreementRetirement)
