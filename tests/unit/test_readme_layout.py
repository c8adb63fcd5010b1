"""The README's layout section names every module and package of workbench/, live/ and
devnet/, so the map stays the territory."""

from __future__ import annotations

import re

from workbench.chain.tools import project_root


def test_the_layout_names_every_module() -> None:
    root = project_root()
    text = (root / "README.md").read_text()
    layout = text[text.index("## Layout") : text.index("Where new parts go")]
    named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", layout))
    missing = []
    for top in ("workbench", "live", "devnet"):
        for path in (root / top).rglob("*.py"):
            rel = path.relative_to(root)
            if "migrations" in rel.parts[:-1] and rel.parts[-2] == "versions":
                continue  # Alembic revisions are named by their number
            stem = path.parent.name if path.name == "__init__.py" else path.stem
            if stem not in named and stem != "__main__":
                missing.append(str(rel))
    assert not missing, f"the README's layout does not name: {missing}"
