"""Tenants, users, memberships with roles, API keys, sign-in and authorization."""
