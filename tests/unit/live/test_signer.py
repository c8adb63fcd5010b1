"""live.signer: keystores round-trip, every failure is a ConfigError saying what is wrong, and
neither a key nor a password ever shows in a repr, an error, a log or a pickle."""

from __future__ import annotations

import copy
import logging
import os
import pickle
import stat
import subprocess

import orjson
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from live.signer import (
    DEFAULT_PASSWORD_ENV,
    IDENTITY_PASSWORD_ENV,
    SearcherIdentity,
    Signer,
    check_distinct,
    create_keystore,
    decrypt_keystore,
    load_identity,
    load_or_create_identity,
    load_signer,
    read_password,
)
from workbench.errors import ConfigError

FAST = 2**10  # scrypt work for tests only
PASSWORD = "correct horse battery staple"
KEY = "0x" + "4c" * 32


@pytest.fixture(autouse=True)
def _no_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEFAULT_PASSWORD_ENV, raising=False)


@pytest.fixture
def keystore(tmp_path):
    path = tmp_path / "keys" / "funds.json"
    create_keystore(path, PASSWORD, KEY, iterations=FAST)
    return path


def _assert_secret_free(text: str) -> None:
    assert PASSWORD not in text
    assert KEY[2:] not in text.lower()


def test_round_trip_with_password_argument_and_env(keystore, monkeypatch):
    expected = Account.from_key(KEY).address
    assert load_signer(keystore, password=PASSWORD).address == expected
    monkeypatch.setenv("MY_PW", PASSWORD)
    assert load_signer(keystore, password_env="MY_PW").address == expected
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, PASSWORD)
    assert load_signer(keystore).address == expected


def test_keystore_is_standard_private_and_never_overwritten(keystore):
    keyfile = orjson.loads(keystore.read_bytes())
    assert Account.decrypt(keyfile, PASSWORD).to_0x_hex() == KEY
    assert stat.S_IMODE(keystore.stat().st_mode) == 0o600
    assert [p.name for p in keystore.parent.iterdir()] == ["funds.json"]  # no temp file left
    with pytest.raises(ConfigError, match="never overwritten"):
        create_keystore(keystore, "other", iterations=FAST)
    assert Account.decrypt(orjson.loads(keystore.read_bytes()), PASSWORD).to_0x_hex() == KEY


def test_generated_key_and_pbkdf2(tmp_path):
    addr = create_keystore(tmp_path / "k.json", PASSWORD, kdf="pbkdf2", iterations=1000)
    assert decrypt_keystore(tmp_path / "k.json", PASSWORD).address == addr


def test_prompt_when_interactive(keystore, monkeypatch):
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda text: prompts.append(text) or PASSWORD)
    assert load_signer(keystore, interactive=True).address == Account.from_key(KEY).address
    assert prompts == [f"Password for the keystore {keystore}: "]


def test_prompt_confirmation_must_match():
    answers = iter(["one", "two"])
    with pytest.raises(ConfigError, match="differ"):
        read_password(interactive=True, confirm=True, prompt=lambda _: next(answers))


def test_no_password_source_says_how_to_give_one(keystore, monkeypatch):
    with pytest.raises(ConfigError, match=DEFAULT_PASSWORD_ENV):
        load_signer(keystore, interactive=False)
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, "")
    with pytest.raises(ConfigError, match="set but empty"):
        load_signer(keystore)
    with pytest.raises(ConfigError, match="empty password"):
        read_password("UNSET_VAR_FOR_TEST", interactive=True, prompt=lambda _: "")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"not found; create one"):
        load_signer(tmp_path / "nope.json", password=PASSWORD)
    with pytest.raises(ConfigError, match="cannot read"):
        load_signer(tmp_path, password=PASSWORD)  # a directory


