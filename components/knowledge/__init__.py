"""Widgets of the Knowledge base page."""
