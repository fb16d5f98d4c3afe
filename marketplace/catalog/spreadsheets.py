"""Spreadsheet import and export of listings (.xlsx or .csv), one listing a row.

Cells that hold lists use ";" between items; an item with parts uses ":" or "|":
  therapeutic_areas  oncology; digestive
  licence_options    exclusive: 入门费50万元; pay_later: 前两年免许可费
  inventors          张晓华: 6000; 李明: 4000          (basis points, summing to 10000)
  ip_assets          ZL202110234567.8 | invention_patent | CN | granted | 2021-03-01 | 2041-03-01
  details            JSON of the resource type's fields, e.g. {"beds": 40, "specialties": ["肿瘤"]}

Formulas (OWASP, CSV injection): exported text cells are neutralised and imported ones undone by
marketplace.spreadsheet_safety, the rule every export shares; CSV fields are all quoted.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from litestar import Response
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from marketplace import forms
from marketplace.catalog.models import Listing
from marketplace.catalog.schemas import ListingCreate
from marketplace.errors import DomainError, FieldError, invalid
from marketplace.i18n import N_, gettext
from marketplace.spreadsheet_safety import neutralise, unneutralise

MAX_ROWS = 2000
MAX_BYTES = 8 * 1024 * 1024
DECLARED_ROWS_LIMIT = 10 * MAX_ROWS  # the sheet's own <dimension>, checked before any row is read
COLUMNS = (
    "kind",
    "type",
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "confidential_details",
    "therapeutic_areas",
    "keywords",
    "contact_name",
    "contact_email",
    "contact_phone",
    "stage",
    "trl",
    "advantages",
    "ownership_model",
    "licence_options",
    "inventors",
    "ip_assets",
    "details",
    "engagement_modes",
    "pricing_model",
    "availability",
    "publish",
)
LIST_COLUMNS = ("therapeutic_areas", "keywords", "engagement_modes")
IP_PARTS = ("number", "kind", "jurisdiction", "status", "filing_date", "expiry_date")
EXAMPLES = [
    {
        "kind": "result",
        "type": "patent",
        "title_zh": "基于外泌体的早期肝癌检测方法",
        "summary_zh": "利用血液外泌体miRNA组合检测早期肝癌。",
        "therapeutic_areas": "oncology; digestive",
        "keywords": "外泌体; 肝癌",
        "contact_email": "tto@hospital.example",
        "stage": "preclinical",
        "trl": "4",
        "advantages": "较AFP检测灵敏度提高30%。",
        "ownership_model": "institution",
        "licence_options": "exclusive: 入门费50万元; pay_later: 前两年免许可费",
        "inventors": "张晓华: 6000; 李明: 4000",
        "ip_assets": "ZL202110234567.8 | invention_patent | CN | granted | 2021-03-01 | 2041-03-01",
        "publish": "no",
    },
    {
        "kind": "resource",
        "type": "research_ward",
        "title_zh": "肿瘤早期临床研究型病房",
        "summary_zh": "40张研究型床位，承接I期试验。",
        "therapeutic_areas": "oncology",
        "contact_email": "ward@hospital.example",
        "details": '{"beds": 40, "specialties": ["肿瘤"]}',
        "engagement_modes": "clinical_trial",
        "pricing_model": "per_patient",
        "availability": "available",
        "publish": "no",
    },
]


@dataclass
class ParsedRow:
    number: int  # as the TTO sees it in the sheet: the header is row 1
    data: ListingCreate | None
    publish: bool
    errors: list[dict] = field(default_factory=list)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;；\n]", cell) if part.strip()]


def _pair(item: str) -> tuple[str, str]:
    """ "name: rest" (either colon) → (name, rest)."""
    name, _sep, rest = item.replace("：", ":").partition(":")
    return name.strip(), rest.strip()


def row_to_input(cells: dict[str, str]) -> dict:
    """Spreadsheet cells → the API's listing shape (before validation)."""
    data: dict = {}
    for column in COLUMNS:
        value = unneutralise((cells.get(column) or "").strip())
        if not value or column == "publish":
            continue
        if column in LIST_COLUMNS:
            data[column] = _split(value)
        elif column == "trl":
            data[column] = int(value) if value.isdigit() else value
        elif column == "licence_options":
            data[column] = [{"option": o, "terms": t} for o, t in map(_pair, _split(value))]
        elif column == "inventors":
            data[column] = [
                {"name": name, "share_bp": int(share) if share.isdigit() else share} for name, share in map(_pair, _split(value))
            ]
        elif column == "ip_assets":
            assets = []
            for item in _split(value):
                parts = [p.strip() for p in item.split("|")]
                assets.append({k: v for k, v in zip(IP_PARTS, parts, strict=False) if v})
            data[column] = assets
        elif column == "details":
            data[column] = json.loads(value)
        else:
            data[column] = value
    return data


def _column_of(field_name: str) -> str:
    return re.split(r"[.\[]", field_name, maxsplit=1)[0]


def _too_many_rows() -> DomainError:
    return DomainError(
        N_("At most %(n)d rows per import."), FieldError("file", N_("Too many rows.")), status_code=422, n=MAX_ROWS
    )


def parse(filename: str, content: bytes) -> list[ParsedRow]:
    """Read the rows; a row's shape errors are kept by row and column. Raises for a bad file.

    Blocking work (a workbook of thousands of rows): call it through a worker thread."""
    if len(content) > MAX_BYTES:
        raise DomainError(
            N_("The file is larger than %(mb)d MB."), FieldError("file", N_("Too large.")), status_code=413, mb=MAX_BYTES // 2**20
        )
    return parse_rows(_read_table(filename, content))


