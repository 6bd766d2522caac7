"""The Alembic environment and versions, shipped as package data (see bot/resources.py)."""
