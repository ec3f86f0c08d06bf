"""What an operator and the tests run besides the runner: migrations and their
splitter, the embedded server, the choice of database, the demo seed and the
activity generator.

May import the top-level modules, ``postgres`` and ``report``.
"""
