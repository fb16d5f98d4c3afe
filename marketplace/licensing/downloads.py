"""The agreement's document as an HTTP answer, for the API and the pages alike."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response

PDF = "application/pdf"


def document_response(title: str, content: bytes, sha256: str) -> Response:
    """The PDF as an attachment named by the agreement's title (RFC 6266's filename* for Chinese),
    with its SHA-256: what a signature names."""
    plain = f"agreement-{sha256[:12]}.pdf"
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(f'{title}.pdf', safe='')}"
    headers = {"Content-Disposition": disposition, "X-Document-SHA256": sha256, "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=PDF, headers=headers)
