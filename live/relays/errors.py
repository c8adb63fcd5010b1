"""Relay errors: the relay said no (``RelayRejected``) or never answered (``RelayUnavailable``).

Sending methods record these in a ``Submission`` instead of raising; queries such as
``eth_callBundle`` raise them, and ``Submission.raise_for_status`` turns a record into one.
"""

from __future__ import annotations

from workbench.errors import WorkbenchError

__all__ = ["RelayError", "RelayRejected", "RelayUnavailable"]


class RelayError(WorkbenchError, RuntimeError):
    """A relay request that did not succeed; names the relay and the method."""

    def __init__(self, relay: str, method: str, message: str) -> None:
        self.relay = relay
        self.method = method
        super().__init__(message)


class RelayRejected(RelayError):
    """The relay answered with an error (bad signature, invalid bundle, unknown method...)."""

    def __init__(self, relay: str, method: str, message: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(relay, method, message)


class RelayUnavailable(RelayError, ConnectionError):
    """No answer after every retry (timeouts, refused connections, 429 and 5xx replies)."""

    def __init__(self, relay: str, method: str, message: str, attempts: list[str]) -> None:
        self.attempts = attempts
        super().__init__(relay, method, message)
