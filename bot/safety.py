"""Triage: is this message a complication report, a question about risk, or a personal medical question?

The page says that slight swelling or redness may last two to three days after
the procedure. Anything beyond that, told by someone after a procedure, needs a
doctor now; the same words asked as a question before a procedure ("will I get
blisters?") need the page's safety or recovery answer, never an alarm.

So a message is read in two steps, on normalised text (:func:`bot.text.normalize`):

1. **Who says what.** The message is cut into clauses. A clause that states a
   fact ("I have…", "my face is…", "there's pus", "since the session…") is
   *told*; one that opens like a question ("will I…", "what is the risk of…",
   "is … normal") or a condition ("what if…") is *asked*, unless it still
   states a fact inside ("is it normal that my face is still red…").
2. **What is told.** Signs the page does not call normal: pus, oozing, blisters,
   fever, infection, a burn, bleeding that won't stop, trouble with the eyes or
   vision; redness or swelling past the normal days; anything worsening,
   spreading or hot after a procedure. Their words are read as typed in a
   hurry too ("feaver", "weaping", "bliters"). A denied sign ("no pus, just a bit
   red") is not told.

A told complication is a report; otherwise an own-diagnosis, medicine or
changing-mole question is personal; otherwise a message that speaks of risks
or symptoms is a question the model may not escalate.

The rules are plain regular expressions in small named groups: easy to read,
to test (tests/safety/triage_table.yml) and to extend.
"""

from __future__ import annotations

import re
from enum import Enum

from bot.text import normalize

REPORT_COMPLICATION = "report_complication"
PERSONAL_MEDICAL = "personal_medical"


class Triage(Enum):
    REPORT = "report"  # a complication told after a procedure: the urgent route
    QUESTION = "question"  # speaks of risks or symptoms, tells none: never an alarm (bot.nlu.safe_intent)
    PERSONAL = "personal"  # own diagnosis, medicines, a changing mole: a dermatologist


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


# ---------------------------------------------------------------- who says what

