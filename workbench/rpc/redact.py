"""URLs safe to show: a node's or relay's URL may carry credentials (userinfo, an API key in
its path or query), which must never reach output, logs, the store, reports or metrics."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_KEYLIKE = re.compile(r"^(?=.*\d)[\w-]{16,}$|^[\w-]{32,}$")


def redact_url(url: str) -> str:
    """``url`` safe to store or print: no credentials, query or API-key-like path segments
    (``https://user:pw@host/v3/0123...cdef?key=x`` -> ``https://host/v3/…?…``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    if parts.port is not None:
        host += f":{parts.port}"
    path = "/".join("…" if _KEYLIKE.match(s) else s for s in parts.path.split("/"))
    return f"{parts.scheme}://{host}{path}" + ("?…" if parts.query else "")
