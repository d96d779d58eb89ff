"""`make bench`'s report: targets met or missed, the table, the Markdown report and the
PNG chart (with an SVG copy), from the rows and figures of one run."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .bench_app import Figure


@dataclass(frozen=True)
class Row:
    """One tier of the table: successful requests per second, latency and errors
    (HTTP errors plus socket errors), measured by ``client``."""

    number: str
    tier: str
    client: str
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    note: str = ""  # what the errors were, for the report


def targets(rows: list[Row], figures: Sequence[Figure] = ()) -> list[tuple[str, bool]]:
    """Each target of the benchmark and whether this run met it (ratios in one run)."""
    by = {row.number: row.per_second for row in rows}
    static, prerendered, cart = by["1"], by["2"], by["3"]
    cached, uncached = by["4"], by["5"]
    met = [
        ("prerendered ≥ 0.9× static file", prerendered >= 0.9 * static),
        ("prerendered ≥ 50× uncached page", prerendered >= 50 * uncached),
        ("cached ≥ 3× uncached page", cached >= 3 * uncached),
        ("cached ≥ 0.6× /cart.json", cached >= 0.6 * cart),
        ("zero errors in tiers 1–7", all(r.errors == 0 for r in rows if r.number != "8")),
    ]
    met += [(f"{f.name} ≤ {f.limit:g} {f.unit}", f.met) for f in figures]
    rollout = [r for r in rows if r.number == "8"]
    if rollout:
        met.append(
            ("rollout: zero failed requests, socket errors included", rollout[0].errors == 0)
        )
    return met


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3g}×" if base else "–"


# Tiers whose figure is no page rate: no ratio to the page tiers.
NO_RATIOS = {"7", "8"}


def _table(rows: list[Row]) -> list[list[str]]:
    by = {row.number: row.per_second for row in rows}
    return [
        [
            row.number,
            row.tier,
            row.client,
            f"{row.per_second:,.0f}",
            f"{row.p50_ms:.2f}",
            f"{row.p99_ms:.2f}",
            str(row.errors),
            *(
                ["", ""]
                if row.number in NO_RATIOS
                else [
                    _ratio(row.per_second, by.get("1", 0.0)),
                    _ratio(row.per_second, by.get("5", 0.0)),
                ]
            ),
        ]
        for row in rows
    ]


HEADER = ["#", "tier", "client", "req/s", "p50 ms", "p99 ms", "errors", "× tier 1", "× tier 5"]


FIGURES_HEADER = ["target", "measured", "limit", ""]


def _figures_table(figures: Sequence[Figure]) -> list[list[str]]:
    return [
        [f.name, f"{f.value:,.2f} {f.unit}", f"≤ {f.limit:g} {f.unit}", "PASS" if f.met else "MISS"]
        for f in figures
    ]


def _print_table(header: list[str], table: list[list[str]], left: int) -> None:
    """``table`` in columns, the first ``left`` left-aligned, the others right-aligned."""
    widths = [max(len(line[i]) for line in [header, *table]) for i in range(len(header))]
    print()
    for line in [header, *table]:
        print(
            "  ".join(
                c.ljust(w) if i < left else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )


def report(rows: list[Row], figures: Sequence[Figure], out_dir: Path, *, method: str) -> None:
    """Print the tables and PASS/MISS, write the report and chart; the last two lines
    name them."""
    table = _table(rows)
    _print_table(HEADER, table, left=3)
    if figures:
        _print_table(FIGURES_HEADER, _figures_table(figures), left=1)
    met = targets(rows, figures)
    print()
    for name, ok in met:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    for row in rows:
        if row.note:
            print(f"tier {row.number}: {row.note}")
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench.json").write_text(
        json.dumps(
            {
                "tiers": [asdict(r) for r in rows],
                "figures": [asdict(f) for f in figures],
                "targets": dict(met),
                "cores": os.cpu_count(),
            },
            indent=2,
        )
        + "\n"
    )
    markdown = out_dir / "bench.md"
    markdown.write_text(_markdown(table, met, rows, figures, method))
    (out_dir / "bench.svg").write_text(_svg(rows))
    chart = out_dir / "bench.png"
    _png(rows, figures, chart)
    print(f"\nreport: {markdown}\nchart: {chart}")


def _markdown_table(header: list[str], table: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(line) + " |" for line in table),
        "",
    ]


def _markdown(
    table: list[list[str]],
    met: list[tuple[str, bool]],
    rows: list[Row],
    figures: Sequence[Figure],
    method: str,
) -> str:
    lines = [
        f"# `make bench`, one run on {os.cpu_count()} cores",
        "",
        method,
        "",
        *_markdown_table(HEADER, table),
        *(_markdown_table(FIGURES_HEADER, _figures_table(figures)) if figures else []),
        *(f"- {'PASS' if ok else 'MISS'}: {name}" for name, ok in met),
        "",
        *(f"Tier {row.number}: {row.note}.\n" for row in rows if row.note),
        "![requests per second per tier, log scale](bench.png)",
        "",
    ]
    return "\n".join(lines)


def _png(rows: list[Row], figures: Sequence[Figure], path: Path) -> None:
    """The tiers as bars on a log scale, tier 1 (the limit) as a dashed line; below, each
    measured target as a share of its limit (1 = the limit)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    heights = [0.5 * len(rows) + 1.6] + ([0.45 * len(figures) + 1.2] if figures else [])
    figure, panels = pyplot.subplots(
        len(heights),
        1,
        figsize=(11, sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    axes = panels[0][0]
    labels = [f"{r.number}. {r.tier}" for r in reversed(rows)]
    values = [r.per_second for r in reversed(rows)]
    colours = ["#b5522b" if r.errors == 0 else "#888888" for r in reversed(rows)]
    axes.barh(labels, values, color=colours)
    axes.set_xscale("log")
    for y, value in enumerate(values):
        axes.text(value * 1.08, y, f"{value:,.0f}/s", va="center", fontsize=9)
    limit = next((r.per_second for r in rows if r.number == "1"), None)
    if limit:
        axes.axvline(limit, color="#333333", linestyle="--", linewidth=1)
    axes.set_xlabel("successful requests per second (tier 7: jobs), log scale; grey: errors")
    axes.set_title(
        f"make bench, one run on {os.cpu_count()} cores (dashed: the static file, the limit)",
        fontsize=11,
    )
    axes.set_xlim(right=max(values) * 8)
    if figures:
        axes = panels[1][0]
        shares = [f.value / f.limit for f in reversed(figures)]
        axes.barh(
            [f.name for f in reversed(figures)],
            shares,
            color=["#b5522b" if f.met else "#888888" for f in reversed(figures)],
        )
        for y, f in enumerate(reversed(figures)):
            axes.text(
                shares[y] * 1.02 + 0.01, y, f"{f.value:,.2f} {f.unit}", va="center", fontsize=9
            )
        axes.axvline(1, color="#333333", linestyle="--", linewidth=1)
        axes.set_xlim(0, max(1.3, max(shares) * 1.3))
        axes.set_xlabel("measured ÷ target (dashed: the target; grey: missed)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def _svg(rows: list[Row]) -> str:
    """Requests per second on a log scale, the static file's figure marked as the limit."""
    top = max(max(r.per_second for r in rows), 10.0)
    decades = math.ceil(math.log10(top))
    left, width = 300, 400

    def x(value: float) -> float:
        return left + width * math.log10(max(value, 1.0)) / decades

    parts = []
    for decade in range(decades + 1):
        gx = left + width * decade / decades
        parts.append(
            f'<line x1="{gx:.0f}" y1="26" x2="{gx:.0f}" y2="{34 + 34 * len(rows)}" stroke="#ddd"/>'
            f'<text x="{gx:.0f}" y="{48 + 34 * len(rows)}" font-size="11" '
            f'text-anchor="middle">{10**decade:,}</text>'
        )
    for row_number, r in enumerate(rows):
        y = 30 + row_number * 34
        parts.append(
            f'<text x="10" y="{y + 16}" font-size="13">{r.number}. {r.tier}</text>'
            f'<rect x="{left}" y="{y}" width="{x(r.per_second) - left:.0f}" height="22" '
            f'fill="{"#b5522b" if r.errors == 0 else "#888"}"/>'
            f'<text x="{x(r.per_second) + 6:.0f}" y="{y + 16}" font-size="12">'
            f"{r.per_second:,.0f}/s</text>"
        )
    limit = next((r.per_second for r in rows if r.number == "1"), None)
    if limit:
        parts.append(
            f'<line x1="{x(limit):.0f}" y1="26" x2="{x(limit):.0f}" y2="{34 + 34 * len(rows)}" '
            'stroke="#333" stroke-dasharray="4 3"/>'
        )
    height = 60 + 34 * len(rows)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height}" '
        'font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">'
        f"Requests per second through nginx, log scale (one run, {os.cpu_count()} cores; "
        "dashed: the static file, the limit)</text>" + "".join(parts) + "</svg>\n"
    )
