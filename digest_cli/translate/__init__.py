"""Translate: ask an LLM for each paper's Chinese texts and store them."""
