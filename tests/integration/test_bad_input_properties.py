"""Bad input of any shape, property-based: through raw SQL as a signed-in user,
through the Python client, and as column configurations. Each case ends in a
clear error (a SQLSTATE of the contract, a validation error naming the field,
a JSON path) or is accepted whole; nothing is ever half-written.
"""

from __future__ import annotations

import copy
import json
import string
from datetime import date
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from bufdir_export._errors import InvalidColumnConfig, PermissionDenied, ValueRejected
from bufdir_export._models import Caller, ExportRequest
from bufdir_export.client.export_client import PostgresExportClient
from bufdir_export.postgres.queries import Queries
from bufdir_export.report.config_checks import parse_column_config
from bufdir_export.tools.seed import shipped_config
from tests.support import ADMINS, ORGS

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What the database may answer to a bad request: data exceptions, integrity
# violations, the contract's own codes, a refused privilege.
CLEAR = ("22", "23", "XB", "42501")

hostile_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10).map(lambda s: s + "\x00"),
    st.sampled_from(
        [
            "'; drop table public.bufdir_export_audit; --",
            "2025-01-01' or '1'='1",
            '=HYPERLINK("http://evil")',
            "x" * 100_000,
            "\uff12\uff10\uff12\uff15-\uff10\uff11-\uff10\uff11",  # full-width digits
            "2025-01-01\u202e",
            "infinity",
            "-infinity",
            "epoch",
            "0001-01-01",
            "9999-12-31",
            "2025-13-01",
            "",
        ]
    ),
)
dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
date_like = st.one_of(dates.map(str), hostile_text)


async def _count(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute("select count(*) from public.bufdir_export_audit")).fetchone()
    assert row is not None
    return int(row[0])


@EXAMPLES
@given(
    start=date_like,
    end=date_like,
    file_format=st.one_of(st.sampled_from(["xlsx", "csv"]), hostile_text),
    attachments=st.one_of(st.booleans(), hostile_text),
    organisation=st.one_of(st.just(str(ORGS["nhf"])), st.just(str(ORGS["hlf"])), hostile_text),
)
async def test_raw_sql_as_a_member_ends_clearly_or_whole(
    conn: psycopg.AsyncConnection[Any],
    start: str,
    end: str,
    file_format: str,
    attachments: Any,
    organisation: str,
) -> None:
    before = await _count(conn)
    claims = json.dumps({"sub": str(ADMINS["nhf"]), "role": "authenticated"})
    try:
        async with conn.transaction():
            await conn.execute(
                "select set_config('request.jwt.claims', %s, true),"
                " set_config('role', 'authenticated', true)",
                [claims],
            )
            await conn.execute(
                "insert into public.bufdir_export_audit (organisation_id, period_start,"
                " period_end, format, include_attachments) values (%s, %s, %s, %s, %s)",
                [organisation, start, end, file_format, attachments],
            )
    except psycopg.Error as error:
        if error.sqlstate is None:
            # Refused by the driver before it was sent (a NUL byte in text).
            assert isinstance(error, psycopg.DataError), error
            assert "NUL" in str(error)
        else:
            assert error.sqlstate.startswith(CLEAR), (error.sqlstate, str(error))
            assert error.diag.message_primary
        assert await _count(conn) == before
    else:
        assert await _count(conn) == before + 1
        cursor = await conn.execute(
            "select organisation_id::text, status::text, requested_by"
            " from public.bufdir_export_audit order by created_at desc, id limit 1"
        )
        assert await cursor.fetchone() == (str(ORGS["nhf"]), "initialised", ADMINS["nhf"])


@EXAMPLES
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "organisation_id": st.one_of(
                st.sampled_from([str(ORGS["nhf"]), str(ORGS["hlf"])]), hostile_text, st.integers()
            ),
            "period_start": st.one_of(dates, date_like, st.none()),
            "period_end": st.one_of(dates, date_like, st.none()),
            "format": st.one_of(st.sampled_from(["xlsx", "csv"]), hostile_text),
            "include_attachments": st.one_of(st.booleans(), hostile_text),
            "status": st.just("completed"),
            "requested_by": st.just(str(ADMINS["hlf"])),
        },
    )
)
async def test_the_client_refuses_clearly_or_asks_as_the_user(
    conn: psycopg.AsyncConnection[Any], database: str, queries: Queries, fields: dict[str, Any]
) -> None:
    before = await _count(conn)
    client = PostgresExportClient(database, Caller(ADMINS["nhf"]), queries)
    try:
        request = ExportRequest.model_validate(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        assert problem["msg"]  # a message, and where:
        assert problem["loc"] or "period" in problem["msg"]
        assert await _count(conn) == before
        return
    try:
        watch = await client.start_export(request)
    except (ValueRejected, PermissionDenied) as error:
        assert str(error)
        assert await _count(conn) == before
        return
    record = await client.export(watch.export_id)
    assert (record.organisation_id, record.requested_by) == (ORGS["nhf"], ADMINS["nhf"])
    assert await _count(conn) == before + 1


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(document)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


@st.composite
def damaged_configs(draw: st.DrawFn) -> Any:
    """A shipped configuration with one node replaced by anything."""
    document = shipped_config(draw(st.sampled_from(["nhf", "blindeforbundet", "hlf"])))
    path = draw(st.sampled_from(_paths(document)))
    return _replace(document, path, draw(json_values))


@settings(max_examples=300, deadline=None)
@given(document=st.one_of(json_values, damaged_configs()))
def test_any_configuration_is_refused_at_a_path_or_accepted(document: Any) -> None:
    try:
        parse_column_config(document)
    except InvalidColumnConfig as error:
        assert error.path.startswith("$"), error.path
        assert error.problem
        assert str(error) == f"{error.path}: {error.problem}"


@EXAMPLES
@given(document=damaged_configs())
async def test_the_database_refuses_a_damaged_configuration_at_a_path(
    conn: psycopg.AsyncConnection[Any], document: Any
) -> None:
    cursor = await conn.execute(
        "select count(*) from public.bufdir_column_configs where organisation_id = %s",
        [ORGS["nhf"]],
    )
    before = await cursor.fetchone()
    try:
        async with conn.transaction():
            await conn.execute(
                "insert into public.bufdir_column_configs (organisation_id, config, is_active)"
                " values (%s, %s, false)",
                [ORGS["nhf"], Jsonb(document)],
            )
    except psycopg.Error as error:
        # 22023: the shape check, at a JSON path. Not JSON at all: 22P02 (Infinity),
        # 22P05 (a NUL character, which jsonb cannot hold).
        assert error.sqlstate in ("22023", "22P02", "22P05"), (error.sqlstate, str(error))
        if error.sqlstate == "22023":
            assert str(error.diag.message_primary).startswith("invalid column configuration at $")
        after = await (await conn.execute(
            "select count(*) from public.bufdir_column_configs where organisation_id = %s",
            [ORGS["nhf"]],
        )).fetchone()  # fmt: skip
        assert after == before
    else:
        # What the database took, the runner's own check may still refuse
        # (CEL compiles only there); it must do so with a path too.
        try:
            parse_column_config(document)
        except InvalidColumnConfig as error:
            assert error.path.startswith("$")
