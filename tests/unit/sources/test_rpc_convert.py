"""JSON-RPC objects to table rows, and raw transactions rebuilt from their signed fields."""

from __future__ import annotations

import json
from typing import Any

import rlp
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.rlp import rlp_encode
from workbench.rpc import RpcError
from workbench.sources.block_fetch import unsupported
from workbench.sources.raw_tx import encode_signed, verified_raw
from workbench.sources.rpc_convert import (
    access_list_json,
    block_row,
    frame,
    log_rows,
    mempool_row,
    quantity,
    receipt_row,
    transaction_row,
    wei,
    word,
)

KEY = Account.from_key("0x" + "4c" * 32)
U256 = st.integers(0, 2**256 - 1)
ADDRESS = st.binary(min_size=20, max_size=20).map(
    to_checksum_address
)  # eth-account wants checksums


@given(U256)
def test_quantities_round_trip(n: int) -> None:
    assert quantity(hex(n)) == quantity(n) == n
    assert wei(hex(n)) == str(n)
    padded = word(hex(n))
    assert padded is not None and len(padded) == 66 and int(padded, 16) == n
    assert quantity(None) is wei(None) is word(None) is None


# An Anvil block with one EIP-1559 transaction and its receipt (eth_getBlockByNumber, full).
TX = {
    "type": "0x2",
    "chainId": "0x7a69",
    "nonce": "0x0",
    "gas": "0xb4aa",
    "maxFeePerGas": "0x77359400",
    "maxPriorityFeePerGas": "0x3b9aca00",
    "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "value": "0xde0b6b3a7640000",
    "accessList": [],
    "input": "0x",
    "r": "0x8d34ea38c50a86a0fa62effd821d5ffb2b0687b792ade6b4d91449f8ee1527df",
    "s": "0x6fef29cefb57d7fb1701e1e813aa01e1b993f0c8e304058afe4bc9c085afe6b",
    "yParity": "0x0",
    "v": "0x0",
    "hash": "0x172ff2895da71e27e3766bb74de024764e52800addcc7151a59bbced07184e83",
    "blockHash": "0x82f733308e15e8cd92517ee5fcab58843e9c6c30bc4482c03b9460137c0bb27d",
    "blockNumber": "0x1",
    "transactionIndex": "0x0",
    "from": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    "gasPrice": "0x77359400",
}
RAW = (
    "0x02f874827a6980843b9aca00847735940082b4aa9470997970c51812dc3a010c7d01b50e0d17dc79c888"
    "0de0b6b3a764000080c080a08d34ea38c50a86a0fa62effd821d5ffb2b0687b792ade6b4d91449f8ee1527df"
    "a006fef29cefb57d7fb1701e1e813aa01e1b993f0c8e304058afe4bc9c085afe6b"
)
BLOCK = {
    "hash": TX["blockHash"],
    "parentHash": "0x0fc37c35bd1fedb978d4b29c3036a1f9a752ff15126fc25cc4e869f2aa391fc7",
    "miner": "0x0000000000000000000000000000000000000000",
    "stateRoot": "0xb2fe924d1d23a51210417207e2c16fed677c3132a233c68722f3e8ec36413ae0",
    "transactionsRoot": "0xb74a685fa251eb94c5ad89f197055d57341a322bbf1ce90a8d374bff565a5432",
    "receiptsRoot": "0xf78dfb743fbd92ade140711c8bbc542b5e307f0ab7984eff35d751969fe57efa",
    "difficulty": "0x0",
    "number": "0x1",
    "gasLimit": "0x1c9c380",
    "gasUsed": "0x5208",
    "timestamp": "0x6b036823",
    "extraData": "0x",
    "baseFeePerGas": "0x3b9aca00",
    "size": "0x2e3",
    "mixHash": "0xEB1616609E29297D9BD91856092E998010F503D2CB507079029CB5F5BA6AD366",
    "parentBeaconBlockRoot": "0x" + "ab" * 32,
    "blobGasUsed": "0x20000",
    "excessBlobGas": "0x0",
    "withdrawals": [  # mainnet block 17173049's first, as a node serves it
        {
            "index": "0x21bbc0",
            "validatorIndex": "0x83e46",
            "address": "0xB9D7934878B5FB9610B3FE8A5E441E8FAD7E293F",
            "amount": "0x2ba460b",
        }
    ],
    "transactions": [TX],
}
RECEIPT = {
    "type": "0x2",
    "status": "0x1",
    "cumulativeGasUsed": "0x5208",
    "logs": [
        {
            "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "topics": ["0xDDF252AD1BE2C89B69C2B068FC378DAA952BA7F163C4A11628F55A4DF523B3EF"],
            "data": "0x01",
            "logIndex": "0x3",
        }
    ],
    "transactionHash": TX["hash"],
    "transactionIndex": "0x0",
    "blockHash": TX["blockHash"],
    "blockNumber": "0x1",
    "gasUsed": "0x5208",
    "effectiveGasPrice": "0x77359400",
    "contractAddress": None,
}


