"""Token safety: is a token safe to trade (no fee on transfer, sells not blocked)?

The risk manager asks a ``TokenSafety`` once per token, before the token's first use, and
caches the answer. The live runner plugs in a checker that simulates a buy and a sell on an
Anvil fork; ``InMemoryTokenSafety`` answers from a fixed table (tests, static lists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from eth_utils import keccak

from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.transact import describe_revert, revert_data
from workbench.errors import ConfigError, RpcError, WorkbenchError
from workbench.market.pool import Pool
from workbench.market.uniswap_v2 import UNISWAP_V2
from workbench.market.venue import venue_of


@runtime_checkable
class TokenSafety(Protocol):
    def check(self, token: str) -> str | None:
        """Why ``token`` (lowercase address) is unsafe to trade, or None if it is safe.

        May raise a ``WorkbenchError`` when it cannot tell (node down): the risk manager then
        rejects the intent without caching, so the token is checked again next time."""
        ...


class InMemoryTokenSafety:
    """Unsafe tokens from a table (address -> reason); every other token is safe. Records
    each token it was asked about in ``calls``, so tests can see the caching."""

    def __init__(self, unsafe: Mapping[str, str] | None = None) -> None:
        self.unsafe = {token.lower(): reason for token, reason in (unsafe or {}).items()}
        self.calls: list[str] = []

    def check(self, token: str) -> str | None:
        self.calls.append(token)
        return self.unsafe.get(token.lower())


GAS = 2_000_000  # per probe transfer: taxed or reflecting tokens spend far more than 50k
GAS_ETH = 10 * 10**18  # given to each sender for gas, inside the snapshot


class TokenSafetyError(WorkbenchError, RuntimeError):
    """The simulation could not tell whether a token is safe (try again later)."""


class _Unsafe(Exception):
    """The verdict, raised from inside the simulation."""


class SimulatedTokenSafety:
    """Buys and sells a probe amount of the token on the follower Anvil, then reverts.

    The "buy" is a ``transfer`` from a pool that holds the token (impersonated) to a fresh
    address, the "sell" a transfer of what arrived back to the pool: either reverting, or
    either side receiving other than what was sent, makes the token unsafe. Everything runs
    inside ``evm_snapshot``/``evm_revert``, so the node's chain is left as it was; it works
    with or without automine (a block is mined when a transfer is still pending).

    ``node`` and ``pools`` (the market's pool states by lowercase address) may be callables,
    read at each check, since the runner may replace its follower. A V2 pair with ``weth``
    is preferred as the holder, then any V2 pair, then a V3 pool. ``probe`` is the amount
    moved (default: 1/1000 of the holder's balance, at least 1). ``trader`` is who buys and
    sells: the runner's Executor, so that a token that treats that address (a contract) apart
    is caught (default: a fresh address per token). Not thread-safe with other
    users of the node: call it where the follower is not mining (the engine's thread).
    """

    def __init__(
        self,
        node: AnvilControl | Callable[[], AnvilControl],
        pools: Mapping[str, Pool] | Callable[[], Mapping[str, Pool]],
        *,
        weth: str,
        probe: int | None = None,
        trader: str | None = None,
    ) -> None:
        if probe is not None and probe <= 0:
            raise ConfigError(f"probe must be a positive token amount, got {probe}")
        self._node = node
        self._pools = pools
        self.weth = weth.lower()
        self.probe = probe
        self.trader = trader.lower() if trader else None

    @property
    def node(self) -> AnvilControl:
        return self._node if isinstance(self._node, AnvilControl) else self._node()

    @property
    def pools(self) -> Mapping[str, Pool]:
        return self._pools if isinstance(self._pools, Mapping) else self._pools()

    def check(self, token: str) -> str | None:
        token = token.lower()
        if token == self.weth:
            return None
        holders = self._holders(token)
        if not holders:
            return "no pool of the market holds it"
        node = self.node
        snap = node.snapshot()
        try:
            self._simulate(node, token, holders)
        except _Unsafe as verdict:
            return str(verdict)
        finally:
            node.revert(snap)
            node.rpc.call("anvil_dropAllTransactions")  # nothing of the probe stays pending
        return None

    def _holders(self, token: str) -> list[str]:
        """The addresses of the pools trading ``token``, best first."""

        def rank(pool: Pool) -> int:
            v2 = venue_of(pool) is UNISWAP_V2
            with_weth = self.weth in {t.lower() for t in pool.tokens}
            return 0 if v2 and with_weth else 1 if v2 else 2

        pools = [p for p in self.pools.values() if token in {t.lower() for t in p.tokens}]
        return [p.address.lower() for p in sorted(pools, key=rank)]

    def _simulate(self, node: AnvilControl, token: str, holders: list[str]) -> None:
        balances = ((h, _balance(node, token, h)) for h in holders)
        pool, held = next(((h, b) for h, b in balances if b > 0), (None, 0))
        if pool is None:
            raise TokenSafetyError(
                f"token {token}: the market's pools ({', '.join(holders)}) hold none of it; "
                "nothing to probe with"
            )
        amount = min(self.probe, held) if self.probe is not None else max(held // 1000, 1)
        buyer = self.trader or _fresh_address(token)
        before = _balance(node, token, buyer)
        if why := _transfer(node, token, pool, buyer, amount):
            raise _Unsafe(f"transfers from the pool revert: {why}")
        received = _balance(node, token, buyer) - before
        if received != amount:
            raise _Unsafe(f"fee on transfer: sent {amount}, received {received}")
        before = _balance(node, token, pool)
        if why := _transfer(node, token, buyer, pool, received):
            raise _Unsafe(f"sells are blocked: {why}")
        returned = _balance(node, token, pool) - before
        if returned != received:
            raise _Unsafe(
                f"fee on transfer when selling: sent {received}, the pool received {returned}"
            )


def _fresh_address(token: str) -> str:
    """An address nobody uses, one per token."""
    return "0x" + keccak(b"workbench token safety probe " + token.encode())[12:].hex()


def _balance(node: AnvilControl, token: str, who: str) -> int:
    call = {"to": token, "data": "0x" + encode_call("TestERC20", "balanceOf", [who]).hex()}
    try:
        reply = node.rpc.call("eth_call", [call, "latest"])
    except RpcError as err:
        if not _reverted(err):
            raise
        raise _Unsafe(f"balanceOf reverts: {describe_revert(revert_data(err))}") from None
    if len(reply) < 66:
        raise _Unsafe(f"balanceOf returns {reply!r}, not a uint256")
    return int(decode_result("TestERC20", "balanceOf", reply)[0])


def _transfer(node: AnvilControl, token: str, sender: str, to: str, amount: int) -> str | None:
    """Has ``sender`` (impersonated, given ETH for gas) transfer ``amount`` of ``token`` to
    ``to`` in a mined block; why it failed, or None."""
    rpc = node.rpc
    data = "0x" + encode_call("TestERC20", "transfer", [to, amount]).hex()
    tx = {"from": sender, "to": token, "data": data, "gas": hex(GAS)}
    try:  # first as a call: the revert reason, and a transfer that returns false
        reply = rpc.call("eth_call", [tx, "latest"])
    except RpcError as err:
        if not _reverted(err):
            raise
        return describe_revert(revert_data(err))
    if len(reply) >= 66 and int(reply[2:66], 16) == 0:
        return "transfer returned false"
    node.impersonate(sender)
    try:
        node.set_balance(sender, int(rpc.call("eth_getBalance", [sender, "latest"]), 16) + GAS_ETH)
        tx_hash = rpc.call("eth_sendTransaction", [tx])
        receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:  # no automine (the follower): mine it ourselves
            node.mine()
            receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
    finally:
        node.stop_impersonating(sender)
    if receipt is None:
        raise TokenSafetyError(f"the probe transfer {tx_hash} was not mined")
    if int(receipt["status"], 16) != 1:
        return f"reverted when mined in tx {tx_hash} (not in a call)"
    return None


def _reverted(err: RpcError) -> bool:
    return bool(revert_data(err)) or "revert" in err.message.lower()
