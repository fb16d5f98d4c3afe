"""The mixed load of bench/load.py (issue 19, point 7): what the three kinds of users do, the way a
browser does it, on the demo data.

- Visitor: the home page, the catalogue, listing pages, the resources, the search page and the
  search API — no sign-in.
- Company (a demo company's people): signs in; searches, reads listings, saves a search (and deletes
  it, so the limit on saved searches is never reached), opens a match request (a listing it already
  has one on answers with the existing request, as the product does), writes in a request's
  conversation.
- TTO (a demo institution's tech-transfer office): signs in; reads its inbox, answers in a request's
  conversation, edits one of its listings, records a small payment on a licence item that is due.

Forms are read from the page they are on (CSRF token, hidden keys, defaults) and posted as a browser
posts them; a write counts as done only when the app answers with its redirect, so any other answer
is a failure. Every write is repeatable: unique names and texts, 1 yuan payments on items owing
thousands. Requests are named by route (`/listings/{id}`), so the statistics group by route. Each
user finds its ids on the pages it signs in to, so the file runs against any server with the demo
data.

bench/load.py runs it with BENCH_WARMUP (seconds left out of the statistics at the start) and
BENCH_TIMES (a file for the response times of searches and of the other pages: the goal's two
groups). `python bench/locust_mixed.py URL` runs each user's tasks in turn, without waits, and says
whether every request succeeded (tests/app/test_load_mix.py).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import gevent
from locust import FastHttpUser, between, events, task

PASSWORD = os.environ.get("BENCH_PASSWORD", "demo-pass-2026")
SIGN_IN_TRIES = 5
COMPANY_ACCOUNTS = ["bd@xinghe.example", "bd.admin@xinghe.example", "admin@ruijian.example", "admin@lanchuan.example"]
TTO_ACCOUNTS = [
    "tto.manager@pujiang.example",
    "tto.manager@jinghua.example",
    "tto.manager@qiantang.example",
    "tto.manager@chunshen1.example",
]
QUERIES = ["肿瘤", "PD-1 抗体", "IVD 试剂盒", "研究型病房", "lung cancer", "生物样本库", "心血管", "AI 影像", "糖尿病", ""]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Each user signs in as the next account of its kind, so the load spreads over the demo's organizations.
_turns = {"company": itertools.count(), "tto": itertools.count()}


SEARCH_ROUTES = {"/search", "/api/v1/search"}
# The goal's two groups: every search's time and every other request's but the sign-in's (a slow
# password hash on purpose), in ms, since the warm-up; written to BENCH_TIMES (JSON) at the end.
timings: dict[str, list[float]] = {"search": [], "pages": []}


@events.test_start.add_listener
def _count_after_warm_up(environment, **_kwargs) -> None:
    """BENCH_WARMUP seconds after the start the statistics start again, so the sign-ins and the first
    pages of a cold server are not in the figures."""

    def restart() -> None:
        environment.stats.reset_all()
        for times in timings.values():
            times.clear()

    if (seconds := float(os.environ.get("BENCH_WARMUP", "0"))) > 0:
        gevent.spawn_later(seconds, restart)


@events.request.add_listener
def _time_by_group(request_type: str, name: str, response_time: float, exception=None, **_kwargs) -> None:
    if exception is None and (request_type, name) != ("POST", "/login"):
        timings["search" if name in SEARCH_ROUTES else "pages"].append(response_time)


@events.test_stop.add_listener
def _write_timings(**_kwargs) -> None:
    if path := os.environ.get("BENCH_TIMES"):
        with open(path, "w") as handle:
            json.dump(timings, handle)


@dataclass
class Form:
    action: str
    multipart: bool
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)  # each select's option values

    def filled(self, values: dict[str, str]) -> list[tuple[str, str]]:
        """The form's own fields with `values` put in (added when the form lacks them); a select left
        on its empty placeholder takes its first real option, as a user picks one."""
        names = {name for name, _ in self.fields}
        out = []
        for name, value in self.fields:
            if name in values:
                value = values[name]
            elif not value and self.choices.get(name):
                value = next((v for v in self.choices[name] if v), "")
            out.append((name, value))
        return out + [(name, value) for name, value in values.items() if name not in names]


class FormReader(HTMLParser):
    """The forms of a page with their fields as a browser would submit them untouched."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._open = False  # inside a <form>: fields outside every form belong to none
        self._select: tuple[str, bool] | None = None  # name, multiple
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("enctype", "") == "multipart/form-data"))
            self._open = True
        elif not self._open:
            return
        elif tag == "option" and self._select is not None:
            self._option(a)
        elif "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file") or (kind in ("checkbox", "radio") and "checked" not in a):
                return
            self.forms[-1].fields.append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select":
            self._select = (a["name"], "multiple" in a)
            self.forms[-1].choices[a["name"]] = []
            if "multiple" not in a:
                self.forms[-1].fields.append((a["name"], ""))
        elif tag == "textarea":
            self._textarea = (a["name"], [])

    def _option(self, a: dict[str, str]) -> None:
        assert self._select is not None
        form, (name, multiple) = self.forms[-1], self._select
        value = a.get("value", "")
        form.choices[name].append(value)
        if "selected" not in a:
            return
        if multiple:
            form.fields.append((name, value))
        else:
            form.fields = [(n, value if n == name and not v else v) for n, v in form.fields]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._open:
            name, text = self._textarea
            self.forms[-1].fields.append((name, "".join(text).strip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)


def form_on(html: str, action: str) -> Form | None:
    """The page's form posting to `action` (its path, with or without a #fragment)."""
    reader = FormReader()
    reader.feed(html)
    return next((f for f in reader.forms if f.action.split("#")[0] == action), None)


def ids(html: str, prefix: str) -> list[str]:
    """The ids of the links under `prefix` on a page, in their order, once each."""
    return list(dict.fromkeys(re.findall(rf'href="{re.escape(prefix)}({UUID})"', html)))


def multipart(fields: list[tuple[str, str]]) -> tuple[str, str]:
    boundary = f"----bench{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields]
    return "".join(parts) + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:10]}"


