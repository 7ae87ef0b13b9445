"""Standalone example programs for zoo_lab.knowledge.command (run as scripts)."""