def test_wrong_password_does_not_echo_it(keystore):
    with pytest.raises(ConfigError, match="wrong password") as info:
        load_signer(keystore, password="hunter2-wrong")
    assert "hunter2-wrong" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize(
    "damage",
    [
        lambda kf: b"{not json",
        lambda kf: orjson.dumps([1, 2]),
        lambda kf: orjson.dumps({**kf, "crypto": "x"}),
        lambda kf: orjson.dumps(
            {**kf, "crypto": {k: v for k, v in kf["crypto"].items() if k != "ciphertext"}}
        ),
        lambda kf: orjson.dumps({**kf, "crypto": {**kf["crypto"], "ciphertext": "zz"}}),
        lambda kf: orjson.dumps({**kf, "version": 9}),
        lambda kf: orjson.dumps({**kf, "address": "00" * 20}),
    ],
    ids=[
        "not-json",
        "array",
        "crypto-not-object",
        "no-ciphertext",
        "bad-hex",
        "version",
        "address",
    ],
)
def test_corrupt_keystore(keystore, damage):
    keystore.write_bytes(damage(orjson.loads(keystore.read_bytes())))
    with pytest.raises(ConfigError, match="is corrupt") as info:
        load_signer(keystore, password=PASSWORD)
    _assert_secret_free(str(info.value))


def test_holders_never_show_the_key(keystore):
    signer = load_signer(keystore, password=PASSWORD)
    identity = SearcherIdentity.generate()
    for holder in (signer, identity):
        for text in (repr(holder), str(holder), f"{holder}", f"{holder!r}"):
            _assert_secret_free(text)
            assert holder.address in text
        for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
            with pytest.raises(TypeError, match="private key"):
                attempt(holder)
    assert repr(signer) == f"Signer(address={Account.from_key(KEY).address})"


def test_identity_signs_text_recoverably_and_signer_signs_transactions(keystore):
    identity = SearcherIdentity.generate()
    sig = identity.sign_text("0xabc")
    assert Account.recover_message(encode_defunct(text="0xabc"), signature=sig) == identity.address
    assert not hasattr(identity, "sign_transaction") and not hasattr(identity, "account")
    signer = load_signer(keystore, password=PASSWORD)
    tx = {"to": identity.address, "value": 1, "gas": 21000, "gasPrice": 1, "nonce": 0, "chainId": 1}
    signed = signer.sign_transaction(tx)
    assert Account.recover_transaction(signed.raw_transaction) == signer.address


def test_identity_created_once_then_loaded(tmp_path, monkeypatch):
    path = tmp_path / "identity.json"
    monkeypatch.setenv("ID_PW", PASSWORD)
    first = load_or_create_identity(path, password_env="ID_PW", iterations=FAST)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("ID_PW", PASSWORD)  # read once: it left the environment
    again = load_or_create_identity(path, password_env="ID_PW")
    assert again.address == first.address == load_identity(path, password=PASSWORD).address


def test_identity_must_not_be_the_funds_key(keystore):
    signer = load_signer(keystore, password=PASSWORD)
    same = load_identity(keystore, password=PASSWORD)
    with pytest.raises(ConfigError, match="same account"):
        check_distinct(signer, same)
    check_distinct(signer, SearcherIdentity.generate())


def test_nothing_secret_is_logged_or_printed(keystore, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    load_signer(keystore, password=PASSWORD)
    with pytest.raises(ConfigError):
        load_signer(keystore, password=PASSWORD + "x")
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err):
        _assert_secret_free(text)


def test_signer_wraps_the_given_account():
    acct = Account.from_key(KEY)
    assert Signer(acct).account is acct


def test_a_password_leaves_the_environment_once_read(keystore, tmp_path, monkeypatch):
    """Children of the runner (Anvil, a shell) never inherit it; the identity has its own."""
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, PASSWORD)
    load_signer(keystore)
    assert DEFAULT_PASSWORD_ENV not in os.environ
    child = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout
    assert PASSWORD not in child
    identity = tmp_path / "identity.json"
    create_keystore(identity, "another one", iterations=FAST)
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, "another one")  # the funds key's variable ...
    with pytest.raises(ConfigError, match=IDENTITY_PASSWORD_ENV):
        load_identity(identity, interactive=False)  # ... never opens the identity
    monkeypatch.setenv(IDENTITY_PASSWORD_ENV, "another one")
    load_identity(identity)
    assert IDENTITY_PASSWORD_ENV not in os.environ
