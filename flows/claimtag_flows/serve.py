"""Scheduled runs: serve the ``extract_claims`` deployment on a cron schedule.

Prefect's embedded (ephemeral) server cannot schedule, so ``serve`` needs a real one:
the server at ``PREFECT_API_URL`` when set, otherwise a local server that this module
starts on 127.0.0.1 (its database under ``$CLAIMTAG_HOME/prefect``, by default
``~/.local/share/claimtag/prefect``) and stops on exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from claimtag.errors import ClaimtagError


class ServerError(ClaimtagError):
    """A local Prefect server could not be started."""


def claimtag_home() -> Path:
    """Where claimtag keeps its local Prefect server's database and logs."""
    default = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return Path(os.environ.get("CLAIMTAG_HOME") or default / "claimtag")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def local_server(
    home: Path | None = None, port: int | None = None, timeout: float = 180.0
) -> Iterator[str]:
    """Start ``prefect server start`` on 127.0.0.1, yield its API URL, stop it on exit."""
    home = (home or claimtag_home()) / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not healthy(api_url):
            if proc.poll() is not None:
                raise ServerError(
                    f"the local Prefect server exited with code {proc.returncode}; "
                    f"see {home / 'server.log'}"
                )
            if time.monotonic() > deadline:
                raise ServerError(f"the local Prefect server did not start in {timeout:.0f} s")
            time.sleep(0.5)
        yield api_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def serve(*, name: str, cron: str, parameters: dict[str, Any], api_url: str | None = None) -> None:
    """Register the deployment with its schedule and serve it until interrupted."""
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    from claimtag_flows.extract import extract_claims

    extract_claims.serve(
        name=name,
        cron=cron,
        parameters=parameters,
        description="claimtag: tag claims in the inputs and commit them to the output folder",
        tags=["claimtag"],
        pause_on_shutdown=False,
    )
