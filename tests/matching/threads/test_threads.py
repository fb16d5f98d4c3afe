"""A match request's thread: who reads and posts, messages through the API and the page, files
(allow-list checked on content, size limit, stored by id, downloaded behind the same rules),
read markers and unread counts, and the in-app and e-mail notices of match events and messages."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.db import make_sessionmaker
from marketplace.matching.threads.models import ThreadAttachment, ThreadMessage
from marketplace.notifications.models import Notification
from marketplace.notifications.services import NotificationService, send_queued_emails
from tests.accounts.factories import bearer_for
from tests.catalog.factories import published
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, move
from tests.matching.threads.factories import messages_url, new_request
from tests.support.files import PDF, PNG, xlsx_bytes
from tests.support.web import login, post_form


def stored_files(settings) -> list:
    folder = settings.attachment_storage
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_the_two_sides_talk_and_others_read_or_get_404(client, db, world) -> None:
    request = await new_request(db, world)
    url = messages_url(request.id)
    answer = await client.post(url, json={"text": "请提供验证数据的样本量。"}, headers=world.bearer(Role.tto_staff))
    assert answer.status_code == 201, answer.text
    assert answer.json()["author_side"] == "institution"
    answer = await client.post(url, json={"text": "  样本量为 1,200 例。  "}, headers=world.bearer(Role.company_admin))
    assert answer.status_code == 201 and answer.json()["text"] == "样本量为 1,200 例。"

    listed = (await client.get(url, headers=world.bearer(Role.company_member))).json()
    assert [m["text"] for m in listed["items"]] == ["请提供验证数据的样本量。", "样本量为 1,200 例。"]
    assert [m["author_side"] for m in listed["items"]] == ["institution", "company"]
    assert listed["can_post"] is True

    # Inventors named on the result and the platform admin read, but do not write.
    for role in (Role.inventor, Role.platform_admin):
        assert (await client.get(url, headers=world.bearer(role))).status_code == 200
        assert (await client.post(url, json={"text": "我来补充"}, headers=world.bearer(role))).status_code == 403
    assert (await client.get(url, headers=world.bearer(Role.inventor))).json()["can_post"] is False
    # The analyst reads requests for the figures, not the conversation; another company sees nothing.
    assert (await client.get(url, headers=world.bearer(Role.platform_analyst))).status_code == 404
    other = await bearer_for(db, OTHER_COMPANY_ADMIN)
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.post(url, json={"text": "偷看"}, headers=other)).status_code == 404
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 2


async def test_bad_messages_are_refused_with_field_errors(client, db, world) -> None:
    request = await new_request(db, world)
    url, headers = messages_url(request.id), world.bearer(Role.company_member)
    empty = await client.post(url, json={"text": "   "}, headers=headers)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "text"
    long = await client.post(url, json={"text": "长" * 10_001}, headers=headers)
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "text"
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 0


async def test_no_messages_once_the_request_has_ended(client, db, world) -> None:
    request = await new_request(db, world)
    await move(db, world, request.id, "decline", Role.tto_manager, "不在合作范围")
    refused = await client.post(
        messages_url(request.id), json={"text": "能否再考虑？"}, headers=world.bearer(Role.company_member)
    )
    assert refused.status_code == 409
    assert (await client.get(messages_url(request.id), headers=world.bearer(Role.company_member))).json()["can_post"] is False


async def test_files_are_checked_by_content_stored_by_id_and_downloaded_behind_the_rules(client, db, world, settings) -> None:
    request = await new_request(db, world)
    url = messages_url(request.id)
    before = stored_files(settings)
    posted = await client.post(
        url,
        data={"text": "验证报告和数据表见附件"},
        files=[
            ("files", ("验证报告.pdf", PDF, "application/pdf")),
            ("files", ("数据.xlsx", xlsx_bytes(), "application/octet-stream")),
        ],
        headers=world.bearer(Role.tto_staff),
    )
    assert posted.status_code == 201, posted.text
    files = posted.json()["attachments"]
    assert sorted((f["name"], f["content_type"]) for f in files) == [
        ("数据.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("验证报告.pdf", "application/pdf"),
    ]
    files = sorted(files, key=lambda f: f["name"], reverse=True)  # the PDF first
    # Stored under the attachments folder by id, not by the sender's name.
    assert sorted(set(stored_files(settings)) - set(before)) == sorted(f["id"] for f in files)

    download = await client.get(files[0]["url"], headers=world.bearer(Role.company_member))
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == "attachment; filename*=utf-8''%E9%AA%8C%E8%AF%81%E6%8A%A5%E5%91%8A.pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(files[0]["url"], headers=world.bearer(Role.inventor))).status_code == 200
    # Out of scope, or a file of another thread under this request's address: 404.
    assert (await client.get(files[0]["url"], headers=await bearer_for(db, OTHER_COMPANY_ADMIN))).status_code == 404
    assert (await client.get(files[0]["url"], headers=world.bearer(Role.platform_analyst))).status_code == 404
    second = await new_request(db, world)
    crossed = f"/api/v1/match-requests/{second.id}/attachments/{files[0]['id']}"
    assert (await client.get(crossed, headers=world.bearer(Role.company_member))).status_code == 404


async def test_a_bad_file_stores_nothing_and_names_the_file(client, db, world, settings) -> None:
    settings_limit = settings.attachment_max_bytes
    request = await new_request(db, world)
    url, headers = messages_url(request.id), world.bearer(Role.company_member)
    before = stored_files(settings)
    cases = [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, "不接受此类文件"),
        ("报告.pdf", PNG, "内容与其文件类型不符"),  # a picture named .pdf
        ("notes.txt", PDF, "内容与其文件类型不符"),
        ("deck.pptx", xlsx_bytes(), "内容与其文件类型不符"),  # a workbook named as slides
    ]
    for name, content, says in cases:
        answer = await client.post(
            url,
            data={"text": "附件"},
            files=[("files", ("ok.png", PNG, "image/png")), ("files", (name, content, "application/octet-stream"))],
            headers=headers,
        )
        assert answer.status_code == 422, (name, answer.text)
        errors = answer.json()["errors"]
        assert [e["field"] for e in errors] == ["files"] and name in errors[0]["message"] and says in errors[0]["message"], errors
    settings.attachment_max_bytes = 1000
    try:
        too_big = await client.post(url, files=[("files", ("big.txt", b"a" * 1001, "text/plain"))], headers=headers)
    finally:
        settings.attachment_max_bytes = settings_limit
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["message"] == "“big.txt”超过 1000 B。"
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 0
    assert await db.scalar(select(func.count()).select_from(ThreadAttachment)) == 0
    assert stored_files(settings) == before

    # A plain zip, a csv in GB18030 and a jpeg named .jpeg pass.
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("readme.txt", "hello")
    ok = await client.post(
        url,
        files=[
            ("files", ("资料.zip", package.getvalue(), "application/zip")),
            ("files", ("表.csv", "名称,数量\n样本,12\n".encode("gb18030"), "text/csv")),
        ],
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
    assert sorted(a["content_type"] for a in ok.json()["attachments"]) == ["application/zip", "text/csv; charset=utf-8"]


async def test_read_markers_and_unread_counts_in_the_lists(client, db, world) -> None:
    request = await new_request(db, world)
    url = messages_url(request.id)
    for text in ("第一条", "第二条"):
        assert (await client.post(url, json={"text": text}, headers=world.bearer(Role.tto_staff))).status_code == 201
    listed = (await client.get(url, headers=world.bearer(Role.company_member))).json()
    assert listed["unread"] == 2 and [m["unread"] for m in listed["items"]] == [True, True]
    # The author has read their own messages.
    assert (await client.get(url, headers=world.bearer(Role.tto_staff))).json()["unread"] == 0

    # The company's list and the TTO's inbox show the unread count; viewing the request reads it.
    await login(client, world.emails[Role.company_member])
    assert "新消息：2" in (await client.get("/match-requests")).text
    page = await client.get(f"/match-requests/{request.id}")
    assert page.status_code == 200 and "第二条" in page.text and "新消息：2" in page.text
    assert "新消息" not in (await client.get("/match-requests")).text
    assert (await client.get(url, headers=world.bearer(Role.company_member))).json()["unread"] == 0

    first_seq = listed["items"][0]["seq"]
    await client.post(url, json={"text": "回复"}, headers=world.bearer(Role.company_admin))
    await client.post(url, json={"text": "再回复"}, headers=world.bearer(Role.company_admin))
    marked = await client.post(f"{url}/read", json={"up_to": first_seq}, headers=world.bearer(Role.tto_manager))
    assert marked.status_code == 200 and marked.json() == {"last_read_seq": first_seq}
    # Messages by others after the marker are unread (the manager's own side's messages too).
    assert (await client.get(url, headers=world.bearer(Role.tto_manager))).json()["unread"] == 3
    await login(client, world.emails[Role.tto_manager])
    assert "新消息：3" in (await client.get("/match-requests/inbox")).text
    # Never backwards.
    assert (await client.post(f"{url}/read", json={}, headers=world.bearer(Role.tto_manager))).json()["last_read_seq"] > first_seq
    again = await client.post(f"{url}/read", json={"up_to": 0}, headers=world.bearer(Role.tto_manager))
    assert again.json()["last_read_seq"] > first_seq


async def test_the_page_posts_messages_with_files_and_shows_problems(client, db, world, settings) -> None:
    request = await new_request(db, world)
    await login(client, world.emails[Role.company_member])
    sent = await post_form(
        client,
        f"/match-requests/{request.id}/messages",
        {"text": "我方的评估计划见附件"},
        files=[("files", ("评估计划.pdf", PDF, "application/pdf"))],
    )
    assert sent.status_code == 302 and sent.headers["location"].endswith("#thread")
    page = await client.get(f"/match-requests/{request.id}")
    assert "我方的评估计划见附件" in page.text and "评估计划.pdf" in page.text
    attachment_id = await db.scalar(select(ThreadAttachment.id))
    download = await client.get(f"/match-requests/{request.id}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.content == PDF

    bad = await post_form(
        client,
        f"/match-requests/{request.id}/messages",
        {"text": "再发一个"},
        files=[("files", ("病毒.exe", b"MZ" + b"\x00" * 64, "application/octet-stream"))],
    )
    assert bad.status_code == 422
    assert "不接受此类文件" in bad.text and "再发一个" in bad.text  # the text is kept
    assert await db.scalar(select(func.count()).select_from(ThreadMessage)) == 1

    # Another company's people get 404 for the page's file link too.
    await login(client, OTHER_COMPANY_ADMIN)
    assert (await client.get(f"/match-requests/{request.id}/attachments/{attachment_id}")).status_code == 404


async def test_match_events_notify_the_side_that_must_act_in_app_and_by_e_mail(
    client, db, world, settings, engine, mailbox
) -> None:
    sessionmaker = make_sessionmaker(engine)
    listing = await published(db, world)
    staff = await world.principal(db, world.emails[Role.tto_staff])
    await NotificationService(db).set_email_choices(staff.user_id, {"match_request_activity": False})
    await db.commit()
    created = await client.post(
        "/api/v1/match-requests",
        json={
            "listing_id": str(listing),
            "engagement_type": "licence",
            "purpose": "评估",
            "timeline": "一季度",
            "nda_version": 1,
            "accept_nda": True,
        },
        headers=world.bearer(Role.company_member),
    )
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert await send_queued_emails(settings, sessionmaker) == 1
    message = mailbox.only()
    assert message["To"] == world.emails[Role.tto_manager]
    assert "新的对接申请" in message["Subject"]
    assert f"http://testserver.local/match-requests/{rid}#thread" in message.get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # In-app for both TTO people, whatever their e-mail choice; nothing for the company.
    notified = (await db.execute(select(Notification.user_id, Notification.kind, Notification.link))).all()
    assert {row.kind for row in notified} == {"match_request_created"} and len(notified) == 2
    assert all(row.link == f"/match-requests/{rid}#thread" for row in notified)

    mailbox.messages.clear()
    asked = await client.post(
        f"/api/v1/match-requests/{rid}/transitions",
        json={"action": "request_info", "reason": "请提供生产资质"},
        headers=world.bearer(Role.tto_manager),
    )
    assert asked.status_code == 200
    await send_queued_emails(settings, sessionmaker)
    told = {m["To"] for m in mailbox.messages}
    assert {world.emails[Role.company_admin], world.emails[Role.company_member]} <= told
    assert not told & {world.emails[Role.tto_manager], world.emails[Role.tto_staff]}
    assert "请提供生产资质" in mailbox.messages[0].get_content()

    # Each step goes to the other side: the answer to the TTO, the acceptance to the company.
    for action, role, reason, told in (
        ("provide_info", Role.company_member, "已上传资质", Role.tto_manager),
        ("accept", Role.tto_manager, "", Role.company_member),
    ):
        mailbox.messages.clear()
        assert (
            await client.post(
                f"/api/v1/match-requests/{rid}/transitions", json={"action": action, "reason": reason}, headers=world.bearer(role)
            )
        ).status_code == 200
        await send_queued_emails(settings, sessionmaker)
        assert world.emails[told] in [m["To"] for m in mailbox.messages], action
        assert world.emails[role] not in [m["To"] for m in mailbox.messages], action


async def test_a_new_message_tells_the_other_side_once_until_read(client, db, world, settings, engine, mailbox) -> None:
    sessionmaker = make_sessionmaker(engine)
    request = await new_request(db, world)
    await send_queued_emails(settings, sessionmaker)
    mailbox.messages.clear()
    url = messages_url(request.id)
    await client.post(url, json={"text": "机密：引物序列 MKT-SECRET-7731"}, headers=world.bearer(Role.company_member))
    await client.post(url, json={"text": "补充一点"}, headers=world.bearer(Role.company_member))
    await send_queued_emails(settings, sessionmaker)
    # One e-mail per TTO person for the unread stretch, none to the company, no message text.
    assert sorted(m["To"] for m in mailbox.messages) == sorted([world.emails[Role.tto_manager], world.emails[Role.tto_staff]])
    body = mailbox.messages[0].get_content()
    assert f"http://testserver.local/match-requests/{request.id}#thread" in body and "MKT-SECRET" not in body
    manager = await world.principal(db, world.emails[Role.tto_manager])
    kinds = [n.kind for n in await NotificationService(db).recent(manager.user_id)]
    assert kinds.count("match_thread_message") == 1

    # Once the manager has read the thread, the next message tells them again.
    await client.post(f"{url}/read", json={}, headers=world.bearer(Role.tto_manager))
    mailbox.messages.clear()
    await client.post(url, json={"text": "第三条"}, headers=world.bearer(Role.company_member))
    await send_queued_emails(settings, sessionmaker)
    assert [m["To"] for m in mailbox.messages] == [world.emails[Role.tto_manager]]


async def test_the_settings_page_lists_the_match_e_mails(client, db, world) -> None:
    await login(client, world.emails[Role.company_member])
    page = (await client.get("/settings/notifications")).text
    for key in ("match_request_activity", "match_thread_messages"):
        assert f'value="{key}"' in page
    assert 'value="match_request_reminders"' not in page  # the institution's deadlines, not the company's
