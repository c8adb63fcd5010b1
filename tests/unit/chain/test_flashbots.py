"""workbench.chain.flashbots: the header a relay checks, against an independent signer."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

import live.relays.auth
from workbench.chain.flashbots import (
    HEADER,
    BadSignature,
    body_digest,
    verify_flashbots_signature,
)

KEY = Account.from_key("0x" + "42" * 32)
BODY = b'{"jsonrpc":"2.0","id":1,"method":"eth_sendBundle","params":[]}'


def header(body: bytes, account: object = KEY, claimed: str | None = None) -> str:
    digest = "0x" + keccak(body).hex()
    sig = Account.sign_message(encode_defunct(text=digest), account.key).signature  # type: ignore[attr-defined]
    return f"{claimed or account.address}:{sig.to_0x_hex()}"  # type: ignore[attr-defined]


def test_digest_is_hex_keccak_of_the_exact_body() -> None:
    assert body_digest(BODY) == "0x" + keccak(BODY).hex()


def test_a_good_signature_gives_the_signer() -> None:
    assert verify_flashbots_signature(header(BODY), BODY) == KEY.address


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "missing"),
        ("", "missing"),
        ("no-colon", "malformed"),
        ("0x12:0x34", "malformed"),
    ],
)
def test_missing_or_malformed_headers_are_refused(value: str | None, why: str) -> None:
    with pytest.raises(BadSignature, match=why):
        verify_flashbots_signature(value, BODY)


def test_a_signature_of_another_body_or_by_another_key_is_refused() -> None:
    with pytest.raises(BadSignature, match="not by"):
        verify_flashbots_signature(header(BODY + b" "), BODY)
    other = Account.create()
    with pytest.raises(BadSignature, match="not by"):
        verify_flashbots_signature(header(BODY, other, claimed=KEY.address), BODY)


def test_bad_signature_is_a_value_error_and_live_re_exports_the_same_objects() -> None:
    assert issubclass(BadSignature, ValueError)
    assert live.relays.auth.BadSignature is BadSignature
    assert live.relays.auth.verify_flashbots_signature is verify_flashbots_signature
    assert live.relays.auth.HEADER == HEADER
    assert set(live.relays.auth.__all__) == {
        "HEADER",
        "BadSignature",
        "flashbots_signature",
        "verify_flashbots_signature",
    }
