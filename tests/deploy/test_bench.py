"""`make bench`'s reading of wrk's report and its targets: behaviour, not timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import bench

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


def _row(number: str, per_second: float, errors: int = 0) -> bench.Row:
    return bench.Row(number, f"tier {number}", "wrk", per_second, 1.0, 2.0, errors, 100)


def test_targets_are_ratios_within_one_run() -> None:
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5)]
    met = dict(bench.targets(rows))
    assert met == {
        "prerendered ≥ 0.9× static file": True,
        "prerendered ≥ 50× uncached page": True,  # 190×
        "cached ≥ 3× uncached page": True,  # 4×
        "cached ≥ 0.6× /cart.json": True,  # 0.67×
        "zero errors in tiers 1–6": True,
    }
    slower = [_row("1", 1000), _row("2", 800), _row("3", 30), _row("4", 10, errors=1), _row("5", 5)]
    missed = [name for name, ok in bench.targets([*slower, _row("8", 900, errors=9)]) if not ok]
    assert missed == [
        "prerendered ≥ 0.9× static file",
        "cached ≥ 3× uncached page",
        "cached ≥ 0.6× /cart.json",
        "zero errors in tiers 1–6",
        "rollout: zero failed requests, socket errors included",
    ]


def test_the_report_ends_with_the_report_and_chart_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5)]
    bench._report(rows, tmp_path)
    last = capsys.readouterr().out.strip().splitlines()[-2:]
    assert last == [f"report: {tmp_path / 'bench.md'}", f"chart: {tmp_path / 'bench.png'}"]
    assert "| 5 | tier 5 | wrk | 5 |" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")


def test_the_rollout_tiers_errors_are_named_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout = bench.Row(
        "8", "rolling deploy under load", "wrk", 900, 1, 2, 9, 1000, note="Socket errors: read 9"
    )
    rows = [_row("1", 1000), _row("2", 950), _row("3", 30), _row("4", 20), _row("5", 5), rollout]
    bench._report(rows, tmp_path)
    assert "tier 8: Socket errors: read 9" in capsys.readouterr().out
    assert "Tier 8: Socket errors: read 9." in (tmp_path / "bench.md").read_text()
