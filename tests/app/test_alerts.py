"""The alerting rules (ops/alerts.yml) name only metrics the app exports, so an alert cannot stay
silent because a metric was renamed."""

from __future__ import annotations

import re

import yaml

from marketplace.config import PROJECT_ROOT

OURS = re.compile(r"\bmarketplace_[a-z_]+")
# Histogram and counter series carry these suffixes beside their family's name.
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


async def test_every_alert_names_a_metric_the_app_exports(client, app, settings) -> None:
    app.state.settings = settings.model_copy(update={"metrics_token": "alerts"})
    try:
        await client.get("/")  # so the request metrics have a series
        exported = (await client.get("/metrics", headers={"Authorization": "Bearer alerts"})).text
    finally:
        app.state.settings = settings
    families = {line.split()[2] for line in exported.splitlines() if line.startswith("# TYPE")}
    rules = yaml.safe_load((PROJECT_ROOT / "ops" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert len(rules) >= 6
    for rule in rules:
        for name in OURS.findall(rule["expr"]):
            family = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s) and name[: -len(s)] in families), name)
            assert family in families, f"{rule['alert']} names {name}, which /metrics does not export"
