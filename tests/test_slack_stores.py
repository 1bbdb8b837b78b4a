"""The Slack app's small helpers (no network); its stores are tested in test_state.py."""

from __future__ import annotations

import pytest
from conftest import make_settings

from bot.faces.slack.app import conversation_id
from bot.faces.slack.client import api_base_url
from bot.faces.slack.serve import run


def test_helpers():
    assert api_base_url("https://slack-gov.com/api") == "https://slack-gov.com/api/"
    assert api_base_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/api/"
    assert api_base_url("  ") is None and api_base_url(None) is None
    assert conversation_id("C1", "1.2") == "slack:C1:1.2"
    assert conversation_id("D1", None, dm=True) == "slack:D1:dm"
    assert conversation_id("D1", "3.4", dm=True) == "slack:D1:3.4"


def test_run_explains_missing_credentials(tmp_path):
    settings = make_settings(tmp_path, slack_bot_token="xoxb-x", slack_app_token=None, slack_signing_secret=None)
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        run(settings, service=None)
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        run(settings, service=None, http=True)
