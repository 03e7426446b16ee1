"""claimtag report: a self-contained, escaped HTML page; rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from claimtag.cli import main
from claimtag.report import _nice_ticks, _script_json, _segments, build_report
from claimtag.rules import default_rules
from claimtag.runs import run
from claimtag.store import read_claims

from .claim_fixtures import EVIL_DOC_ID, make_dataset
from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(out: Path) -> str:
    return build_report(out).html


def _payload(html_text: str) -> dict[str, Any]:
    m = re.search(
        r'<script type="application/json" id="claims-data">(.*?)</script>', html_text, re.S
    )
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


SEGMENTS = [
    (
        "Moscow has massed troops.",
        10,
        [(21, 27)],
        [["Moscow has ", 0], ["massed", 1], [" troops.", 0]],
    ),
    ("war and war", 0, [(0, 3), (8, 11)], [["war", 1], [" and ", 0], ["war", 1]]),
    ("armed attack", 0, [(0, 5), (3, 12)], [["armed attack", 1]]),  # overlapping spans merge
    ("a threat", 100, [(90, 103), (107, 120)], [["a t", 1], ["hrea", 0], ["t", 1]]),  # clipped
    ("\U0001f642 war", 0, [(2, 5)], [["\U0001f642 ", 0], ["war", 1]]),  # code points, not UTF-16
    ("no evidence", 0, [], [["no evidence", 0]]),
]


@pytest.mark.parametrize(("text", "start", "spans", "expected"), SEGMENTS)
def test_evidence_segments(
    text: str, start: int, spans: list[tuple[int, int]], expected: list[Any]
) -> None:
    evidence = [{"rule_id": "r", "start": a, "end": b, "text": "x"} for a, b in spans]
    assert _segments(text, start, evidence) == expected


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0.0, 1.0]),
        (7, [0, 2, 4, 6, 8]),
        (2665, [0, 1000, 2000, 3000]),
        (1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_nice_ticks(top: float, ticks: list[float]) -> None:
    assert _nice_ticks(top) == pytest.approx(ticks)


@pytest.mark.parametrize(("top", "ticks"), [(2, [0, 1, 2]), (1, [0, 1]), (7, [0, 2, 4, 6, 8])])
def test_count_axes_have_whole_ticks(top: float, ticks: list[float]) -> None:
    assert _nice_ticks(top, integer=True) == ticks


def test_script_json_cannot_end_the_script_element() -> None:
    text = _script_json({"x": "</script><!-- & -->"})
    assert "<" not in text
    assert ">" not in text
    assert json.loads(text) == {"x": "</script><!-- & -->"}


def test_document_text_cannot_inject_markup(page: str) -> None:
    assert "<script>alert" not in page
    assert "<img" not in page
    assert EVIL_DOC_ID not in page
    assert "&lt;b onmouseover=&quot;alert(3)&quot;&gt;evil&lt;/b&gt;" in page
    assert page.count("<script") == 2  # the data block and the page's own script


def test_page_is_self_contained(page: str) -> None:
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"] * page.count(
        "<svg"
    )
    assert "<link" not in page
    assert not re.search(r"<[a-zA-Z][^>]*\ssrc=", page)  # no element loads anything
    assert "Content-Security-Policy" in page


SECTIONS = [
    "types",
    "confidence",
    "time",
    "documents",
    "actors-threat",
    "pairs-alliance",
    "rules",
    "table",
]


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_is_there(page: str, section: str) -> None:
    assert f'id="{section}"' in page


def test_claims_over_time_by_month(page: str) -> None:
    time_panel = page.split('id="time"', 1)[1].split("</section>", 1)[0]
    assert "Claims per month of the document date" in time_panel
    assert "<polyline" in time_panel
    assert "2023-11" in time_panel
    assert "2024-03" in time_panel


def test_without_dates_the_page_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([str(EXAMPLES)], out, default_rules(), run_id="undated")
    page = build_report(out).html
    assert "No claim in this dataset has a document date" in page


def test_a_dataset_without_claims_still_reports(tmp_path: Path) -> None:
    (tmp_path / "none.txt").write_text("The ministers met in Geneva.")
    out = tmp_path / "out"
    run([str(tmp_path / "none.txt")], out, default_rules(), run_id="empty")
    report = build_report(out)
    assert (report.claims, report.documents, report.table_rows) == (0, 0, 0)
    assert "No claims in this dataset." in report.html
    assert _payload(report.html)["rows"] == []


def test_table_rows_highlight_the_evidence_inside_the_sentence(out: Path, page: str) -> None:
    texts = {r["claim_id"]: r["text"] for r in read_claims(out).to_pylist()}
    rows = _payload(page)["rows"]
    assert len(rows) == len(texts)
    for row in rows:
        assert "".join(piece for piece, _ in row["x"]) == texts[row["i"]]
        assert any(marked for _, marked in row["x"])
    confidences = [r["c"] for r in rows]
    assert confidences == sorted(confidences, reverse=True)


def test_the_table_is_capped_and_says_so(out: Path) -> None:
    n = read_claims(out).num_rows
    report = build_report(out, max_rows=5)
    assert report.table_rows == 5
    assert len(_payload(report.html)["rows"]) == 5
    assert f"The table holds the 5 most confident of {n} claims" in report.html


def test_cli_report(out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "r" / "report.html"
    assert main(["report", str(out), "--to", str(dest), "--top", "5", "--title", "A <title>"]) == 0
    assert "written to" in capsys.readouterr().out
    text = dest.read_text(encoding="utf-8")
    assert "<title>A &lt;title&gt;</title>" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "{tmp}/nothing", "--to", "{tmp}/r.html"], "no claims dataset"),
        (["report", "{out}", "--to", "{tmp}/r.html", "--top", "0"], "--top must be at least 1"),
    ],
)
def test_cli_report_errors_exit_2(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)).replace("{out}", str(out)) for a in argv]
    assert main(args) == 2
    assert message in capsys.readouterr().err


# --- in a real browser ---------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
# Chromium logs every console message as "...:CONSOLE:12] "text", source: ..." (older
# builds: "CONSOLE(12)"); uncaught exceptions as "Uncaught ...". The report logs nothing.
CONSOLE = re.compile(r"CONSOLE(?:\(\d+\)|:\d+)\]|Uncaught")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip(
            "chromium not installed: `make browser` installs it (apt-get, as root) "
            "or install Debian's chromium package"
        )
    return path


def _chromium(chromium: str, tmp: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


@pytest.mark.slow
def test_console_errors_would_be_seen(chromium: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>noSuchFunction();</script>")
    proc = _chromium(chromium, tmp_path, bad.as_uri(), "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in _console_lines(proc.stderr))


@pytest.fixture(scope="module")
def report_file(out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(build_report(out).html, encoding="utf-8")
    return path


@pytest.mark.slow
def test_report_renders_in_chromium(chromium: str, report_file: Path, tmp_path: Path) -> None:
    proc = _chromium(chromium, tmp_path, report_file.as_uri(), "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _console_lines(proc.stderr) == []
    dom = proc.stdout
    assert 'data-ready="1"' in dom  # the script ran to the end
    n_rows = len(_payload(report_file.read_text(encoding="utf-8"))["rows"])
    assert dom.count('class="claim-row') == min(n_rows, 100)
    assert dom.count("<mark") >= min(n_rows, 100)
    assert f"of {n_rows} claims match" in dom
    assert "<img" not in dom  # the injected tag stayed text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


@pytest.mark.slow
def test_report_screenshot(chromium: str, report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = _chromium(
        chromium, tmp_path, report_file.as_uri(), f"--screenshot={shot}", "--window-size=1400,2400"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _console_lines(proc.stderr) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 2400)
    assert len(data) > 50_000  # a rendered page, not a blank one


class _DevTools:
    """A minimal DevTools-protocol client over one page's websocket."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=None)
        self.next_id = 0

    def evaluate(self, expression: str, *, retry: bool = False) -> Any:
        """The value of ``expression`` in the page; with ``retry``, survive a navigation."""
        for _ in range(50 if retry else 1):
            message = self._call(expression)
            if "result" in message or "context was destroyed" not in str(message):
                break
            time.sleep(0.1)
        assert "result" in message, message
        result = message["result"]
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def _call(self, expression: str) -> dict[str, Any]:
        self.next_id += 1
        call = {
            "id": self.next_id,
            "method": "Runtime.evaluate",
            "params": {"expression": expression, "awaitPromise": True, "returnByValue": True},
        }
        self.ws.send(json.dumps(call))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.next_id:
                return dict(message)

    def close(self) -> None:
        self.ws.close()


