"""The Dataspace Protocol 2025-1, sans-IO: messages, schema validation, state machines, paths.

- ``validation``: the official JSON Schemas, checked offline (``schemacheck`` compiles them).
- ``messages``: builders for every message, and ``parse`` for every body received.
- ``negotiation`` / ``transfer``: the state machines (on the table engine in ``machine``).
- ``binding``: the HTTPS binding's paths and ``join_url``.

No network, sockets or aiohttp here; the only I/O is reading the bundled schemas once.
"""
