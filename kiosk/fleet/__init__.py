"""Watching a fleet of terminals: the periodic heartbeat to the platform (no Qt)."""
