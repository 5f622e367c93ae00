"""The SQLite store: its schema, its migrations and every query; the contract between stages."""
