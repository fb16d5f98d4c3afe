"""One input mechanism (marketplace/forms.py): every bad field is reported in one answer — by the
API, the listing form and each spreadsheet row — not only the first one msgspec meets."""

from __future__ import annotations

from marketplace import forms
from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from tests.catalog.factories import good_rows, result_body, result_form, sheet, upload
from tests.support.web import error_of, login, post_form

THREE_BAD = {"trl": 12, "contact_email": "not-an-email", "summary_en": "x" * 5001}


def test_every_bad_field_nested_or_not_is_named() -> None:
    body = result_body(**THREE_BAD, bogus=1, inventors=[{"name": "", "share_bp": "x"}], keywords=["ok", ""])
    errors = {e.field: e.message for e in forms.field_errors(body, ListingCreate)}
    assert errors == {
        "bogus": "Unknown field: not part of this request.",
        "trl": "Must be at most %(n)s.",
        "contact_email": "Invalid format.",
        "summary_en": "Must have at most %(n)s characters.",
        "inventors[0].name": "Required.",
        "inventors[0].share_bp": "Wrong type: expected %(expected)s, got %(got)s.",
        "keywords[1]": "Required.",
    }
    assert forms.field_errors(result_body(), ListingCreate) == []


async def test_the_api_names_three_bad_fields_in_one_answer(client, world) -> None:
    response = await client.post(
        "/api/v1/listings", json=result_body(**THREE_BAD), headers={**world.bearer(Role.tto_staff), "Accept-Language": "en"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [
        {"field": "summary_en", "message": "Must have at most 5000 characters."},
        {"field": "contact_email", "message": "Invalid format."},
        {"field": "trl", "message": "Must be at most 9."},
    ]


async def test_the_listing_form_shows_three_bad_fields_at_once(client, world) -> None:
    await login(client, world.emails[Role.tto_staff])
    bad = result_form(contact_email="not-an-email", summary_en="x" * 5001, **{"ip_assets[0].number": "CN"})
    response = await post_form(client, "/listings", bad)
    assert response.status_code == 422
    assert error_of(response.text, "contact_email") == "格式不正确。"
    assert error_of(response.text, "summary_en") == "最多 5000 个字符。"
    assert error_of(response.text, "ip_assets[0].number").startswith("至少")


async def test_a_spreadsheet_row_with_two_bad_cells_reports_both(client, db, world) -> None:
    rows = good_rows(2)
    rows[1]["trl"] = "12"
    rows[1]["contact_email"] = "not-an-email"
    response = await upload(client, world, sheet(rows))
    assert response.status_code == 200
    problems = {(e["row"], e["field"]) for e in response.json()["errors"]}  # "column" is the header people read
    assert problems == {(3, "trl"), (3, "contact_email")}


def test_a_whole_number_is_ascii_digits_within_the_length() -> None:
    assert forms.whole_number(" 42 ") == 42 and forms.whole_number("007", 3) == 7
    # str.isdigit() says yes to these, and int() refuses them: a page must say "not a number", not 500.
    for text in ("²", "٣", "１２", "-1", "1.5", "", "1234", "9" * 40):
        assert forms.whole_number(text, 3) is None, text
