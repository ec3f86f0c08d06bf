"""The command line's client commands: request, status, cancel, audit.

Each acts as a signed-in user when ``--as`` names one (so RLS decides, as it
does for the app), or else as the connection's own role: an operator's view.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any
from uuid import UUID

import typer
from pydantic import ValidationError
from rich.table import Table

from .._errors import UsageError, WaitTimedOut
from .._models import (
    AuditEntry,
    ExportFormat,
    ExportRecord,
    ExportRequest,
    ExportStatus,
    base_year,
    period_text,
)
from .._settings import Settings
from ..client.client_app import ClientApp
from ..client.services import ExportWatch
from ..postgres.acting import find_caller
from ..postgres.queries import load_queries
from .live_view import ExportView, describe_seconds, live
from .record_table import record_table
from .support import err, fail, one_line_errors, out, parse_date, parse_since, run

__all__ = ["audit_app", "cancel", "request", "retry", "status"]

AsUser = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="BUFDIR_EXPORT_AS",
        help="The signed-in user to act as (user id or email); RLS decides what they may do.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]
Wait = Annotated[bool, typer.Option("--wait", help="Follow the export live until it ends.")]
WaitAtMost = Annotated[
    float, typer.Option(min=1, help="With --wait: give up waiting after this many seconds.")
]


async def _app(settings: Settings, who: str | None, *, required: bool) -> ClientApp:
    if who is None:
        if required:
            raise UsageError(
                "--as is required: exports are asked for and cancelled by a signed-in user"
                " (a user id or email)"
            )
        return ClientApp(settings)
    queries = load_queries()
    caller = await find_caller(
        settings.required_conninfo(),
        queries,
        who,
        connect_timeout=settings.connect_timeout_seconds,
    )
    return ClientApp(settings, caller, queries=queries)


def _export_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise UsageError(f"an export is named by its id (a UUID), not {text!r}") from None


def _shown(export: str, who: str | None) -> AuditEntry:
    """One export as the audit log shows it to ``who`` (or to the operator)."""
    export_id = _export_id(export)
    settings = Settings()

    async def go() -> AuditEntry:
        app = await _app(settings, who, required=False)
        return await app.audit.show(export_id)

    return run(go())


def _json(value: Any) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False))


@one_line_errors
def request(
    organisation: Annotated[str, typer.Option("--org", help="Organisation slug, e.g. nhf.")],
    period_start: Annotated[
        str, typer.Option("--from", help="First day: YYYY-MM-DD or dd.mm.yyyy.")
    ],
    period_end: Annotated[str, typer.Option("--to", help="Last day (one year at most).")],
    who: AsUser = None,
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="The report's file type.")
    ] = ExportFormat.XLSX,
    attachments: Annotated[
        bool, typer.Option("--attachments", help="Bundle the activities' attachments (zip).")
    ] = False,
    wait: Wait = False,
    timeout: WaitAtMost = 600,
    as_json: AsJson = False,
) -> None:
    """Ask for a Bufdir export as a signed-in user, and with --wait follow it.

    Without --wait it prints the new export's id. With --wait it shows each
    step and the rows written, then prints the download URL. Exit code 0 when
    the export completed (or had nothing to report), 3 when it failed or was
    cancelled, 1 for any other error.
    """
    start = parse_date("--from", period_start)
    end = parse_date("--to", period_end)
    settings = Settings()

    async def go() -> ExportRecord | None:
        app = await _app(settings, who, required=True)
        try:
            asked = ExportRequest(
                organisation_id=await app.exports.organisation_id(organisation),
                period_start=start,
                period_end=end,
                format=file_format,
                include_attachments=attachments,
            )
        except ValidationError as error:
            raise UsageError(error.errors()[0]["msg"].removeprefix("Value error, ")) from None
        if base_year(start, end) is None:
            err.print(
                f"warning: {period_text(start, end)} is not a calendar year; Bufdir"
                " counts a calendar year (the base year, grunnlagsår), e.g."
                f" --from {end.year}-01-01 --to {end.year}-12-31",
                highlight=False,
                soft_wrap=True,
            )
        watch = await app.exports.start_export(asked)
        title = (
            f"Export {watch.export_id} · {organisation} · {period_text(start, end)}"
            f" · {file_format}{' + vedlegg' if attachments else ''}"
        )
        return await _followed(watch, title, attachments, wait=wait, seconds=timeout)

    record = run(go())
    if record is None:
        return
    _report_end(record, as_json)


async def _followed(
    watch: ExportWatch, title: str, attachments: bool, *, wait: bool, seconds: float
) -> ExportRecord | None:
    """Without ``wait``, print the new export's id; with it, follow it live to
    its end (its record), for ``seconds`` at most."""
    if not wait:
        out.print(watch.export_id, highlight=False)
        err.print(f"follow it: bufdir-export audit show {watch.export_id}", highlight=False)
        return None
    view = ExportView(title, include_attachments=attachments)
    try:
        with live(view, err):
            async with asyncio.timeout(seconds):
                async for update in watch.watch():
                    view.update(update)
    except TimeoutError:
        status = view.record.status if view.record else ExportStatus.INITIALISED
        raise WaitTimedOut(
            f"export {watch.export_id} is still {status} after {seconds:g} s;"
            f" it goes on: bufdir-export status {watch.export_id}",
            export_id=watch.export_id,
            status=status,
        ) from None
    assert view.record is not None  # noqa: S101 - a watch ends at a terminal status
    return view.record


def _report_end(record: ExportRecord, as_json: bool) -> None:
    if as_json:
        _json(record.model_dump(mode="json"))
    if record.status is ExportStatus.COMPLETED:
        if not as_json:
            out.print(record.download_url, highlight=False, soft_wrap=True)
        return
    if record.status is ExportStatus.COMPLETED_EMPTY:
        err.print("no activities in the period: nothing to report, no file", highlight=False)
        return
    why = f" ({record.error_code}): {record.error_message}" if record.error_code else ""
    fail(f"export {record.id} {record.status}{why}", code=3)


@one_line_errors
def status(
    export: Annotated[str, typer.Argument(help="The export's id.")],
    who: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Show one export's record: status, progress, result."""
    entry = _shown(export, who)
    if as_json:
        _json(entry.export.model_dump(mode="json"))
        return
    out.print(record_table(entry))


