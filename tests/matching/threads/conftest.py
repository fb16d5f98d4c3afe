"""Conversation tests (a match request's thread and a need response's). Requests and needs are
arranged with the requests/ and needs/ factories; the files to upload come from tests/support/files.py."""
