"""Splitting a migration into statements exactly as the Supabase CLI does.

`supabase db push` records each migration's statements in
``supabase_migrations.schema_migrations.statements``; for both tools to agree
on what a file holds, this module follows the CLI's rules:

* a statement ends at a ``;`` that is not inside a string (``'...'``), a
  quoted identifier (``"..."``), a dollar-quoted body (``$tag$...$tag$``), a
  line comment (``-- ...``), a block comment (``/* ... */``, nested), a
  parenthesised group, or a ``BEGIN ATOMIC ... END`` body; a backslash outside
  those protects the character after it;
* the statement keeps its comments; trailing semicolons and surrounding
  whitespace are trimmed, and empty statements are dropped.

The rules are character-level, not a SQL parser, and keep the CLI's quirks:
the first ``)`` closes every open parenthesis, and ``"/*/"`` opens and closes
a comment.
"""

from __future__ import annotations

__all__ = ["split_statements", "split_tokens"]


class _State:
    """One state of the tokenizer; ``step`` returns the next state, or None to end a statement."""

    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        raise NotImplementedError


class _Ready(_State):
    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        match char:
            case "$":
                return _Tag(end - 1)
            case "'" | '"':
                return _Quote(char)
            case "-":
                return _CommentStart()
            case "/":
                return _Block()
            case "\\":
                return _Escape()
            case ";":
                return None
            case "(":
                return _Group(self, ")")
            case "c" | "C":
                # the last letter of ATOMIC, after whitespace: a BEGIN ATOMIC body
                offset = end - len("ATOMIC")
                if (
                    offset > start
                    and text[offset:end].upper() == "ATOMIC"
                    and text[offset - 1].isspace()
                ):
                    return _Group(self, "END")
        return self


class _CommentStart(_State):
    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        if char == "-":
            return _Quoted("\n")  # a line comment runs to the end of the line
        return _Ready().step(char, text, start, end)


class _Block(_State):
    def __init__(self) -> None:
        self.depth = 0

    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        window = text[max(start, end - 2) : end]
        if window == "/*":
            self.depth += 1
            return self
        if self.depth == 0:
            return _Ready().step(char, text, start, end)
        if window == "*/":
            self.depth -= 1
            if self.depth == 0:
                return _Ready()
        return self


class _Quote(_State):
    """Inside '...' or "...": a doubled delimiter stays inside."""

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.closing = False

    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        if self.closing:
            if char == self.delimiter:
                self.closing = False
                return self
            return _Ready().step(char, text, start, end)
        if char == self.delimiter:
            self.closing = True
        return self


class _Quoted(_State):
    """Inside a body that ends at a fixed delimiter, escaping nothing."""

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter

    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        if text[max(start, end - len(self.delimiter)) : end] == self.delimiter:
            return _Ready()
        return self


class _Tag(_State):
    """After a ``$``: a dollar-quote tag, or nothing special."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        if char == "$":
            return _Quoted(text[self.offset : end])
        if char.isalpha() or char.isdigit() or char == "_":
            return self
        return _Ready().step(char, text, start, end)


class _Escape(_State):
    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        return _Ready()


class _Group(_State):
    """Inside ( ... ) or BEGIN ATOMIC ... END: semicolons do not end the statement."""

    def __init__(self, inner: _State, closer: str) -> None:
        self.inner = inner
        self.closer = closer

    def step(self, char: str, text: str, start: int, end: int) -> _State | None:
        following = self.inner.step(char, text, start, end)
        if following is not None:
            self.inner = following
        if isinstance(self.inner, _Ready):
            window = text[max(start, end - len(self.closer)) : end]
            if window.upper() == self.closer.upper():
                return _Ready()
        return self


def split_tokens(script: str) -> list[str]:
    """The raw statements, each with its semicolon, comments and whitespace."""
    tokens = []
    state: _State = _Ready()
    start = 0
    for index, char in enumerate(script):
        following = state.step(char, script, start, index + 1)
        if following is None:
            tokens.append(script[start : index + 1])
            start = index + 1
            state = _Ready()
        else:
            state = following
    if start < len(script):
        tokens.append(script[start:])
    return tokens


def split_statements(script: str) -> list[str]:
    """The statements as `supabase db push` records them."""
    statements = (token.rstrip(";").strip() for token in split_tokens(script))
    return [statement for statement in statements if statement]
