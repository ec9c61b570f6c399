"""Lumina: a terminal-first AI sales email composer."""

__version__ = "0.1.0"
