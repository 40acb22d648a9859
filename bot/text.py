"""The one text normaliser: what a visitor typed, in the form our rules read.

Phones type curly apostrophes ("won\u2019t"), editors type dashes ("2\u20133 days") and
some keyboards type full-width letters; none of that may change what a rule
decides. Every matcher that reads visitor text (the safety triage today; term
matching and the channels can use it too) calls :func:`normalize` first, so
that a rule is written once, against plain lower-case ASCII punctuation.
"""

from __future__ import annotations

import re
import unicodedata

# Characters NFKC leaves alone but people use for the same thing.
_PLAIN_PUNCTUATION = str.maketrans(
    {
        # curly and low single quotes, prime, acute and grave accents
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060", "'"),
        # curly and low double quotes, double prime, guillemets
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # hyphens, dashes, minus
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", ""),  # zero-width characters
    }
)
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Unicode NFKC, straight quotes and apostrophes, '-' for every dash, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_PLAIN_PUNCTUATION)
    return _WHITESPACE.sub(" ", text.casefold()).strip()
