"""Evaluation: question sets, scorers, runs, statistics, export."""
