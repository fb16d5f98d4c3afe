"""Locust users for bench/pages.py, one kind of page each (chosen on locust's command line). They
wait for nothing between requests: the figure is how many pages a second the server gives."""

from __future__ import annotations

import itertools
import os
import random

from locust import FastHttpUser, constant, task

LISTINGS = [line for line in os.environ.get("BENCH_LISTINGS", "").split(",") if line]
QUERIES = ["肿瘤", "PD-1 抗体", "IVD 试剂盒", "研究型病房", "lung cancer", "生物样本库", "心血管", "AI 影像"]
TURNS = itertools.count()
SESSIONS = [cookies for cookies in os.environ.get("BENCH_SESSIONS", "").split(",") if cookies]


class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/bare")


class ListingPage(FastHttpUser):
    """A visitor reading listings (no session)."""

    wait_time = constant(0)

    @task
    def listing(self) -> None:
        self.client.get(f"/listings/{random.choice(LISTINGS)}", name="/listings/{id}")


class SearchPage(FastHttpUser):
    wait_time = constant(0)

    @task
    def search(self) -> None:
        self.client.get(f"/search?q={random.choice(QUERIES)}", name="/search?q=")


class SignedIn(FastHttpUser):
    """A company member, signed in: on a session bench/pages.py opened before the run (signing in
    hashes a password, which is not what a page costs). Abstract: the kinds below say which pages."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self.turn = next(TURNS)
        self.cookie = SESSIONS[self.turn % len(SESSIONS)]  # one session each, with its CSRF cookie as a browser has it

    def open(self, listing_id: str, name: str) -> None:
        # A page without the sign-out form would be a visitor's (a lost session): not counted as signed in.
        with self.client.get(f"/listings/{listing_id}", name=name, headers={"cookie": self.cookie}, catch_response=True) as page:
            if page.status_code == 200 and "/logout" not in (page.text or ""):
                page.failure("not signed in")


class SignedInListingPage(SignedIn):
    """Reading listings, each picked at random: mostly pages not yet kept for the session."""

    @task
    def listing(self) -> None:
        self.open(random.choice(LISTINGS), "/listings/{id} (signed in)")


class SignedInRepeatedPage(SignedIn):
    """The same member going back to the few listings they are comparing (reloads, the back button,
    htmx history): each user cycles through REPEATED of them, the pages kept for their session."""

    REPEATED = 5

    def on_start(self) -> None:
        super().on_start()
        self.mine = itertools.cycle([LISTINGS[(self.turn * self.REPEATED + n) % len(LISTINGS)] for n in range(self.REPEATED)])

    @task
    def again(self) -> None:
        self.open(next(self.mine), "/listings/{id} (signed in, again)")
