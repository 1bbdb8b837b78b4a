"""`spacebot watch`: ingest sources on a schedule, fetching only what changed.

records.py     what is remembered between rounds (validators, source status) and the store protocol
durations.py   `90s`, `15m`, `2h` <-> seconds
source_list.py the sources to watch: command line and `--sources-file`, each with its interval
conditional.py conditional GET (If-None-Match / If-Modified-Since) with the remembered validators
source_round.py one source, once: unchanged -> nothing; changed -> the ingest pipeline
schedule.py    when a source runs next: its interval, or exponential backoff after failures
watcher.py     the loop: run what is due, sleep until the next one (clock and sleep injectable)

Nothing here imports `bot`: the state store (bot/state/watch_state.py) and the ingest lock
are handed in by the command line.
"""
