"""The baseline of bench/pages.py: a bare Litestar JSON endpoint, served by Granian like the app."""

from litestar import Litestar, get


@get("/bare")
async def bare() -> dict[str, bool]:
    return {"ok": True}


app = Litestar([bare])
