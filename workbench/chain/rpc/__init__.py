"""Lean JSON-RPC clients: HTTP (batching, retries, failover, circuit breakers) and WebSocket.

web3.py stays for ABI encoding and contract objects; these clients serve the hot paths.
"""

from __future__ import annotations

from workbench.chain.rpc.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from workbench.chain.rpc.client import Endpoint, RpcClient
from workbench.chain.rpc.codec import Call, unwrap_batch
from workbench.chain.rpc.retry import RetryPolicy
from workbench.chain.rpc.subscription import Subscription
from workbench.chain.rpc.ws import WsClient
from workbench.errors import RpcError, RpcTransportError

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