@one_line_errors
def cancel(
    export: Annotated[str, typer.Argument(help="The export's id.")],
    who: AsUser = None,
) -> None:
    """Cancel your own unfinished export (the database allows nothing else)."""
    export_id = _export_id(export)
    settings = Settings()

    async def go() -> ExportRecord:
        app = await _app(settings, who, required=True)
        return await app.exports.cancel(export_id)

    record = run(go())
    out.print(f"export {record.id} cancelled", highlight=False)


@one_line_errors
def retry(
    export: Annotated[str, typer.Argument(help="The failed or cancelled export's id.")],
    who: AsUser = None,
    wait: Wait = False,
    timeout: WaitAtMost = 600,
    as_json: AsJson = False,
) -> None:
    """Ask again for an export that failed or was cancelled: a new export with
    the same request, linked to the old one. Its requester or an admin of its
    organisation may; each export is retried once. Exit codes as for request."""
    export_id = _export_id(export)
    settings = Settings()

    async def go() -> ExportRecord | None:
        app = await _app(settings, who, required=True)
        old = await app.exports.export(export_id)
        watch = await app.exports.retry(export_id)
        err.print(f"export {watch.export_id} asks again for export {export_id}", highlight=False)
        title = (
            f"Export {watch.export_id} · retry of {export_id}"
            f" · {period_text(old.period_start, old.period_end)} · {old.format}"
        )
        return await _followed(watch, title, old.include_attachments, wait=wait, seconds=timeout)

    record = run(go())
    if record is None:
        return
    _report_end(record, as_json)


audit_app = typer.Typer(
    help="The audit log: export records and their event timelines.", no_args_is_help=True
)


@audit_app.command("list")
@one_line_errors
def audit_list(
    organisation: Annotated[
        str | None, typer.Option("--org", help="Only this organisation (slug).")
    ] = None,
    only: Annotated[
        ExportStatus | None, typer.Option("--status", help="Only exports in this status.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only exports asked for since: a date or an ISO date and time."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    who: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """List exports, newest first."""
    moment = parse_since(since) if since is not None else None
    settings = Settings()

    async def go() -> list[AuditEntry]:
        app = await _app(settings, who, required=False)
        return await app.audit.list(
            organisation=organisation, status=only, since=moment, limit=limit
        )

    entries = run(go())
    if as_json:
        _json(
            [{"organisation": e.organisation, **e.export.model_dump(mode="json")} for e in entries]
        )
        return
    table = Table(title=f"{len(entries)} exports, newest first")
    numbers = ("rows", "days", "bytes", "took")
    for header in ("asked at", "id", "org", "period", "format", "status", *numbers):
        table.add_column(header, justify="right" if header in numbers else "left")
    for entry in entries:
        e = entry.export
        took = (
            describe_seconds((e.completed_at - e.created_at).total_seconds())
            if e.completed_at
            else "-"
        )
        table.add_row(
            f"{e.created_at.astimezone():%Y-%m-%d %H:%M:%S}",
            str(e.id),
            entry.organisation,
            period_text(e.period_start, e.period_end),
            f"{e.format}{'+zip' if e.include_attachments else ''}",
            e.status if e.error_code is None else f"{e.status} ({e.error_code})",
            "-" if e.row_count is None else f"{e.row_count:,}",
            "-" if e.counted_days is None else f"{e.counted_days:,}",
            "-" if e.file_size_bytes is None else f"{e.file_size_bytes:,}",
            took,
        )
    out.print(table)


@audit_app.command("show")
@one_line_errors
def audit_show(
    export: Annotated[str, typer.Argument(help="The export's id.")],
    who: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """One export's record and its event timeline: who moved it, when, and
    how long it stayed in each status."""
    entry = _shown(export, who)
    if as_json:
        _json(
            {
                "organisation": entry.organisation,
                "export": entry.export.model_dump(mode="json"),
                "events": [
                    {
                        **event.model_dump(mode="json"),
                        "seconds_in_status": None if stay is None else stay.total_seconds(),
                    }
                    for event, stay in entry.timeline()
                ],
            }
        )
        return
    out.print(record_table(entry))
    timeline = Table(title="Timeline")
    for header in ("at", "from", "to", "by", "stayed"):
        timeline.add_column(header, justify="right" if header == "stayed" else "left")
    for event, stay in entry.timeline():
        timeline.add_row(
            f"{event.occurred_at.astimezone():%Y-%m-%d %H:%M:%S.%f}"[:-3],
            "-" if event.from_status is None else str(event.from_status),
            str(event.to_status),
            event.actor,
            "-" if stay is None else describe_seconds(stay.total_seconds()),
        )
    out.print(timeline)
