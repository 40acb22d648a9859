"""The clinic's FAQ assistant: content model, answer logic and command line."""

from pathlib import Path

from bot import logs

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Both servers run code from this package (the Rasa server our channels and NLU component, the action server
# our actions), so importing it is where their logs start being redacted.
logs.install()
