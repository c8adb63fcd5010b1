"""The live runner: the workbench's strategies against a node and relays (imports workbench)."""
