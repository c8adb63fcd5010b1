"""Where data comes from: datasets, RPC ingest, importers, the mempool recorder."""
