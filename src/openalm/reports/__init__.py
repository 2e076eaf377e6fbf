"""OpenALM reports layer."""
