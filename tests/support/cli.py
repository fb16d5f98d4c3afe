"""Running the `marketplace` command as its own process against the test session's services."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from marketplace.config import PROJECT_ROOT

MARKETPLACE = Path(sys.executable).parent / "marketplace"


async def run_cli(settings, prefix: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    """`marketplace *args` with this worker's database and search (index prefix `prefix`): its exit status and output."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": settings.meili_url,
        "MEILI_MASTER_KEY": settings.meili_master_key,
        "MEILI_INDEX_PREFIX": prefix,
        "DATA_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        str(MARKETPLACE), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, output.decode()
