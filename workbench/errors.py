"""One root error for the workbench; each subclass carries its data and says what to do.

Like web3.py, errors also inherit the matching built-in (``ValueError``, ``RuntimeError``,
``ConnectionError``...) so callers can catch either.
"""

from __future__ import annotations

from typing import Any


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose."""


class ConfigError(WorkbenchError, ValueError):
    """Bad user input or configuration; the message says how to fix it."""


class ToolMissingError(WorkbenchError, RuntimeError):
    """A required external tool (anvil, forge, solcjs, an npm artifact) is not installed."""

    def __init__(self, tool: str, looked_at: str, fix: str = "run `make setup`") -> None:
        self.tool = tool
        self.looked_at = looked_at
        self.fix = fix
        super().__init__(f"{tool} not found (looked at {looked_at}); {fix}")


class AnvilError(WorkbenchError, RuntimeError):
    """Anvil failed to start or died; carries the tail of its log."""

    def __init__(self, message: str, log_tail: str = "", log_path: str | None = None) -> None:
        self.log_tail = log_tail
        self.log_path = log_path
        text = message
        if log_path:
            text += f" (log: {log_path})"
        if log_tail:
            text += "\n--- anvil log tail ---\n" + log_tail
        super().__init__(text)


class RpcError(WorkbenchError, RuntimeError):
    """A JSON-RPC error object returned by a node: ``code``, ``message`` and optional ``data``."""

    def __init__(
        self, code: int, message: str, data: Any = None, method: str | None = None
    ) -> None:
        self.code = code
        self.message = message
        self.data = data
        self.method = method
        where = f"{method}: " if method else ""
        extra = f" (data: {data!r})" if data is not None else ""
        super().__init__(f"{where}RPC error {code}: {message}{extra}")


class RpcTransportError(WorkbenchError, ConnectionError):
    """The request could not be completed: connection, timeout, HTTP status, malformed reply.

    Raised after retries and failover are exhausted; ``attempts`` lists what each try saw.
    """

    def __init__(self, message: str, attempts: list[str] | None = None) -> None:
        self.attempts = attempts or []
        text = message
        if self.attempts:
            text += "\n" + "\n".join(f"  attempt {i + 1}: {a}" for i, a in enumerate(self.attempts))
        super().__init__(text)


class ContractError(WorkbenchError, LookupError):
    """A contract artifact is missing or malformed."""


class DeploymentError(WorkbenchError, RuntimeError):
    """Deploying a market spec onto a chain failed (a transaction reverted or a spec is invalid)."""


class MarketError(WorkbenchError, ValueError):
    """A quote or state transition that the pool cannot perform (bad token, bad amount...)."""


class InsufficientLiquidityError(MarketError):
    """The pool cannot provide the requested output (exact-output swaps, empty pools)."""


class NotAPoolError(MarketError):
    """The address is not a Uniswap V2 pair or V3 pool (of the kind asked for) at that block."""

    def __init__(self, address: str, block: int, reason: str) -> None:
        self.address = address
        self.block = block
        super().__init__(f"{address} at block {block}: {reason}")


class DatasetError(WorkbenchError, ValueError):
    """A dataset is missing, corrupt, or would be made inconsistent; names the file and why."""
