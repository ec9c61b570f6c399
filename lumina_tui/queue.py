"""The huey queue and the task doorbells (written by the send work)."""
