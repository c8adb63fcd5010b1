"""The live runner's keys: the funds key signs transactions, the searcher identity signs relay
requests only (it is the searcher's reputation at relays and never holds funds).

Both come from encrypted JSON keystores (eth-account, the geth format). Passwords come from an
environment variable (``WORKBENCH_KEYSTORE_PASSWORD`` for the funds key,
``WORKBENCH_IDENTITY_PASSWORD`` for the identity: one leaked password never opens both) or an
interactive prompt. A password read from the environment is removed from it at once, so no
child process inherits it; it is never logged, printed, stored or put in an error message. A key never shows in a ``repr``, ``str``, pickle or copy of its holder.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn

import orjson
from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from workbench.errors import ConfigError
from workbench.files import write_new_private
from workbench.types import Address, address

__all__ = [
    "DEFAULT_PASSWORD_ENV",
    "IDENTITY_PASSWORD_ENV",
    "SearcherIdentity",
    "Signer",
    "check_distinct",
    "create_keystore",
    "decrypt_keystore",
    "load_identity",
    "load_or_create_identity",
    "load_signer",
    "read_password",
]

DEFAULT_PASSWORD_ENV = "WORKBENCH_KEYSTORE_PASSWORD"
"""The environment variable read for the funds keystore's password unless another is named."""
IDENTITY_PASSWORD_ENV = "WORKBENCH_IDENTITY_PASSWORD"
"""The environment variable read for the identity keystore's password unless another is named."""


class _KeyHolder:
    """Holds one account; shows only its address, refuses to be pickled or copied."""

    __slots__ = ("_account",)

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @property
    def address(self) -> Address:
        return address(self._account.address)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address={self.address})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} holds a private key and cannot be pickled or copied; "
            "load it from its keystore where it is needed"
        )


class Signer(_KeyHolder):
    """The funds key: signs the runner's transactions."""

    __slots__ = ()

    @property
    def account(self) -> LocalAccount:
        """The eth-account object, for signing code such as ``execution.bundle.sign_call``."""
        return self._account

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction:
        return self._account.sign_transaction(dict(tx))


class SearcherIdentity(_KeyHolder):
    """The searcher-identity key: EIP-191 signatures of relay request bodies, nothing else."""

    __slots__ = ()

    @classmethod
    def generate(cls) -> SearcherIdentity:
        """A fresh random identity (tests, devnet); use ``load_or_create_identity`` to keep one."""
        return cls(Account.create())

    def sign_text(self, text: str) -> str:
        """The 0x-prefixed 65-byte personal-sign signature of ``text``."""
        return self._account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def check_distinct(signer: Signer, identity: SearcherIdentity) -> None:
    """Refuses a searcher identity that is the funds key: relays must never see the funds key."""
    if signer.address == identity.address:
        raise ConfigError(
            f"the searcher identity and the funds key are the same account ({signer.address}); "
            "create a separate identity keystore with live.signer.load_or_create_identity"
        )


def read_password(
    env_var: str = DEFAULT_PASSWORD_ENV,
    *,
    purpose: str = "keystore",
    interactive: bool | None = None,
    confirm: bool = False,
    prompt: Callable[[str], str] | None = None,
) -> str:
    """The password from ``env_var`` (which is then removed from the environment: children
    never inherit it), else from a prompt when a terminal is attached.

    ``interactive`` defaults to whether stdin is a terminal; ``confirm`` asks twice (new keys);
    ``prompt`` defaults to ``getpass.getpass`` (no echo).
    """
    value = os.environ.pop(env_var, None)
    if value is not None:
        if not value:
            raise ConfigError(f"{env_var} is set but empty; set it to the {purpose} password")
        return value
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        raise ConfigError(
            f"no password for the {purpose}: set the environment variable {env_var} "
            "or run in a terminal to be prompted"
        )
    prompt = prompt or getpass.getpass
    value = prompt(f"Password for the {purpose}: ")
    if not value:
        raise ConfigError(f"an empty password is not accepted for the {purpose}")
    if confirm and prompt(f"Repeat the password for the {purpose}: ") != value:
        raise ConfigError(f"the two passwords for the {purpose} differ; try again")
    return value


