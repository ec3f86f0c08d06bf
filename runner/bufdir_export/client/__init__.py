"""The client side: its service interfaces, the PostgreSQL export client and
audit log, the UI controller and the client's composition root.

May import: the top-level modules and ``postgres``.
"""
