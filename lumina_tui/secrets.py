"""Secrets in the OS keyring (written by the send work)."""
