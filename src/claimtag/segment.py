"""Rule-based sentence and paragraph segmentation for analysis text.

The splitter is regex driven: one compiled pattern finds *candidate* boundaries
(a run of ``.``/``!``/``?``/``…`` plus closing quotes or brackets followed by
whitespace, a line break, or a stage direction such as ``[Applause]``) and a
small amount of Python decides each candidate.  Nothing walks the text one
character at a time, and every look-around is bounded, so the run time is
linear in the length of the input.

Decisions, in order of precedence:

* A blank line (a line holding only whitespace; ``\\n``, ``\\r\\n`` and ``\\r``
  all end a line) always ends a sentence and starts a new paragraph.  A lone
  ``\\n\\r`` pair therefore counts as a blank line.
* A line break followed by indentation (two or more spaces, or a tab) and a
  character that is not lower case starts a new sentence *and* a new paragraph
  (the newswire convention: paragraphs are indented by four spaces).
* A line break followed by a list marker (``-``, ``*``, ``•``, ``1.``, ``2)``,
  ``(a)``, ...) starts a new sentence in the same paragraph.
* Any other single line break is ordinary whitespace (hard-wrapped text),
  except after a *heading line*: a line on which a sentence starts, that ends
  without a terminator (nor in ``,;-/``) and is followed by a line starting
  with a capital, digit, quote or bracket, when the break looks deliberate.
  It never does when the line ends in a function word (``of``, ``the``,
  ``and``, ...).  It does when the line is all capitals or longer than any
  hard-wrapped line (110 characters).  In a document that is not hard-wrapped
  (fewer than 4 line breaks, or lines of 90 characters or more on average) it
  also does when the line is short (32 characters or fewer) or when the next
  line's first word would have fitted on it; in a hard-wrapped document only
  short lines ending in a digit or symbol (dates, document numbers) count.
* ``?`` and ``!`` end a sentence unless the next word starts in lower case.
* An ellipsis (``...``, ``. . .`` or ``…``) ends a sentence only when the next
  word starts with a capital letter.
* A full stop ends a sentence unless the next word starts in lower case (or
  with ``,;:%`` or a closing bracket), or the word before it is

  - a title or Latin abbreviation that never ends a sentence (``Dr.``,
    ``Mr.``, ``Gen.``, ``St.``, ``e.g.``, ``i.e.``, ``vs.``, ...);
  - ``No.``, ``Art.``, ``p.``, ... or a month (``Jan.``, ``Sept.``) and the
    next token is a number;
  - a list number (``1.``, ``12.``, ``IV.``, ``a.``) that opens the sentence;
  - *ambiguous*: an initialism (``U.S.``, ``U.K.``, ``U.S.S.R.``, ``a.m.``),
    a single capital initial (``John F. Kennedy``) or a company / name suffix
    (``Inc.``, ``Corp.``, ``Ltd.``, ``Co.``, ``Jr.``, ``et al.``).  These end a
    sentence only when the next word is a typical sentence starter
    (:data:`SENTENCE_STARTERS`: ``The``, ``It``, ``This``, ``We``, ``But``,
    ``In``, ...), or when they end a line whose line break is deliberate (see
    above).

Stage directions (``[Applause]``, ``[Laughter]``, ``(Applause.)``) in speech
transcripts become sentences of their own.
"""

from __future__ import annotations

import re
from typing import Final

from claimtag.types import Sentence

__all__ = [
    "AMBIGUOUS_ABBREVIATIONS",
    "NUMBER_ABBREVIATIONS",
    "SENTENCE_STARTERS",
    "STAGE_DIRECTIONS",
    "TERMINAL_NEVER_ABBREVIATIONS",
    "split_sentences",
    "split_spans",
]


def _plain(spaced: str) -> frozenset[str]:
    """The whitespace-separated words of ``spaced``."""
    return frozenset(spaced.split())


def _words(spaced: str, *, capitalised: bool = False) -> frozenset[str]:
    """The whitespace-separated words of ``spaced``, plus their upper-case spellings (and,
    if ``capitalised``, their spellings with a capital first letter)."""
    out: set[str] = set()
    for word in spaced.split():
        out.update((word, word.upper()))
        if capitalised:
            out.add(word[:1].upper() + word[1:])
    return frozenset(out)


#: Words that, followed by ``.``, never end a sentence: titles and Latin abbreviations.
#: Compared case-sensitively; upper-case spellings are included.
TERMINAL_NEVER_ABBREVIATIONS: Final[frozenset[str]] = _words(
    """
    Mr Mrs Ms Messrs Mmes Mme Mlle Dr Drs Prof Profs Gen Gens Sen Sens Rep Reps Gov Govs
    Lt Col Capt Cmdr Cdr Adm Maj Sgt Cpl Pvt Brig Hon Rev Fr Pres Supt Amb Atty Insp Asst
    Sec Secy Gov't St Ste Mt Ft Rt H.E H.M H.R.H
    """
) | _words("e.g i.e cf viz vs approx incl esp resp", capitalised=True)