def create_keystore(
    path: str | Path,
    password: str,
    private_key: bytes | str | None = None,
    *,
    kdf: Literal["scrypt", "pbkdf2"] = "scrypt",
    iterations: int | None = None,
) -> Address:
    """Writes an encrypted keystore for ``private_key`` (a new random key if None).

    Never replaces an existing file. The file is private to the user (0600) and appears whole
    or not at all. ``iterations`` lowers the KDF work for tests and devnets only (eth-account's
    default is the strong one). Returns the account's address.
    """
    path = Path(path)
    if not password:
        raise ConfigError("a keystore needs a non-empty password")
    if path.exists():
        raise ConfigError(f"{path} already exists; a keystore is never overwritten")
    account = Account.from_key(private_key) if private_key is not None else Account.create()
    keyfile = Account.encrypt(account.key, password, kdf=kdf, iterations=iterations)
    _write_new_private(path, orjson.dumps(keyfile).decode())
    return address(account.address)


def decrypt_keystore(path: str | Path, password: str) -> LocalAccount:
    """The account in the keystore at ``path``; ``ConfigError`` saying what is wrong otherwise."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"keystore {path} not found; create one with live.signer.create_keystore "
            "or give the path of an existing eth-account/geth keystore"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc.strerror or exc}") from None
    try:
        keyfile = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _corrupt(path, "it is not JSON") from None
    if not isinstance(keyfile, dict) or not isinstance(keyfile.get("crypto"), dict):
        raise _corrupt(path, "it has no 'crypto' section")
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise ConfigError(
                f"wrong password for keystore {path} (or its ciphertext is damaged); "
                "check the password variable or prompt"
            ) from None
        raise _corrupt(path, _reason(exc)) from None
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise _corrupt(path, _reason(exc)) from None
    account: LocalAccount = Account.from_key(key)
    stated = keyfile.get("address")
    if isinstance(stated, str) and stated.lower().removeprefix("0x") != account.address[2:].lower():
        raise _corrupt(path, "the decrypted key does not match the address it states")
    return account


def load_signer(
    path: str | Path,
    *,
    password: str | None = None,
    password_env: str = DEFAULT_PASSWORD_ENV,
    interactive: bool | None = None,
) -> Signer:
    """The funds key from its keystore; the password as given, else as ``read_password`` finds it."""
    if password is None:
        password = read_password(password_env, purpose=f"keystore {path}", interactive=interactive)
    return Signer(decrypt_keystore(path, password))


def load_identity(
    path: str | Path,
    *,
    password: str | None = None,
    password_env: str = IDENTITY_PASSWORD_ENV,
    interactive: bool | None = None,
) -> SearcherIdentity:
    """The searcher identity from its keystore, found like ``load_signer``'s."""
    if password is None:
        password = read_password(
            password_env, purpose=f"identity keystore {path}", interactive=interactive
        )
    return SearcherIdentity(decrypt_keystore(path, password))


def load_or_create_identity(
    path: str | Path,
    *,
    password: str | None = None,
    password_env: str = IDENTITY_PASSWORD_ENV,
    interactive: bool | None = None,
    iterations: int | None = None,
) -> SearcherIdentity:
    """The identity at ``path``, first generated and stored encrypted there if it is missing."""
    path = Path(path)
    if password is None:
        password = read_password(
            password_env,
            purpose=f"identity keystore {path}",
            interactive=interactive,
            confirm=not path.exists(),
        )
    if not path.exists():
        create_keystore(path, password, iterations=iterations)
    return SearcherIdentity(decrypt_keystore(path, password))


def _reason(exc: Exception) -> str:
    """eth-keyfile's own words (they never hold the password), e.g. ``KeyError: 'ciphertext'``."""
    return f"{type(exc).__name__}: {str(exc)[:80]}"


def _corrupt(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"keystore {path} is corrupt ({why}); restore it from a backup or create a new one"
    )


def _write_new_private(path: Path, text: str) -> None:
    try:
        write_new_private(path, text)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; a keystore is never overwritten") from None
