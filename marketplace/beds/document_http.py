"""A trial document as an HTTP answer and an upload's file part, for the API and the pages alike."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import UploadFile

from marketplace.beds.models import EngagementDocument
from marketplace.errors import invalid
from marketplace.i18n import N_


def document_response(document: EngagementDocument) -> Response:
    """Always an attachment, never shown inline (RFC 6266's filename* for Chinese names)."""
    plain = f"document-{document.sha256[:12]}"
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(document.file_name, safe='')}"
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}
    return Response(document.content, media_type=document.content_type, headers=headers)


async def uploaded_file(request: Request) -> tuple[str, bytes]:
    """The `file` part of a multipart form."""
    if request.content_type[0] != "multipart/form-data":
        raise invalid("file", N_("Send the file as multipart/form-data."))
    form = await request.form()
    item = form.get("file")
    if not isinstance(item, UploadFile) or not item.filename:
        raise invalid("file", N_("Choose a file."))
    return item.filename, await item.read()
