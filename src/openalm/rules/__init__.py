"""OpenALM rules layer."""
