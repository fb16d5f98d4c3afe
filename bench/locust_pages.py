"""Locust users for bench/pages.py, one kind of page each (chosen on locust's command line). They
wait for nothing between requests: the figure is how many pages a second the server gives."""

from __future__ import annotations

import os
import random
import re

from locust import FastHttpUser, constant, task

LISTINGS = [line for line in os.environ.get("BENCH_LISTINGS", "").split(",") if line]
QUERIES = ["肿瘤", "PD-1 抗体", "IVD 试剂盒", "研究型病房", "lung cancer", "生物样本库", "心血管", "AI 影像"]
SIGN_IN = (os.environ.get("BENCH_EMAIL", "bd@xinghe.example"), os.environ.get("BENCH_PASSWORD", "demo-pass-2026"))


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


class SignedInListingPage(FastHttpUser):
    """A company member, signed in, reading listings."""

    wait_time = constant(0)

    def on_start(self) -> None:
        page = self.client.get("/login").text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
        form = {"email": SIGN_IN[0], "password": SIGN_IN[1], "_csrf_token": token.group(1) if token else ""}
        self.client.post("/login", data=form, name="/login")

    @task
    def listing(self) -> None:
        self.client.get(f"/listings/{random.choice(LISTINGS)}", name="/listings/{id} (signed in)")
