"""Alembic migrations of the state database (`versions/`, one file per schema change).

`HEAD` names the newest revision: a database already at it is opened without
loading Alembic at all (half a second of imports). A test checks that it
matches the newest file in `versions/`; bump it with each new revision.
"""

HEAD = "0004"
