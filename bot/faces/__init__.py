"""The faces people use: the command line, the terminal chat and Slack.

Each reaches the core only through `bot.core.api.AskService` (implemented by `AnswerService`).
"""
