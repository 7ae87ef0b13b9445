"""Standalone example programs for zoo_lab.problems.command (run as scripts)."""
