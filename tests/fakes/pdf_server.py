"""PDFs made by hand and a fake arXiv PDF server.

``make_pdf(pages)`` writes a valid PDF (1.4, one Helvetica font, one text line per
string) without any PDF library, so pypdf has real bytes to parse. ``FakePDFs`` serves
``GET /pdf/<id>v<version>`` like arxiv.org/pdf; point ``pdf_url_template`` at
``server.template``. Unknown ids answer 404; ``fail_next`` queues other statuses.
"""

from __future__ import annotations

import threading

from ._base import FakeServer, RecordedRequest, Response

__all__ = ["FakePDFs", "make_pdf", "paper_pdf"]


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _page_stream(lines: list[str]) -> bytes:
    body = ["BT", "/F1 10 Tf", "12 TL", "50 760 Td"]
    for line in lines:
        body.append(f"({_escape(line)}) Tj T*")
    body.append("ET")
    return "\n".join(body).encode("latin-1", "replace")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose page i shows the lines ``pages[i]`` (ASCII text)."""
    n = len(pages)
    font_id, first_page = 3, 4  # 1 catalog, 2 pages, 3 font, then page/content pairs
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        content_id = first_page + 2 * i + 1
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                       f"<< /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
                       .encode())
        stream = _page_stream(lines)
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream
                       + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def paper_pdf(title: str, sections: dict[str, int], references: int = 20,
              lines_per_page: int = 55) -> bytes:
    """A paper-like PDF: a title, an abstract, numbered sections of ``n`` sentences each,
    a References section with ``references`` entries."""
    lines = [title, "Jane Doe, John Roe", "Abstract",
             "We study speech models and report 27.84% lower error rates than baselines."]
    for number, (name, sentences) in enumerate(sections.items(), start=1):
        lines.append(f"{number} {name}")
        lines += [f"This is sentence {k} of the {name.lower()} section, about speech and "
                  f"audio." for k in range(sentences)]
    lines.append("References")
    lines += [f"[{k}] A. Author, Some cited paper {k}, Interspeech, 2024." for k in
              range(1, references + 1)]
    pages = [lines[i:i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    return make_pdf(pages)


class FakePDFs(FakeServer):
    """Serves ``/pdf/<id>v<version>`` from ``pdfs`` (a dict keyed by ``<id>v<version>``)."""

    def __init__(self, pdfs: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self.pdfs: dict[str, bytes] = dict(pdfs or {})
        self.hits: dict[str, int] = {}
        self._faults: list[int] = []
        self._fault_lock = threading.Lock()

    @property
    def template(self) -> str:
        """The value for the ``pdf_url_template`` setting."""
        return self.url + "/pdf/{id}v{version}"

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        with self._fault_lock:
            self._faults.extend([status] * times)

    def handle(self, req: RecordedRequest) -> Response:
        key = req.path.removeprefix("/pdf/")
        with self._fault_lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            status = self._faults.pop(0) if self._faults else None
        if status is not None:
            return Response(status, b"error", {"Content-Type": "text/plain"})
        if key not in self.pdfs:
            return Response(404, b"Not found", {"Content-Type": "text/plain"})
        return Response(200, self.pdfs[key], {"Content-Type": "application/pdf"})
