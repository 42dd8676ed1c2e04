"""digest: a daily, human-reviewed, Chinese-language digest of new arXiv papers."""

__version__ = "0.1.0"
