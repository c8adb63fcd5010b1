"""Lean JSON-RPC clients: HTTP (batching, retries, failover, circuit breakers) and WebSocket.

web3.py stays for ABI encoding and contract objects; these clients serve the hot paths.
"""

from __future__ import annotations

from workbench.errors import RpcError, RpcTransportError
from workbench.rpc.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from workbench.rpc.client import Endpoint, RpcClient
from workbench.rpc.codec import Call, unwrap_batch
from workbench.rpc.retry import RetryPolicy
from workbench.rpc.subscription import Subscription
from workbench.rpc.ws import WsClient

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "Call",
    "CircuitBreaker",
    "Endpoint",
    "RetryPolicy",
    "RpcClient",
    "RpcError",
    "RpcTransportError",
    "Subscription",
    "WsClient",
    "unwrap_batch",
]
