"""Follows, alerts, briefs, a channel's sources and the Home tab: the real Bolt app over real HTTP,
the fake Slack Web API on loopback, real ingest into a test's own index with the real models.

Stories are invented (tests/data/follows/README.md). The index holds two base stories before
any follow is made; `later/` stories arrive during a test.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from bolt_http import BoltOnLoopback
from conftest import make_settings

from bot.core.records import Answer
from bot.faces.slack.app import build_app, follow_services
from bot.faces.slack.follow_worker import make_dispatcher, run_scheduled_briefs

try:
    from tests.fake_slack import FakeSlack, sign
except ModuleNotFoundError:  # pytest started without the project root on sys.path
    from fake_slack import FakeSlack, sign

DATA = Path(__file__).parent / "data" / "follows"
SECRET = "test-signing-secret-follows"
TOKEN = "xoxb-test-token-follows"
ACCORDS = "C0ACCORDS1"
EUROPA = "C0EUROPA01"
COUNCIL = "C0COUNCIL1"
ALICE = "U0ALICE001"
ACCORDS_TOPIC = "countries signing the Artemis Accords"
EUROPA_TOPIC = "Europa Clipper mission"


class StubService:
    """Answers every question the same way (tests here do not test answers, except `sources`)."""

    def ask(self, question, conversation_id=None, filters=None, k=None, on_token=None):
        return Answer(question, "Stub answer.", False)


class World:
    """A test's index, state, Bolt app on loopback and alert dispatcher, all against one `FakeSlack`."""

    def __init__(self, tmp_path, embedder, fake: FakeSlack, service=None, known_sources=None, **overrides):
        self.fake = fake
        self.embedder = embedder
        self.settings = make_settings(
            tmp_path,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=fake.url,
            **overrides,
        )
        self.ingest("nasa/hubble-barred-galaxy.md", "whitehouse/space-council-meeting.md")
        time.sleep(0.05)  # follows made from now on are later than the base stories
        self.services = follow_services(self.settings, service or StubService())
        if known_sources is not None:
            self.services.known_sources = known_sources
        self.app = build_app(self.settings, service or StubService(), follows=self.services)
        self.bolt = BoltOnLoopback(self.app)
        self.url = self.bolt.url
        self.dispatcher = self.new_dispatcher()

    def new_dispatcher(self):
        return make_dispatcher(self.settings, self.services, self.app.client, embed=self.embedder.encode)

    def close(self) -> None:
        self.bolt.close()

    def ingest(self, *names: str) -> None:
        from ingest.pipeline import run_ingest

        summary = run_ingest([str(DATA / n) for n in names], self.settings, embedder=self.embedder)
        assert not summary.failed, summary.failed

    # -- Slack requests ----------------------------------------------------------------
    def post(self, body: str, content_type: str, secret: str = SECRET, timestamp: int | None = None):
        headers = {"Content-Type": content_type, **sign(secret, body, timestamp)}
        request = urllib.request.Request(self.url, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def slash(self, text: str, channel: str = ACCORDS, user: str = ALICE, **kw) -> tuple[int, str, str]:
        """Send `/spacebot text`; (status, ack body, the response_url's name)."""
        name = uuid.uuid4().hex[:8]
        form = {
            "command": "/spacebot",
            "text": text,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user,
            "team_id": "T0SPACE01",
            "response_url": self.fake.response_url(name),
            "trigger_id": "1.2.3",
        }
        status, body = self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)
        return status, body, name

    def reply(self, name: str, timeout: float = 20.0) -> str:
        """The text posted to a command's response_url."""
        path = f"/respond/{name}"
        calls = self.fake.wait_for(
            lambda cs: any(c.method == "response_url" and c.params.get("path") == path for c in cs), timeout
        )
        return next(c.params.get("text", "") for c in calls if c.params.get("path") == path)

    def command(self, text: str, channel: str = ACCORDS, user: str = ALICE) -> str:
        status, _, name = self.slash(text, channel, user)
        assert status == 200
        return self.reply(name)

    def posts(self, channel: str) -> list[dict]:
        return [c.params for c in self.fake.calls("chat.postMessage") if c.params.get("channel") == channel]

    def alerts(self, channel: str) -> list[dict]:
        return [p for p in self.posts(channel) if "Following:" in json.dumps(p.get("blocks") or [])]


