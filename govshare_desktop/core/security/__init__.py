"""Guarding residents' data: accounts and roles, keys, the tamper-evident audit trail."""
