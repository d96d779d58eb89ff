"""What `status` makes of the clones' answers (no cluster needed)."""

from __future__ import annotations

from deploy.status import format_prerender, prerender_section

BUILD = {"name": "20300501T030000.000001Z", "pages": 210, "seconds": 0.4}


def test_the_prerender_section_is_the_first_clone_that_reports_one() -> None:
    section = {"last_build": BUILD, "rerender_queue": {"pages": 0, "oldest_seconds": None}}
    answers = [
        {},
        {"prerender": {"ok": False, "skipped": "database unavailable"}},
        {"prerender": section},
    ]
    assert prerender_section(answers) == section
    assert prerender_section([{}]) is None


def test_the_prerender_line_names_the_build_and_the_rerender_queue() -> None:
    line = format_prerender(
        {"last_build": BUILD, "rerender_queue": {"pages": 2, "oldest_seconds": 3.2}}
    )
    assert line == (
        "prerendered pages: 20300501T030000.000001Z: 210 pages in 0.4s; "
        "re-render queue 2 pages, oldest 3s"
    )
    assert "none published" in format_prerender({"last_build": None, "rerender_queue": {}})
