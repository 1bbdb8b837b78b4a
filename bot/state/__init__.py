"""State kept between questions: conversations, feedback votes and Slack event ids."""