#: Words that, followed by ``.``, do not end a sentence when a number follows
#: (``No. 5``, ``Art. 51``, ``Jan. 20``); before anything else they are ordinary words.
NUMBER_ABBREVIATIONS: Final[frozenset[str]] = _words(
    """
    No Nos no nos Art Arts art Vol Vols vol p pp Fig Figs fig Para Paras para paras Ch ch
    Chap Pt Nr Op Res ca c
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    """
)

#: Words that, followed by ``.``, end a sentence only before a sentence starter.
#: Initialisms (``U.S.``, ``a.m.``) and single capital initials (``F.``) count too.
AMBIGUOUS_ABBREVIATIONS: Final[frozenset[str]] = _words(
    """
    Inc Corp Ltd Co Cos Bros Plc LLC LLP Jr Sr Esq al Dept Univ Assn Ave Blvd Rd Govt Intl
    Natl Mfg
    """
)

#: Capitalised words that typically open a sentence: after an ambiguous abbreviation
#: (``U.S.``, ``Inc.``, ``F.``) one of these means "split here".  Words that often follow
#: "U.S." inside a sentence ("And", "To", "Over", "Army", "Treasury") are left out.
SENTENCE_STARTERS: Final[frozenset[str]] = _plain(
    """
    A An The This That These Those It Its He She We They I You His Her Our Their My Your
    But So Yet In On At As By For After Before During Since Although Though Because If
    When While Whereas Where What Which Who Why How However Moreover Furthermore
    Nevertheless Nonetheless Meanwhile Therefore Thus Hence Indeed Also Still Then Now
    Today There Here Such Some Many Most Both Each Every Neither Either Let Instead Finally
    Yesterday Accordingly Consequently Similarly Likewise Besides Despite Unless Once Later
    Earlier Not Only Even Perhaps Another
    """
)

#: Bracketed stage directions in transcripts (matched case-insensitively): ``[Applause]``.
STAGE_DIRECTIONS: Final[frozenset[str]] = _plain(
    "applause laughter cheers cheering laughs booing boos crosstalk inaudible"
)

#: Function words that do not end a heading: a line ending in one is wrapped text.
_WRAP_WORDS: Final[frozenset[str]] = _plain(
    """
    a about across after against all also among an and are as at be been before between
    both but by can could did do does during each every for from had has have her his if
    in into is its may more most must my no nor not of on or our over per shall should so
    such than that the their these this those through to toward towards under upon very
    via was we were what when where which while who whom whose will with within without
    would your
    """
)
_SPECIAL: Final = TERMINAL_NEVER_ABBREVIATIONS | NUMBER_ABBREVIATIONS | AMBIGUOUS_ABBREVIATIONS

_OPENERS: Final = "\"'“‘«([{"
_CONTINUATION: Final = ",;:%)]}"
_HEADING_BAD_END: Final = ",;-‐‑–—/&(+"
_WRAP: Final = 110  # a line longer than this is not hard-wrapped text
_WRAPPED_AVERAGE: Final = 90  # a document whose lines average fewer chars is hard-wrapped
_SHORT_LINE: Final = 32  # a line this short that starts a sentence is not a wrap
_TOKEN_WINDOW: Final = 24  # how far back to look for the word before a full stop

_STAGE_LOOKBEHIND: Final = "|".join(f"(?<=[\\[(]{word}[\\])])" for word in sorted(STAGE_DIRECTIONS))
_LIST_ITEM: Final = (
    r"(?:[-*•·‣◦▪▸►–—+]|\(?\d{1,3}[.)]|\((?:[A-Za-z]|[ivxIVX]{1,4})\)|[a-z]\))(?=[^\S\r\n]+\S)"
)

