"""The PostgreSQL adapters: named queries, error translation, acting as a
signed-in user, the runner's audit writes, activities, column configurations
and the listener.

May import: the top-level modules, ``core`` (its ports) and ``report``.
"""