# Clauses end at sentence punctuation (not a decimal point: "a 38.5 temperature"), commas, dashes, "but",
# and an "and" that starts the visitor's next sentence: "swollen for a week after the laser and im worried
# about scarring" tells the swelling, whatever it fears next.
_CLAUSE_BREAK = re.compile(r"(?:[!?;:,()\n]|(?<!\d)\.|\.(?!\d))+|\s-+\s|\bbut\b|\band (?=(?:i|im|i'm|ive|i've|now)\b)")
# Words people put in front of what they mean.
_FILLER = r"(?:(?:hi|hello|hey|ok|okay|so|and|also|um+|uh+|lol|sorry|quick question|please|pls|doctor|hiya|just)\s+)*"
_QUESTION_OPENER = re.compile(
    # Typed in a hurry too: "wil", "cn", "r".
    _FILLER + r"(?:will|wil|would|wud|could|cud|can|cn|might|may|shall|should|shud|is|are|r|am|do|does|did|"
    r"what|what's|whats|wat|how|why|when|any|anything|wondering|curious)\b(?!')"  # not "can't", "isn't"
)
# A condition within the clause's first words: "what if…", "should I worry if…". Not an indirect
# question ("idk if this is normal my face is oozing"), nor "looks as if it's burnt": those tell.
_CONDITIONAL = re.compile(
    r"^(?:[\w']+ ){0,4}?(?<!dont know )(?<!don't know )(?<!idk )(?<!not sure )(?<!wondering )(?<!as )"
    r"(?:if|in case|suppose|supposing|incase)\b"
)
# A risk named as a possibility, wherever it stands: "worried about the risk of infection".
_POSSIBILITY = _any(
    r"\b(?:risks?|chances?|possibility|likelihood|odds|danger|dangers)\s+(?:of|for|that)\b",
    r"\b(?:worried|afraid|scared|nervous|anxious|concerned)\s+(?:about|of|that|i'll|ill|i will|it'll|itll|it will)\b",
    r"\bmy (?:concern|worry|fear|main worry|biggest worry|biggest fear) is\b",
    # A future the visitor pictures: "i'll probably blister knowing me", "hoping i don't get pus".
    r"\b(?:i'll|i will|ill (?:get|have|end up|probably|prob|be))\b",
    r"\bhop(?:e|ing) (?:i |it |that |to )?(?:don't|dont|do not|won't|wont|never|not)\b",
    r"\b(?:wants?|wanted|like|liked) to know\b",
    r"\b(?:do|does|did)\s+(?:people|patients|clients|some|most|many|anyone|others|women|men)\b",
    r"\bis it (?:possible|common|likely|usual|normal|typical)\b",
    r"\b(?:going to|gonna|likely to)\b(?! need\b)",
    r"\bside[- ]?effects?\b",
    # hearsay: "i read online that people get blisters"
    r"\bi (?:read|heard|saw)\b",
    r"\b(?:apparently|people say|they say)\b",
    # wishes: "i dont want blisters, how do i avoid them"
    r"\b(?:don't|dont|do not) want\b",
    # A scene pictured: "i pictured someone burning the spot off". Not "imagine my shock when it
    # blistered", which tells, nor "a picture of my face".
    r"\b(?:pictur(?:ed|ing)|imagin(?:ed|ing)|the (?:thought|idea) of)\b",
    r"\b(?:avoid|prevent)\w*",
    # A temperament, not an event: "im a total wimp with anything that feels like burning".
    r"\b(?:anything|something|whatever) (?:that|which) (?:feels|hurts|burns|stings|is sore)\b",
    r"\b(?:wimp|coward|scaredy[- ]?cat|big baby)\b",
)
# "will my face still be puffy by then", "would i have redness": a future pictured before a procedure.
_PICTURED_BEFORE = r"(?<!will )(?<!wil )(?<!would )(?<!could )(?<!might )"
_NOT_ASKED_BEFORE = _PICTURED_BEFORE + r"(?<!can )(?<!do )(?<!if )(?<!should )(?<!did )"
# A fact stated inside a clause, even one that opens like a question.
_STATES_A_FACT = _any(
    _NOT_ASKED_BEFORE + r"\bi(?:'ve| have|ve| got| had| noticed| developed| can see| can't see| cant see| woke)\b",
    _NOT_ASKED_BEFORE + r"\bi(?:'m| am|m) (?:getting|having|seeing|noticing|still)\b",
    # Not "my concern is…", "my biggest fear is…": what comes next is what the visitor fears.
    _PICTURED_BEFORE + r"\b(?:my|his|her|their|our)\b(?! (?:concern|worry|fear|question|main|biggest)\b)"
    r"(?: [\w']+){0,3}?(?:'s| is| are| was| were| has| have| had| looks?| feels?|"
    r" keeps?| went| got| turned| became| started| seems?| stays?| won't| wont| isn't| hasn't| doesn't| still)\b",
    # Not "anything that feels like burning": a kind of thing, not a thing that happened.
    r"(?<!anything )(?<!something )(?<!whatever )"
    r"\b(?:it|this|that)(?:'s| is|s| has| keeps| looks| feels| hurts| burns| started| won't| wont| isn't|"
    r" hasn't| still)\b(?! (?:normal|common|possible|likely|safe|a risk|freaking|scaring|worrying|stressing)\b)",
    r"\bthere(?:'s| is| are|s| was)\b",
    # A sign pointed at: "is mine meant to be oozing like this", "the pus coming out of my cheek",
    # "cover the weeping spots", "having some side effects from the laser like blisters".
    r"\b(?:ooz\w*|bleed\w*|weep\w*|blister\w*|swollen|swelling|red|crust\w*|pus\w*) like (?:this|that)\b",
    r"\bthe (?:\w+ )?(?:pus|blisters?|crust|discharge|oozing)\b (?:on|coming|in) (?:my|out)\b",
    r"\bthe (?:weeping|oozing|bleeding|blistered|infected) (?:spots?|skin|area|patch\w*|cheeks?|face|bits?|places?)\b",
    r"^having\b",
    # A sign spoken of as there: "r these blisters normal??", "can i shower with the weeping blisters".
    r"\b(?:these|those)\b(?: \w+)? (?:blisters?|sores?|scabs?|bumps?|burns?|patch\w*)\b",
    r"\b(?:with|on) (?:the|my|these) (?:\w+ )?(?:blisters?|sores?|burns?|oozing \w+|weeping \w+)\b",
    # One's own procedure's sign, asked about: "how do i treat the blisters from my laser".
    r"\b(?:the|my) (?:\w+ )?(?:blisters?|pus|oozing|discharge|crust)\b.{0,25}\b(?:from|after|since) my "
    r"(?:la[sz]er\w*|session|treatment|appointment|appt|procedure)\b",
    r"\b(?:the|this|that) (?:skin|spot|area|patch|place|side|redness|swelling|burn|blister|wound|cheek|face|"
    r"treated|lasered)\w*(?: [\w']+){0,2}? (?:is|are|has|looks|feels|keeps|went|got|turned|won't|isn't|hasn't)\b",
    r"\b(?:since|now|today|tonight|this morning|last night|woke up|came up|appeared|started|developed)\b",
    r"\b(?:she|he|they)(?:'s| is| has| have| had| got| keeps| can't)\b",
)


