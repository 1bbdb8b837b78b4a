"""Alert latency: from the ingest that indexes a story to its alert in Slack (issue 22: within 60 s).

The real pieces on loopback: a fresh index in a temp folder, the fake Slack Web API
(tests/fake_slack.py), the follows worker of `spacebot slack` polling every
`SPACEBOT_ALERT_POLL_SECONDS` (15 s, the default), one follow per topic of eval/topic_pairs.jsonl.
Each of `--stories` labelled positive documents is ingested alone (as `spacebot ingest FILE` does)
and the time until its alert is posted is measured from the start and from the end of that ingest.

    python -m eval.bench_alerts [--stories 20] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_slack import FakeSlack

    from bot.faces.slack.app import follow_services
    from bot.faces.slack.follow_worker import FollowWorker, make_dispatcher
    from bot.state.follows import CHANNEL
    from ingest.pipeline import run_ingest
    from ingest.settings import Settings

    pairs = [json.loads(line) for line in (ROOT / "eval" / "topic_pairs.jsonl").read_text().splitlines() if line]
    chosen, seen = [], set()
    for pair in pairs:
        if pair["label"] and pair["doc"] not in seen and len(chosen) < args.stories:
            chosen.append(pair)
            seen.add(pair["doc"])
    topics = sorted({p["topic"] for p in chosen})
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        settings = Settings(
            _env_file=None, SPACEBOT_DATA_DIR=folder, SLACK_BOT_TOKEN="xoxb-bench", SLACK_API_URL=fake.url
        )
        run_ingest([str(args.corpus / "space-law" / "un-ga-res-37-92.md")], settings)  # an index to start from
        from slack_sdk import WebClient

        client = WebClient(token="xoxb-bench", base_url=fake.url)
        services = follow_services(settings, None)
        channel_of = {t: f"C{n:09d}" for n, t in enumerate(topics)}
        for topic, channel in channel_of.items():
            services.follows.add(CHANNEL, channel, channel, topic)
        worker = FollowWorker(
            make_dispatcher(settings, services, client), services, client, settings.alert_poll_seconds
        )
        worker.run_once()  # models loaded before the clock starts, as in a running `spacebot slack`
        worker.start()
        from_start, from_end = [], []
        try:
            for pair in chosen:
                before = len(fake.calls("chat.postMessage"))
                started = time.monotonic()
                run_ingest([str(args.corpus / pair["doc"])], settings)
                ended = time.monotonic()
                channel = channel_of[pair["topic"]]

                def mine(calls, b=before, channel=channel):
                    return [c for c in calls if c.method == "chat.postMessage"][b:] and any(
                        c.params.get("channel") == channel for c in fake.calls("chat.postMessage")[b:]
                    )

                fake.wait_for(mine, 120)
                posted = next(
                    c.at for c in fake.calls("chat.postMessage")[before:] if c.params.get("channel") == channel
                )
                from_start.append(posted - started)
                from_end.append(posted - ended)
                print(
                    f"{pair['doc']:55} {from_start[-1]:6.1f} s from the ingest's start, {from_end[-1]:6.1f} s after it"
                )
        finally:
            worker.stop()
    print(
        f"\n{len(from_start)} stories: median {statistics.median(from_start):.1f} s, worst {max(from_start):.1f} s "
        f"from the ingest's start (median {statistics.median(from_end):.1f} s, worst {max(from_end):.1f} s after it)"
    )


if __name__ == "__main__":
    main()
