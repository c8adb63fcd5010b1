"""Lean JSON-RPC client: persistent HTTP connections, batching, typed errors."""

from __future__ import annotations

from workbench.chain.rpc.client import RpcClient
from workbench.chain.rpc.codec import Call
from workbench.errors import RpcError, RpcTransportError

__all__ = ["Call", "RpcClient", "RpcError", "RpcTransportError"]
