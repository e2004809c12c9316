"""Widgets of the Decision guide page."""
