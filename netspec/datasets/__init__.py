"""Datasets that ship inside the package (so training works offline)."""
