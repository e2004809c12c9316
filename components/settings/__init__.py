"""Widgets of the Settings page."""
