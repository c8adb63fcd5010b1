"""What a strategy asks for. The execution layer turns an intent into a bundle (signed
transactions calling Executor.sol); the strategy never builds or sends transactions."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigError
from workbench.market.graph import Cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class ArbIntent:
    """Trade ``amount_in`` of the cycle's base token around ``cycle``.

    ``expected_profit`` is the screening (exact math) profit before gas and bid; the bundle
    reverts unless the Executor ends with at least ``min_profit`` more of the base token and
    every hop outputs at least its ``hop_min_outs`` entry (none if empty).
    ``bid_bps`` of the realised profit goes to the block's coinbase (the builder bid), on top
    of ``priority_fee`` per gas. ``after_tx`` makes it a backrun: it must land right after
    that pending transaction.
    """

    strategy: str
    cycle: Cycle
    amount_in: int
    expected_profit: int
    min_profit: int
    gas_estimate: int
    bid_bps: int = 0
    priority_fee: int = 0
    after_tx: str | None = None
    hop_min_outs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.amount_in <= 0:
            raise ConfigError(f"amount_in must be positive, got {self.amount_in}")
        if not 0 <= self.bid_bps <= 10_000:
            raise ConfigError(f"bid_bps must be in [0, 10000], got {self.bid_bps}")
        if self.min_profit < 0 or self.priority_fee < 0 or self.gas_estimate <= 0:
            raise ConfigError("min_profit and priority_fee must be >= 0 and gas_estimate > 0")
        if self.hop_min_outs and len(self.hop_min_outs) != len(self.cycle.hops):
            raise ConfigError("hop_min_outs needs one minimum per hop of the cycle")

    @property
    def key(self) -> str:
        """Identifies the opportunity (route and target), to dedupe and to match outcomes."""
        return f"{self.cycle.id}@{self.after_tx}" if self.after_tx else self.cycle.id

    def net_profit(self, base_fee: int) -> int:
        """Expected profit after the bid and gas at ``base_fee`` + ``priority_fee`` (wei of the
        base token, which must be WETH for the gas to be comparable)."""
        bid = self.expected_profit * self.bid_bps // 10_000
        return self.expected_profit - bid - self.gas_estimate * (base_fee + self.priority_fee)


Intent = ArbIntent
"""Every intent type (a union as more kinds arrive, e.g. liquidations)."""
