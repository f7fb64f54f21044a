"""Mask obvious personal data in what users type before it is stored.

People in the health sector may paste a patient's details into a question. The bot's database
keeps question texts for the secretariat's report, so national identity numbers
(fødselsnummer/D-nummer: 11 digits whose two mod-11 control digits check out), phone numbers
and e-mail addresses are replaced by a placeholder first. Anything else stays as typed: the
masking is a safety net, not a guarantee (HFBOT_STORE_QUESTION_TEXT=false is the guarantee).
"""

from __future__ import annotations

import re

NATIONAL_ID_MASK = "[fødselsnummer]"
PHONE_MASK = "[telefonnummer]"
EMAIL_MASK = "[e-post]"

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}", re.UNICODE)
# 11 digits, optionally written "DDMMYY NNNNN" with one space, dot or dash after the date.
_NATIONAL_ID = re.compile(r"(?<![\d,.])(\d{6})[ .-]?(\d{5})(?![\d]|[,.]\d)")
# Norwegian numbers (8 digits, grouped as people write them), with or without +47/0047, and
# foreign numbers written with a + country code. Digits around them rule out longer numbers.
_PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:(?:\+|00)\d{1,3}[ .-]?)?"
    r"(?:\d{8}|\d{2}([ .-])\d{2}\1\d{2}\1\d{2}|\d{3}([ .-])\d{2}\2\d{3})"
    r"(?![\w]|[,.]\d)"
)
_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def is_national_id(digits: str) -> bool:
    """Whether 11 digits carry valid fødselsnummer control digits (mod 11, both of them)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    numbers = [int(d) for d in digits]
    for weights, position in ((_WEIGHTS_1, 9), (_WEIGHTS_2, 10)):
        control = 11 - sum(w * n for w, n in zip(weights, numbers, strict=False)) % 11
        control = 0 if control == 11 else control
        if control == 10 or control != numbers[position]:
            return False
    return True


def mask_personal_data(text: str) -> str:
    """The text with identity numbers, phone numbers and e-mail addresses replaced."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_MASK, text)

    def national_id(match: re.Match[str]) -> str:
        return NATIONAL_ID_MASK if is_national_id(match.group(1) + match.group(2)) else match[0]

    text = _NATIONAL_ID.sub(national_id, text)
    return _PHONE.sub(PHONE_MASK, text)
