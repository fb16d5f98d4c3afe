"""The annual report's PDF: each page's text is checked, and each page is drawn as an image (by
poppler's pdftoppm, where installed) to prove it renders; the same scoping as the API."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from marketplace.accounts.models import Role
from marketplace.ledger.statement_files import format_fen
from tests.analytics.report_world import OTHER_INCOME_FEN, OWN_INCOME_FEN, this_year
from tests.support.web import login

SECTIONS = (
    "主要指标",
    "转化漏斗",
    "对接率",
    "时效",
    "先使用后付费",
    "收入",
    "按合同金额",
    "科研床位",
    "医企融合对接会",
    "年度主要协议",
)


def pages_text(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() for page in reader.pages]


def render(content: bytes, folder: Path) -> list[Path]:
    """Every page as a PNG, as a reader would see it."""
    pdf = folder / "report.pdf"
    pdf.write_bytes(content)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "page")], check=True, timeout=120)
    return sorted(folder.glob("page-*.png"))


async def annual(client, world, role: Role, year: int, **params) -> bytes:
    answer = await client.get(f"/api/v1/reports/annual/{year}", params=params, headers=world.bearer(role))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith(f'attachment; filename="annual-report-{year}.pdf"')
    return answer.content


async def test_the_platform_report_has_every_section_and_the_headline(client, db, world, tmp_path) -> None:
    history = await this_year(db, world)
    content = await annual(client, world, Role.platform_analyst, history.year)
    pages = pages_text(content)
    assert len(pages) >= 3
    cover, text = pages[0], "\n".join(pages)
    assert f"{history.year} 年度医疗科技成果转化报告" in cover and "全平台" in cover
    assert f"{history.year}-01-01 至 {history.year}-12-31" in cover
    for title in SECTIONS:
        assert title in text, title
    assert format_fen(OWN_INCOME_FEN + OTHER_INCOME_FEN) in text  # income in the headline and its table
    assert format_fen(OWN_INCOME_FEN) in text and format_fen(OTHER_INCOME_FEN) in text
    assert "本院" in text and "他院" in text  # the institutions by name
    assert history.own_licence_title in text  # the deals table
    for number, page in enumerate(pages[1:], start=2):
        assert f"第 {number} 页" in page  # every page after the cover has its footer
    if shutil.which("pdftoppm"):
        images = render(content, tmp_path)
        assert len(images) == len(pages)
        assert all(image.stat().st_size > 1000 for image in images)  # drawn, not blank


async def test_a_tto_gets_its_own_institution_whatever_it_names(client, db, world) -> None:
    history = await this_year(db, world)
    other = str(world.orgs["institution/other"].id)
    text = "\n".join(pages_text(await annual(client, world, Role.tto_staff, history.year, institution=other)))
    assert "本院" in text and "他院" not in text
    assert format_fen(OWN_INCOME_FEN) in text and format_fen(OTHER_INCOME_FEN) not in text
    platform = "\n".join(pages_text(await annual(client, world, Role.platform_admin, history.year, institution=other)))
    assert "他院" in platform and format_fen(OWN_INCOME_FEN) not in platform


async def test_an_empty_year_says_so(client, world, tmp_path) -> None:
    content = await annual(client, world, Role.platform_admin, 2001)
    pages = pages_text(content)
    assert "2001 年没有记录" in pages[0]
    assert "本期没有数据" in "\n".join(pages)
    if shutil.which("pdftoppm"):
        assert len(render(content, tmp_path)) == len(pages)


@pytest.mark.parametrize(("year", "status"), [(1999, 422), (2101, 422)])
async def test_a_year_out_of_range_is_a_field_error(client, world, year: int, status: int) -> None:
    answer = await client.get(f"/api/v1/reports/annual/{year}", headers=world.bearer(Role.platform_admin))
    assert answer.status_code == status
    assert [e["field"] for e in answer.json()["errors"]] == ["year"]


async def test_an_institution_that_is_not_one_is_404(client, world) -> None:
    company = str(world.orgs["company/own"].id)
    answer = await client.get(
        "/api/v1/reports/annual/2026", params={"institution": company}, headers=world.bearer(Role.platform_admin)
    )
    assert answer.status_code == 404


async def test_the_page_download(client, db, world) -> None:
    history = await this_year(db, world)
    await login(client, world.emails[Role.tto_manager])
    answer = await client.get(f"/analytics/annual/{history.year}/report.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert "本院" in "\n".join(pages_text(answer.content))
