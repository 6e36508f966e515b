"""A two-page lease for the materials tests (terminal/docgen_pages.py, shared with the demo)."""

from __future__ import annotations

from terminal.docgen_pages import LESSEE, PREMISES, lease_page_one, lease_page_two, render_page

__all__ = ["LESSEE", "PREMISES", "lease_page_one", "lease_page_two", "render_page"]
