"""The clinic's FAQ assistant: content model, answer logic and command line."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
