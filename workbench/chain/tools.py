"""Where the external tools live: foundry binaries and solcjs from npm, Uniswap artifacts.

Everything is found under the project's ``node_modules`` (installed by ``make setup``);
``WORKBENCH_ANVIL`` / ``WORKBENCH_FORGE`` / ``WORKBENCH_CAST`` override a binary's path and
``WORKBENCH_HOME`` the project root.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from workbench.errors import ToolMissingError

FOUNDRY_TOOLS = ("anvil", "forge", "cast")


def project_root() -> Path:
    """The checkout holding ``node_modules`` and ``contracts`` (this package's parent)."""
    env = os.environ.get("WORKBENCH_HOME")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


def node_modules() -> Path:
    return project_root() / "node_modules"


def foundry_binary(tool: str) -> Path:
    """Path of ``anvil``, ``forge`` or ``cast``: env override, then npm package, then PATH."""
    if tool not in FOUNDRY_TOOLS:
        raise ValueError(f"unknown foundry tool {tool!r}; expected one of {FOUNDRY_TOOLS}")
    override = os.environ.get(f"WORKBENCH_{tool.upper()}")
    if override:
        path = Path(override)
        if not path.is_file():
            raise ToolMissingError(tool, str(path), f"fix WORKBENCH_{tool.upper()} or unset it")
        return path
    path = node_modules() / "@foundry-rs" / f"{tool}-linux-amd64" / "bin" / tool
    if path.is_file():
        return path
    found = shutil.which(tool)
    if found:
        return Path(found)
    raise ToolMissingError(tool, str(path), "run `make setup` (it runs `npm ci`)")


def solc_shim() -> Path:
    """The ``tools/solc`` shim that gives solcjs the native solc command-line interface."""
    shim = project_root() / "tools" / "solc"
    if not (node_modules() / "solc" / "package.json").is_file():
        raise ToolMissingError("solc (npm solcjs)", str(node_modules() / "solc"))
    return shim
