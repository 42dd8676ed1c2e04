"""Text that reads well on the site: applied to the Markdown the site build stages (the
day posts' copies and the generated paper pages), never to the repository's posts, so the
`classic` round trip and `digest sync` see the posts exactly as `digest render` wrote them.

Both rules work on text `posts.markup.escape_block` has already made safe:

* a bare `https://` URL in prose becomes an autolink (`<https://...>`) when it is a
  well-formed https URL with a host; `http:`, `javascript:`, `data:` and anything else
  stay text, and so does a URL inside a code span or a Markdown link;
* the LaTeX text commands LLMs and authors leave outside math become markup:
  `\\textbf{x}` bold, `\\emph{x}`/`\\textit{x}` italic, `\\cite{a,b}` `[a, b]`,
  `\\url{https://...}` a link (checked as above). Inside `$...$` the escaper has already
  turned every backslash into `&#92;`, so math is never touched.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from digest_cli.posts.markup import outside_code_spans

# A URL runs over ASCII URL characters; Chinese text and punctuation end it.
# (`&#95;` is how an escaped one-line text, the arXiv comments, writes `_`.)
_URL = re.compile(r"(?<![\w(<\[\"'=/])https://(?:[A-Za-z0-9\-._~:/?#@!$*+,;=%()]|&#95;)+")
_TRAILING = ".,;:!?*"  # sentence punctuation after a URL is not part of it
_BRACED = r"\{([^{}\n]{1,300})\}"
_COMMANDS = [
    (re.compile(r"\\textbf" + _BRACED), lambda m: f"**{m.group(1).strip()}**"),
    (re.compile(r"\\(?:emph|textit)" + _BRACED), lambda m: f"*{m.group(1).strip()}*"),
    (re.compile(r"\\(?:cite[pt]?|citep|citet)" + _BRACED),
     lambda m: "&#91;" + ", ".join(k.strip() for k in m.group(1).split(",")) + "&#93;"),
]
_URL_COMMAND = re.compile(r"\\url" + _BRACED)


def safe_https(url: str) -> bool:
    """A well-formed https URL with a host: nothing else becomes a link."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    return (parts.scheme == "https" and "." in host and not host.startswith(".")
            and all(c.isalnum() or c in "-." for c in host) and "\\" not in url)


def _link(match: re.Match[str]) -> str:
    url = match.group(0).replace("&#95;", "_")
    tail = ""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        tail, url = url[-1] + tail, url[:-1]
    return f"<{url}>{tail}" if safe_https(url) else match.group(0)


def _url_command(match: re.Match[str]) -> str:
    url = match.group(1).strip()
    return f"<{url}>" if _URL.fullmatch(url) and safe_https(url) else url


def _prose(text: str) -> str:
    if "\\" in text:
        text = _URL_COMMAND.sub(_url_command, text)
        for pattern, make in _COMMANDS:
            text = pattern.sub(make, text)
    if "https://" in text:
        text = _URL.sub(_link, text)
    return text


def enrich_line(line: str) -> str:
    """One line of escaped Markdown: code spans as they are, the rest enriched."""
    if "\\" not in line and "https://" not in line:
        return line
    return outside_code_spans(line, _prose)


def enrich(text: str) -> str:
    """Escaped Markdown with links and text commands made; fenced code left alone."""
    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        out.append(line if fenced else enrich_line(line))
    return "\n".join(out)
