"""Widgets of the Fine-tune page."""