# Between the told clauses of a message, so that a denial or a date reaches no further than its clause.
_TOLD_CLAUSES_JOINED_BY = " . "


def _clauses(text: str) -> list[str]:
    return [clause.strip() for clause in _CLAUSE_BREAK.split(text) if clause.strip()]


def _is_asked(clause: str) -> bool:
    """True when the clause asks or supposes rather than tells."""
    if _CONDITIONAL.search(clause):
        return True
    if _STATES_A_FACT.search(clause):
        return False
    return bool(_QUESTION_OPENER.match(clause) or _POSSIBILITY.search(clause))


def what_is_told(text: str) -> str:
    """The clauses of a normalised message that tell rather than ask, joined by ' . '."""
    return _TOLD_CLAUSES_JOINED_BY.join(clause for clause in _clauses(text) if not _is_asked(clause))


# ---------------------------------------------------------------- what is told

# Signs that are never normal after the procedure, whenever someone tells them. Typed in a hurry too:
# "bliters", "feaver", "oozeing", "weaping", "vison", "bleading", "infeccted".
_VISION = r"(?:vision|vison|vission|visoin|sight)"
_BLEED = r"(?:bleed\w*|blead\w*|bled+ing|blood)"
_ALARMING = _any(
    r"\bblist\w*",
    r"\bbli(?:s?t|ts)[er]\w*",
    r"\bbubbl\w*",
    r"\bopen (?:sores?|wounds?|holes?)\b",
    r"\bpus\b",
    r"\bpuss(?:y|ing)?\b",
    r"\boo?z(?:e|es|ed|e?ing|in|y)\b",
    r"\b(?:discharge|w(?:ee|ea|e)p(?:ing|in|y)|leak(?:s|ing|ed)?|seeping)\b",
    r"\byellow\w* (?:stuff|fluid|liquid|discharge)\b",
    r"\byellow\w*(?: [\w']+){0,2}? (?:crust\w*|scab\w*)",
    r"\b(?:goo(?:ey|ie|y)?|gunk\w*)\b",
    r"\b(?:fluid|liquid)[- ]?filled\b",
    r"\b(?:full of|with) (?:fluid|liquid)\b",
    r"\b(?:spot|skin|area|wound|scab|cheek|face|patch)\b(?: [\w']+){0,6}? (?:smells?|smelly|stinks?|stinky)\b",
    r"\binfe?c+t\w*",
    r"\b(?:fe+a?v[eoa]?r\w*|high temperature|chills|a temperature)\b",
    # A temperature told as "temp" or as degrees: "running a temp", "my temp is 39.2", "a 38.5 temperature".
    r"\b(?:high|a|my|running a) temp\b",
    r"\b3[89](?:[.,]\d)? ?(?:°|degrees?|temp\b|temperature|c\b)",
    r"\btemp(?:erature)? (?:is |of |was |at |around )?3[89]\b",
    r"\b3[89][.,]\d\b",  # a body temperature with its decimal: "i've had 38.5 since last night"
    # The retina (flashes, floaters) and an allergic reaction (lips, tongue, throat swelling): at once.
    r"\b(?:flashes|flashing lights|floaters)\b",
    r"\b(?:lips?|tongue|throat)\b(?: \w+){0,2}? (?:swell\w*|swoll\w*|puff\w*|tingl\w*|tight\w*|numb\w*)",
    r"\b(?:swell\w*|swoll\w*|puffed) up\b(?: \w+){0,4}? (?:lips?|tongue|throat|massively|badly|so much|loads)\b",
    r"\b(?:burnt|burned|scorch\w*)\b",
    r"\b(?:abscess\w*|septic|cellulitis)\b",
    r"\blike a balloon\b",
    r"\b(?:stuff|fluid|liquid|gunk) (?:is )?(?:coming|leaking|seeping|dripping) out\b",
    r"\b(?:a|the|this|that) burn\b(?! scars?\b)",
    r"\braw\b",
    rf"\b{_BLEED}\b.{{0,30}}\b(?:won't|wont|will not|doesn't|does not|can't|cannot|not) stop",
    rf"\bkeeps? {_BLEED}\b",
    rf"\b(?:can't|cant|cannot|won't|wont|will not|doesn't|does not) stop (?:the |it )?{_BLEED}",
    r"\bwet (?:sores?|wounds?|patch\w*|and (?:raw|sticky|crusty))\b",
    rf"\b(?:blurr?y|blurred|double) {_VISION}\b",
    r"\bseeing (?:double|blurry|blurred)\b",
    rf"\b{_VISION}\b.{{0,20}}\b(?:blurr?y|blurred|worse|gone|funny|weird|strange|off)\b",
    r"\b(?:can't|cant|cannot|can barely|can hardly) (?:see|open (?:my|her|his) eye)",
    r"\beyes? (?:is |are |went |gone |has gone |looks? )?(?:all |really |so )?(?:blurr?y|blurred)\b",
    r"\bblurr?y (?:out of|in) (?:my|her|his) (?:\w+ )?eye\b",
    r"\b(?:temp(?:erature)? (?:is |of |was |at |around )?10[0-4]|10[0-4](?:[.,]\d)? ?(?:°|degrees?|f\b))",
    r"\beye\w* won'?t open\b",
)
# Being sore, red, swollen: normal for two to three days, not beyond, not growing.
_SYMPTOM = _any(
    r"\bred(?:ness|nes|der|dish)?\b",
    r"\bswe+ll?(?:ing|in|ng|ed|s)?\b",
    r"\bswoll?en\b",
    r"\bswole\b",
    r"\binflam(?:ed|ation)\b",
    r"\bbeetroot\b",
    r"\bpuff(?:y|iness|ed|ing)\b",
    r"\bpain(?:ful)?\b",
    r"\bhurt(?:s|ing)?\b",
    r"\bsore\b",
    r"\bach(?:e|es|ing|y)\b",
    r"\bburn(?:s|ing)?\b",
    r"\bbleed(?:s|ing)?\b",
    r"\bbled\b",
    r"\bitch(?:y|es|ing)?\b",
    r"\bcrust\w*",
    r"\bscab\w*",
    r"\brash\b",
    r"\bthrobb\w*",
)
_PAST_NORMAL_DAYS = _any(
    r"\b(?:a|one|1|two|2|three|3|several|few|couple of) (?:weeks?|wks?|fortnights?|months?)\b",
    r"\b(?:[4-9]|1[0-9]|four|five|six|seven|eight|nine|ten|several)\+? (?:days?|dys|whole days)\b",
    r"\b(?:[4-9]|1[0-9])th day\b",
    r"\b(?:more|longer) than (?:2|3|two|three|a few) days\b",
    r"\bover (?:2|3|two|three) days\b",
    r"\blast (?:week|wk)s?\b",
    r"\bday (?:[4-9]|1[0-9]|four|five|six|seven|eight|nine|ten)\b",
    r"\b(?:won't|wont|will not|doesn't|does not|isn't|is not|not) (?:go(?:ing)? (?:away|down)|fading|fade|settle|"
    r"settling|getting better|improv\w*|heal\w*|calm\w* down)\b",
    r"\b(?:hasn't|has not|haven't|have not|hasnt|havent) (?:gone|gotten better|got better|improved|settled|faded|"
    r"healed|calmed|budged|shifted)\b",
    r"\b(?:won't|wont|will not) (?:budge|shift)\b",
    r"\bno better\b",
    r"\bnot better\b",
)
_STILL = re.compile(r"\bstill\b")
# Within the two to three days the page calls normal.
_WITHIN_NORMAL_DAYS = _any(
    r"\b(?:next|following) (?:day|morning)\b",
    r"\bday after\b",
    r"\b(?:yesterday|this morning|last night)\b",
    r"\b(?:1|one|2|two|3|three|a couple of|couple|24|48) (?:days?|hours?)\b",
)
_WORSENING = _any(
    r"\bspread\w*",
    r"\bworse\w*",
    r"\bworsen\w*",
    r"\bgetting (?:bigger|larger|redder|darker|more)\b",
    r"\bmore and more\b",
    r"\b(?:more|worse) (?:every|each|by the) (?:day|hour)\b",
    r"\bkeeps? (?:growing|getting|spreading|increasing)\b",
    r"\bincreas(?:e|es|ed|ing)\b",
    r"\bgrow(?:s|ing)\b",
    r"\bdoubled\b",
    r"\bgotten (?:bigger|larger|redder|darker|worse|more)\b",
    r"\bgr(?:own|ew)\b",
    r"\b(?:redder|more swollen|puffier) (?:today|than yesterday|every day|each day)\b",
    r"\b(?:creep\w*|going|moving) (?:up|down|across|along) (?:to|into|onto|my)\b",
    r"\b(?:red )?streaks?\b",
)
_HEAT = _any(r"\bhot\b", r"\bheat\b", r"\bwarm to (?:the )?touch\b", r"\bburning\b", r"\bon fire\b")
# "Something is off", said of an eye after a procedure.
_TROUBLE = _any(r"\b(?:weird|wrong|strange|funny|odd|problem|issue|not right)\b")
_EYE = _any(r"\beyes?\b", r"\beyelids?\b", r"\beye ?lids?\b", rf"\b{_VISION}\b")
_BLEEDING = _any(rf"\b{_BLEED}", r"\bbled\b")
# Shivers and sweats are a fever only after a procedure: "shivering and sweaty since the laser".
_FEVERISH = _any(r"\bshiver\w*", r"\bsweats\b", r"\bsweaty\b")
_MOLE = re.compile(r"\b(?:moles?|beauty spots?)\b")
# The message ties what it tells to a procedure that has happened.
_AFTER_PROCEDURE = _any(
    r"\b(?:after|since|following|from)\b(?: [\w']+){0,4}? (?:la[sz]er\w*|procedure|treatment|session|appointment|"
    r"appt\w*|sesh|visit|zap\w*|it)\b",
    r"\bla[sz]ered\b",
    r"\b(?:where|since) (?:the|ur|your) la[sz]er (?:was|went|hit)\b",
    r"\bthe la[sz]er (?:left|made|gave)\b",
    r"\bwhere (?:you|they|she|he|the laser|it) (?:treated|zapped|lasered|did|worked|went|was|hit|touched)\b",
    r"\btreated (?:spot|area|skin|side|patch|place|bit)s?\b",
    r"\b(?:spot|area|patch|place|bit)s? (?:you|they|she|he) (?:did|treated|lasered|zapped)\b",
    r"\b(?:had|did|got|done)\b(?: [\w']+){0,2}? (?:la[sz]er\w*|procedure|treatment|session)\b",
    r"\b(?:had|got|did) (?:it|them|mine|hers|his|theirs) done\b",
    r"\b(?:days?|weeks?) (?:after|later|on)\b",
    r"\b(?:afterwards|post[- ]laser|post[- ]treatment)\b",
)
# It asks whether the treatment can help: a visitor before the procedure.
_ASKS_FOR_TREATMENT = _any(
    r"\b(?:can|could|would|will|does|do|is)(?: the)? (?:you|laser|lasers|it|this|that|the laser|the procedure|"
    r"the treatment|your clinic|your laser) (?:help|treat|remove|fix|get rid|work|do|be used|clear|reduce|laser|"
    r"zap|lighten|take)\b",
    r"\b(?:thinking of|planning|considering|want to|would like to|booked|booking|about to)\b",
    r"\bcan i still (?:have|get|come|do|book)\b",
    r"\bbefore (?:the|my|a) (?:procedure|treatment|session|laser|appointment)\b",
    r"\b(?:next|this coming) (?:week|month|monday|tuesday|wednesday|thursday|friday|saturday)\b",
)
# A sign denied ("no pus, no blisters, just a bit red") is not told, up to the next "but", "and", "just"...
# "No better" and "no improvement" are not denials: they say it lasts.
_DENIAL = re.compile(
    r"\b(?:no|without|zero|free of)\b(?! (?:better|longer|improvement|change|idea|joke|one|clue|matter|wonder)\b)"
    r"(?:(?!\b(?:and|but|just|only|though|although|however)\b)[^.])*"
)
# Something that ended long ago is history, not a complication.
_LONG_AGO = _any(
    r"\b(?:last|a) year\b",
    r"\byears ago\b",
    r"\bas a (?:child|kid|teenager)\b",
    r"\bin the past\b(?! (?:\d+|few|couple|two|three|four|five|six|seven|week|month|day)\b)",
)


