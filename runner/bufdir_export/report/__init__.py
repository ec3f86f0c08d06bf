"""The report: column configurations, the Bufdir rules, the compiled mapping,
plugins, the sheet writers, the file generator and the attachment bundler.

May import: the top-level models and errors, and the ports of ``core``.
Never a database driver, an HTTP library or the command line.
"""
