"""The ``bufdir-export`` command line (:mod:`.main` is the entry point), its
live view of an export, and the demo it runs.

May import anything.
"""
