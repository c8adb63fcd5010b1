"""The live runner's settings: a ``live.toml`` file and command-line options over it.

```toml
rpc = "http://127.0.0.1:8545"
ws = "ws://127.0.0.1:8545"
strategy = "backrun_arb"
market = "market.json"          # the pools to watch (a DeployedMarket file)
capital_cap = "2"               # in the base token (WETH), decimal; 18 decimals
mode = "shadow"                 # or "live" (also needs --send-real-transactions)
relays = ["flashbots", "http://127.0.0.1:9545"]
keystore = "keys/searcher.json" # live: the funds key (password: WORKBENCH_KEYSTORE_PASSWORD)
identity = "keys/identity.json" # live: the relay-signing identity (created if missing;
                                #   password: WORKBENCH_IDENTITY_PASSWORD)
executor = "0x..."              # live: our Executor contract, owned by the keystore's account
state_dir = ".workbench-live"   # nonces and the risk state (losses, bundles in flight)
status_port = 9464              # /health /status /metrics /events (0: any free port)
confirmations = 12              # blocks on top before PnL and losses are final (reorg depth)

[strategy_config]               # the strategy's config fields
min_net_profit = 1000000000000000

[risk]                          # live.risk.RiskLimits fields besides capital_cap (wei)
per_trade_cap = 1000000000000000000
```
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from live.reorg import DEFAULT_CONFIRMATIONS
from workbench.errors import ConfigError

WEI_PER_UNIT = 10**18


def parse_amount(text: str | int) -> int:
    """A decimal amount of an 18-decimal token ("2", "0.5") as an exact integer of wei."""
    try:
        value = Decimal(str(text).strip()) * WEI_PER_UNIT
    except InvalidOperation:
        raise ConfigError(f"{text!r} is not a decimal amount (e.g. 2 or 0.5)") from None
    if value != value.to_integral_value() or value <= 0:
        raise ConfigError(f"{text!r} must be a positive amount with at most 18 decimals")
    return int(value)


class LiveSettings(BaseModel):
    """Everything ``workbench live`` needs (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rpc: str
    ws: str
    strategy: str
    market: Path
    capital_cap: int = Field(gt=0)  # wei
    mode: Literal["shadow", "live"] = "shadow"
    relays: tuple[str, ...] = ()
    keystore: Path | None = None
    identity: Path | None = None
    executor: str | None = None
    state_dir: Path = Path(".workbench-live")
    status_port: int | None = Field(default=9464, ge=0, le=65535)
    block_time: int = Field(default=12, gt=0)
    confirmations: int = Field(default=DEFAULT_CONFIRMATIONS, ge=1)  # before results are final
    max_head_age_s: float = Field(default=60.0, gt=0)
    strategy_config: dict[str, Any] = Field(default_factory=dict)
    risk: dict[str, Any] = Field(default_factory=dict)
    db_url: str | None = None

    @field_validator("rpc")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("rpc must be an http(s) URL of the node's JSON-RPC")
        return value

    @field_validator("ws")
    @classmethod
    def _ws(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("ws must be a ws(s) URL of the node's WebSocket")
        return value

    def check_live(self) -> None:
        """Live mode's extra requirements, each said plainly."""
        if self.mode != "live":
            return
        missing = [
            name
            for name, value in (
                ("--keystore", self.keystore),
                ("--executor", self.executor),
                ("--relay", self.relays),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"live mode needs {', '.join(missing)}")


def load_settings(path: Path | None, overrides: dict[str, Any]) -> LiveSettings:
    """Settings from ``path`` (TOML) with ``overrides`` (options given on the command line)."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    data.update({k: v for k, v in overrides.items() if v is not None and v != ()})
    if "capital_cap" in data:
        data["capital_cap"] = parse_amount(data["capital_cap"])
    try:
        return LiveSettings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"bad live settings: {problems}") from None
