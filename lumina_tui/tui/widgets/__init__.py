"""Lumina tui widgets package."""
