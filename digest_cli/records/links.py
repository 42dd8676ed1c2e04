"""The abs and PDF links shown for a paper: safe whatever the feed or a record holds.

A record's `abs_url`/`pdf_url` came from the feed or an editor and is untrusted: a
`javascript:` link, Liquid, `<script>` or `)` plus a heading would reach the page or break
the build. Only an https arXiv link to this very paper is shown as stored; anything else
is replaced by the link built from the arXiv id (which the id's own pattern keeps safe).
"""

from __future__ import annotations

import re

from digest_cli.records.model import Paper

# The part after the paper's base id: an optional version, and `.pdf` for a PDF. Compiled
# once: a pattern built per paper would overflow `re`'s cache on a site of 10,000 records.
_TAIL = {"abs": re.compile(r"(?:v[1-9]\d{0,3})?"),
         "pdf": re.compile(r"(?:v[1-9]\d{0,3})?(?:\.pdf)?")}


def _built(kind: str, paper: Paper) -> str:
    return f"https://arxiv.org/{kind}/{paper.id.versioned}"


def _shown(kind: str, stored: str, paper: Paper) -> str:
    prefix = f"https://arxiv.org/{kind}/{paper.id.base}"
    ok = bool(stored) and stored.startswith(prefix) and \
        _TAIL[kind].fullmatch(stored, len(prefix)) is not None
    return stored if ok else _built(kind, paper)


def abs_link(paper: Paper) -> str:
    """The paper's abstract page: the stored link when it is arXiv's, else built."""
    return _shown("abs", paper.abs_url, paper)


def pdf_link(paper: Paper) -> str:
    """The paper's PDF: the stored link when it is arXiv's, else built."""
    return _shown("pdf", paper.pdf_url, paper)
