"""Fetch: ask arXiv for a day's papers and store them as records."""
