"""Persistence: tables, engine, and the repository functions over them."""
