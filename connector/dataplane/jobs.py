"""Push and stream jobs: each moves the data of one started transfer to the consumer.

A job reads a public data plane with an access token for the transfer (so the agreement is
checked and the access watch applies, as for a pull) and streams each body to the consumer's
endpoint with the credentials the consumer gave. Success reports the SHA-256 of what was sent;
failure while the transfer is still STARTED reports the reason; a suspension or termination
meanwhile simply ends the job (the access watch cut the read). Jobs talk to the control plane
through :class:`PushControl`: in one process directly (``connector.push_jobs``), from a
separate data plane over the control API (:mod:`connector.dataplane.remote_push`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import aiohttp

from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.push import Destination, push
from connector.dataplane.stream import APPENDS, FOLDER, ROWS, Source, stream_round
from connector.errors import KarezError, ValidationFailure
from connector.protocol import messages as m

log = logging.getLogger(__name__)
#: The streaming transfer type (pushes that go on while STARTED).
STREAM_TYPE = "HttpData-STREAM"
STREAM_UNSUPPORTED = (
    "streaming needs a folder, a SqlTable with a keyColumn, or a file as its source"
)
Json = dict[str, Any]
#: How a stream may read its source (see :mod:`connector.dataplane.stream`).
STREAM_KINDS = (FOLDER, ROWS, APPENDS)


@dataclass
class PushSpec:
    """What a push job needs: where to send, what the source is, how far a stream got."""

    transfer_id: str
    transfer_type: str
    push_address: Json
    folder: bool = False
    stream: dict[str, Any] | None = None  # kind, name, fmt, keyColumn (streams only)
    cursor: Json = field(default_factory=dict)

    def to_json(self) -> Json:
        return {
            "transferType": self.transfer_type,
            "pushAddress": self.push_address,
            "folder": self.folder,
            "stream": self.stream,
            "cursor": self.cursor,
        }

    @classmethod
    def from_json(cls, transfer_id: str, body: Json) -> PushSpec:
        """The spec a start signal carries; ``ValidationFailure`` naming the field if it is
        malformed (so nothing is started)."""
        transfer_type, address = body.get("transferType"), body.get("pushAddress")
        stream, cursor = body.get("stream"), body.get("cursor") or {}
        if not isinstance(transfer_type, str) or not transfer_type:
            raise _bad("transferType", "a transfer type")
        if not isinstance(address, dict):
            raise _bad("pushAddress", "an object")
        if not isinstance(cursor, dict):
            raise _bad("cursor", "an object")
        if stream is not None:
            if not isinstance(stream, dict) or stream.get("kind") not in STREAM_KINDS:
                raise _bad("stream", f"an object whose kind is one of {', '.join(STREAM_KINDS)}")
            if not isinstance(stream.get("name"), str) or not all(
                isinstance(stream.get(k, ""), str | None) for k in ("fmt", "keyColumn")
            ):
                raise _bad("stream", "an object with a name (and fmt, keyColumn as strings)")
        return cls(
            transfer_id, transfer_type, address, bool(body.get("folder")), stream, dict(cursor)
        )


def _bad(field_name: str, expected: str) -> ValidationFailure:
    return ValidationFailure(f"push.{field_name} must be {expected}", path=f"push.{field_name}")


class PushControl(Protocol):
    """What push jobs ask of, and report to, the control plane."""

    async def spec(self, transfer_id: str) -> PushSpec | None: ...

    async def token(self, transfer_id: str) -> str: ...

    async def done(self, transfer_id: str, byte_size: int, sha256: str | None) -> None: ...

    async def failed(self, transfer_id: str, reason: str) -> None: ...

    async def progress(self, transfer_id: str, cursor: Json, byte_size: int) -> bool: ...


def destination_of(push_address: dict[str, Any]) -> Destination:
    """The HTTP endpoint, headers and method a DSP push DataAddress names."""
    props = m.endpoint_properties(push_address)
    headers = {}
    value = props.get("authorization")
    if value:
        name = props.get("authKey") or "Authorization"
        if props.get("authType", "").lower() == "bearer" and not value.startswith("Bearer "):
            value = f"Bearer {value}"
        headers[name] = value
    method = (props.get("method") or "POST").upper()
    if method not in ("POST", "PUT"):
        method = "POST"
    return Destination(str(push_address["endpoint"]), headers, method)


class PushJobs:
    def __init__(
        self,
        control: PushControl,
        http: aiohttp.ClientSession,
        public_url: str,
        watch: AccessWatch,
        poll_s: float = 1.0,
    ) -> None:
        self._control = control
        self._http = http
        self._public_url = public_url  # the public data plane the jobs read
        self._watch = watch
        self._poll_s = poll_s  # how often a stream looks for new data when nothing came
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # started again while the previous job still ran

    def start(self, transfer_id: str) -> None:
        """Run the push of ``transfer_id``. While a job for it still winds down (a suspended
        push whose destination is slow to notice), the new one runs right after it."""
        running = self._jobs.get(transfer_id)
        if running is not None and not running.done():
            self._again.add(transfer_id)
            return
        self._jobs[transfer_id] = asyncio.create_task(self._run(transfer_id))

    def running(self, transfer_id: str) -> bool:
        """Whether a job moves ``transfer_id``'s data now."""
        job = self._jobs.get(transfer_id)
        return job is not None and not job.done()

    def _finished(self, transfer_id: str) -> None:
        self._jobs.pop(transfer_id, None)
        if transfer_id in self._again:
            self._again.discard(transfer_id)
            self.start(transfer_id)

    async def close(self) -> None:
        self._again.clear()
        for task in list(self._jobs.values()):
            task.cancel()
        for task in list(self._jobs.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._jobs.clear()

    async def _run(self, transfer_id: str) -> None:
        try:
            spec = await self._control.spec(transfer_id)
            if spec is None:
                return
            if spec.transfer_type == STREAM_TYPE:
                await self._stream(spec)
            else:
                await self._push(spec)
        except Exception:
            log.exception("push of transfer %s failed", transfer_id)
            with contextlib.suppress(Exception):
                await self._control.failed(transfer_id, "push failed: internal error")
        finally:
            self._finished(transfer_id)

    async def _push(self, spec: PushSpec) -> None:
        tid = spec.transfer_id
        try:
            result = await push(
                self._http,
                self._public_url,
                await self._control.token(tid),
                destination_of(spec.push_address),
                folder=spec.folder,
            )
        except KarezError as exc:
            cut = self._watch.ended(tid)
            if cut is not None:  # access ended (suspended, terminated, retired): not a failure
                log.info("push of transfer %s stopped: %s", tid, cut)
                return
            log.info("push of transfer %s failed: %s", tid, exc.message)
            await self._control.failed(tid, f"push failed: {exc.message}")
            return
        log.info("push of transfer %s done: %d bytes", tid, result.bytes)
        await self._control.done(tid, result.bytes, result.sha256)

    async def _stream(self, spec: PushSpec) -> None:
        """Rounds of :func:`stream_round` until the transfer leaves STARTED."""
        tid = spec.transfer_id
        if spec.stream is None:
            await self._control.failed(tid, STREAM_UNSUPPORTED)
            return
        source = Source(
            self._public_url,
            "",
            spec.stream["kind"],
            spec.stream["name"],
            spec.stream.get("fmt", "csv"),
            spec.stream.get("keyColumn"),
        )
        destination = destination_of(spec.push_address)
        cursor = dict(spec.cursor)
        while True:
            source = replace(source, token=await self._control.token(tid))  # tokens expire
            try:
                cursor, sent = await stream_round(self._http, source, destination, cursor)
            except KarezError as exc:
                if self._watch.ended(tid) is None:
                    await self._control.failed(tid, f"stream failed: {exc.message}")
                return
            if not await self._control.progress(tid, cursor, sent):
                return
            if sent == 0:
                await asyncio.sleep(self._poll_s)
