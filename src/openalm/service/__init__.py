"""OpenALM service layer."""
