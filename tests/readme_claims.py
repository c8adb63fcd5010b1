"""The README's figures, read back so that tests can check them: a claim the code stopped
making fails its test instead of staying in the README."""

from __future__ import annotations

import re

from workbench.chain.tools import project_root


def claim(pattern: str) -> re.Match[str]:
    """The README's match of ``pattern`` (whitespace matches any run of spaces and line
    breaks); fails when the README no longer says it."""
    text = (project_root() / "README.md").read_text()
    found = re.search(r"\s+".join(pattern.split()), text)
    assert found is not None, f"the README no longer says: {pattern}"
    return found


def number(text: str) -> int:
    """'2,419' -> 2419."""
    return int(text.replace(",", ""))


def eth(wei: int, like: str) -> str:
    """``wei`` in ETH with as many decimals as the README's ``like`` (display only)."""
    decimals = len(like.partition(".")[2])
    return f"{wei / 10**18:.{decimals}f}"
