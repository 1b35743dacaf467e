"""Shared infrastructure. Imports no feature module (enforced by import-linter)."""
