"""Small files for the upload tests: a PDF, a PNG and an xlsx workbook."""

from __future__ import annotations

import io

import openpyxl

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "引物序列"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
