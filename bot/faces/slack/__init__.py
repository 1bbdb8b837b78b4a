"""The Slack face of spacebot: a Bolt app, Block Kit rendering, de-duplication.

`bot.faces.slack.app.build_app` builds the app; `bot.faces.slack.serve` runs it (HTTP or
Socket Mode). Nothing heavy is imported here.
"""
