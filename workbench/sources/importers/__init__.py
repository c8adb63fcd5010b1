"""Importers of public data into datasets: ethereum-etl exports (blocks, transactions with
receipts, logs), cryo's parquet exports (blocks, transactions, logs) and Flashbots
mempool-dumpster files (pending transactions)."""

from __future__ import annotations

from workbench.sources.importers.common import ImportSummary
from workbench.sources.importers.cryo import import_cryo
from workbench.sources.importers.ethereum_etl import import_ethereum_etl
from workbench.sources.importers.etl_export import NOT_HELD, export_ethereum_etl
from workbench.sources.importers.mempool_dumpster import import_mempool_dumpster

__all__ = [
    "NOT_HELD",
    "ImportSummary",
    "export_ethereum_etl",
    "import_cryo",
    "import_ethereum_etl",
    "import_mempool_dumpster",
]
