"""Widgets of the Facilitator page."""
