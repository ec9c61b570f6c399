"""Lumina providers package."""
