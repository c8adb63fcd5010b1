"""The import contracts of pyproject.toml ([tool.importlinter]) hold: workbench's layers, live/
and devnet/ above it and independent of each other, no import cycles within a package. Run by
`make test` as by `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workbench.chain.tools import project_root


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "4 kept, 0 broken" in done.stdout
