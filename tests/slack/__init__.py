"""Tests of the Slack bot, the way Slack talks to it."""