def tells_a_complication(told: str, text: str) -> bool:
    """True when what the message tells is a sign beyond what the page calls normal after a procedure."""
    # History is told clause by clause: "no problems last year but this time my cheek has blisters".
    clauses = told.split(_TOLD_CLAUSES_JOINED_BY)
    told = _TOLD_CLAUSES_JOINED_BY.join(clause for clause in clauses if not _LONG_AGO.search(clause))
    if not told.strip():
        return False
    after = bool(_AFTER_PROCEDURE.search(text))
    if not after and _ASKS_FOR_TREATMENT.search(text):
        return False  # "my red cheeks are getting worse, can laser help?" is a visitor before a procedure
    if _ALARMING.search(told):
        return True
    if not after and _MOLE.search(told):
        return False  # a mole that changes by itself is a question for a dermatologist
    symptom = bool(_SYMPTOM.search(told))
    if _EYE.search(told) and (symptom or (after and _TROUBLE.search(told))):
        return True
    if symptom and _lasts_past_normal(told):
        return True
    if _WORSENING.search(told) and (symptom or after):
        return True
    if _HEAT.search(told) and (symptom or after):
        return True
    return bool(after and (_BLEEDING.search(told) or _FEVERISH.search(told)))


# A question that tells its own state: "is it normal to still be swollen 5 days after my laser?", "why am i still
# so swollen a week after the laser". Not a future pictured ("will i still be swollen a week after?"), nor history
# ("last year i was still swollen a week after").
_FUTURE = _any(r"\b(?:will|wil|would|wud|going to|gonna)\b", r"'ll\b", r"\b(?:ill|itll|theyll)\b")