def blocks_text(message: dict) -> str:
    return "\n".join(b.get("text", {}).get("text", "") for b in message.get("blocks") or [])


@pytest.fixture
def fake():
    with FakeSlack(token=TOKEN) as server:
        yield server


@pytest.fixture
def world(tmp_path, embedder, fake):
    w = World(tmp_path, embedder, fake)
    yield w
    w.close()


# --------------------------------------------------------------------------- alerts


def test_a_matching_story_alerts_the_following_channel_once(world):
    world.command(f"follow {ACCORDS_TOPIC}", ACCORDS)
    world.command(f"follow {EUROPA_TOPIC}", EUROPA)
    world.command("follow National Space Council meetings", COUNCIL)
    assert world.dispatcher.run_once() == []  # the base stories (a Council readout) were indexed before the follows
    assert world.alerts(COUNCIL) == []

    world.ingest("later/nasa/peru-artemis-accords.md")
    world.dispatcher.run_once()
    [alert] = world.alerts(ACCORDS)
    text = blocks_text(alert)
    assert "Peru Signs the Artemis Accords" in text and "2026-12-07" in text
    assert "https://www.example.gov/news-release/peru-signs-artemis-accords" in text
    assert f"_Following:_ {ACCORDS_TOPIC}" in text
    quoted = next(line[2:] for line in text.splitlines() if line.startswith("> "))
    source = (DATA / "later/nasa/peru-artemis-accords.md").read_text()
    assert quoted.replace("&amp;", "&") in " ".join(source.split())  # the matching sentence, verbatim
    assert world.alerts(EUROPA) == []  # the other channel follows something else

    world.ingest("later/whitehouse/peru-artemis-accords-reprint.md")  # a reprint: folded, not re-sent
    world.dispatcher.run_once()
    world.dispatcher.run_once()
    assert len(world.alerts(ACCORDS)) == 1 and world.alerts(EUROPA) == []

    world.ingest("later/nasa/europa-clipper-arrives.md")
    world.dispatcher.run_once()
    [europa] = world.alerts(EUROPA)
    assert "Europa Clipper Spacecraft Arrives" in blocks_text(europa) and "undated" in blocks_text(europa)
    assert len(world.alerts(ACCORDS)) == 1


def test_a_story_and_its_reprint_together_make_one_alert_with_also_in(world):
    world.command(f"follow {ACCORDS_TOPIC}", ACCORDS)
    world.ingest("later/nasa/peru-artemis-accords.md", "later/whitehouse/peru-artemis-accords-reprint.md")
    world.dispatcher.run_once()
    [alert] = world.alerts(ACCORDS)
    assert "_Also in:_" in blocks_text(alert) and "reprint-peru-artemis-accords" in blocks_text(alert)


def test_alerts_over_the_hourly_cap_are_gathered_into_one_message(tmp_path, embedder, fake):
    world = World(tmp_path, embedder, fake, SPACEBOT_ALERTS_PER_HOUR=1)
    try:
        world.command(f"follow {ACCORDS_TOPIC}", ACCORDS)
        world.ingest(
            "later/nasa/peru-artemis-accords.md",
            "later/nasa/ghana-artemis-accords.md",
            "later/nasa/latvia-artemis-accords.md",
        )
        world.dispatcher.run_once()
        posts = [p for p in world.posts(ACCORDS) if "follow" not in p.get("text", "")[:40] or "more" in p["text"]]
        singles = world.alerts(ACCORDS)
        gathered = [p for p in posts if "2 more new stories" in p.get("text", "")]
        assert len(singles) == 1 and len(gathered) == 1
        assert all(t in blocks_text(gathered[0]) + blocks_text(singles[0]) for t in ("Peru", "Ghana", "Latvia"))
    finally:
        world.close()


