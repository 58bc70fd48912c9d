"""Fitting the ad's copy whole: never a cut or broken word.

``creative.textfit`` cuts text with an ellipsis as its last resort (and breaks a word too wide
for its line); at the smallest canvases that cut the body mid-sentence ("Into “cat tree”?
This…") and the longest headlines. Here a headline shrinks to ``MIN_TEXT_PX`` (the floor of
every text) or takes the body's room, and a body ends at a whole sentence or is left out.
These steps run only where the plain fit would cut or break a word, so every size where the
copy already fitted draws the same pixels as before.
"""

from __future__ import annotations

import re

from creative.fonts import displayable
from creative.guardrails import LENGTH_LIMITS, display_width
from creative.layouts import Box
from creative.limits import MIN_TEXT_PX
from creative.textfit import FittedText, fit_text

__all__ = [
    "fit_body",
    "fit_headline",
    "legible",
    "merged_box",
    "sentences",
    "whole",
    "within_limits",
]

# A sentence ends at . ! ? (or their full-width forms), after any closing quote or bracket,
# where a space follows: "Into “cat tree”? This one's for you." is two sentences, "4.8/5"
# and "$41.30" are none.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?。！？][”’\"')\]」』])|(?<=[.!?。！？]))\s+")

#: The most lines a fallback fit may use; the box's height is the real bound.
_MAX_LINES = 12


def sentences(text: str) -> tuple[str, ...]:
    """Split copy into sentences, each with its end punctuation.

    Parameters
    ----------
    text : str

    Returns
    -------
    parts : tuple of str
        Non-empty; joined by single spaces they give ``text`` with its whitespace folded.

    Examples
    --------
    >>> sentences("Good evening! Into “cat tree”? This one's for you.")
    ('Good evening!', 'Into “cat tree”?', "This one's for you.")
    >>> sentences("좋은 저녁이에요! 캣타워 좋아하세요? 이건 어때요?")
    ('좋은 저녁이에요!', '캣타워 좋아하세요?', '이건 어때요?')
    """
    return tuple(" ".join(p.split()) for p in _SENTENCE_END.split(text) if p.strip())


def within_limits(part: str, text: str) -> bool:
    """Whether copy is no wider than the loosest placement's length limit for ``part``.

    Copy within it is a deliverable ad's and must be drawn whole at every allowed size (or
    the size refused); wider copy fails the length guardrail anyway, and is only ever drawn
    among the rejected variants.

    Parameters
    ----------
    part : {"headline", "body", "cta"}
    text : str

    Returns
    -------
    within : bool
    """
    limit = max(getattr(limits, part) for limits in LENGTH_LIMITS.values())
    return display_width(text) <= limit


def merged_box(headline: Box, body: Box) -> Box:
    """The headline's box grown down over the body's (their shared columns only).

    Every layout puts the body right under the headline; where the body is narrower (a
    motif beside it), the merged box keeps to the body's width so it overlaps nothing.
    """
    return Box(max(headline.x0, body.x0), headline.y0, min(headline.x1, body.x1), body.y1)


def whole(fitted: FittedText, text: str) -> bool:
    """Whether every word of ``text`` is drawn as given: none cut, none broken across lines."""
    return not fitted.truncated and " ".join(fitted.lines).split() == displayable(text).split()


def legible(fitted: FittedText, text: str) -> bool:
    """Whether ``text`` is drawn :func:`whole` and at ``MIN_TEXT_PX`` or more.

    ``fit_text`` goes below its smallest size in a box too shallow for one line of it, so
    a fit that is whole may still be smaller than the floor every text of an ad keeps.
    """
    return fitted.size >= MIN_TEXT_PX and whole(fitted, text)


def fit_headline(
    text: str, box: Box, body_box: Box, *, max_size: int, max_lines: int
) -> tuple[FittedText, bool]:
    """The headline at the largest size that shows it whole, taking the body's room if need be.

    Tries, in order: the headline's own box in ``max_lines`` lines (the look at every
    placement); the same box in as many lines as it holds; each at ``MIN_TEXT_PX`` or more;
    the headline's and the body's boxes merged (:func:`merged_box`), the body then left out.

    Parameters
    ----------
    text : str
    box, body_box : Box
        The layout's headline and body regions.
    max_size : int
        Largest font size in pixels.
    max_lines : int
        Lines of the first attempt.

    Returns
    -------
    fitted : FittedText
        The first attempt that draws every word whole at the floor (:func:`legible`),
        or the last attempt (a word broken or cut, or smaller) when none does.
    takes_body : bool
        Whether it is fitted in the merged box (the body must not be drawn).
    """
    kwargs = {"bold": True, "max_size": max_size}
    fitted = fit_text(text, box, min_size=MIN_TEXT_PX, max_lines=max_lines, **kwargs)
    if legible(fitted, text):
        return fitted, False
    for target, takes_body in ((box, False), (merged_box(box, body_box), True)):
        fitted = fit_text(text, target, min_size=MIN_TEXT_PX, max_lines=_MAX_LINES, **kwargs)
        if legible(fitted, text):
            return fitted, takes_body
    return fitted, True


def fit_body(text: str, box: Box, *, max_size: int) -> tuple[FittedText | None, str]:
    """The body whole, else its longest run of whole sentences that fits, else nothing.

    Each at ``MIN_TEXT_PX`` or more (:func:`legible`): a body that fits only smaller is
    shortened or left out like one that does not fit.

    Parameters
    ----------
    text : str
    box : Box
        The layout's body region.
    max_size : int
        Largest font size in pixels (the smallest is ``MIN_TEXT_PX``).

    Returns
    -------
    fitted : FittedText or None
        None when not even the first sentence fits whole: the body is left out rather
        than cut mid-sentence.
    left_out : str
        The sentences not drawn ("" when the body is drawn whole).
    """
    kwargs = {"max_size": max_size, "min_size": MIN_TEXT_PX, "max_lines": 4}
    fitted = fit_text(text, box, **kwargs)
    if legible(fitted, text):
        return fitted, ""
    parts = sentences(text)
    # Fewer sentences never fit worse, so the longest run that fits is found by bisection:
    # a few fits whatever the number of sentences (user text may hold thousands).
    best, lo, hi = None, 1, len(parts) - 1
    while lo <= hi:
        k = (lo + hi) // 2
        shorter = " ".join(parts[:k])
        attempt = fit_text(shorter, box, **kwargs)
        if legible(attempt, shorter):
            best, lo = (attempt, k), k + 1
        else:
            hi = k - 1
    if best is None:
        return None, " ".join(parts)
    fitted, k = best
    return fitted, " ".join(parts[k:])