def asks_about_own_lasting_sign(text: str) -> bool:
    """True when a question says the visitor's sign is still there past the page's normal days after the procedure."""
    return bool(
        _STILL.search(text)
        and _SYMPTOM.search(text)
        and _PAST_NORMAL_DAYS.search(text)
        and _AFTER_PROCEDURE.search(text)
        and not _FUTURE.search(text)
        and not _CONDITIONAL.search(text)
        and not _ASKS_FOR_TREATMENT.search(text)
        and not _LONG_AGO.search(text)
    )


def _lasts_past_normal(told: str) -> bool:
    if _PAST_NORMAL_DAYS.search(told):
        return True
    return bool(_STILL.search(told) and not _WITHIN_NORMAL_DAYS.search(told))


# ---------------------------------------------------------------- questions about risk

# Words that make a message about risks or symptoms: the model must not escalate it.
_RISK_WORDS = _any(
    _ALARMING.pattern,
    _SYMPTOM.pattern,
    _WORSENING.pattern,
    _HEAT.pattern,
    r"\bscar\w*",
    r"burn",  # sunburn, burns, burned
    r"\b(?:risk\w*|danger\w*|safe\w*|harm\w*|side[- ]?effects?|complications?|adverse|damage\w*|normal|"
    r"reactions?|injur\w*)\b",
)


