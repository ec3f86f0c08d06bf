"""Statement splitting follows the Supabase CLI's rules, so both record the same statements."""

from __future__ import annotations

import pytest

from bufdir_export.tools.migrations import discover_migrations
from bufdir_export.tools.sql_split import split_statements, split_tokens

# Each case: the raw statements that, joined, must split back into exactly these.
TOKEN_CASES = {
    "comment after separator": ["END;", "-- comment"],
    "separator inside a line comment": ["SELECT --; 1"],
    "a lone dash is no comment": ["- ;", "END"],
    "line comment ends at the newline": ["-- /* \n;", " */ END"],
    "separator inside a block comment": ["SELECT /* ; */ 1;"],
    "nested block comments": ["SELECT /*; /*;*/ ;*/ 1"],
    "slash and star apart are no comment": ["/ * ;", " */ END"],
    "bare separators": [";", "END;", ";"],
    "spaces around the separator": ["BEGIN   ;", "  END"],
    "backslash protects the next character": ["\\;;", "\\;"],
    "named dollar quote": ["$tag$ any ; string$tag$"],
    "anonymous dollar quote": ['$$"Dane\'s horse"$$'],
    "a quoted dollar opens nothing": ['SELECT "$";', " $$"],
    "separator in a string": ["SELECT ';' 1"],
    "doubled quote in a string": ["SELECT ';'';' 1"],
    "backslash in a string is literal": ["SELECT '\\';", " 1'"],
    "separator in a quoted identifier": ['CREATE POLICY "cats;dogs" on cats_dogs;', " END"],
    "apostrophe in a quoted identifier": ["CREATE POLICY \"cat's and dog's\" on pets;", " END"],
    "doubled double quote": ['CREATE POLICY "pet""name" on pets;', " END"],
    "separator in parentheses": [
        'CREATE RULE notify_me AS ON UPDATE TO mytable DO (NOTIFY mytable; SELECT "1");',
        "SELECT 1",
    ],
    "parenthesis in literals and comments": [
        "CREATE RULE r AS ON UPDATE TO t DO (-- )\nSELECT ')';\n-- )\n)\n"
    ],
    "begin atomic body": [
        "CREATE FUNCTION add(a integer, b integer) RETURNS integer\nLANGUAGE SQL\n"
        "BEGIN ATOMIC\n\tSELECT 'add';\n\tSELECT a + b;\nEND;"
    ],
    "begin atomic in lower case": ["begin atomic; select 'end'; end"],
    "end in comments does not close atomic": [
        "CREATE FUNCTION test() BEGIN\nATOMIC-- END;\n-- END;\nEND\n;"
    ],
    "atomic inside a table name": ["create table public.atomic_test (id int);", "\nselect 1;"],
    "atomic at the end of a function name": [
        "CREATE FUNCTION public.my_function_atomic(p_id uuid)\nRETURNS void\nLANGUAGE plpgsql\n"
        "AS $$\nBEGIN\n  RAISE NOTICE 'hello';\nEND;\n$$;",
        "\nGRANT EXECUTE ON FUNCTION public.my_function_atomic(uuid) TO authenticated;",
    ],
    "atomic inside a column name": ["select is_atomic from flags;", "\nselect 1;"],
}


@pytest.mark.parametrize("tokens", TOKEN_CASES.values(), ids=TOKEN_CASES.keys())
def test_tokens_split_where_the_cli_splits(tokens: list[str]) -> None:
    assert split_tokens("".join(tokens)) == tokens


def test_statements_keep_comments_and_lose_separators_and_blank_ones() -> None:
    script = (
        "-- leading comment\ncreate table a (x int);;\n\n  ;\n"
        "/* block */ insert into a values (1);  \n-- trailing comment\n"
    )
    assert split_statements(script) == [
        "-- leading comment\ncreate table a (x int)",
        "/* block */ insert into a values (1)",
        "-- trailing comment",
    ]


def test_a_script_without_a_final_separator_keeps_its_last_statement() -> None:
    assert split_statements("select 1; select 2") == ["select 1", "select 2"]


def test_dollar_bodies_with_semicolons_stay_whole() -> None:
    script = (
        "create function f() returns int language plpgsql as $body$\nbegin return 1; end;\n$body$;"
    )
    assert split_statements(script) == [script[:-1]]


def test_every_migration_splits_into_statements_that_each_end_cleanly() -> None:
    for migration in discover_migrations():
        statements = migration.statements()
        assert statements, migration.name
        for statement in statements:
            assert statement == statement.strip()
            assert not statement.endswith(";")
            assert statement.count("$$") % 2 == 0, "a function body was cut"
