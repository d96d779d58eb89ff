"""`make bench`: its reading of wrk's report, its targets and report, and a quick run of
every tier against the cluster. Behaviour, not timings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from deploy import bench, bench_app, bench_report
from deploy.paths import Layout
from tests.deploy.helpers import cluster_status, run

WRK_REPORT = """\
Running 5s test @ http://127.0.0.1:7500/products/x/?dynamic
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.10ms    3.20ms  48.00ms   80.00%
    Req/Sec     2.20k   100.00     2.40k    70.00%
  Latency Distribution
     50%  850.00us
     75%    8.00ms
     90%   11.00ms
     99%    1.20s
  11000 requests in 5.00s, 30.00MB read
  Socket errors: connect 0, read 9, write 1, timeout 0
  Non-2xx or 3xx responses: 1000
Requests/sec:   2200.00
Transfer/sec:      6.00MB
"""


def test_wrk_report_counts_socket_and_http_errors_and_only_successes_as_throughput() -> None:
    figures = bench.parse_wrk(WRK_REPORT)
    assert figures.errors == 1010  # 10 socket errors + 1000 error responses
    assert figures.per_second == 2000.0  # (11000 - 1000) / 5 s
    assert figures.p50_ms == pytest.approx(0.85)
    assert figures.p99_ms == pytest.approx(1200.0)


def test_a_clean_wrk_report_has_no_errors() -> None:
    clean = "\n".join(
        line for line in WRK_REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    assert bench.parse_wrk(clean).errors == 0


def test_wrk_output_without_a_result_is_an_error_not_a_zero() -> None:
    with pytest.raises(bench.DeployError, match="wrk printed no result"):
        bench.parse_wrk("unable to connect to 127.0.0.1:7500 Connection refused\n")


def _row(number: str, per_second: float, errors: int = 0) -> bench_report.Row:
    return bench_report.Row(number, f"tier {number}", "wrk", per_second, 1.0, 2.0, errors, 100)


def test_targets_are_ratios_within_one_run() -> None:
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5)]
    met = dict(bench_report.targets(rows))
    assert met == {
        "prerendered ≥ 0.9× static file": True,
        "prerendered ≥ 50× uncached page": True,  # 190×
        "cached ≥ 3× uncached page": True,  # 4×
        "cached ≥ 0.6× /cart.json": True,  # 0.67×
        "zero errors in tiers 1–7": True,
    }
    slower = [_row("1", 1000), _row("2", 800), _row("3", 30), _row("4", 10, errors=1), _row("5", 5)]
    met = bench_report.targets([*slower, _row("8", 900, errors=9)])
    missed = [name for name, ok in met if not ok]
    assert missed == [
        "prerendered ≥ 0.9× static file",
        "cached ≥ 3× uncached page",
        "cached ≥ 0.6× /cart.json",
        "zero errors in tiers 1–7",
        "rollout: zero failed requests, socket errors included",
    ]


def test_the_report_ends_with_the_report_and_chart_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5)]
    bench_report.report(rows, [], tmp_path, method="how")
    last = capsys.readouterr().out.strip().splitlines()[-2:]
    assert last == [f"report: {tmp_path / 'bench.md'}", f"chart: {tmp_path / 'bench.png'}"]
    assert "| 5 | tier 5 | wrk | 5 |" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")


def test_the_rollout_tiers_errors_are_named_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout = bench_report.Row(
        "8", "rolling deploy under load", "wrk", 900, 1, 2, 9, 1000, note="Socket errors: read 9"
    )
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5), rollout]
    bench_report.report(rows, [], tmp_path, method="how")
    assert "tier 8: Socket errors: read 9" in capsys.readouterr().out
    assert "Tier 8: Socket errors: read 9." in (tmp_path / "bench.md").read_text()


def test_measured_targets_pass_at_their_limit_and_miss_above_it() -> None:
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5)]
    figures = [
        bench_app.Figure("re-render visible", 2.0, "s", 2),
        bench_app.Figure("full prerender", 121.0, "s", 120),
    ]
    met = dict(bench_report.targets(rows, figures))
    assert met["re-render visible ≤ 2 s"] is True
    assert met["full prerender ≤ 120 s"] is False


def test_the_report_has_the_measured_targets_and_no_page_ratios_for_orders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = bench_report.Row("7", "special orders", "orders", 30, 50, 300, 0, 70)
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5), orders]
    figures = [bench_app.Figure("SIGKILLed worker's order READY", 12.5, "s", 30)]
    bench_report.report(rows, figures, tmp_path, method="how it was measured")
    printed = capsys.readouterr().out
    assert "PASS  SIGKILLed worker's order READY ≤ 30 s" in printed
    markdown = (tmp_path / "bench.md").read_text()
    assert "| 7 | special orders | orders | 30 | 50.00 | 300.00 | 0 |  |  |" in markdown
    assert "| SIGKILLed worker's order READY | 12.50 s | ≤ 30 s | PASS |" in markdown
    assert "how it was measured" in markdown
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["figures"][0]["value"] == 12.5


def test_a_bench_command_without_json_last_is_an_error() -> None:
    assert bench_app._last_json('noise\n{"p50_ms": 3}\n') == {"p50_ms": 3}
    with pytest.raises(bench.DeployError, match="expected JSON as the last line"):
        bench_app._last_json("Traceback ...\nValueError: no\n")


def test_the_timed_build_gets_a_database_of_its_own_in_each_url() -> None:
    url = "postgres://shop:secret@127.0.0.1:5432/shop?sslmode=disable"
    assert bench_app._with_path(url, "shop_bench_build") == (
        "postgres://shop:secret@127.0.0.1:5432/shop_bench_build?sslmode=disable"
    )
    assert bench_app._with_path("redis://:pw@127.0.0.1:6379/0", "1") == (
        "redis://:pw@127.0.0.1:6379/1"
    )


def test_a_quick_bench_runs_every_tier_and_leaves_the_read_model_as_it_was(
    tmp_path: Path,
) -> None:
    """Tiers 1-7 and the measured targets, small (``--quick``); tier 8, the rollout, has
    tests of its own. Tier 6 switches the Mongo read model on for itself and off again;
    with no build published (as here), the bench publishes one for tier 2."""
    mongo_before = "mongo" in cluster_status()["services"]
    (Layout.discover().prerender_root / "current").unlink(missing_ok=True)
    bench = [sys.executable, "-m", "deploy.bench", "--quick", "--no-rollout"]
    done = run([*bench, "--out", str(tmp_path)], timeout=900)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-2:] == [
        f"report: {tmp_path / 'bench.md'}",
        f"chart: {tmp_path / 'bench.png'}",
    ]
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert [t["number"] for t in saved["tiers"]] == ["1", "2", "3", "4", "4b", "5", "6", "7"]
    assert all(t["per_second"] > 0 for t in saved["tiers"])
    assert [f["unit"] for f in saved["figures"]] == ["ms", "ms", "s", "s", "s"]
    assert ("mongo" in cluster_status()["services"]) == mongo_before
