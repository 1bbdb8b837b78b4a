"""The HTTP API face (`spacebot serve`): FastAPI over the answering core, state and ingest.

`app.create_app` builds the application; `serve.run` runs it under uvicorn.
Only `serve` and `app` import FastAPI, and the CLI imports them inside the
`serve` command, so `spacebot --help` stays instant.
"""
