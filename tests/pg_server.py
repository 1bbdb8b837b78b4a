"""The throwaway PostgreSQL server tests start (it lives in deploy/, shared with `make cluster-demo`)."""

from deploy.local_postgres import PostgresServer, postgres_bin_dir  # noqa: F401 (re-exported)
