"""Fuzzing the HTTP door: random signed bodies at /slack/events over real HTTP never get a 5xx,
and nothing the listeners run on them logs an error (bounded: a few seconds)."""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_slack_app import TOKEN, Bot, ScriptedService
from test_slack_door import send, signed

try:
    from tests.fake_slack import FakeSlack
except ModuleNotFoundError:
    from fake_slack import FakeSlack

# ~4 s on 2 cores; FUZZ_EXAMPLES=5000 for a longer hunt.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "250"))

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# The names Bolt and our listeners read, so random values land where they can do harm.
ENVELOPE_KEYS = [
    "event_id",
    "team_id",
    "api_app_id",
    "authorizations",
    "token",
    "challenge",
    "user",
    "channel",
    "container",
    "message",
    "actions",
    "team",
    "enterprise",
    "enterprise_id",
    "is_enterprise_install",
    "event_time",
    "view",
    "trigger_id",
    "response_url",
    "user_id",
]
EVENT_KEYS = [
    "user",
    "text",
    "ts",
    "channel",
    "thread_ts",
    "channel_type",
    "subtype",
    "bot_id",
    "event_ts",
    "blocks",
    "files",
    "message",
    "team",
    "user_team",
    "bot_profile",
]
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["app_mention", "message", "reaction_added"]) | json_values},
    optional={k: st.text(max_size=12) | json_values for k in EVENT_KEYS},
)
envelopes = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "block_actions", "ssl_check"]) | json_values},
    optional={"event": events | json_values, **{k: st.text(max_size=12) | json_values for k in ENVELOPE_KEYS}},
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(json.dumps),
    envelopes.map(json.dumps),
    envelopes.map(lambda e: urlencode({"payload": json.dumps(e)})),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4).map(urlencode),
)
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""])


def test_random_signed_bodies_never_get_a_5xx(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    with FakeSlack(token=TOKEN) as fake:
        bot = Bot(fake, ScriptedService(), tmp_path)
        try:

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            )
            @given(body=bodies, content_type=content_types)
            def door_holds(body, content_type):
                raw = body if isinstance(body, bytes) else body.encode()
                status, text, _ = send(bot, raw, signed(raw, content_type))
                assert status < 500, (status, text, raw[:300])

            door_holds()
        finally:
            bot.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[:3]
    assert "Traceback" not in caplog.text
