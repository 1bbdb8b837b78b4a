"""Evaluate spacebot's retrieval and answers against a question set (see eval.runner)."""
