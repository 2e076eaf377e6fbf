"""OpenALM market layer."""
