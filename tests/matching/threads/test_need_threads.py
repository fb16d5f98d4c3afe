"""A need response's thread: who reads and posts (the poster's side, the responding institution's
TTO, the platform admin reading; everyone else 404), files both ways behind the same rules, the
thread closing with the response, the pages (the response page, the need page's link with its
unread count), and the in-app and e-mail notice with a link straight to the thread."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.db import make_sessionmaker
from marketplace.matching.threads.models import Thread, ThreadMessage
from marketplace.notifications.models import Notification
from marketplace.notifications.services import NotificationService, send_queued_emails
from tests.accounts.factories import bearer_for
from tests.catalog.factories import published
from tests.matching.needs.factories import OTHER_COMPANY, OTHER_TTO, move, open_need, respond
from tests.support.files import PDF, PNG, xlsx_bytes
from tests.support.web import login, post_form


async def need_with_response(client, db, world, role: Role = Role.company_member, **need) -> tuple[dict, dict]:
    """An open need of the own company (or a challenge, for the platform admin) with a response of
    the own institution."""
    posted = await open_need(client, world, role, **need)
    answered = await respond(client, world, posted["id"], await published(db, world))
    assert answered.status_code == 201, answered.text
    return posted, answered.json()


def base(need: dict, response: dict) -> str:
    return f"/api/v1/needs/{need['id']}/responses/{response['id']}"


async def test_the_poster_and_the_responding_institution_talk_and_others_get_404(client, db, world) -> None:
    need, response = await need_with_response(client, db, world)
    url = base(need, response) + "/messages"
    asked = await client.post(url, json={"text": "请说明临床样本的来源和伦理批件。"}, headers=world.bearer(Role.company_admin))
    assert asked.status_code == 201, asked.text
    assert asked.json()["author_side"] == "company"
    answered = await client.post(
        url, json={"text": "样本来自本院肝病中心，伦理批件见后。"}, headers=world.bearer(Role.tto_manager)
    )
    assert answered.status_code == 201 and answered.json()["author_side"] == "institution"

    listed = await client.get(url, headers=world.bearer(Role.company_member))
    assert listed.status_code == 200 and listed.json()["can_post"] is True
    assert [m["author_side"] for m in listed.json()["items"]] == ["company", "institution"]
    assert listed.json()["unread"] == 2  # its colleague's question counts too: not the member's own
    # The platform admin reads a company's need conversations, but does not write in them.
    assert (await client.get(url, headers=world.bearer(Role.platform_admin))).json()["can_post"] is False
    assert (await client.post(url, json={"text": "平台提醒"}, headers=world.bearer(Role.platform_admin))).status_code == 403
    # The institution's inventors, the analyst, another institution and another company: 404.
    for headers in (
        world.bearer(Role.inventor),
        world.bearer(Role.platform_analyst),
        await bearer_for(db, OTHER_TTO),
        await bearer_for(db, OTHER_COMPANY),
    ):
        assert (await client.get(url, headers=headers)).status_code == 404
        assert (await client.post(url, json={"text": "偷看"}, headers=headers)).status_code == 404
    # The response under another need's address is not found either.
    other_need = await open_need(client, world)
    crossed = f"/api/v1/needs/{other_need['id']}/responses/{response['id']}/messages"
    assert (await client.get(crossed, headers=world.bearer(Role.company_member))).status_code == 404
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 2
    assert await db.scalar(select(Thread.subject_kind)) == "need_response"


async def test_another_institutions_response_is_not_the_own_tto_s_conversation(client, db, world) -> None:
    need = await open_need(client, world)
    other_tto = await bearer_for(db, OTHER_TTO)
    theirs = await respond(client, world, need["id"], await published(db, world, "other"), headers=other_tto)
    assert theirs.status_code == 201, theirs.text
    url = base(need, theirs.json()) + "/messages"
    assert (await client.post(url, json={"text": "我们也有方案"}, headers=world.bearer(Role.tto_staff))).status_code == 404
    assert (await client.post(url, json={"text": "请补充数据"}, headers=world.bearer(Role.company_member))).status_code == 201
    assert (await client.get(url, headers=other_tto)).json()["unread"] == 1


async def test_files_go_both_ways_and_download_behind_the_rules(client, db, world) -> None:
    need, response = await need_with_response(client, db, world)
    url = base(need, response) + "/messages"
    sent = await client.post(
        url,
        data={"text": "需求说明书见附件"},
        files=[("files", ("需求说明.pdf", PDF, "application/pdf"))],
        headers=world.bearer(Role.company_member),
    )
    assert sent.status_code == 201, sent.text
    answer = await client.post(
        url,
        data={"text": "验证数据"},
        files=[("files", ("数据.xlsx", xlsx_bytes(), "application/octet-stream"))],
        headers=world.bearer(Role.tto_staff),
    )
    assert answer.status_code == 201, answer.text
    to_institution, to_company = sent.json()["attachments"][0], answer.json()["attachments"][0]
    assert to_institution["url"] == f"{base(need, response)}/attachments/{to_institution['id']}"

    got = await client.get(to_institution["url"], headers=world.bearer(Role.tto_manager))
    assert got.status_code == 200 and got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    got = await client.get(to_company["url"], headers=world.bearer(Role.company_admin))
    assert got.status_code == 200 and openpyxl.load_workbook(io.BytesIO(got.content)).active["A1"].value == "引物序列"
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    for headers in (world.bearer(Role.inventor), await bearer_for(db, OTHER_COMPANY), await bearer_for(db, OTHER_TTO)):
        assert (await client.get(to_institution["url"], headers=headers)).status_code == 404
    # A bad file is named and nothing is stored.
    bad = await client.post(url, files=[("files", ("报告.pdf", PNG, "application/pdf"))], headers=world.bearer(Role.tto_staff))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "files"
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 2


async def test_the_conversation_closes_with_the_response(client, db, world) -> None:
    need, response = await need_with_response(client, db, world)
    url = base(need, response) + "/messages"
    assert (await move(client, world.bearer(Role.company_member), need["id"], response["id"], "shortlist")).status_code == 200
    assert (
        await client.post(url, json={"text": "入围后请安排现场考察"}, headers=world.bearer(Role.company_member))
    ).status_code == 201
    assert (await move(client, world.bearer(Role.tto_staff), need["id"], response["id"], "withdraw")).status_code == 200
    refused = await client.post(url, json={"text": "为什么撤回？"}, headers=world.bearer(Role.company_member))
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "text"
    listed = await client.get(url, headers=world.bearer(Role.tto_staff))
    assert listed.json()["can_post"] is False
    # The steps are in the conversation, in order with the message, each by its side.
    items = [(m["step"], m["author_side"], m["text"]) for m in listed.json()["items"]]
    assert items == [("shortlist", "company", ""), (None, "company", "入围后请安排现场考察"), ("withdraw", "institution", "")]


async def test_a_challenge_is_talked_over_by_the_platform_admin_and_the_company_it_is_for(client, db, world) -> None:
    company = world.orgs["company/own"]
    need, response = await need_with_response(client, db, world, Role.platform_admin, on_behalf_of_id=str(company.id))
    url = base(need, response) + "/messages"
    for role in (Role.platform_admin, Role.company_member, Role.tto_staff):
        assert (await client.post(url, json={"text": f"{role} 的消息"}, headers=world.bearer(role))).status_code == 201, role
    sides = [m["author_side"] for m in (await client.get(url, headers=world.bearer(Role.tto_manager))).json()["items"]]
    assert sides == ["company", "company", "institution"]
    assert (await client.get(url, headers=world.bearer(Role.platform_analyst))).status_code == 404


async def test_the_pages_show_the_conversation_and_post_to_it(client, db, world) -> None:
    need, response = await need_with_response(client, db, world)
    page_url = f"/needs/{need['id']}/responses/{response['id']}"
    await client.post(
        base(need, response) + "/messages", json={"text": "请问能否提供独家许可？"}, headers=world.bearer(Role.company_member)
    )

    # The need page links each readable response's conversation with its unread count.
    await login(client, world.emails[Role.tto_staff])
    need_page = await client.get(f"/needs/{need['id']}")
    assert f'href="{page_url}#thread"' in need_page.text and "新消息：1" in need_page.text
    page = await client.get(page_url)
    assert page.status_code == 200 and "请问能否提供独家许可？" in page.text and 'id="thread"' in page.text
    assert "新消息" not in (await client.get(f"/needs/{need['id']}")).text  # viewing read it

    sent = await post_form(
        client, f"{page_url}/messages", {"text": "可以，条件见附件"}, files=[("files", ("许可条件.pdf", PDF, "application/pdf"))]
    )
    assert sent.status_code == 302 and sent.headers["location"] == f"{page_url}#thread"
    page = await client.get(page_url)
    assert "可以，条件见附件" in page.text and "许可条件.pdf" in page.text
    link = page.text.split(f'href="{page_url}/attachments/')[1].split('"')[0]
    download = await client.get(f"{page_url}/attachments/{link}")
    assert download.status_code == 200 and download.content == PDF

    bad = await post_form(
        client,
        f"{page_url}/messages",
        {"text": "再发一个"},
        files=[("files", ("病毒.exe", b"MZ" + b"\x00" * 64, "application/octet-stream"))],
    )
    assert bad.status_code == 422 and "不接受此类文件" in bad.text and "再发一个" in bad.text
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 2

    # A step taken on the response page comes back to it; a withdrawn response's conversation is read-only.
    withdrawn = await post_form(
        client, f"/needs/{need['id']}/responses/{response['id']}/transitions", {"action": "withdraw", "back": "response"}
    )
    assert withdrawn.status_code == 302 and withdrawn.headers["location"] == page_url
    page = await client.get(page_url)
    assert "此对话已关闭：该响应已不在考虑范围内。" in page.text and "可以，条件见附件" in page.text
    assert f'action="{page_url}/messages#thread"' not in page.text

    # An inventor of the institution sees the response but not its conversation; others get 404.
    await login(client, world.emails[Role.inventor])
    page = await client.get(page_url)
    assert page.status_code == 200 and 'id="thread"' not in page.text
    await login(client, OTHER_COMPANY)
    assert (await client.get(page_url)).status_code == 404
    assert (await client.get(f"{page_url}/attachments/{link}")).status_code == 404


async def test_a_new_message_tells_the_other_side_in_app_and_by_e_mail_with_the_link(
    client, db, world, settings, engine, mailbox
) -> None:
    sessionmaker = make_sessionmaker(engine)
    need, response = await need_with_response(client, db, world)
    member = await world.principal(db, world.emails[Role.company_member])
    await NotificationService(db).set_email_choices(member.user_id, {"match_thread_messages": False})
    await db.commit()
    await send_queued_emails(settings, sessionmaker)
    mailbox.messages.clear()

    sent = await client.post(
        base(need, response) + "/messages", json={"text": "机密：报价 NEED-SECRET-42"}, headers=world.bearer(Role.tto_staff)
    )
    assert sent.status_code == 201
    await send_queued_emails(settings, sessionmaker)
    # The company's people by e-mail but the member, who turned this kind off; nobody of the institution.
    assert sorted(m["To"] for m in mailbox.messages) == sorted([world.emails[Role.company_admin], "target@company.own.test"])
    message = next(m for m in mailbox.messages if m["To"] == world.emails[Role.company_admin])
    link = f"http://testserver.local/needs/{need['id']}/responses/{response['id']}#thread"
    body = message.get_content()
    assert link in body and "NEED-SECRET" not in body and "本院" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # In-app for all three company people, whatever their e-mail choice.
    told = (
        await db.execute(
            select(Notification.user_id, Notification.link).where(Notification.kind == "need_response_thread_message")
        )
    ).all()
    assert (
        member.user_id in {row.user_id for row in told}
        and len(told) == 3
        and all(row.link == f"/needs/{need['id']}/responses/{response['id']}#thread" for row in told)
    )

    # The answer goes the other way, to the TTO people who had read everything: the staff member
    # who wrote (the manager has the staff member's message unread, and will see this one with it).
    mailbox.messages.clear()
    await client.post(base(need, response) + "/messages", json={"text": "收到"}, headers=world.bearer(Role.company_admin))
    await send_queued_emails(settings, sessionmaker)
    assert [m["To"] for m in mailbox.messages] == [world.emails[Role.tto_staff]]
    assert link in mailbox.messages[0].get_content()
