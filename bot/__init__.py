"""The answering side: retrieve, answer with citations, converse; CLI and Slack faces."""

import ingest as _offline  # noqa: F401  (pins HF/Chroma offline before anything loads)
