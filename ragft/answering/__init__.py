"""Answering: prompt assembly with citations, comparisons of several configurations at once, history, blind mode."""
