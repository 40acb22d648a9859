"""The clinic's FAQ assistant: content model, answer logic and command line."""
