"""Spreadsheet import and export of listings (.xlsx or .csv), one listing a row, as TTO staff write
them: headers in Chinese or English (the old internal names still read), values as labels (Chinese,
English or the old codes), one column per field of a resource type's details, inventor shares in
percent. The columns and their labels are sheet_columns.py; one row's cells ↔ fields, sheet_cells.py.

Cells that hold lists use ";" between items; an item with parts uses ":" or "|":
  治疗领域       肿瘤; 消化                           (labels from the drop-down, semicolons between)
  许可方式及条件  独占许可: 入门费50万元; 先使用后付费: 前两年免许可费
  发明人及份额    张晓华: 60; 李明: 40                  (percent, two decimals at most, adding up to 100)
  知识产权        ZL202110234567.8 | 发明专利 | CN | 已授权 | 2021-03-01 | 2041-03-01

The .xlsx carries a drop-down (Excel data validation) on every coded column, a comment on every
header, and a second sheet of the allowed values. Formulas (OWASP, CSV injection): exported text
cells are neutralised and imported ones undone by marketplace.spreadsheet_safety, the rule every
export shares; CSV fields are all quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from litestar import Response
from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from marketplace import forms
from marketplace.catalog.models import Listing
from marketplace.catalog.schemas import ListingCreate
from marketplace.catalog.sheet_cells import RowReader, item_prefix, problem_column, values_to_cells
from marketplace.catalog.sheet_columns import COLUMNS, Vocabulary, column_header, header_index, norm
from marketplace.catalog.sheet_workbook import workbook
from marketplace.errors import DomainError, FieldError, invalid
from marketplace.i18n import N_, gettext
from marketplace.spreadsheet_safety import neutralise, unneutralise

MAX_ROWS = 2000
MAX_BYTES = 8 * 1024 * 1024
DECLARED_ROWS_LIMIT = 10 * MAX_ROWS  # the sheet's own <dimension>, checked before any row is read
KEYS = tuple(c.key for c in COLUMNS)
# The template's two examples, in the API's shape; written in the reader's language.
EXAMPLE_VALUES: list[dict] = [
    {
        "kind": "result",
        "type": "patent",
        "title_zh": "基于外泌体的早期肝癌检测方法",
        "summary_zh": "利用血液外泌体miRNA组合检测早期肝癌。",
        "therapeutic_areas": ["oncology", "digestive"],
        "keywords": ["外泌体", "肝癌"],
        "contact_email": "tto@hospital.example",
        "stage": "preclinical",
        "trl": 4,
        "advantages": "较AFP检测灵敏度提高30%。",
        "ownership_model": "institution",
        "licence_options": [{"option": "exclusive", "terms": "入门费50万元"}, {"option": "pay_later", "terms": "前两年免许可费"}],
        "inventors": [{"name": "张晓华", "share_bp": 6000}, {"name": "李明", "share_bp": 4000}],
        "ip_assets": [
            {
                "number": "ZL202110234567.8",
                "kind": "invention_patent",
                "jurisdiction": "CN",
                "status": "granted",
                "filing_date": "2021-03-01",
                "expiry_date": "2041-03-01",
            }
        ],
        "publish": False,
    },
    {
        "kind": "resource",
        "type": "research_ward",
        "title_zh": "肿瘤早期临床研究型病房",
        "summary_zh": "40张研究型床位，承接I期试验。",
        "therapeutic_areas": ["oncology"],
        "contact_email": "ward@hospital.example",
        "details": {"beds": 40, "specialties": ["肿瘤"]},
        "engagement_modes": ["clinical_trial"],
        "pricing_model": "per_patient",
        "availability": "available",
        "publish": False,
    },
]


def vocabulary(areas: Iterable | None = None) -> Vocabulary:
    """The label tables of one import or export; `areas` are the therapeutic-area rows."""
    return Vocabulary(None if areas is None else [(a.code, a.name_zh, a.name_en) for a in areas])


def headers() -> dict[str, str]:
    """Each column's header in the reader's language, by column key."""
    return {c.key: c.header for c in COLUMNS}


def example_rows(vocab: Vocabulary) -> list[dict[str, str]]:
    return [values_to_cells(values, vocab) for values in EXAMPLE_VALUES]


# The examples' cells in Chinese with the areas as codes (which import as well), for tests and callers
# without the area table.
EXAMPLES = example_rows(Vocabulary())


@dataclass
class ParsedRow:
    number: int  # as the TTO sees it in the sheet: the header is row 1
    data: ListingCreate | None
    publish: bool
    errors: list[dict] = field(default_factory=list)


def _too_many_rows() -> DomainError:
    return DomainError(
        N_("At most %(n)d rows per import."), FieldError("file", N_("Too many rows.")), status_code=422, n=MAX_ROWS
    )


def parse(filename: str, content: bytes, vocab: Vocabulary | None = None) -> list[ParsedRow]:
    """Read the rows; every problem of a row is kept by row and column. Raises for a bad file.

    Blocking work (a workbook of thousands of rows): call it through a worker thread."""
    if len(content) > MAX_BYTES:
        raise DomainError(
            N_("The file is larger than %(mb)d MB."), FieldError("file", N_("Too large.")), status_code=413, mb=MAX_BYTES // 2**20
        )
    return parse_rows(_read_table(filename, content), vocab)


def parse_rows(rows: Iterator[Sequence[object]], vocab: Vocabulary | None = None) -> list[ParsedRow]:
    """The sheet's rows, header first → parsed rows; draws no more than one row past the limit."""
    first = next(rows, None)
    if first is None:
        raise DomainError(N_("The file has no header row."), FieldError("file", N_("Empty file.")), status_code=422)
    header = [str(h or "").strip() for h in first]
    index = header_index()
    keys = [index.get(norm(h)) if h else None for h in header]
    unknown = [h for h, key in zip(header, keys, strict=True) if h and key is None]
    if unknown or not {"kind", "type"} & set(keys):
        raise DomainError(
            N_("Unknown or missing columns: %(columns)s. Download the template."),
            FieldError("file", N_("Wrong columns.")),
            status_code=422,
            columns=", ".join(unknown) or column_header("type"),
        )
    body: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(rows, start=2):
        cells = {key: _cell_text(c) for key, c in zip(keys, raw, strict=False) if key}
        if not any(cells.values()):
            continue
        body.append((number, cells))
        if len(body) > MAX_ROWS:  # stop reading here: a hostile sheet may have millions more
            raise _too_many_rows()
    vocab = vocab or Vocabulary()
    return [parse_row(number, cells, vocab) for number, cells in body]


