"""The one base of every error a user can cause (a bad option, file, folder or model).

The CLI turns each into one sentence and exit status 2; anything else is a bug and keeps its
traceback. Library callers can catch `UserError` to tell the two apart.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user gave us, explained in the message (which names the input)."""
