"""OpenALM conventions layer."""
