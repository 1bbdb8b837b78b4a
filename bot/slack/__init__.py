"""The Slack face of spacebot: a Bolt app, Block Kit rendering, de-duplication.

`bot.slack.app.build_app` builds the app; `serve_http` / `serve_socket_mode`
run it. Nothing heavy is imported here.
"""
