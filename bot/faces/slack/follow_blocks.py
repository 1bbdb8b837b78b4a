"""Block Kit for follows: an alert, alerts gathered into one message, a briefing, the App Home view.

Everything from articles and users goes through `escape_mrkdwn` / `link` (bot/faces/slack/blocks.py),
so an article holding `<!channel>` is shown, never acted on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.faces.slack.blocks import _clip, escape_mrkdwn, link

if TYPE_CHECKING:
    from bot.alerts.briefing import Briefing
    from bot.alerts.dispatch import Hit
    from bot.state.channels import BriefSchedule
    from bot.state.follows import Follow, SentAlert

UNDATED = "undated"
ACTION_UNFOLLOW = "spacebot_unfollow"
QUOTE_CHARS = 400
BRIEF_MAX_ENTRIES = 40  # Slack allows 50 blocks a message; a longer brief says how many more there are


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _quote(text: str) -> str:
    s = " ".join(text.split())
    s = s if len(s) <= QUOTE_CHARS else s[: QUOTE_CHARS - 1].rstrip() + "…"
    return "> " + escape_mrkdwn(s)


def alert_message(hit: Hit) -> dict[str, Any]:
    """One alert: title (linked), source and date, the matching sentence quoted, the topic, also in."""
    story = hit.story
    when = story.published or UNDATED
    head = f":satellite_antenna: {link(story.url, story.title)} — {escape_mrkdwn(story.source)}, {when}"
    lines = [head, _quote(hit.match.sentence), f"_Following:_ {escape_mrkdwn(hit.follow.topic)}"]
    if story.copies:
        copies = "; ".join(f"{link(c.url, c.title)} ({escape_mrkdwn(c.source)})" for c in story.copies)
        lines.append(f"_Also in:_ {copies}")
    text = f"New on {hit.follow.topic}: {story.title} ({story.published or UNDATED})"
    return {"text": text[:3000], "blocks": [_section("\n".join(lines))]}


def gathered_message(hits: list[Hit]) -> dict[str, Any]:
    """Alerts over the hourly cap, as one message: a line per story."""
    lines = [f":satellite_antenna: *{len(hits)} more new stories match this channel's follows:*"]
    for hit in hits:
        s = hit.story
        lines.append(
            f"• {link(s.url, s.title)} — {escape_mrkdwn(s.source)}, {s.published or UNDATED} "
            f"(_{escape_mrkdwn(hit.follow.topic)}_)"
        )
    return {
        "text": f"{len(hits)} more new stories match this channel's follows",
        "blocks": [_section("\n".join(lines))],
    }


def brief_message(briefing: Briefing) -> dict[str, Any]:
    """A briefing: a header, then per story its title, outlets, date, lead sentence and links."""
    since = datetime.fromtimestamp(briefing.since, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not briefing.entries:
        text = f":newspaper: No new stories since {since}."
        return {"text": text, "blocks": [_section(text)]}
    count = len(briefing.entries)
    header = f":newspaper: *Briefing: {count} new stor{'y' if count == 1 else 'ies'} since {since}*"
    blocks = [_section(header)]
    for e in briefing.entries[:BRIEF_MAX_ENTRIES]:
        title = link(e.links[0][1], e.title)
        lines = [f"*{title}* — {escape_mrkdwn(', '.join(e.outlets) or 'unknown source')}, {e.published or UNDATED}"]
        if e.topic:
            lines[0] += f" · _following: {escape_mrkdwn(e.topic)}_"
        lines.append(_quote(e.lead))
        if len(e.links) > 1:
            lines.append("_Also in:_ " + "; ".join(link(u, t) for t, u in e.links[1:]))
        blocks.append(_section("\n".join(lines)))
    if count > BRIEF_MAX_ENTRIES:
        blocks.append(_section(f"_…and {count - BRIEF_MAX_ENTRIES} more (`spacebot brief` lists them all)._"))
    return {"text": f"Briefing: {count} new stories since {since}", "blocks": blocks}


def home_view(
    mine: list[Follow],
    channels: list[Follow],
    schedules: list[tuple[BriefSchedule, float]],
    alerts: list[SentAlert],
) -> dict[str, Any]:
    """The App Home tab: the user's follows and their channels', next briefs, last alerts; unfollow buttons."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "spacebot follows"}}]

    def follow_row(f: Follow, where: str) -> dict[str, Any]:
        return {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{escape_mrkdwn(f.topic)}* — {where}"},
            "accessory": {
                "type": "button",
                "action_id": ACTION_UNFOLLOW,
                "text": {"type": "plain_text", "text": "Unfollow"},
                "value": str(f.id),
            },
        }

    blocks.append(_section("*Your follows* (alerts in your DM with me)"))
    blocks += [follow_row(f, "you") for f in mine] or [_section("_None yet: DM me `/spacebot follow TOPIC`._")]
    blocks.append(_section("*Your channels' follows*"))
    blocks += [follow_row(f, f"<#{f.owner}>") for f in channels] or [_section("_None yet._")]
    blocks.append(_section("*Next scheduled briefs*"))
    if schedules:
        lines = [
            f"• <#{s.channel}>: {datetime.fromtimestamp(at, UTC).strftime('%Y-%m-%d %H:%M UTC')}" for s, at in schedules
        ]
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(_section("_None: `/spacebot brief daily 08:00` in a channel sets one._"))
    blocks.append(_section("*Last alerts*"))
    if alerts:
        lines = [
            f"• {escape_mrkdwn(a.title) or a.article_id} — <#{a.channel}>, "
            f"{datetime.fromtimestamp(a.sent_at, UTC).strftime('%Y-%m-%d %H:%M UTC')}"
            for a in alerts
        ]
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(_section("_No alerts yet._"))
    return {"type": "home", "blocks": blocks}
