"""Fixed rules that spot a possible complication or a personal medical question.

They run before any learned model decides anything (see ``bot.nlu``), because
a worrying symptom must never be answered as an FAQ. They are deliberately
plain regular expressions: easy to read, to test and to extend.
"""

from __future__ import annotations

import re

RED_FLAG = "report_complication"
PERSONAL = "personal_medical"


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


# Signs that are alarming whatever else is said.
_ALARMING = _any(
    r"\bblister",
    r"\bpus\b",
    r"\bpussy\b",
    r"\booz(?:e|es|ing)\b",
    r"\binfect(?:ed|ion)\b",
    r"\bfever\b",
    r"\bhigh temperature\b",
    r"\bweeping\b",
    r"\bi (?:have|got) (?:a )?burn",
    r"\bgot burn(?:ed|t)\b",
    r"\bburn(?:ed|t)\b.{0,20}\b(?:me|my|skin)\b",
    r"\b(?:skin|it|spot|area)\b.{0,15}\bburn(?:ed|t)\b",
)
_AFTER_TREATMENT = _any(
    r"\b(?:after|since|following)\b.{0,30}\b(?:laser|procedure|treatment|session|appointment|visit)",
    r"\blasered\b",
    r"\bwhere (?:you|they) (?:treated|zapped)\b",
    r"\b(?:laser|procedure|treatment|session)\b.{0,40}\b(?:yesterday|days? ago|last week|this morning)",
    r"\bi (?:had|did|got) (?:the |my |a )?(?:laser|procedure|treatment|session)",
)
_SYMPTOM = _any(
    r"\bred(?:ness|der)?\b",
    r"\bswell(?:ing|ed)?\b",
    r"\bswollen\b",
    r"\bpain(?:ful)?\b",
    r"\bhurt(?:s|ing)?\b",
    r"\bsore\b",
    r"\bburn(?:s|ing)?\b",
    r"\bbleed(?:s|ing)?\b",
    r"\bbled\b",
)
_WORSENING = _any(
    r"\bspread(?:s|ing)?\b",
    r"\bgetting worse\b",
    r"\bworse\b",
    r"\bworsen(?:s|ing|ed)?\b",
    r"\bwon'?t go away\b",
    r"\bnot going away\b",
    r"\bincreas(?:es|ing)\b",
    r"\bkeeps? growing\b",
)
_BLEEDING = _any(r"\bbleed(?:s|ing)?\b", r"\bbled\b", r"\bburn(?:s|ing|ed|t)?\b")
_EYE = _any(r"\beyes?\b", r"\beyelids?\b", r"\bvision\b")
_COMPLAINT = _any(
    r"\b(?:is|are|got|getting|became|has been|have been|feels?)\s+(?:very\s+|really\s+|so\s+)?"
    r"(?:red|swollen|painful|sore|bleeding|blurry)\b",
    r"\bcan'?t see\b",
)

_OWN_DIAGNOSIS = _any(
    r"\b(?:is|could|might|can)\s+(?:it|this|that|my\s+\w+(?:\s+\w+)?)\s+(?:be\s+)?(?:a\s+)?"
    r"(?:skin\s+)?(?:cancer|cancerous|melanoma|malignant|carcinoma)\b",
    r"\b(?:worried|afraid|scared|think|suspect)\b.{0,40}\b(?:cancer|melanoma|malignant)\b",
    r"\bwhat (?:is|are) (?:this|that|these|those)\b.{0,25}\b(?:spots?|patch(?:es)?|marks?|lumps?|bumps?)\b",
    r"\bis (?:this|my) (?:spot|mole|patch|mark)\b.{0,20}\b(?:normal|dangerous|benign|serious)\b",
    r"\b(?:my|this|the) (?:spot|mole|patch|mark|lump)\b.{0,20}\b(?:benign|malignant)\b",
    r"\bwhat (?:it|this|that) (?:is|could be|might be)\b",
    r"\b(?:spot|patch|mark)s?\b.{0,25}\b(?:bleeds?|bleeding|itch(?:es|y|ing)?|grow(?:s|ing)|chang(?:ed|es|ing))\b",
)
_MEDICINE = _any(
    r"\b(?:isotretinoin|accutane|roaccutane|tretinoin|retinoids?|antibiotics?|doxycycline|warfarin|"
    r"blood[- ]thinn(?:er|ers|ing)|anticoagulants?|steroids?|hormone therapy|birth control pills?)\b",
    r"\b(?:take|taking|on|using)\s+(?:some\s+|a\s+)?(?:medication|medicine|meds|pills|tablets|drugs)\b",
    r"\bmy (?:medication|medicine|meds|pills|tablets)\b",
    # "i take methotrexate": any named drug; the page can't settle any of them.
    r"\bi(?: am|'m|m)? (?:take|taking) (?!a\b|the\b|time\b|care\b|painkillers?\b)\w+",
)
_MOLE = _any(r"\bmoles?\b")
_MOLE_CHANGE = _any(
    r"\bchang(?:ed|ing|es)\b",
    r"\bgr[eo]w(?:s|ing|n)?\b",
    r"\bbigger\b",
    r"\bitch(?:y|es|ing)?\b",
    r"\bbleed(?:s|ing)?\b",
    r"\bbled\b",
    r"\bcrust(?:y|ing)?\b",
    r"\birregular\b",
    r"\bdarker\b",
    r"\bnew shape\b",
    r"\bshape\b",
    r"\bcolou?r changed\b",
)


def triage(message: str) -> str | None:
    """``report_complication``, ``personal_medical`` or None for an ordinary question."""
    if is_red_flag(message):
        return RED_FLAG
    if is_personal_medical(message):
        return PERSONAL
    return None


def is_red_flag(message: str) -> bool:
    if _ALARMING.search(message):
        return True
    symptom = bool(_SYMPTOM.search(message))
    after = bool(_AFTER_TREATMENT.search(message))
    if symptom and _WORSENING.search(message):
        return True
    if after and _BLEEDING.search(message) and not _MOLE.search(message):
        return True
    return bool(
        _EYE.search(message) and (after or _COMPLAINT.search(message)) and (symptom or _COMPLAINT.search(message))
    )


def is_personal_medical(message: str) -> bool:
    if _OWN_DIAGNOSIS.search(message) or _MEDICINE.search(message):
        return True
    return bool(_MOLE.search(message) and _MOLE_CHANGE.search(message))
