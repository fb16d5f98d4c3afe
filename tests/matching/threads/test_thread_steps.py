"""One conversation per deal: every step of a match request (and of a need response) is a message
of its thread carrying the step, with its question, answer, note or reason, in time order with the
ordinary messages; the company answers a request for information from the thread (its message
takes the `provide_info` step, files and all); steps taken before are copied from the audit trail
by migration 0021; and a refused form keeps the page, the form and what was typed."""

from __future__ import annotations

import importlib.util

from sqlalchemy import delete, select, text

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.config import PROJECT_ROOT
from marketplace.matching.threads.models import SubjectKindName, Thread, ThreadAttachment, ThreadMessage
from marketplace.matching.threads.services import ThreadService
from marketplace.notifications.models import Notification
from tests.catalog.factories import published
from tests.matching.needs.factories import move as move_response
from tests.matching.needs.factories import open_need, respond
from tests.matching.requests.factories import move, state_of
from tests.matching.threads.factories import messages_url, new_request
from tests.support.files import PDF
from tests.support.web import login, post_form

QUESTION = "请说明贵公司的注册经验与生产资质。"
ANSWER = "已取得三类医疗器械生产许可证，有两项 IVD 注册经验。"


async def thread_items(client, world, request_id, role=Role.company_member) -> list[tuple]:
    listed = (await client.get(messages_url(request_id), headers=world.bearer(role))).json()
    return [(m["step"], m["author_side"], m["text"]) for m in listed["items"]]


async def test_each_step_is_in_the_conversation_in_order_with_its_text(client, db, world) -> None:
    request = await new_request(db, world)
    await move(db, world, request.id, "review", Role.tto_staff)
    sent = await client.post(messages_url(request.id), json={"text": "我们正在评估。"}, headers=world.bearer(Role.tto_staff))
    assert sent.status_code == 201 and sent.json()["step"] is None
    await move(db, world, request.id, "request_info", Role.tto_staff, QUESTION)
    await move(db, world, request.id, "provide_info", Role.company_member, ANSWER)
    await move(db, world, request.id, "accept", Role.tto_manager, "欢迎进一步洽谈。")
    await move(db, world, request.id, "start_negotiation", Role.company_member)
    await move(db, world, request.id, "close_no_deal", Role.company_admin, "价格未能谈拢。")
    assert await thread_items(client, world, request.id) == [
        ("review", "institution", ""),
        (None, "institution", "我们正在评估。"),
        ("request_info", "institution", QUESTION),
        ("provide_info", "company", ANSWER),
        ("accept", "institution", "欢迎进一步洽谈。"),
        ("start_negotiation", "company", ""),
        ("close_no_deal", "company", "价格未能谈拢。"),
    ]
    # The same on the page, each step named (Chinese first).
    await login(client, world.emails[Role.company_member])
    page = (await client.get(f"/match-requests/{request.id}")).text
    thread = page.split('id="thread"', 1)[1]
    for label in ("已开始审核", "要求补充信息", "已提交补充信息", "已接受", "已进入洽谈", "未达成合作，已关闭"):
        assert f"</span>{label}</p>" in thread, label
    assert thread.index(QUESTION) < thread.index(ANSWER) < thread.index("欢迎进一步洽谈。")
    assert "暂无消息" not in thread


async def test_the_company_answers_the_question_from_the_thread(client, db, world, settings) -> None:
    request = await new_request(db, world)
    await move(db, world, request.id, "request_info", Role.tto_staff, QUESTION)
    # The question is new to the company, in the conversation.
    company = await world.principal(db, world.emails[Role.company_member])
    view = await ThreadService(db, settings).view(company, SubjectKindName.match_request, request.id)
    assert view.unread == 1 and view.messages[0].message.step == "request_info"
    assert view.subject.answer is not None

    await login(client, world.emails[Role.company_member])
    page = (await client.get(f"/match-requests/{request.id}")).text
    assert 'class="thread-form thread-answer"' in page and ">提交补充信息</button>" in page
    # The side form offers no "reason" box to the company, and no answering step there.
    side = page.split('class="listing-side"', 1)[1]
    assert 'name="reason"' not in side and 'value="provide_info"' not in side
    answered = await post_form(
        client,
        f"/match-requests/{request.id}/messages",
        {"text": ANSWER},
        files=[("files", ("资质证明.pdf", PDF, "application/pdf"))],
    )
    assert answered.status_code == 302, answered.text[:300]
    assert await state_of(db, request.id) == "submitted"  # back with the TTO, its clock restarted
    items = await thread_items(client, world, request.id, Role.tto_staff)
    assert items == [("request_info", "institution", QUESTION), ("provide_info", "company", ANSWER)]
    answer = await db.scalar(select(ThreadMessage).where(ThreadMessage.step == "provide_info"))
    assert answer is not None
    files = (await db.scalars(select(ThreadAttachment.original_name).where(ThreadAttachment.message_id == answer.id))).all()
    assert files == ["资质证明.pdf"]
    audited = await db.scalar(
        select(AuditEvent).where(AuditEvent.subject_id == str(request.id), AuditEvent.action == "match_request_provide_info")
    )
    assert audited is not None and audited.data["reason"] == ANSWER
    # The TTO hears of the answer as the step (not also as "a new message").
    kinds = (await db.scalars(select(Notification.kind).order_by(Notification.created_at))).all()
    assert "match_request_provide_info" in kinds and "match_thread_message" not in kinds
    # A later message is an ordinary one again.
    again = await post_form(client, f"/match-requests/{request.id}/messages", {"text": "补充：样本量 1,200 例。"})
    assert again.status_code == 302 and await state_of(db, request.id) == "submitted"
    assert (await thread_items(client, world, request.id))[-1] == (None, "company", "补充：样本量 1,200 例。")


