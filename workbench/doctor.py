"""Checks that the toolchain works: Python, web3, anvil, forge, cast, solc, artifacts."""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from workbench.chain.tools import foundry_binary, project_root, solc_shim
from workbench.errors import WorkbenchError

FIX_SETUP = "run `make setup`"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _run(cmd: list[str], timeout: float = 60.0, cwd: Path | None = None) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError(
            (out.stderr or out.stdout).strip()[-500:] or f"exit code {out.returncode}"
        )
    return out.stdout


def _first_line_version(tool: str) -> str:
    return _run([str(foundry_binary(tool)), "--version"]).splitlines()[0].strip()


def check_python() -> str:
    if sys.version_info[:2] != (3, 11):
        raise RuntimeError(f"Python {platform.python_version()}; the workbench targets 3.11")
    return f"Python {platform.python_version()}"


def check_web3() -> str:
    import web3  # noqa: F401  (the import itself is the check)

    return f"web3 {version('web3')}, eth-account {version('eth-account')}"


def check_anvil() -> str:
    from workbench.chain.anvil import Anvil

    with Anvil() as node:
        block = node.block_number()
        started = node.startup_seconds or 0.0
    return f"{_first_line_version('anvil')}; started in {started:.2f}s, block {block}, stopped"


def check_forge() -> str:
    """Compiles a trivial contract with forge through the solcjs shim, in a scratch project."""
    with tempfile.TemporaryDirectory(prefix="workbench-doctor-") as tmp:
        root = Path(tmp)
        (root / "src").mkdir()
        (root / "src" / "Hello.sol").write_text(
            "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\n"
            "contract Hello { function hi() external pure returns (uint256) { return 42; } }\n"
        )
        (root / "foundry.toml").write_text(
            textwrap.dedent(f"""\
                [profile.default]
                solc = "{solc_shim()}"
                offline = true
                [lint]
                lint_on_build = false
                """)
        )
        _run([str(foundry_binary("forge")), "build", "--quiet", "--root", str(root)], timeout=120)
        built = root / "out" / "Hello.sol" / "Hello.json"
        if not built.is_file():
            raise RuntimeError("forge reported success but wrote no artifact")
    return f"{_first_line_version('forge')}; compiled a trivial contract"


def check_cast() -> str:
    return _first_line_version("cast")


def check_solc() -> str:
    lines = _run([str(solc_shim()), "--version"]).splitlines()
    return (
        "solcjs "
        + next(line for line in lines if line.startswith("Version:")).split(":", 1)[1].strip()
    )


def check_artifacts() -> str:
    from workbench.chain.contracts import artifact, available

    names = available()
    for name in names:
        artifact(name)
    return f"{len(names)} contract artifacts (Uniswap npm builds + contracts/out)"


CHECKS: list[tuple[str, Callable[[], str], str]] = [
    ("python", check_python, "use Python 3.11 (make setup creates .venv with python3.11)"),
    ("web3", check_web3, FIX_SETUP),
    ("anvil", check_anvil, FIX_SETUP + " (npm ci installs @foundry-rs/anvil)"),
    ("forge", check_forge, FIX_SETUP + " (npm ci installs @foundry-rs/forge and solc)"),
    ("cast", check_cast, FIX_SETUP),
    ("solc", check_solc, FIX_SETUP + " (the npm `solc` package)"),
    ("artifacts", check_artifacts, FIX_SETUP + " (or `make contracts`)"),
]


def run_checks() -> list[Check]:
    results = []
    for name, fn, fix in CHECKS:
        try:
            results.append(Check(name, True, fn()))
        except (
            WorkbenchError,
            RuntimeError,
            OSError,
            ImportError,
            subprocess.SubprocessError,
        ) as exc:
            results.append(Check(name, False, str(exc).splitlines()[0][:300], fix))
    return results


def root_hint() -> str:
    return str(project_root())