def _devtools_page(log: Path, proc: subprocess.Popen[bytes], url: str) -> str:
    """The websocket of the page showing ``url``, once chromium has opened it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = re.search(r"DevTools listening on ws://([\d.]+:\d+)/", log.read_text(errors="replace"))
        if m:
            with urllib.request.urlopen(f"http://{m.group(1)}/json/list", timeout=10) as resp:
                targets = json.loads(resp.read())
            pages = [t for t in targets if t.get("type") == "page" and t.get("url") == url]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"chromium did not start its DevTools endpoint:\n{log.read_text()[-2000:]}")


WAIT_READY = """new Promise((ok) => { const t = () => document.body &&
  document.body.dataset.ready === "1" ? ok(true) : setTimeout(t, 50); t(); })"""
SEARCH = """new Promise((ok) => { const q = document.getElementById("q"); q.value = %s;
  q.dispatchEvent(new Event("input")); setTimeout(() => ok(
  [...document.querySelectorAll("tr.claim-row")].map((tr) => tr.textContent)), 400); })"""
TYPE = """(() => { const s = document.getElementById("f-type"); s.value = %s;
  s.dispatchEvent(new Event("change"));
  return [...document.querySelectorAll("tr.claim-row .pill")].map((p) => p.textContent); })()"""


@pytest.mark.slow
def test_the_table_filters_in_the_browser(chromium: str, report_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("websockets.sync.client")
    log = tmp_path / "chromium.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                report_file.as_uri(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        client = _DevTools(_devtools_page(log, proc, report_file.as_uri()))
        try:
            assert client.evaluate(WAIT_READY, retry=True) is True
            everything = client.evaluate(SEARCH % json.dumps(""))
            found = client.evaluate(SEARCH % json.dumps("sanctions"))
            assert 0 < len(found) < len(everything)
            assert all("sanction" in text.lower() for text in found)
            assert client.evaluate(SEARCH % json.dumps("no-such-word-anywhere")) == []
            client.evaluate(SEARCH % json.dumps(""))
            pills = client.evaluate(TYPE % json.dumps("alliance"))
            assert pills
            assert set(pills) == {"Alliance"}
        finally:
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert _console_lines(log.read_text(errors="replace")) == []
