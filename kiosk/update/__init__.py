"""App updates: releases as TUF-signed targets, installed side by side, switched atomically,
health-checked after start and rolled back on failure (docs/operations.md, "Updates")."""