#: One pattern for every candidate boundary.  Group 1 is the first character;
#: ``Match.lastindex`` tells the branch: 4 terminator, 5 blank line,
#: 6 indented line, 7 list item, 8 stage direction, 1 other line break.
_CANDIDATE: Final = re.compile(
    r"([.!?…\r\n)\]])"
    r"(?:"
    # A terminator run (not starting inside another run), closing quotes or
    # brackets, whitespace, and a next character that cannot continue a sentence.
    r"(?<=[.!?…])(?<![.!?…].)(?<!\.[ ].)((?<=\.)(?:[ ]\.){2,}|[.!?…]*+)"
    r"([\"'”’»)\]}]*+)(\s++|\Z)(?![a-z,;:%)\]}])"
    # A line break (CRLF counts once) followed by ...
    r"|(?<=[\r\n])(?:(?<=\r)\n)?+(?:"
    r"([^\S\r\n]*+(?:\r\n?|\n)\s*+)"  # ... blank lines,
    r"|((?:\t|[^\S\r\n]{2})[^\S\r\n]*+)(?![a-z])"  # ... indentation,
    rf"|[^\S\r\n]?+(?![\sa-z])(?=({_LIST_ITEM})|)"  # ... a list item or a capital.
    r")"
    # The closing bracket of a stage direction such as [Applause] or (Laughter).
    rf"|(?<=[)\]])(?i:{_STAGE_LOOKBEHIND})()(?:\s++|\Z)(?![a-z,;:%)\]}}])"
    r")"
)
_NONSPACE: Final = re.compile(r"\S")
_NEXT_WORD: Final = re.compile(r"[\"'“‘«(\[{]*+([^\W_]+)")
_FIRST_WORD: Final = re.compile(r"\S+")
_LIST_ITEM_RE: Final = re.compile(_LIST_ITEM)
_LIST_MARKER: Final = re.compile(r"\d{1,3}|[A-Za-z]|[ivxlcIVXLC]{1,6}")
_INITIALISM: Final = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]|[A-Z]")


_NO_BREAK: Final = 0
_LINE_BREAK: Final = 1
_INDENTED_LINE: Final = 2
_BLANK_LINE: Final = 3
_LAYOUTS: dict[str, int] = {}  # memo of _layout for short whitespace runs


def _layout(ws: str) -> int:
    """Classify a whitespace run: no line break, one line break (then indentation),
    or a blank line.  CRLF is one line break; a lone LF or CR is one each."""
    layout = _LAYOUTS.get(ws)
    if layout is not None:
        return layout
    breaks = ws.count("\n") + ws.count("\r") - ws.count("\r\n")
    if breaks >= 2:
        layout = _BLANK_LINE
    elif breaks == 0:
        layout = _NO_BREAK
    else:
        tail = ws[max(ws.rfind("\n"), ws.rfind("\r")) + 1 :]
        layout = _INDENTED_LINE if len(tail) >= 2 or tail == "\t" else _LINE_BREAK
    if len(ws) <= 16 and len(_LAYOUTS) < 4096:
        _LAYOUTS[ws] = layout
    return layout


def _deliberate_break(text: str, p: int, q: int, nl: str, wrapped: bool) -> bool:
    """Whether the line break between the line ending at ``p`` and the line starting at
    ``q`` is deliberate (a heading, a paragraph per line) rather than hard wrapping.

    Never deliberate when the line ends in a function word (``of``, ``the``).
    Deliberate when the line is longer than any hard-wrapped line or all capitals.
    In a hard-wrapped document (``wrapped``): also when it is short and ends in a digit
    or symbol.  Otherwise: also when it is short, or the next line's first word would
    have fitted on it."""
    lo = max(0, p - _WRAP - 1)
    ls = text.rfind(nl, lo, p)
    if ls == -1 and lo > 0:
        return True  # the line is longer than any hard-wrapped line
    line = text[ls + 1 : p]
    words = line.rsplit(None, 1)
    if not words or words[-1].lower() in _WRAP_WORDS:
        return False  # a line ending in "of", "the", "and", ... goes on
    if line.isupper():
        return True
    line_len = p - ls - 1
    if wrapped:
        # Hard-wrapped text often has short first lines; only short lines that end in
        # a digit or a symbol (dates, document symbols, "***") count as headings.
        return line_len <= _SHORT_LINE and not line[-1].isalpha()
    if line_len <= _SHORT_LINE:
        return True
    hi = q + _WRAP + 2  # room for the CR of a CRLF
    ne = text.find(nl, q, hi)
    if ne == -1:
        ne = min(len(text), hi)
    elif ne > q and text[ne - 1] == "\r":
        ne -= 1  # CRLF: the CR is not part of the line
    next_len = ne - q
    if next_len > _WRAP:
        return True
    word = _FIRST_WORD.match(text, q, ne)
    word_len = word.end() - q if word else 0
    return line_len + 1 + word_len <= next_len


def _next_word(text: str, q: int) -> str:
    """The word starting at ``q``, after any opening quotes or brackets ('' if none)."""
    wm = _NEXT_WORD.match(text, q, q + 64)
    return wm.group(1) if wm else ""