def test_block_transaction_receipt_and_log_rows() -> None:
    assert block_row(BLOCK) == {
        "number": 1,
        "hash": BLOCK["hash"],
        "parent_hash": BLOCK["parentHash"],
        "timestamp": 0x6B036823,
        "miner": "0x" + "00" * 20,
        "gas_limit": 30_000_000,
        "gas_used": 21_000,
        "base_fee_per_gas": "1000000000",
        "difficulty": "0",
        "extra_data": "0x",
        "state_root": BLOCK["stateRoot"],
        "transactions_root": BLOCK["transactionsRoot"],
        "receipts_root": BLOCK["receiptsRoot"],
        "size": 0x2E3,
        "transaction_count": 1,
        "mix_hash": "0xeb1616609e29297d9bd91856092e998010f503d2cb507079029cb5f5ba6ad366",
        "parent_beacon_block_root": "0x" + "ab" * 32,
        "blob_gas_used": 131072,
        "excess_blob_gas": 0,
        "withdrawals": '[{"index":2210752,"validator_index":540230,'
        '"address":"0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f","amount":45762059}]',
    }
    row = transaction_row(TX, RAW)
    assert row["to"] == "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"  # lowercase
    assert (row["value"], row["gas"], row["type"], row["chain_id"]) == (
        str(10**18),
        46250,
        2,
        31337,
    )
    assert row["s"] == "0x06fef29cefb57d7fb1701e1e813aa01e1b993f0c8e304058afe4bc9c085afe6b"
    assert row["max_fee_per_blob_gas"] is row["blob_versioned_hashes"] is None
    blob = transaction_row(
        {
            **TX,
            "type": "0x3",
            "maxFeePerBlobGas": "0x3b9aca00",
            "blobVersionedHashes": ["0x01" + "AB" * 31],
        },
        None,
    )
    assert blob["max_fee_per_blob_gas"] == str(10**9)
    assert json.loads(blob["blob_versioned_hashes"]) == ["0x01" + "ab" * 31]
    assert (row["v"], row["access_list"], row["raw"]) == ("0", "[]", RAW)
    assert receipt_row(RECEIPT) == {
        "block_number": 1,
        "transaction_index": 0,
        "transaction_hash": TX["hash"],
        "status": 1,
        "gas_used": 21_000,
        "cumulative_gas_used": 21_000,
        "effective_gas_price": "2000000000",
        "contract_address": None,
        "type": 2,
    }
    [log] = log_rows(RECEIPT)
    assert log["log_index"] == 3 and log["address"] == "0x5fbdb2315678afecb367f032d93f642f64180aa3"
    assert log["topics"] == [RECEIPT["logs"][0]["topics"][0].lower()]  # type: ignore[index]
    tables = {
        "blocks": frame("blocks", [block_row(BLOCK)]),
        "transactions": frame("transactions", [row]),
        "receipts": frame("receipts", [receipt_row(RECEIPT)]),
        "logs": frame("logs", log_rows(RECEIPT)),
    }
    assert [t.height for t in tables.values()] == [1, 1, 1, 1]


def test_mempool_row_with_only_a_hash() -> None:
    row = mempool_row(None, tx_hash="0xAB", first_seen_ms=5, source="node:8546", raw=None)
    assert row == {"hash": "0xab", "first_seen_ms": 5, "source": "node:8546", "raw": None}
    assert frame("mempool", [row])["included_block"].to_list() == [None]


def test_access_list_json_is_compact_and_lowercase() -> None:
    al = [{"address": "0xAA", "storageKeys": ["0xBB"]}]
    assert json.loads(access_list_json(al) or "") == [{"address": "0xaa", "storageKeys": ["0xbb"]}]
    assert access_list_json(None) is None


