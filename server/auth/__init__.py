"""Signing in and out, the user CLI, the start-up admin bootstrap and access checks."""
