"""Where export files go: local storage with signed URLs and its download
server, and Supabase Storage.

May import: the top-level modules and ``core`` (its ports).
"""
