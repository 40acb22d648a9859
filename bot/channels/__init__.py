"""Rasa input channels the clinic's assistant adds or fixes; each is named in credentials.yml."""
