"""The risk manager's limits (``RiskLimits``, frozen, from a config file's table) and the
reasons it rejects an intent for, in the order its rules are checked."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.errors import ConfigError

Amount = Annotated[int, Field(strict=True, gt=0)]


class Reason(StrEnum):
    """Why an intent was rejected, in the order the rules are checked."""

    KILL_SWITCH = "kill_switch"
    CIRCUIT_OPEN = "circuit_open"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    STALE_TARGET_BLOCK = "stale_target_block"
    DUPLICATE = "duplicate"
    WRONG_BASE_TOKEN = "wrong_base_token"
    DENIED = "denied"
    POOL_NOT_ALLOWED = "pool_not_allowed"
    TOKEN_NOT_ALLOWED = "token_not_allowed"
    PER_TRADE_CAP = "per_trade_cap"
    CAPITAL_CAP = "capital_cap"
    UNSAFE_TOKEN = "unsafe_token"
    TOKEN_CHECK_FAILED = "token_check_failed"


class RiskLimits(BaseModel):
    """The limits, frozen. Unset optional limits do not apply; addresses are kept lowercase.

    ``pool_allowlist`` / ``token_allowlist``: when set, every pool / every token other than
    the base of a cycle must be listed. ``denylist`` holds pools or tokens and beats both.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    capital_cap: Amount
    per_trade_cap: Amount | None = None
    daily_loss_limit: Amount | None = None
    max_consecutive_failures: Annotated[int, Field(strict=True, ge=1)] | None = None
    cooldown_ms: Annotated[int, Field(strict=True, ge=0)] = 15 * 60_000
    base_token: str | None = None
    pool_allowlist: frozenset[str] | None = None
    token_allowlist: frozenset[str] | None = None
    denylist: frozenset[str] = frozenset()
    kill_switch: Path | None = None
    dedupe_blocks: Annotated[int, Field(strict=True, ge=1)] = 256
    token_check_ttl_ms: Annotated[int, Field(strict=True, ge=0)] = 3_600_000
    """How long a token-safety verdict holds (a token's code or owner's settings can change)."""

    @field_validator("base_token")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        return None if value is None else _address(value)

    @field_validator("pool_allowlist", "token_allowlist", "denylist")
    @classmethod
    def _addresses(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        return None if value is None else frozenset(_address(a) for a in value)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskLimits:
        """Limits from a config file's table; a ``ConfigError`` names each bad field."""
        try:
            return cls(**dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'limits'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(
                f"bad risk limits: {problems} (fields: {', '.join(cls.model_fields)}; "
                "amounts are integers in wei of the base token, times in milliseconds)"
            ) from None


def _address(value: str) -> str:
    text = value.lower()
    if len(text) != 42 or not text.startswith("0x") or not _is_hex(text[2:]):
        raise ValueError(f"{value!r} is not a 0x-prefixed 20-byte hex address")
    return text


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
