"""Publish: commit a day to its branch and open its pull request."""
