"""The Slack face of hfbot: a slack-bolt app over `Answerer.answer(question, history)`."""