def parse_rows(rows: Iterator[Sequence[object]]) -> list[ParsedRow]:
    """The sheet's rows, header first → parsed rows; draws no more than one row past the limit."""
    first = next(rows, None)
    if first is None:
        raise DomainError(N_("The file has no header row."), FieldError("file", N_("Empty file.")), status_code=422)
    header = [str(h or "").strip() for h in first]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown or "kind" not in header:
        raise DomainError(
            N_("Unknown or missing columns: %(columns)s. Download the template."),
            FieldError("file", N_("Wrong columns.")),
            status_code=422,
            columns=", ".join(unknown) or "kind",
        )
    body: list[tuple[int, dict[str, str]]] = []
    for index, raw in enumerate(rows, start=2):
        cells = {h: ("" if c is None else str(c)) for h, c in zip(header, raw, strict=False) if h}
        if not any(v.strip() for v in cells.values()):
            continue
        body.append((index, cells))
        if len(body) > MAX_ROWS:  # stop reading here: a hostile sheet may have millions more
            raise _too_many_rows()
    parsed = []
    for index, cells in body:
        row = ParsedRow(index, None, cells.get("publish", "").strip().lower() in ("yes", "y", "true", "1", "是"))
        try:
            row.data, errors = forms.try_convert(row_to_input(cells), ListingCreate)
            row.errors += field_errors_to_rows(index, errors)
        except json.JSONDecodeError:
            row.errors.append({"row": index, "column": "details", "message": gettext("Invalid format.")})
        parsed.append(row)
    return parsed


def _read_table(filename: str, content: bytes) -> Iterator[Sequence[object]]:
    """The sheet's rows, lazily, so that parse can stop at the row limit."""
    if filename.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("gb18030", errors="replace")  # Excel's Chinese CSV default
        return csv.reader(io.StringIO(text))
    if filename.lower().endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            declared = sheet.max_row  # from the sheet's <dimension>, None when it has none
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise DomainError(
                N_("The file is not a readable .xlsx workbook."), FieldError("file", N_("Invalid format.")), status_code=422
            ) from error
        # Blank or formatted rows count in the dimension but not as rows, hence the margin; a
        # sheet that lies about its size is still stopped by parse at the limit.
        if declared is not None and declared > DECLARED_ROWS_LIMIT:
            raise _too_many_rows()
        return _xlsx_rows(sheet)
    raise DomainError(N_("Upload an .xlsx or .csv file."), FieldError("file", N_("Invalid format.")), status_code=415)


def _xlsx_rows(sheet: ReadOnlyWorksheet) -> Iterator[Sequence[object]]:
    try:
        yield from sheet.iter_rows(values_only=True)
    except DomainError:
        raise
    except Exception as error:  # a damaged sheet part shows only while its rows are read
        raise DomainError(
            N_("The file is not a readable .xlsx workbook."), FieldError("file", N_("Invalid format.")), status_code=422
        ) from error


def field_errors_to_rows(number: int, errors: list[FieldError]) -> list[dict]:
    return [{"row": number, "column": _column_of(e.field), "message": gettext(e.message, **e.params)} for e in errors]


def spreadsheet_format(fmt: str) -> str:
    if fmt not in ("xlsx", "csv"):
        raise invalid("format", N_("Not one of the allowed values."))
    return fmt


def spreadsheet_response(content: bytes, fmt: str, name: str) -> Response:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def listing_to_row(listing: Listing) -> dict[str, str]:
    return {
        "kind": listing.kind,
        "type": listing.type,
        "title_zh": listing.title_zh,
        "title_en": listing.title_en or "",
        "summary_zh": listing.summary_zh,
        "summary_en": listing.summary_en or "",
        "confidential_details": listing.confidential_details or "",
        "therapeutic_areas": "; ".join(a.area_code for a in listing.areas),
        "keywords": "; ".join(listing.keywords),
        "contact_name": listing.contact_name or "",
        "contact_email": listing.contact_email or "",
        "contact_phone": listing.contact_phone or "",
        "stage": listing.stage or "",
        "trl": str(listing.trl or ""),
        "advantages": listing.advantages or "",
        "ownership_model": listing.ownership_model or "",
        "licence_options": "; ".join(f"{o}: {listing.licence_terms.get(o, '')}" for o in listing.licence_options),
        "inventors": "; ".join(f"{i.name}: {i.share_bp}" for i in listing.inventors),
        "ip_assets": "; ".join(" | ".join(str(getattr(a, part) or "") for part in IP_PARTS) for a in listing.ip_assets),
        "details": json.dumps(listing.details, ensure_ascii=False) if listing.details else "",
        "engagement_modes": "; ".join(listing.engagement_modes),
        "pricing_model": listing.pricing_model or "",
        "availability": listing.availability or "",
        "publish": "yes" if listing.status == "published" else "no",
    }


def write(rows: list[dict[str, str]], fmt: str) -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows({c: neutralise(v) for c, v in row.items()} for row in rows)
        return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese
    book = Workbook(write_only=True)
    sheet = book.create_sheet("listings")
    sheet.append(list(COLUMNS))
    for row in rows:
        # The ' keeps openpyxl from storing the text as a formula (it does for a leading =).
        sheet.append([neutralise(row.get(c, "")) for c in COLUMNS])
    workbook = io.BytesIO()
    book.save(workbook)
    return workbook.getvalue()