class Browser(FastHttpUser):
    """What every user does: pages, reading the listings search finds, submitting forms."""

    abstract = True
    listings: list[str]
    retry_after = 0  # seconds the last form's 429 asked to wait

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")
            return response.text or ""

    def search_api(self, q: str | None = None) -> list[str]:
        query = {"q": random.choice(QUERIES) if q is None else q, "page_size": "50"}
        with self.client.get(f"/api/v1/search?{urlencode(query)}", name="/api/v1/search", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for the search API")
                return []
            return [hit["id"] for hit in response.json()["hits"]]

    def find_listings(self) -> None:
        self.listings = self.search_api("")  # an empty query finds every published listing
        if not self.listings:
            raise RuntimeError("the search API found no published listing: is the demo data loaded?")

    def submit(self, form: Form | None, name: str, values: dict[str, str]) -> str | None:
        """Posts the form as a browser does; the write is done when the app redirects (its Location
        is answered), anything else is a failure."""
        if form is None:
            self.environment.events.request.fire(
                request_type="POST",
                name=name,
                response_time=0,
                response_length=0,
                exception=AssertionError("no form"),
                context={},
            )
            return None
        fields = form.filled(values)
        if form.multipart:
            body, kind = multipart(fields)
        else:
            body, kind = urlencode(fields), "application/x-www-form-urlencoded"
        with self.client.post(
            form.action, data=body, headers={"Content-Type": kind}, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code not in (302, 303):
                response.failure(f"{response.status_code} for {form.action}: {(response.text or '')[:200]}")
                self.retry_after = int(response.headers.get("Retry-After") or 0) if response.status_code == 429 else 0
                return None
            return response.headers.get("Location", "")

    def sign_in(self, email: str) -> None:
        """Several users of the mix share an account. Signing in at the same moment, they are
        throttled (accounts/throttle.py counts the attempts in flight) and answered 429 with
        Retry-After: as a person would, the user waits and tries again."""
        for _ in range(SIGN_IN_TRIES):
            form = form_on(self.page("/login", "/login"), "/login")
            if self.submit(form, "/login", {"email": email, "password": PASSWORD}) is not None or not self.retry_after:
                return
            time.sleep(self.retry_after)  # gevent's, under Locust

    def search_page(self) -> None:
        self.page(f"/search?q={quote(random.choice(QUERIES))}", "/search")

    def listing(self) -> str:
        listing_id = random.choice(self.listings)
        self.page(f"/listings/{listing_id}", "/listings/{id}")
        return listing_id


class Visitor(Browser):
    """Someone who has not signed in, browsing and searching."""

    weight = 6
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.find_listings()

    @task(2)
    def home(self) -> None:
        self.page("/", "/")

    @task(2)
    def catalogue(self) -> None:
        self.page(f"/listings?page={random.randint(1, 3)}", "/listings")

    @task(1)
    def resources(self) -> None:
        self.page("/listings?kind=resource", "/listings?kind=resource")

    @task(5)
    def read_listing(self) -> None:
        self.listing()

    @task(3)
    def search(self) -> None:
        self.search_page()

    @task(2)
    def search_through_api(self) -> None:
        self.search_api()


class Company(Browser):
    """A company's business developer: searches, saves a search, asks for a listing, writes."""

    weight = 3
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.sign_in(COMPANY_ACCOUNTS[next(_turns["company"]) % len(COMPANY_ACCOUNTS)])
        self.find_listings()
        self.requests = ids(self.page("/match-requests", "/match-requests"), "/match-requests/")

    @task(4)
    def search(self) -> None:
        self.search_page()

    @task(3)
    def read_listing(self) -> None:
        self.listing()

    @task(1)
    def own_requests(self) -> None:
        self.requests = ids(self.page("/match-requests", "/match-requests"), "/match-requests/") or self.requests

    @task(1)
    def save_search(self) -> None:
        query = random.choice(QUERIES[:-1])
        form = form_on(self.page(f"/search?q={quote(query)}", "/search"), "/saved-searches")
        location = self.submit(form, "/saved-searches", {"name": unique("负载测试")})
        if location and (saved := re.search(rf"saved-({UUID})", location)):
            path = f"/saved-searches/{saved.group(1)}/delete"
            self.submit(form_on(self.page("/saved-searches", "/saved-searches"), path), "/saved-searches/{id}/delete", {})

    @task(1)
    def ask_for_listing(self) -> None:
        """Up to three listings: one the company has asked for already takes it to its request."""
        for listing_id in random.sample(self.listings, min(3, len(self.listings))):
            path = f"/listings/{listing_id}/match-request"
            with self.client.get(path, name="/listings/{id}/match-request", allow_redirects=False, catch_response=True) as answer:
                if answer.status_code in (302, 303):
                    continue
                if answer.status_code != 200:
                    answer.failure(f"{answer.status_code} for {path}")
                    return
                html = answer.text or ""
            values = {
                "purpose": unique("评估该成果用于新适应证的开发"),
                "timeline": "三个月内完成评估",
                "message": "您好，我们希望进一步了解技术细节和许可条件。",
                "accept_nda": "on",
            }
            if (location := self.submit(form_on(html, path), "/listings/{id}/match-request", values)) and (
                created := re.search(UUID, location)
            ):
                self.requests.append(created.group(0))
            return

    @task(2)
    def write_in_conversation(self) -> None:
        if self.requests:
            converse(self, "/match-requests/{id}/messages", unique("请问是否有更多的临床前数据？"))


class TTO(Browser):
    """An institution's tech-transfer office: answers, edits its listings, records payments."""

    weight = 1
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.sign_in(TTO_ACCOUNTS[next(_turns["tto"]) % len(TTO_ACCOUNTS)])
        self.requests = ids(self.page("/match-requests/inbox", "/match-requests/inbox"), "/match-requests/")
        self.listings = ids(self.page("/listings?show=mine", "/listings?show=mine"), "/listings/")
        self.agreements = ids(self.page("/agreements", "/agreements"), "/agreements/")

    @task(2)
    def inbox(self) -> None:
        self.requests = ids(self.page("/match-requests/inbox", "/match-requests/inbox"), "/match-requests/") or self.requests

    @task(1)
    def home(self) -> None:
        self.page("/", "/ (signed in)")

    @task(3)
    def answer(self) -> None:
        if self.requests:
            converse(self, "/match-requests/{id}/messages", unique("感谢关注，资料已上传，欢迎约时间沟通。"))

    @task(1)
    def edit_listing(self) -> None:
        if not self.listings:
            return
        listing_id = random.choice(self.listings)
        path = f"/listings/{listing_id}"
        form = form_on(self.page(f"{path}/edit", "/listings/{id}/edit"), path)
        advantages = dict(form.fields).get("advantages", "") if form else ""
        revised = re.sub(r" \[rev [0-9a-f]+\]$", "", advantages) + f" [rev {uuid.uuid4().hex[:8]}]"
        self.submit(form, "/listings/{id} (edit)", {"advantages": revised})

    @task(1)
    def record_payment(self) -> None:
        """Opens agreements until one has an item due; those with none are not opened again."""
        while self.agreements:
            agreement_id = random.choice(self.agreements)
            path = f"/agreements/{agreement_id}/payments"
            form = form_on(self.page(f"/agreements/{agreement_id}", "/agreements/{id}"), path)
            if form is not None:
                today = datetime.now(UTC).date().isoformat()  # China's date is never earlier
                values = {"amount": "1.00", "received_on": today, "reference": unique("BANK")}
                self.submit(form, "/agreements/{id}/payments", values)
                return
            self.agreements.remove(agreement_id)


def converse(user: Browser, name: str, text: str) -> None:
    """Opens one of the user's requests and, where its conversation takes messages, writes one."""
    request_id = random.choice(user.requests)  # type: ignore[attr-defined]
    html = user.page(f"/match-requests/{request_id}", "/match-requests/{id}")
    if form := form_on(html, f"/match-requests/{request_id}/messages"):
        user.submit(form, name, {"text": text})


def smoke(host: str, rounds: int = 2) -> int:
    """One user of each kind, in turn, through each of its tasks `rounds` times, without waiting:
    prints every request with what went wrong; exit status 1 when any request failed."""
    from locust.env import Environment

    environment = Environment(user_classes=[Visitor, Company, TTO], host=host)
    failed = []

    def record(request_type: str, name: str, exception: Exception | None = None, **_kwargs) -> None:
        print(f"{request_type} {name}{f'  FAILED: {exception}' if exception else ''}", flush=True)
        if exception:
            failed.append(name)

    environment.events.request.add_listener(record)
    for kind in (Visitor, Company, TTO):
        kind.host = host
        user = kind(environment)
        user.on_start()
        for step in dict.fromkeys(user.tasks):  # each task once, however heavy its weight
            for _ in range(rounds):
                step(user)  # type: ignore[operator]  # these users' tasks are functions, no TaskSet
    print(f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(smoke(sys.argv[1]))
