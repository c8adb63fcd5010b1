"""Migration scripts, applied in order by ``workbench.store.db.upgrade``."""
