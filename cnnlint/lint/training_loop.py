"""Placeholder."""
RULES: list = []
