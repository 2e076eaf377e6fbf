"""OpenALM engine layer."""
