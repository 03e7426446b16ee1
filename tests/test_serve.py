"""Scheduling: `claimtag serve` starts a real Prefect server on 127.0.0.1, serves the
deployment, runs it when triggered, and stops the server when it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claimtag_flows.serve import free_port, healthy

from .conftest import EXAMPLES

pytestmark = pytest.mark.slow


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, state = fields[1], fields[3]
            host, hex_port = addr.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(host)
    return found


def test_serve_schedules_and_runs_on_a_local_server(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "out"
    env = {
        **os.environ,
        "CLAIMTAG_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "client-home"),
    }
    env.pop("PREFECT_API_URL", None)
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claimtag.cli",
            "serve",
            str(EXAMPLES),
            "--out",
            str(out),
            "--cron",
            "0 0 1 1 *",
            "--name",
            "test",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 240
        while not healthy(api_url):
            assert serve.poll() is None, serve.stdout.read() if serve.stdout else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(1)
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
        client_env = {**env, "PREFECT_API_URL": api_url}
        while True:  # the deployment appears once serve() has registered it
            trigger = subprocess.run(
                [sys.executable, "-m", "prefect", "deployment", "run", "extract_claims/test"],
                capture_output=True,
                text=True,
                env=client_env,
                timeout=120,
            )
            if trigger.returncode == 0:
                break
            assert time.monotonic() < deadline, trigger.stdout + trigger.stderr
            time.sleep(2)
        while not list((out / "runs").glob("*.json")) if (out / "runs").exists() else True:
            assert serve.poll() is None
            assert time.monotonic() < deadline + 120, "the triggered run did not commit"
            time.sleep(1)
        (manifest_path,) = (out / "runs").glob("*.json")
        manifest = json.loads(manifest_path.read_text())
        assert manifest["counts"]["documents"] == 4
        assert manifest["counts"]["claims"] > 0
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
    time.sleep(1)
    assert not healthy(api_url), "the local server outlived claimtag serve"
