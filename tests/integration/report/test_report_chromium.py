"""The report renders in a real browser: headless Chromium loads a copy of the page with a
probe that records every JavaScript error (``error`` events, failed resources, unhandled
rejections, ``console.error``) into ``#js-errors``; the dumped DOM must show the probe ran,
no error, and plotly's SVGs; a screenshot must not be blank. Offline: file:// only, and any
network request goes to a dead proxy on 127.0.0.1 and would fail (and be recorded)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import missing
from workbench.report import BlockStats, write_report
from workbench.scoring.metrics import OpportunityRow

OUTCOMES = ("won", "lost_to_competitor", "reverted", "unprofitable_after_gas")
FIGURES = ("cumulative", "per-block", "profit-gas", "outcomes", "fidelity")
TIMEOUT = 60
PROBE = """<script>
(function () {
  var errors = [];
  function record(text) {
    errors.push(String(text));
    var out = document.getElementById("js-errors");
    if (out) { out.textContent = errors.join("\\n"); }
  }
  window.addEventListener("error", function (e) {
    var src = e.target && (e.target.src || e.target.href);
    record(src ? "resource failed: " + src : "error: " + e.message);
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    record("unhandled rejection: " + e.reason);
  });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var out = document.createElement("pre");
    out.id = "js-errors";
    out.setAttribute("data-probe", "loaded");
    out.textContent = errors.join("\\n");
    document.body.appendChild(out);
  });
})();
</script>"""


@dataclass(frozen=True)
class Loaded:
    dom: str
    stderr: str
    screenshot: Path

    def js_errors(self) -> str:
        m = re.search(r'<pre id="js-errors" data-probe="loaded">(.*?)</pre>', self.dom, re.S)
        assert m is not None, "the probe did not run: " + self.dom[-2000:]
        return m.group(1)


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; the test never installs it."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    missing(
        "chromium",
        "Debian's chromium is not installed (make setup installs it; or apt-get install chromium)",
    )


def load(chromium: str, page: Path, tmp: Path) -> Loaded:
    """Open a probed copy of ``page`` in headless Chromium; always kill it (whole group)."""
    probed = tmp / f"probed-{page.name}"
    probed.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    shot = tmp / f"{page.stem}.png"
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--window-size=1280,3000",
        f"--screenshot={shot}",
        "--dump-dom",
        probed.as_uri(),
    ]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        dom, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        # renderer and helper processes share the group; none may outlive the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0, stderr[-3000:]
    return Loaded(dom, stderr, shot)


def _rows() -> list[OpportunityRow]:
    """Two hundred blocks' worth of opportunities with every outcome, some beyond 2**64 wei."""
    rows = []
    for i in range(300):
        outcome = OUTCOMES[i * 7 % 4]
        profit = (i % 13 + 1) * 10**16 if i % 50 else 2**66 + i
        gas = (i % 5 + 2) * 10**15
        ok = outcome != "reverted"
        net = profit - profit // 2 - gas if ok and outcome != "unprofitable_after_gas" else 0
        rows.append(
            OpportunityRow(
                block=1000 + i * 2 // 3,
                strategy=("cyclic_arb", "backrun_arb")[i % 2],
                key=f"k{i}",
                pools=(f"0x{i % 4:040x}", f"0x{i % 3 + 10:040x}"),
                expected_profit=profit,
                sim_status="success" if ok else "reverted",
                profit=profit if ok else 0,
                bid_paid=profit // 2 if ok else 0,
                gas_cost=gas,
                outcome=outcome,
                pnl_upper_bound=net,
                pnl_with_competition=net if outcome == "won" else 0,
            )
        )
    return rows


def _blocks(rows: list[OpportunityRow]) -> list[BlockStats]:
    """Two hundred blocks of 20 transactions; every 37th has one that replayed differently."""
    out = []
    for n in range(1000, 1200):
        bad = ("0xab: status 0 != 1",) if n % 37 == 0 else ()
        found = sum(r.block == n for r in rows)
        out.append(BlockStats(n, 20, 20 - len(bad), len(bad), found, bad))
    return out


def test_report_renders_without_javascript_errors(chromium: str, tmp_path: Path) -> None:
    rows = _rows()
    blocks = _blocks(rows)
    page = write_report(
        tmp_path / "report.html",
        title="Run 1: cyclic_arb + backrun_arb",
        run={"id": 1, "strategy": "cyclic_arb", "config": {"bid_bps": 5000}},
        rows=rows,
        blocks=blocks,
        extra_sections=[("Tuning", "<p id='tuning'>grid search: 12 points</p>")],
    )
    loaded = load(chromium, page, tmp_path)
    assert loaded.js_errors() == ""
    assert "Uncaught" not in loaded.stderr
    drawn = {  # each figure's div, up to the next one, holds the SVGs plotly drew
        chunk.split('"', 1)[0]: 'class="main-svg"' in chunk
        for chunk in loaded.dom.split('<div id="fig-')[1:]
    }
    assert drawn == dict.fromkeys(FIGURES, True)
    assert '<p id="tuning">grid search: 12 points</p>' in loaded.dom
    assert loaded.screenshot.stat().st_size > 100_000  # a blank page is ~10 KB


def test_empty_report_renders(chromium: str, tmp_path: Path) -> None:
    page = write_report(tmp_path / "empty.html", title="Run 2", run={"id": 2}, rows=[], blocks=[])
    loaded = load(chromium, page, tmp_path)
    assert loaded.js_errors() == ""
    assert "No opportunities in this run." in loaded.dom
    assert loaded.screenshot.stat().st_size > 30_000


def test_probe_records_errors(chromium: str, tmp_path: Path) -> None:
    """The harness itself: a thrown error, a console.error and a blocked network request
    all show up, so an empty ``#js-errors`` above means something."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<script src="https://cdn.plot.ly/plotly-3.0.0.min.js"></script></head>'
        "<body><script>console.error('boom'); undefinedFunction();</script></body></html>"
    )
    loaded = load(chromium, page, tmp_path)
    errors = loaded.js_errors()
    assert "Uncaught ReferenceError: undefinedFunction" in loaded.stderr
    assert "resource failed: https://cdn.plot.ly/plotly-3.0.0.min.js" in errors
    assert "console.error: boom" in errors
    assert "undefinedFunction" in errors