async def test_a_refused_form_keeps_the_page_and_what_was_typed(client, db, world) -> None:
    request = await new_request(db, world)
    await login(client, world.emails[Role.tto_staff])
    # A missing reason: the step form again, the error beside the box, the conversation still there.
    missing = await post_form(client, f"/match-requests/{request.id}/transitions", {"action": "decline", "reason": " "})
    assert missing.status_code == 422
    assert 'id="step-reason-error"' in missing.text and 'id="thread-form"' in missing.text
    # An empty message, then a bad file: the message form again with the text typed.
    empty = await post_form(client, f"/match-requests/{request.id}/messages", {"text": "  "})
    assert empty.status_code == 422 and 'id="thread-text-error"' in empty.text
    assert 'action="/match-requests/' in empty.text and 'name="reason"' in empty.text
    bad = await post_form(
        client,
        f"/match-requests/{request.id}/messages",
        {"text": "<script>alert(1)</script>评估计划"},
        files=[("files", ("计划.pdf", b"not a pdf", "application/pdf"))],
    )
    assert bad.status_code == 422 and 'id="thread-files-error"' in bad.text
    assert ">&lt;script&gt;alert(1)&lt;/script&gt;评估计划</textarea>" in bad.text
    assert await db.scalar(select(ThreadMessage.id).limit(1)) is None


async def test_a_need_responses_steps_are_in_its_conversation(client, db, world) -> None:
    need = await open_need(client, world)
    first = (await respond(client, world, need["id"], await published(db, world))).json()
    select_body = {"nda_version": 1}
    picked = await move_response(client, world.bearer(Role.company_member), need["id"], first["id"], "shortlist")
    assert picked.status_code == 200, picked.text
    picked = await move_response(client, world.bearer(Role.company_member), need["id"], first["id"], "select", **select_body)
    assert picked.status_code == 200, picked.text
    url = f"/api/v1/needs/{need['id']}/responses/{first['id']}/messages"
    items = (await client.get(url, headers=world.bearer(Role.tto_staff))).json()["items"]
    assert [(m["step"], m["author_side"]) for m in items] == [("shortlist", "company"), ("select", "company")]


async def test_the_migration_copies_the_steps_taken_before_it(client, db, world, engine) -> None:
    """Steps taken before migration 0021 are in the audit trail only: the migration's backfill
    puts them into the threads at their time, and whoever had read the thread keeps it read."""
    request = await new_request(db, world)
    await move(db, world, request.id, "request_info", Role.tto_staff, QUESTION)
    sent = await client.post(messages_url(request.id), json={"text": "附上问题清单。"}, headers=world.bearer(Role.tto_staff))
    assert sent.status_code == 201
    await move(db, world, request.id, "provide_info", Role.company_member, ANSWER)
    await move(db, world, request.id, "accept", Role.tto_staff)
    company = await world.principal(db, world.emails[Role.company_member])
    # Before the migration: no step messages, the company had read the one message.
    await db.execute(delete(ThreadMessage).where(ThreadMessage.step.is_not(None)))
    await db.commit()
    assert await ThreadService(db, None).mark_read(company, SubjectKindName.match_request, request.id) > 0  # type: ignore[arg-type]
    await db.commit()

    path = next((PROJECT_ROOT / "migrations" / "versions").glob("*_0021_thread_steps.py"))
    spec = importlib.util.spec_from_file_location("thread_steps_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    async with engine.begin() as conn:
        for statement in (migration.THREADS, migration.MESSAGES, migration.KEEP_READ, migration.LAST_MESSAGE):
            await conn.execute(text(statement))

    assert await thread_items(client, world, request.id) == [
        ("request_info", "institution", QUESTION),
        (None, "institution", "附上问题清单。"),
        ("provide_info", "company", ANSWER),
        ("accept", "institution", ""),
    ]
    listed = (await client.get(messages_url(request.id), headers=world.bearer(Role.company_member))).json()
    assert listed["unread"] == 0
    assert await db.scalar(select(Thread.last_message_at).where(Thread.subject_id == request.id)) is not None
