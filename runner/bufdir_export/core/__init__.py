"""The pipeline and the runner loop, written against small ports only.

May import: the top-level models, errors and paths. Never a database
driver, an HTTP library or the command line (``tests/unit/test_layout.py``
keeps it so): the adapters in ``postgres``, ``storage`` and ``report``
implement the ports of :mod:`.ports`.
"""
