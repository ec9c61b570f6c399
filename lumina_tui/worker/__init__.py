"""Lumina worker package."""
