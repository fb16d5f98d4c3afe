"""A hostile spreadsheet neither blocks the server nor gets read to its end (issue 10, point 2)."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import pytest
from openpyxl import Workbook

from marketplace.accounts.models import Role
from marketplace.catalog.spreadsheets import DECLARED_ROWS_LIMIT, MAX_ROWS, parse_rows
from marketplace.errors import DomainError
from tests.catalog.factories import upload
from tests.support.live_server import LiveServer
from tests.support.world import World

HOSTILE_ROWS = 150_000
LIMIT_MESSAGE = f"每次导入最多 {MAX_ROWS} 行。"


def hostile_workbook() -> bytes:
    """150,000 small rows (about 1.5 MB, under the upload limit), as the report's workbook; write-only
    openpyxl declares no dimension, so only reading the rows shows its size."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("listings")
    sheet.append(["kind", "title_zh"])
    for number in range(HOSTILE_ROWS):
        sheet.append(["result", f"行{number}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parsing_somewhere() -> bool:
    """Whether some thread of this process (the live server runs in one) is inside parse."""
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == "parse" and frame.f_code.co_filename.endswith("spreadsheets.py"):
                return True
            frame = frame.f_back
    return False


def assert_row_limit_refusal(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == LIMIT_MESSAGE
    assert [e["field"] for e in body["errors"]] == ["file"]


def test_parsing_stops_one_row_past_the_limit() -> None:
    drawn = 0

    def rows() -> Iterator[Sequence[object]]:
        nonlocal drawn
        yield ["kind", "title_zh"]
        for number in range(10 * MAX_ROWS):
            drawn += 1
            yield ["result", f"行{number}"]

    with pytest.raises(DomainError) as refused:
        parse_rows(rows())
    assert refused.value.status_code == 422 and refused.value.params == {"n": MAX_ROWS}
    assert [e.field for e in refused.value.errors] == ["file"]
    assert drawn == MAX_ROWS + 1  # the rows up to the first one too many, no further


async def test_a_csv_of_ten_times_the_limit_is_refused_with_the_row_limit_error(client, world) -> None:
    lines = ["kind,title_zh"] + [f"result,行{n}" for n in range(10 * MAX_ROWS)]
    response = await upload(client, world, "\n".join(lines).encode(), name="listings.csv")
    assert_row_limit_refusal(response)


async def test_blank_rows_do_not_count_towards_the_limit(client, world) -> None:
    lines = ["kind,title_zh"] + [",," for _ in range(2 * MAX_ROWS)] + ["result,唯一一行"]
    response = await upload(client, world, "\n".join(lines).encode(), name="listings.csv")
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 1


async def test_a_workbook_declaring_too_many_rows_is_refused_before_its_rows_are_read(client, world) -> None:
    book = Workbook()  # a normal workbook writes its <dimension>, here A1:B(limit + 1)
    sheet = book.active
    assert sheet is not None
    sheet.append(["kind", "title_zh"])
    sheet.cell(row=DECLARED_ROWS_LIMIT + 1, column=2, value="远处的一格")
    buffer = io.BytesIO()
    book.save(buffer)
    assert_row_limit_refusal(await upload(client, world, buffer.getvalue()))


async def test_health_answers_while_a_hostile_workbook_is_imported(live_server: LiveServer, world: World) -> None:
    content = await asyncio.to_thread(hostile_workbook)
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as http:
        # The body is streamed so the test knows when the server has it all; /health must not
        # wait for the import's parse.
        built = http.build_request("POST", "/api/v1/listings/import", files={"data": ("hostile.xlsx", content)})
        body = built.read()
        sent = asyncio.Event()

        async def stream() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 64 * 1024):
                yield body[start : start + 64 * 1024]
            sent.set()

        headers = {**world.bearer(Role.tto_staff), "Content-Type": built.headers["Content-Type"]}
        headers["Content-Length"] = str(len(body))
        importing = asyncio.create_task(
            http.post("/api/v1/listings/import", params={"dry_run": "true"}, content=stream(), headers=headers)
        )
        await sent.wait()
        # Ask only once the server is inside parse: on the event loop it would answer the import first.
        while not parsing_somewhere():
            assert not importing.done(), "the import finished before the test saw it being parsed"
            await asyncio.sleep(0.001)
        health = await http.get("/health")
        assert health.status_code == 200
        assert not importing.done()  # /health finished while the import was still running
        assert_row_limit_refusal(await importing)