def parse_row(number: int, cells: dict[str, str], vocab: Vocabulary) -> ParsedRow:
    """One row → its listing input and every problem of it at once. A row with problems still
    carries the fields that are right, so that the service's checks report theirs too."""
    reader = RowReader(vocab)
    data, publish = reader.read(cells)
    errors = reader.errors
    converted, shape = forms.try_convert(data, ListingCreate)
    reported = {e.field for e in errors}
    errors += [e for e in shape if e.field not in reported]
    if converted is None:  # again without the fields in error, so that the rest is checked
        bad = {problem_column(e.field).split(".")[0] for e in shape}
        converted, _ = forms.try_convert({k: v for k, v in data.items() if k not in bad}, ListingCreate)
    order = {key: i for i, key in enumerate(KEYS)}
    errors.sort(key=lambda e: order.get(problem_column(e.field), len(order)))
    return ParsedRow(number, converted, publish, field_errors_to_rows(number, errors))


def _cell_text(value: object) -> str:
    """A cell as the text it shows: 40 not 40.0, a date as 2021-03-01; a formula's ' undone."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime):
        value = value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    return unneutralise(str(value).strip())


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
    """Field errors → the report's problems: the row, the column's header in the reader's language,
    the field's path (for the API) and the message, which names an item's part ("Item 2, share: ")."""
    return [
        {
            "row": number,
            "column": column_header(problem_column(e.field)),
            "field": e.field,
            "message": item_prefix(e.field) + gettext(e.message, **e.params),
        }
        for e in errors
    ]


def spreadsheet_format(fmt: str) -> str:
    if fmt not in ("xlsx", "csv"):
        raise invalid("format", N_("Not one of the allowed values."))
    return fmt


def spreadsheet_response(content: bytes, fmt: str, name: str) -> Response:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def listing_to_values(listing: Listing) -> dict:
    """A listing in the API's shape (codes, basis points), as its row is written."""
    return {
        "kind": listing.kind,
        "type": listing.type,
        "title_zh": listing.title_zh,
        "title_en": listing.title_en,
        "summary_zh": listing.summary_zh,
        "summary_en": listing.summary_en,
        "confidential_details": listing.confidential_details,
        "therapeutic_areas": [a.area_code for a in listing.areas],
        "keywords": listing.keywords,
        "contact_name": listing.contact_name,
        "contact_email": listing.contact_email,
        "contact_phone": listing.contact_phone,
        "stage": listing.stage,
        "trl": listing.trl,
        "advantages": listing.advantages,
        "ownership_model": listing.ownership_model,
        "licence_options": [{"option": o, "terms": listing.licence_terms.get(o, "")} for o in listing.licence_options],
        "inventors": [{"name": i.name, "share_bp": i.share_bp} for i in listing.inventors],
        "ip_assets": [
            {part: getattr(a, part) for part in ("number", "kind", "jurisdiction", "status", "filing_date", "expiry_date")}
            for a in listing.ip_assets
        ],
        "details": listing.details,
        "engagement_modes": listing.engagement_modes,
        "pricing_model": listing.pricing_model,
        "availability": listing.availability,
        "publish": listing.status == "published",
    }


def listing_to_row(listing: Listing, vocab: Vocabulary) -> dict[str, str]:
    return values_to_cells(listing_to_values(listing), vocab)


def write(rows: list[dict[str, str]], fmt: str, vocab: Vocabulary | None = None) -> bytes:
    """Rows of cells (by column key) → the file, headers in the reader's language. The .xlsx has
    the drop-downs, header comments and the sheet of allowed values."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
        writer.writerow([c.header for c in COLUMNS])
        writer.writerows([neutralise(row.get(key, "")) for key in KEYS] for row in rows)
        return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese
    return workbook(rows, vocab or Vocabulary(), max(MAX_ROWS, len(rows)) + 1)
