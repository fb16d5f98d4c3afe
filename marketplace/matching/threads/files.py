"""Files attached to thread messages: names cleaned, types checked against their content
(the allow-list), sizes and hashes recorded while they are staged."""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.response import File

from marketplace.errors import FieldError, InvalidInput
from marketplace.i18n import N_

MAX_TEXT = 10_000
CHUNK = 1024 * 1024


# ----- attachments ----------------------------------------------------------------------------


@dataclass
class IncomingFile:
    """An uploaded file as the web layer hands it over: the sender's name and its content."""

    name: str
    file: IO[bytes]  # read in chunks: an upload's spooled file, or any binary stream


# Extension → what the content must be found to be. Office files are ZIP packages: the library
# names them by their main part; a package it cannot name is opened to look for that part.
OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "png": "image/png",
    "jpg": "image/jpeg",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
EXTENSION_ALIASES = {"jpeg": "jpg"}


def human_size(size: int) -> str:
    """Bytes for people: 820 B, 12.4 KB, 20 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size / (1024 * 1024):.3g} MB"


def clean_name(name: str) -> str:
    """The sender's file name without folders or control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 8 else name[:255]
    return name


def extension_of(name: str) -> str:
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return EXTENSION_ALIASES.get(ext, ext)


def content_matches(extension: str, path: Path) -> bool:
    """Whether the file's content is what its extension says (the allow-list's check)."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    found = filetype.guess(head)
    if extension in ("txt", "csv"):
        # Text has no signature: it must not be a known binary format, and must read as text.
        if found is not None or b"\x00" in head:
            return False
        data = path.read_bytes()
        for encoding in ("utf-8", "gb18030"):
            try:
                data.decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
        return False
    if found is None:
        return False
    if extension in OFFICE_PARTS:
        if found.extension == extension:
            return True
        if found.extension != "zip":
            return False
        try:
            with zipfile.ZipFile(path) as package:
                return OFFICE_PARTS[extension] in package.namelist()
        except zipfile.BadZipFile:
            return False
    if extension == "zip":
        return found.extension in ("zip", *OFFICE_PARTS)
    return found.extension == extension


@dataclass
class Staged:
    name: str
    extension: str
    size: int
    sha256: str
    temp: Path


# ----- the files of an HTTP request and answer (the API and the pages share them) ----------


async def uploads_of(request: Request) -> tuple[str, list[IncomingFile]]:
    """The text and files of a multipart form (`text`, `files` repeated)."""
    form = await request.form()
    text = form.get("text") or ""
    if not isinstance(text, str):
        raise InvalidInput(FieldError("text", N_("Not a valid value.")))
    files = (
        [
            IncomingFile(item.filename, item.file)
            for item in form.getall("files")
            # Litestar makes an UploadFile only of a part with a file name: an empty file input is a plain field.
            if isinstance(item, UploadFile) and item.filename
        ]
        if "files" in form
        else []
    )
    return text, files


def download(attachment, path) -> File:
    """A stored attachment (ThreadAttachment) as a download, never shown inline."""
    return File(
        path=path,
        filename=attachment.original_name,
        media_type=attachment.content_type,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )
