"""OpenALM data layer."""