def asks_about_risk(text: str) -> bool:
    """True when the message speaks of risks or symptoms without telling a complication."""
    return bool(_RISK_WORDS.search(text))


# ---------------------------------------------------------------- personal medical questions

_OWN_DIAGNOSIS = _any(
    r"\b(?:is|could|might|can)\s+(?:it|this|that|my\s+\w+(?:\s+\w+)?)\s+(?:be\s+)?(?:a\s+)?"
    r"(?:skin\s+)?(?:cancer|cancerous|melanoma|malignant|carcinoma)\b",
    r"\b(?:is|could|might|can) (?:this|that|my|the) (?:\w+ ){0,2}(?:spot|mole|mark|patch|lump|bump|freckle|thing)\b"
    r".{0,20}\b(?:cancer\w*|melanoma|malignant|carcinoma)\b",
    r"\b(?:worried|afraid|scared|think|suspect)\b.{0,40}\b(?:cancer|melanoma|malignant)\b",
    r"\b(?:know|tell|check|sure|wonder\w*) (?:if|whether)\b.{0,40}\b(?:cancer\w*|melanoma|malignant)\b",
    # Not a word's meaning: "i've got age spots but no idea what that even means".
    r"\b(?:tell me|know|sure|idea) what (?:this|that|these|those|my)\b"
    r"(?! (?:even |really |actually )?(?:means?|meant)\b)",
    r"\bwhat (?:is|are) (?:this|that|these|those)\b.{0,25}\b(?:spots?|patch(?:es)?|marks?|lumps?|bumps?)\b",
    r"\bis (?:this|my|the|that) (?:\w+ ){0,2}(?:spot|mole|patch|mark|thing|lump|bump)\b.{0,30}\b(?:normal|dangerous|"
    r"benign|serious)\b",
    r"\b(?:my|this|the) (?:spot|mole|patch|mark|lump)\b.{0,20}\b(?:benign|malignant)\b",
    r"\b(?:is|are) (?:mine|theirs|hers|his)\b(?: \w+)? (?:serious|dangerous|benign|malignant|cancerous)\b",
    r"\bwhat (?:it|this|that) (?:is|could be|might be)\b",
    r"\bwhat (?:do|d) (?:you|u|ya) (?:think|reckon) (?:this|that|it|my|these|those)\b",
    r"\b(?:spot|patch|mark|birthmark|freckle)s?\b.{0,45}\b(?:bleeds?|bleeding|itch(?:es|y|ing)?|grow(?:s|ing)|chang(?:ed|es|ing))\b",
    r"\b(?:this|that|these|those|my) (?:\w+ ){0,2}(?:spot|mole|patch|mark|lump|bump|freckle)s?\b.{0,30}"
    r"\bsomething to worry\b",
)
_MEDICINE = _any(
    r"\b(?:isotretinoin|accutane|roaccutane|tretinoin|retinoids?|antibiotics?|doxycycline|warfarin|"
    r"blood[- ]thinn(?:er|ers|ing)|anticoagulants?|steroids?|hormone therapy|birth control pills?|"
    r"minocycline|prednisone|prednisolone|retin[- ]?a|hrt|levothyroxine|thyroxine|metformin|methotrexate|"
    r"ibuprofen|aspirin|hydroquinone|prescribed|prescription|"
    # Blood thinners by their generic and brand names.
    r"rivaroxaban|xarelto|apixaban|eliquis|edoxaban|lixiana|dabigatran|pradaxa|clopidogrel|plavix|coumadin|"
    # Misspelt, shortened, or named by what they do: "roacutane", "doxy", "thinners for my heart".
    r"roacutane|doxy|tamoxifen|adapalene|differin|thinners)\b",
    r"\b(?:i'm|im|i am|been) on the (?:contraceptive )?(?:pill|coil|jab|implant|injection)\b",
    r"\b(?:take|taking|on|using)\s+(?:some\s+|a\s+)?(?:medication|medicine|meds|pills|tablets|drugs)\b",
    r"\bmy (?:\w+ )?(?:medication|medicine|meds|pills|tablets)\b",
    r"\b(?:took|taking|on|finished|started) a course of\b",
    # "i take methotrexate": any named drug; the page can't settle any of them.
    r"\bi(?: am|'m|m)? (?:take|taking) (?!a\b|the\b|time\b|care\b|painkillers?\b)\w+",
)
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
    r"\b(?:uneven|irregular|ragged|blurry) (?:edges?|borders?)\b",
    r"\bshape\b",
    r"\bcolou?r changed\b",
    r"\blooks? different\b",
    r"\b(?:become|became|becoming|turned|gone|getting)\b(?: \w+){0,2}? (?:raised|bumpy|lumpy|darker|bigger|"
    r"sore|painful|red|black|itchy|crusty|different)\b",
    r"\b(?:went|gone|going) from\b",
)