def test_two_dispatchers_on_one_postgresql_send_one_alert(tmp_path, embedder, fake, postgres_server):
    url = postgres_server.fresh_schema(f"t_{uuid.uuid4().hex[:12]}")
    world = World(tmp_path, embedder, fake, SPACEBOT_DATABASE_URL=url)
    try:
        world.command(f"follow {ACCORDS_TOPIC}", ACCORDS)
        world.ingest("later/nasa/peru-artemis-accords.md")
        second = world.new_dispatcher()
        barrier = threading.Barrier(2)

        def run(dispatcher):
            barrier.wait()
            dispatcher.run_once()

        threads = [threading.Thread(target=run, args=(d,)) for d in (world.dispatcher, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(world.alerts(ACCORDS)) == 1
    finally:
        world.close()


# --------------------------------------------------------------------------- briefs


def test_brief_1d_cites_the_days_stories_newest_first_followed_topics_first(world):
    world.command(f"follow {ACCORDS_TOPIC}", ACCORDS)
    world.ingest("later/nasa/peru-artemis-accords.md", "later/whitehouse/peru-artemis-accords-reprint.md")
    time.sleep(0.05)
    world.ingest("later/nasa/europa-clipper-arrives.md")
    world.dispatcher.run_once()
    for channel in (EUROPA, ACCORDS):
        assert world.command("brief 1d", channel) == "Briefing posted."
    [plain] = [p for p in world.posts(EUROPA) if "Briefing" in p.get("text", "")]
    [followed] = [p for p in world.posts(ACCORDS) if "Briefing" in p.get("text", "")]
    text = blocks_text(plain)
    assert "4 new stories" in text  # the two base stories are the day's too; the reprint is folded into its story
    assert text.index("Europa Clipper Spacecraft Arrives") < text.index("Peru Signs the Artemis Accords")
    assert text.index("Peru Signs the Artemis Accords") < text.index("Hubble Spots a Bright Barred Spiral Galaxy")
    assert "https://www.example.gov/news-release/peru-signs-artemis-accords" in text
    assert "reprint-peru-artemis-accords" in text and "nasa, whitehouse" in text
    assert "undated" in text and "2026-12-07" in text
    assert "> Peru became the newest country to sign the Artemis Accords on Monday" in text
    text = blocks_text(followed)  # a channel's followed topics come first
    assert text.index("Peru Signs the Artemis Accords") < text.index("Europa Clipper Spacecraft Arrives")
    assert f"following: {ACCORDS_TOPIC}" in text
    assert world.command("brief", ACCORDS) == "Briefing posted."  # since the last brief: nothing new
    assert "No new stories since" in world.posts(ACCORDS)[-1]["text"]


def test_scheduled_brief_is_posted_once_across_replicas(world):
    from bot.state.channels import BriefSchedule

    now = time.gmtime()
    reply = world.command(f"brief daily {now.tm_hour:02d}:{now.tm_min:02d} UTC", ACCORDS)
    assert reply.startswith("Briefs here daily at") and "the next one" in reply
    assert run_scheduled_briefs(world.services, world.app.client) == 0  # today's slot came before the schedule
    tomorrow = lambda: time.time() + 86400  # noqa: E731
    world.services.clock = tomorrow
    other = follow_services(world.settings, StubService())
    other.clock = tomorrow
    assert run_scheduled_briefs(world.services, world.app.client) + run_scheduled_briefs(other, world.app.client) == 1
    assert len([p for p in world.posts(ACCORDS) if "stories since" in p.get("text", "")]) == 1
    schedule = world.services.channels.schedule(ACCORDS)
    assert schedule == BriefSchedule(ACCORDS, "daily", None, now.tm_hour, now.tm_min, "UTC", schedule.created_at)
    assert world.command("brief off", ACCORDS) == "Scheduled briefs are off here."


def test_spacebot_brief_cli_prints_the_window_as_json(world):
    from typer.testing import CliRunner

    from bot.faces.cli import app

    world.ingest("later/nasa/peru-artemis-accords.md", "later/whitehouse/peru-artemis-accords-reprint.md")
    env = {"SPACEBOT_DATA_DIR": str(world.settings.data_dir)}
    result = CliRunner().invoke(app, ["brief", "--since", "1d", "--json"], env=env)
    assert result.exit_code == 0, result.output
    stories = json.loads(result.output)["stories"]
    peru = next(s for s in stories if s["title"].startswith("Peru"))
    assert peru["outlets"] == ["nasa", "whitehouse"] and peru["published"] == "2026-12-07"
    assert len(peru["links"]) == 2 and peru["lead"].startswith("Peru became the newest country")
    bad = CliRunner().invoke(app, ["brief", "--since", "soon"], env=env)
    assert bad.exit_code == 2 and "'soon' is not a window" in bad.output


# --------------------------------------------------------------------------- follows, sources, home


def test_follow_following_unfollow_in_a_channel_and_a_dm(world):
    assert "Following *lunar landers* for this channel" in world.command("follow lunar landers", ACCORDS)
    assert any("set this channel to follow *lunar landers*" in p["text"] for p in world.posts(ACCORDS))
    assert "for you (in this DM)" in world.command("follow Europa Clipper", "D0ALICEDM1")
    assert world.command("following", ACCORDS).endswith("1. lunar landers")
    assert world.command("following", "D0ALICEDM1").endswith("1. Europa Clipper")
    assert world.command("unfollow 1", ACCORDS) == "Stopped following *lunar landers*."
    assert world.command("following", ACCORDS).startswith("Nothing followed for this channel")


def test_commands_count_against_the_users_slack_rate(tmp_path, embedder, fake):
    w = World(tmp_path, embedder, fake, slack_rate="2/minute")
    try:
        assert w.command("following", ACCORDS).startswith("Nothing followed")
        assert w.command("following", ACCORDS).startswith("Nothing followed")
        assert "asking faster than I answer" in w.command("following", ACCORDS)
        assert w.command("following", ACCORDS, user="U0BOB00001").startswith("Nothing followed")  # per user
    finally:
        w.close()


def test_sources_restrict_a_channels_answers(tmp_path, embedder, fake, sample_service, sample_settings):
    from bot.alerts.stories import indexed_sources

    recorded = []

    class Recording:
        def ask(self, question, conversation_id=None, filters=None, k=None, on_token=None):
            answer = sample_service.ask(question, conversation_id=conversation_id, filters=filters, k=k)
            recorded.append(answer)
            return answer

    world = World(tmp_path, embedder, fake, service=Recording(), known_sources=lambda: indexed_sources(sample_settings))
    try:
        reply = world.command("sources nasa, NOPE", ACCORDS)
        assert reply.startswith("Unknown source: NOPE. Indexed sources: ") and "policy" in reply
        assert world.command("sources nasa", ACCORDS) == "This channel now draws from: nasa."
        question = "who signed the artemis accords for india?"
        assert world.slash(f"ask {question}", EUROPA)[0] == 200  # a channel without its own sources
        world.fake.wait_for(lambda cs: any(c.params.get("channel") == EUROPA for c in cs), 60)
        assert world.slash(f"ask {question}", ACCORDS)[0] == 200
        world.fake.wait_for(lambda cs: any(c.params.get("channel") == ACCORDS for c in cs), 60)
        assert all(p["text"].startswith(f"<@{ALICE}> asked: {question}") for p in world.posts(EUROPA))
        free, own = recorded
        assert any(c.source != "nasa" for c in free.citations)
        assert all(h.source == "nasa" for h in own.citations + own.closest)
        assert world.command("sources", ACCORDS).startswith("This channel draws from: nasa.")
        assert world.command("sources all", ACCORDS) == "This channel now draws from all sources."
    finally:
        world.close()


def test_app_home_lists_follows_and_unfollows_with_a_button(world):
    world.command(f"follow {ACCORDS_TOPIC}", ACCORDS)
    world.command("follow lunar landers", "D0ALICEDM1")
    world.command("brief weekly tue 09:15 UTC", ACCORDS)
    world.ingest("later/nasa/peru-artemis-accords.md")
    world.dispatcher.run_once()
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICEDM1", "tab": "home"}
    envelope = {"type": "event_callback", "team_id": "T0SPACE01", "event": event, "event_id": "Ev0HOME0001"}
    assert world.post(json.dumps(envelope), "application/json")[0] == 200
    [call] = world.fake.wait_calls("views.publish", 1, timeout=20)
    view = call.params["view"] if isinstance(call.params["view"], dict) else json.loads(call.params["view"])
    assert call.params["user_id"] == ALICE
    shown = json.dumps(view)
    assert ACCORDS_TOPIC in shown and "lunar landers" in shown and f"<#{ACCORDS}>" in shown
    assert f"<#{ACCORDS}>: " in shown and "09:15 UTC" in shown  # the next scheduled brief
    assert "Peru Signs the Artemis Accords" in shown  # the last alerts
    button = next(b["accessory"] for b in view["blocks"] if "lunar landers" in b.get("text", {}).get("text", ""))
    click = {
        "type": "block_actions",
        "user": {"id": ALICE},
        "team": {"id": "T0SPACE01"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
        "view": {"id": "V1", "type": "home"},
    }
    assert world.post(urlencode({"payload": json.dumps(click)}), "application/x-www-form-urlencoded")[0] == 200
    calls = world.fake.wait_calls("views.publish", 2, timeout=20)
    view = calls[1].params["view"] if isinstance(calls[1].params["view"], dict) else json.loads(calls[1].params["view"])
    assert "lunar landers" not in json.dumps(view) and ACCORDS_TOPIC in json.dumps(view)


# --------------------------------------------------------------------------- refusals


def test_forged_or_stale_slash_commands_get_401(world):
    assert world.slash("follow anything", secret="not-the-secret")[0] == 401
    assert world.slash("follow anything", timestamp=int(time.time()) - 3600)[0] == 401
    assert world.services.follows.all() == []


BAD_INPUT = [
    ("follow", "Follow what? Write `/spacebot follow TOPIC`"),
    ("launch rockets", "'launch' is not a /spacebot command: try `/spacebot help`"),
    ("brief soon", "'soon' is not a window: write it like 30m, 12h, 1d or 2w"),
    ("unfollow two", "'two' is not a follow number: `/spacebot following` lists them"),
    ("ask", "Ask what? Write `/spacebot ask QUESTION`"),
    ("brief daily 25:00", "'25:00' is not a time of day: write it as HH:MM, e.g. 08:30"),
    ("brief weekly someday 08:00", "'someday' is not a day of the week (mon … sun)"),
    ("brief daily 08:00 Mars/Olympus", "'Mars/Olympus' is not a time zone"),
    (f"follow {'x' * 300}", "That topic is 300 characters; keep it under 200"),
]


def test_bad_input_gets_one_helpful_line_in_the_ack(world):
    for text, line in BAD_INPUT:
        status, body, _ = world.slash(text)
        assert status == 200, text
        reply = json.loads(body)
        assert reply["response_type"] == "ephemeral" and reply["text"].startswith(line), (text, reply)
        assert "\n" not in reply["text"]
    assert world.services.follows.all() == [] and world.services.channels.schedules() == []


def test_bad_follow_numbers_and_help(world):
    status, body, _ = world.slash("help")
    assert status == 200 and "`follow TOPIC`" in json.loads(body)["text"]
    assert (
        world.command("unfollow 3") == "There is no follow number 3 here (0 follows): `/spacebot following` lists them."
    )


# --------------------------------------------------------------------------- the HTTP API


def test_http_api_follows_and_brief(world):
    import httpx
    from api_server import serving
    from pydantic import SecretStr

    from bot.faces.api.app import create_app

    settings = world.settings.model_copy(update={"api_token": SecretStr("t0ken-follows")})
    with (
        serving(create_app(settings, StubService())) as url,
        httpx.Client(base_url=url, headers={"Authorization": "Bearer t0ken-follows"}, timeout=60) as api,
    ):
        assert httpx.get(f"{url}/v1/follows").status_code == 401
        made = api.post("/v1/follows", json={"topic": ACCORDS_TOPIC, "channel": ACCORDS})
        assert made.status_code == 201 and made.json()["deliver_to"] == ACCORDS
        bad = api.post("/v1/follows", json={"topic": "x", "channel": ACCORDS, "user": ALICE})
        assert bad.status_code == 400 and "exactly one of channel or user" in bad.json()["error"]
        assert [f["topic"] for f in api.get("/v1/follows", params={"channel": ACCORDS}).json()["follows"]] == [
            ACCORDS_TOPIC
        ]
        assert world.command("following", ACCORDS).endswith(f"1. {ACCORDS_TOPIC}")  # the same follows as Slack's
        world.ingest("later/nasa/peru-artemis-accords.md")
        world.dispatcher.run_once()
        assert len(world.alerts(ACCORDS)) == 1  # a follow made over the API alerts in Slack
        stories = api.get("/v1/brief", params={"since": "1h"}).json()["stories"]
        assert stories[0]["title"].startswith("Peru Signs") and stories[0]["published"] == "2026-12-07"
        assert api.get("/v1/brief", params={"since": "soon"}).status_code == 400
        assert api.delete(f"/v1/follows/{made.json()['id']}").status_code == 204
        assert api.delete(f"/v1/follows/{made.json()['id']}").status_code == 404
        assert api.get("/v1/follows").json() == {"follows": []}


def test_the_command_works_over_socket_mode_too(tmp_path, fake):
    from bot.alerts.stories import StoryReader
    from bot.faces.slack.command import FollowServices
    from bot.state.channels import ChannelStore
    from bot.state.follows import FollowStore

    try:
        from tests.fake_slack import FakeSocketMode
    except ModuleNotFoundError:
        from fake_slack import FakeSocketMode

    settings = make_settings(tmp_path, slack_bot_token=TOKEN, slack_app_token="xapp-1-A0-test", slack_api_url=fake.url)
    services = FollowServices(
        FollowStore(settings.state_url), ChannelStore(settings.state_url), StoryReader(settings), StubService(), list
    )
    with FakeSocketMode() as ws:
        fake.socket_url = ws.url
        app = build_app(settings, StubService(), follows=services)
        stop = threading.Event()
        from bot.faces.slack.serve import serve_socket_mode

        thread = threading.Thread(target=serve_socket_mode, args=(app, "xapp-1-A0-test"), kwargs={"stop": stop})
        thread.start()
        try:
            ws.wait_connected()
            for n, text in enumerate(("launch rockets", "follow lunar landers")):
                payload = {
                    "command": "/spacebot",
                    "text": text,
                    "channel_id": ACCORDS,
                    "user_id": ALICE,
                    "team_id": "T0SPACE01",
                    "response_url": fake.response_url(f"sock{n}"),
                }
                ws.send(
                    {
                        "envelope_id": f"env-{n}",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": payload,
                    }
                )
            assert "'launch' is not a /spacebot command" in json.dumps(ws.wait_ack("env-0"))
            ws.wait_ack("env-1")
            fake.wait_for(lambda cs: any(c.params.get("path") == "/respond/sock1" for c in cs), 20)
            assert [f.topic for f in services.follows.all()] == ["lunar landers"]
        finally:
            stop.set()
            thread.join(10)
            app.listener_runner.listener_executor.shutdown(wait=False, cancel_futures=True)


def test_two_spacebot_slack_processes_on_one_postgresql_send_one_alert(tmp_path, embedder, fake, postgres_server):
    """Two real `spacebot slack --http` processes (each with its follows worker) share PostgreSQL and the index."""
    import sys

    from conftest import free_port

    from eval.serve_processes import Process
    from ingest.pipeline import run_ingest

    url = postgres_server.fresh_schema(f"t_{uuid.uuid4().hex[:12]}")
    data = tmp_path / "data"
    settings = make_settings(data, SPACEBOT_DATABASE_URL=url)
    base = [str(DATA / "nasa/hubble-barred-galaxy.md"), str(DATA / "whitehouse/space-council-meeting.md")]
    assert not run_ingest(base, settings, embedder=embedder).failed
    env = {
        "SPACEBOT_DATA_DIR": data,
        "SPACEBOT_DATABASE_URL": url,
        "SPACEBOT_ALERT_POLL_SECONDS": "1",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
    }
    servers = []
    for name in ("a", "b"):
        port = free_port()
        command = [sys.executable, "-m", "bot.faces.cli", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
        servers.append(Process(command, tmp_path / name, env, "/healthz", port, 180))
    try:
        urls = [server.wait_ready() for server in servers]
        form = {
            "command": "/spacebot",
            "text": f"follow {ACCORDS_TOPIC}",
            "channel_id": ACCORDS,
            "user_id": ALICE,
            "team_id": "T0SPACE01",
            "response_url": fake.response_url("two"),
        }
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        request = urllib.request.Request(urls[0] + "/slack/events", data=body.encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        fake.wait_for(lambda cs: any(c.params.get("path") == "/respond/two" for c in cs), 60)
        assert not run_ingest([str(DATA / "later/nasa/peru-artemis-accords.md")], settings, embedder=embedder).failed

        def alerts(calls):
            return [c for c in calls if c.method == "chat.postMessage" and "Following:" in json.dumps(c.params)]

        fake.wait_for(lambda cs: len(alerts(cs)) >= 1, 120)
        time.sleep(5)  # both workers polled several more times
        assert len(alerts(fake.calls())) == 1
        logs = [server.log_tail(20000) for server in servers]
        assert all("Traceback" not in log for log in logs), logs
    finally:
        for server in servers:
            server.stop()