def _full_stop_ends(
    text: str,
    tok: str,
    s: int,
    q: int,
    opens_sentence: bool,
    first: str,
    breaks: int,
    nl: str,
    wrapped: bool,
) -> bool:
    """Decide a ``.`` at ``s`` after the word ``tok``, before a word starting with ``first``."""
    if not tok:
        return True
    if tok in TERMINAL_NEVER_ABBREVIATIONS:
        return False
    if first.isdigit() and tok in NUMBER_ABBREVIATIONS:
        return False
    if opens_sentence and _LIST_MARKER.fullmatch(tok):
        return False
    if (
        tok in AMBIGUOUS_ABBREVIATIONS
        or (len(tok) == 1 and tok.isupper())
        or ("." in tok and _INITIALISM.fullmatch(tok))
    ):
        word = _next_word(text, q)
        if word in SENTENCE_STARTERS and not (len(tok) == 1 and len(word) == 1):
            return True  # (but "V. I. Lenin" is a run of initials)
        return breaks > 0 and _deliberate_break(text, s, q, nl, wrapped)
    return True


def split_spans(text: str) -> list[tuple[int, int, int]]:
    """Split ``text`` into sentences.

    Returns one ``(start, end, paragraph_index)`` per sentence, in order:
    ``text[start:end]`` is the sentence with no leading or trailing whitespace,
    spans never overlap, and every non-whitespace character lies in a span.
    """
    first_char = _NONSPACE.search(text)
    if first_char is None:
        return []
    n = len(text)
    nl = "\n" if "\n" in text else "\r"
    lines = text.count(nl)
    n_chars = n - text.count("\r\n") if nl == "\n" else n  # a CRLF is one line break
    wrapped = lines >= 4 and lines * _WRAPPED_AVERAGE > n_chars  # many lines, short on average
    spans: list[tuple[int, int, int]] = []
    append = spans.append
    cur = first_char.start()  # start of the pending sentence
    para = 0
    at_line_start = True  # the pending sentence starts a line

    for m in _CANDIDATE.finditer(text, cur):
        kind = m.lastindex
        new_para = False
        if kind == 4 or kind == 8:
            # ---- after a terminator run or a stage direction
            if kind == 4:
                end, q = m.span(4)
            else:
                end = m.start() + 1
                q = m.end()
            if q >= n:
                break  # only trailing whitespace is left
            first = text[q]
            breaks = _NO_BREAK
            forced = False
            if q - end > 1 or text[end] != " ":
                breaks = _layout(text[end:q])
                if breaks == _BLANK_LINE or (breaks == _INDENTED_LINE and not first.islower()):
                    forced = new_para = True
                elif breaks:
                    forced = _LIST_ITEM_RE.match(text, q) is not None
            if not forced:
                if first.islower() or first in _CONTINUATION:
                    continue
                if kind == 4:
                    s, term_end = m.span(2)
                    s -= 1
                    if first in _OPENERS:
                        word = _next_word(text, q)
                        if word:
                            first = word[0]
                            if first.islower():
                                continue
                    if term_end - s == 1:
                        lead = text[s]
                        if lead == ".":
                            lo = s - _TOKEN_WINDOW
                            seg = text[lo if lo > cur else cur : s]
                            if seg and not seg[-1].isspace():
                                raw = seg.rsplit(None, 1)[-1]
                                tok = raw.lstrip(_OPENERS)
                                opens = s - len(raw) == cur
                                if (
                                    tok in _SPECIAL or len(tok) < 2 or "." in tok or opens
                                ) and not _full_stop_ends(
                                    text, tok, s, q, opens, first, breaks, nl, wrapped
                                ):
                                    continue
                        elif lead == "…" and not first.isupper():
                            continue
                    else:
                        term = text[s:term_end]
                        if "?" not in term and "!" not in term and not first.isupper():
                            continue  # an ellipsis before a lower-case word or a number
            append((cur, end, para))
            cur = q
            at_line_start = breaks > 0
        else:
            # ---- a line break without a terminator before it
            s, q = m.span()
            if q >= n:
                break  # only trailing whitespace is left
            if kind == 5:
                new_para = True
            elif text[q].islower():
                continue
            elif kind == 6:
                new_para = True
            elif kind == 1 and not at_line_start:
                continue  # hard-wrapped text: a sentence went on over the break
            end = s
            if text[end - 1].isspace():
                end = cur + len(text[cur:end].rstrip())
            if kind == 1 and (
                text[end - 1] in _HEADING_BAD_END
                or text.rfind(nl, cur, s) != -1
                or not _deliberate_break(text, s, q, nl, wrapped)
            ):
                at_line_start = False  # the sentence goes on to a second line
                continue
            append((cur, end, para))
            cur = q
            at_line_start = True
        if new_para:
            para += 1

    if cur < n:
        end = n
        if text[end - 1].isspace():
            end = cur + len(text[cur:].rstrip())
        append((cur, end, para))
    return spans


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into :class:`~claimtag.types.Sentence` records (see :func:`split_spans`)."""
    return [
        Sentence(position, paragraph, start, end)
        for position, (start, end, paragraph) in enumerate(split_spans(text))
    ]