def is_personal_medical(text: str) -> bool:
    if _OWN_DIAGNOSIS.search(text) or _MEDICINE.search(text):
        return True
    return bool(_MOLE.search(text) and _MOLE_CHANGE.search(text))


# ---------------------------------------------------------------- the decision

# The intents the rules decide, and where each intent sends the visitor.
RULED_INTENTS = {Triage.REPORT: REPORT_COMPLICATION, Triage.PERSONAL: PERSONAL_MEDICAL}
URGENT, DERMATOLOGIST, NOT_ESCALATED = "urgent", "personal", "not escalated"


def route(intent: str | None) -> str:
    """Where an intent sends the visitor: the urgent route, a dermatologist, or the page's answer."""
    return {REPORT_COMPLICATION: URGENT, PERSONAL_MEDICAL: DERMATOLOGIST}.get(intent or "", NOT_ESCALATED)


def triage(message: str) -> Triage | None:
    """What the fixed rules decide about a visitor's message; None leaves it to the model."""
    text = normalize(message)
    if tells_a_complication(_DENIAL.sub(" ", what_is_told(text)), text) or asks_about_own_lasting_sign(text):
        return Triage.REPORT
    if is_personal_medical(text):
        return Triage.PERSONAL
    if asks_about_risk(text):
        return Triage.QUESTION
    return None
