"""Widgets of the Costs page."""
