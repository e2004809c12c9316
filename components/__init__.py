"""Reusable Streamlit widgets. Pages call these; these call the core package ``ragft``."""