RLP_ITEMS = st.recursive(
    st.one_of(st.integers(0, 2**300), st.binary(max_size=70)),
    lambda children: st.lists(children, max_size=5),
    max_leaves=20,
)


@given(RLP_ITEMS)
def test_rlp_encoding_matches_pyrlp(item: Any) -> None:
    assert rlp_encode(item) == rlp.encode(item)


def test_raw_of_a_node_transaction() -> None:
    assert verified_raw(TX) == RAW  # re-encoded from the fields
    assert verified_raw(TX, RAW) == RAW
    assert verified_raw(TX, "0x02" + "00" * 10) == RAW  # the node's bytes do not hash: re-encoded
    assert verified_raw({**TX, "value": "0x1"}) is None  # a changed field no longer hashes
    assert encode_signed({**TX, "type": "0x7e"}) is None  # unknown type (an OP deposit)


def _rpc_fields(tx: dict[str, Any], signed: Any) -> dict[str, Any]:
    """The transaction as a node returns it (hex quantities, signature, hash)."""
    out: dict[str, Any] = {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}
    out |= {
        "input": tx.get("data", "0x"),
        "r": hex(signed.r),
        "s": hex(signed.s),
        "v": hex(signed.v),
    }
    out["hash"] = "0x" + signed.hash.hex()
    return out


FIELDS = {
    "nonce": st.integers(0, 2**64 - 1),
    "gas": st.integers(21_000, 2**63),
    "value": U256,
    "data": st.binary(max_size=64).map(lambda b: "0x" + b.hex()),
    "chainId": st.integers(1, 2**32),
}
ACCESS_LIST = st.lists(
    st.fixed_dictionaries(
        {
            "address": ADDRESS,
            "storageKeys": st.lists(
                st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()), max_size=2
            ),
        }
    ),
    max_size=2,
)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from([0, 1, 2, 3, 4]),
    fields=st.fixed_dictionaries(FIELDS),
    to=st.one_of(st.none(), ADDRESS),
    fee=st.integers(0, 2**128),
    tip=st.integers(0, 2**64),
    access_list=ACCESS_LIST,
)
def test_reencoding_matches_eth_account(
    kind: int, fields: dict[str, Any], to: str | None, fee: int, tip: int, access_list: list[Any]
) -> None:
    """Every signed transaction eth-account makes is rebuilt byte for byte from its fields."""
    tx: dict[str, Any] = dict(fields)
    if to is not None or kind in (3, 4):  # blob and set-code transactions need a recipient
        tx["to"] = to or "0x" + "11" * 20
    if kind in (0, 1):
        tx["gasPrice"] = fee
    else:
        tx |= {"maxFeePerGas": fee + tip, "maxPriorityFeePerGas": tip}
    if kind:
        tx |= {"type": kind, "accessList": access_list}
    if kind == 3:
        tx |= {"maxFeePerBlobGas": fee, "blobVersionedHashes": ["0x01" + "ab" * 31]}
    if kind == 4:
        auth = KEY.sign_authorization(
            {"chainId": fields["chainId"], "address": "0x" + "22" * 20, "nonce": 7}
        )
        tx["authorizationList"] = [auth]
    signed = KEY.sign_transaction(tx)
    rpc = _rpc_fields(tx, signed)
    if kind == 4:
        rpc["authorizationList"] = [
            {
                "chainId": hex(a.chain_id),
                "address": "0x" + a.address.hex(),
                "nonce": hex(a.nonce),
                "yParity": hex(a.y_parity),
                "r": hex(a.r),
                "s": hex(a.s),
            }
            for a in tx["authorizationList"]
        ]
    if kind:
        rpc["type"] = hex(kind)
        rpc["accessList"] = access_list
    assert encode_signed(rpc) == bytes(signed.raw_transaction)
    assert verified_raw(rpc) == "0x" + signed.raw_transaction.hex()


def test_unsupported_method_errors() -> None:
    assert unsupported(RpcError(-32601, "Method not found"))
    assert unsupported(
        RpcError(-32000, "the method eth_getBlockReceipts does not exist/is not available")
    )
    assert unsupported(RpcError(-32000, "eth_getBlockReceipts is not supported"))
    assert not unsupported(RpcError(-32000, "header not found"))
    assert not unsupported(RpcError(-32005, "rate limit exceeded"))
