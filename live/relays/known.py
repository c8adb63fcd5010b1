"""Relays by name or URL (``--relay NAME_OR_URL``): the public endpoints each network module
of ``workbench.networks`` lists; anything else is a URL of a Flashbots-compatible relay (the
devnet relay, a builder).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from live.relays.client import BloxrouteRelay, FlashbotsRelay, Relay
from live.signer import SearcherIdentity
from workbench.errors import ConfigError
from workbench.networks import Dialect, networks

__all__ = ["BLOXROUTE_AUTH_ENV", "KNOWN_RELAYS", "relay_from"]

KNOWN_RELAYS: Mapping[str, tuple[str, Dialect]] = MappingProxyType(
    {r.name: (r.url, r.dialect) for n in networks() for r in n.relays}
)
"""name -> (public URL, dialect). Only used when the user names one of them."""

BLOXROUTE_AUTH_ENV = "WORKBENCH_BLOXROUTE_AUTH"
"""Where the bloXroute Authorization header value is read from unless given."""


def relay_from(
    name_or_url: str,
    identity: SearcherIdentity,
    *,
    dialect: Dialect | None = None,
    bloxroute_auth: str | None = None,
    **kwargs: Any,
) -> Relay:
    """A client for a known relay name or a URL (Flashbots dialect unless ``dialect`` says).

    ``kwargs`` go to the client (``timeout``, ``retry``...).
    """
    if name_or_url in KNOWN_RELAYS:
        url, known = KNOWN_RELAYS[name_or_url]
        name = name_or_url
        dialect = dialect or known
    elif name_or_url.startswith(("http://", "https://")):
        url, name = name_or_url, kwargs.pop("name", None)
    else:
        raise ConfigError(
            f"unknown relay {name_or_url!r}; give an http(s) URL or one of {sorted(KNOWN_RELAYS)}"
        )
    if dialect == "bloxroute":
        auth = bloxroute_auth or os.environ.get(BLOXROUTE_AUTH_ENV)
        if not auth:
            raise ConfigError(
                f"bloXroute needs an Authorization header value: set {BLOXROUTE_AUTH_ENV}"
            )
        return BloxrouteRelay(url, auth, name=name, **kwargs)
    if dialect not in (None, "flashbots"):
        raise ConfigError(f"unknown relay dialect {dialect!r}; use 'flashbots' or 'bloxroute'")
    return FlashbotsRelay(url, identity, name=name, **kwargs)
