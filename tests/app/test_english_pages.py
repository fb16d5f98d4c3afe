"""Whole English: with English chosen, the main pages hold no Chinese outside what people wrote in
Chinese (a listing without an English title, a contact's name), and such text is marked lang="zh-CN"
so the page says which parts are Chinese. Cities and districts, institution names, the tab title and
every label are English; a listing's English title and summary lead; a Chinese-only listing says so."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import update

from marketplace import i18n
from marketplace.accounts.models import Organization, Role
from marketplace.accounts.profiles import ProfileInput
from marketplace.accounts.services import AccountService
from tests.catalog.factories import published, result_body
from tests.events.factories import seed_event, seed_registration
from tests.search.factories import index_named
from tests.support.catalogue import extracted_ids, machine_values
from tests.support.web import login
from tests.support.world import World

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Attributes people read: a Chinese one is as visible as text.
READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label", "value")


class ChineseOutsideUserContent(HTMLParser):
    """The Han text of a page outside elements marked as Chinese (lang="zh…") or as people's own
    words (class "user-content"), with the element it is in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped: marked Chinese or user content)
        self.found: list[str] = []

    @property
    def skipping(self) -> bool:
        return any(skipped for _tag, skipped in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # Marked Chinese, marked as people's words, or decorative (the brand's 医 glyph is a logo).
        marked = (
            (values.get("lang") or "").startswith("zh")
            or "user-content" in (values.get("class") or "").split()
            or values.get("aria-hidden") == "true"
        )
        if not self.skipping and not marked:
            for name in READ_ATTRIBUTES:
                if HAN.search(values.get(name) or "") and not (name == "value" and tag in ("input", "option")):
                    self.found.append(f"<{tag} {name}={values[name]!r}>")
        if tag not in VOID:
            self.stack.append((tag, marked or tag in ("script", "style", "textarea", "option")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping and HAN.search(data):
            where = self.stack[-1][0] if self.stack else "?"
            self.found.append(f"<{where}> {data.strip()[:80]}")


def words_of(value) -> set[str]:
    """Every text in a listing body (nested lists and mappings): what its institution wrote."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {w for item in value.values() for w in words_of(item)}
    if isinstance(value, list):
        return {w for item in value for w in words_of(item)}
    return set()


# What the test's institution wrote in Chinese only: shown as written, whatever the page's language.
USER_WORDS = sorted(words_of(result_body()) | {"一种新型心脏支架", "、"}, key=len, reverse=True)


def chinese_outside_user_content(html: str) -> list[str]:
    parser = ChineseOutsideUserContent()
    parser.feed(html)
    left = []
    for found in parser.found:
        rest = found
        for words in USER_WORDS:
            rest = rest.replace(words, "")
        # The language switch names 中文 in Chinese on purpose (a reader of Chinese looks for it).
        if HAN.search(rest.replace("中文", "")):
            left.append(found)
    return left


async def english_world(db, world: World) -> dict:
    accounts = AccountService(db)
    admin = await world.principal(db, world.emails[Role.platform_admin])
    for key in ("institution/own", "company/own"):
        await accounts.update_organization_profile(
            admin,
            world.orgs[key].id,
            ProfileInput(
                description_zh="本院成果转化办公室负责专利许可。",
                description_en="Our transfer office handles patent licences.",
                contact_name="Lin Xiaowen",
                contact_title="Director",
                contact_email="tto@example.test",
            ),
        )
    await db.execute(
        update(Organization).where(Organization.id == world.orgs["institution/own"].id).values(name_en="Own Hospital")
    )
    await db.execute(update(Organization).where(Organization.id == world.orgs["company/own"].id).values(name_en="Own Company"))
    await db.commit()
    bilingual = await published(
        db,
        world,
        body=result_body(
            title_zh="基于外泌体的早期肝癌检测方法",
            title_en="Exosome-based early liver cancer detection",
            summary_en="A blood test for early liver cancer.",
            licence_options=[{"option": "exclusive", "terms": "Upfront fee and 3% royalty"}],
        ),
    )
    chinese_only = await published(db, world, title_zh="一种新型心脏支架", title_en=None, summary_en=None)
    return {"bilingual": bilingual, "chinese_only": chinese_only}


async def test_english_pages_hold_no_chinese_outside_what_people_wrote_in_chinese(client, db, world: World) -> None:
    ids = await english_world(db, world)
    institution, company = world.orgs["institution/own"].id, world.orgs["company/own"].id
    event = await seed_event(db, world)
    await seed_registration(db, event, world.orgs["institution/own"])
    events = ["/events", f"/events/{event.id}"]
    public = [
        "/",
        "/search?q=liver",
        "/listings",
        f"/listings/{ids['bilingual']}",
        f"/listings/{ids['chinese_only']}",
        f"/institutions/{institution}",
        f"/companies/{company}",
    ]
    problems = []
    for role, paths in (
        (None, public),
        (
            Role.company_member,
            [
                "/",
                "/listings",
                "/search",
                "/match-requests",
                "/needs/mine",
                f"/institutions/{institution}",
                *events,
                f"/events/{event.id}/register",
            ],
        ),
        (Role.company_admin, ["/", "/agreements", "/wards", f"/organizations/{company}/profile"]),
        (
            Role.tto_manager,
            [
                "/",
                "/match-requests/inbox",
                "/review",
                "/needs",
                "/agreements",
                "/ledger/income",
                "/analytics",
                f"/organizations/{institution}/profile",
                *events,
                "/events/new",
                f"/events/{event.id}/register",
            ],
        ),
        (Role.platform_admin, ["/", "/organizations", "/analytics", *events, f"/events/{event.id}/edit"]),
    ):
        if role is not None:
            await login(client, world.emails[role])
        client.cookies["lang"] = "en"
        for path in paths:
            response = await client.get(path)
            assert response.status_code == 200, path
            problems += [f"{role} {path}: {found}" for found in chinese_outside_user_content(response.text)]
    assert not problems, "\n".join(problems)


async def test_english_leads_and_a_chinese_only_listing_says_so(client, db, world: World) -> None:
    ids = await english_world(db, world)
    client.cookies["lang"] = "en"
    bilingual = (await client.get(f"/listings/{ids['bilingual']}")).text
    assert "<title>Exosome-based early liver cancer detection" in bilingual
    assert re.search(r"<h1>Exosome-based early liver cancer detection</h1>", bilingual)
    assert "Chinese only" not in bilingual.split("<main", 1)[1].split("</header>", 1)[0]
    chinese = (await client.get(f"/listings/{ids['chinese_only']}")).text
    assert re.search(r'<h1 lang="zh-CN">一种新型心脏支架</h1>', chinese) and "Chinese only" in chinese

    catalogue = (await client.get("/listings")).text
    card = catalogue.split("一种新型心脏支架", 1)[1][:400]
    assert "Chinese only" in card
    assert ">Exosome-based early liver cancer detection</a>" in catalogue
    institution = (await client.get(f"/institutions/{world.orgs['institution/own'].id}")).text
    assert "Our transfer office handles patent licences." in institution
    client.cookies["lang"] = "zh_CN"
    assert "仅中文" not in (await client.get("/listings")).text  # the note is for English readers only


async def test_english_search_results_lead_with_english_and_name_places_in_english(settings, engine, client, db, world) -> None:
    bodies = {
        "bilingual": {"summary_en": "A blood test for early liver cancer."},
        "chinese_only": {"title_zh": "外泌体肝癌检测新方法", "title_en": None, "summary_en": None},
    }
    async for ids in index_named(settings, engine, db, world, bodies):
        client.cookies["lang"] = "en"
        page = re.sub(r"</?mark>", "", (await client.get("/search", params={"q": "外泌体"})).text)
        bilingual = page.split(f'href="/listings/{ids["bilingual"]}"', 1)[1][:600]
        assert bilingual.startswith(">Exosome-based early liver cancer detection</a>")
        assert "A blood test for early liver cancer." in bilingual and "Chinese only" not in bilingual
        chinese = page.split(f'href="/listings/{ids["chinese_only"]}"', 1)[1][:600]
        assert chinese.startswith(' lang="zh-CN">外泌体肝癌检测新方法</a> <span class="lang-note">Chinese only</span>')
        assert re.search(
            r'name="city" value="上海"[^>]*>\s*(<span>)?Shanghai', page
        )  # the facet: the value stays, the label is English
        problems = [f for f in chinese_outside_user_content(page) if HAN.search(f.replace("外泌体", ""))]
        assert not problems, "\n".join(problems)


def test_no_message_shown_in_english_holds_chinese() -> None:
    """A Chinese gloss in a message id (对接率, 揭榜挂帅) is for Chinese readers: its English drops it."""
    english = i18n.translations("en")
    left = sorted(m for m in extracted_ids() | machine_values() if HAN.search(english.gettext(m).replace("中文", "")))
    assert not left, "give these an English translation in marketplace/locale/en/LC_MESSAGES/messages.po:\n" + "\n".join(left)
