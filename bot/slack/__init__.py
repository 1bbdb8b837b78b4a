"""The Slack face of spacebot: a Bolt app, Block Kit rendering, de-duplication.

`bot.slack.app.build_app` builds the app; `bot.slack.serve` runs it (HTTP or
Socket Mode). Nothing heavy is imported here.
"""
