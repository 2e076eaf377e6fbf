"""OpenALM measures layer."""
