"""Splitting a SQL script into statements, by the rules the Supabase CLI uses.

A statement ends at a semicolon outside quotes, dollar-quoted bodies, comments
and ``BEGIN ATOMIC ... END`` bodies. Each statement is kept with its
semicolon; the whitespace between statements is dropped, and so are
statements that hold nothing (a lone comment or semicolon).
"""

from __future__ import annotations

import re

__all__ = ["split_statements"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def split_statements(script: str) -> list[str]:
    statements: list[str] = []
    start = 0
    i = 0
    n = len(script)
    atomic_depth = 0  # inside BEGIN ATOMIC ... END
    previous_word = ""
    while i < n:
        char = script[i]
        if char == "-" and script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
        elif char == "/" and script.startswith("/*", i):
            i = _skip_block_comment(script, i)
        elif char == "'":
            escaped = i > 0 and script[i - 1] in "eE" and not _is_word_char(script, i - 2)
            i = _skip_string(script, i, backslash_escapes=escaped)
        elif char == '"':
            i = _skip_quoted_identifier(script, i)
        elif char == "$":
            match = _DOLLAR_TAG.match(script, i)
            if match and not _is_word_char(script, i - 1):
                close = script.find(match.group(0), match.end())
                i = n if close < 0 else close + len(match.group(0))
            else:
                i += 1
        elif char.isalpha() or char == "_":
            match = _WORD.match(script, i)
            assert match is not None  # noqa: S101 - char starts a word
            word = match.group(0).lower()
            if previous_word == "begin" and word == "atomic":
                atomic_depth += 1
            elif atomic_depth and word == "end":
                atomic_depth -= 1
            elif atomic_depth and word in ("case",):
                atomic_depth += 1
            previous_word = word
            i = match.end()
            continue
        elif char == ";" and atomic_depth == 0:
            _append(statements, script[start : i + 1])
            start = i + 1
            i += 1
        else:
            i += 1
        if not char.isspace():
            previous_word = "" if not (char.isalpha() or char == "_") else previous_word
    _append(statements, script[start:])
    return statements


def _append(statements: list[str], text: str) -> None:
    stripped = text.strip()
    if stripped and _has_code(stripped):
        statements.append(stripped)


def _has_code(text: str) -> bool:
    """Whether the text holds more than comments and semicolons."""
    i, n = 0, len(text)
    while i < n:
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif text[i].isspace() or text[i] == ";":
            i += 1
        else:
            return True
    return False


def _is_word_char(text: str, index: int) -> bool:
    return index >= 0 and (text[index].isalnum() or text[index] in "_$")


def _skip_block_comment(text: str, i: int) -> int:
    depth = 0
    n = len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_string(text: str, i: int, *, backslash_escapes: bool) -> int:
    i += 1
    n = len(text)
    while i < n:
        if backslash_escapes and text[i] == "\\":
            i += 2
        elif text[i] == "'":
            if text.startswith("''", i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return n


def _skip_quoted_identifier(text: str, i: int) -> int:
    i += 1
    n = len(text)
    while i < n:
        if text[i] == '"':
            if text.startswith('""', i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return n
