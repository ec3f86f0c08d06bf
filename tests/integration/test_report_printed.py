"""The report as a staff member prints it: each seeded organisation's base
year 2025, converted to PDF by LibreOffice (headless, as a user's Calc prints
it), the pages read back as text with poppler's pdftotext.

- The Sammendrag prints on one page, the total to report on it.
- Every page of Aktiviteter holds every column (fit to the page's width) and
  the header row, and its footer says which sheet and which page.

LibreOffice and poppler come from Debian (.ci/run installs them); where they
are missing the tests skip, and fail where BUFDIR_EXPORT_REQUIRE_LIBREOFFICE=1
(as in CI).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from bufdir_export._models import ExportFormat
from bufdir_export.postgres.queries import Queries
from bufdir_export.tools.seed import DEMO_ORGANISATIONS
from tests.integration.test_report_content import _report, summary_figures

BASE_YEAR = (date(2025, 1, 1), date(2025, 12, 31))
_FOOTER = re.compile(r"(Sammendrag|Aktiviteter)\s+Side (\d+) av (\d+)")


def _tools() -> tuple[str, str]:
    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if soffice and pdftotext:
        return soffice, pdftotext
    if os.environ.get("BUFDIR_EXPORT_REQUIRE_LIBREOFFICE") == "1":
        pytest.fail("LibreOffice (soffice) and poppler (pdftotext) are required here")
    pytest.skip("LibreOffice (soffice) or poppler (pdftotext) is not installed")


async def _command(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, output.decode(errors="replace")


async def _printed_pages(xlsx: Path, work: Path) -> list[str]:
    """The text of each printed page, as LibreOffice prints the workbook."""
    soffice, pdftotext = _tools()
    profile = work / "libreoffice-profile"
    await _command(
        soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
        "--convert-to", "pdf", "--outdir", str(work), str(xlsx),
    )  # fmt: skip
    pdf = work / f"{xlsx.stem}.pdf"
    text = work / "pages.txt"
    await _command(pdftotext, "-layout", str(pdf), str(text))
    return text.read_text(encoding="utf-8").split("\f")[:-1]


def _pages_of(pages: list[str], sheet: str) -> list[str]:
    found = []
    for page in pages:
        footer = _FOOTER.search(page)
        assert footer is not None, f"a page without the footer: {page[-300:]!r}"
        if footer.group(1) == sheet:
            found.append(page)
    return found


@pytest.mark.parametrize("slug", DEMO_ORGANISATIONS)
async def test_the_report_prints_the_summary_on_one_page_and_every_column_on_each_page(
    conn: psycopg.AsyncConnection[Any],
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    tmp_path: Path,
    slug: str,
) -> None:
    _tools()
    made = await _report(conn, pool, queries, tmp_path, slug, ExportFormat.XLSX, BASE_YEAR)
    workbook = openpyxl.load_workbook(made.path, read_only=True)
    headers = [str(cell) for cell in next(workbook["Aktiviteter"].iter_rows(values_only=True))]
    _, totals = summary_figures(workbook["Sammendrag"])
    days = totals["Sum tellende aktivitetsdager"]
    workbook.close()

    pages = await _printed_pages(made.path, tmp_path)

    summary_pages = _pages_of(pages, "Sammendrag")
    assert len(summary_pages) == 1
    page = summary_pages[0]
    assert "Grunnlagsår 2025" in page or "grunnlagsår 2025" in page  # the print title
    assert re.search(rf"Totalt\s.*\s{days}\s", page), "the total to report is on the page"
    assert "Sum tellende" in page

    activity_pages = _pages_of(pages, "Aktiviteter")
    assert len(activity_pages) >= 2  # a year of activities: the header must repeat
    for number, page in enumerate(activity_pages, start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        # The first line under the page header holds every column's header.
        header_line = next(line for line in lines if "Tellende" in line)
        for header in headers:
            assert header.split()[0] in header_line, (number, header, header_line)
        assert _FOOTER.search(page) is not None
    assert len(pages) == len(summary_pages) + len(activity_pages)
