"""Lumina tui package."""
