"""Lumina tui screens package."""
