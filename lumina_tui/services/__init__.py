"""Lumina services: the design document's API verbs as plain Python functions."""
