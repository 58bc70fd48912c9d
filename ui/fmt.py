"""Formatting helpers: percentages, money and ratios as a marketer reads them."""

from __future__ import annotations

import math
import re

from creative.vocabulary import OFFERS, TONES
from simulation.display import AXIS_LABELS, POLICY_NAMES, component_name, policy_name
from simulation.engine.generated import skipped_pairs
from simulation.interval_words import TILE_NOTES

__all__ = [
    "AXIS_LABELS",
    "LEVEL_NAMES",
    "POLICY_NAMES",
    "TILE_DELTA_CHARS",
    "TILE_NOTES",
    "WORD_JOINER",
    "best_pair",
    "budget_stop_text",
    "cap_text",
    "component_name",
    "escape_markdown",
    "interval",
    "money",
    "multiple",
    "pct",
    "plain_codes",
    "policy_name",
    "scale_text",
    "signed_pct",
    "skipped_text",
]

LEVEL_NAMES: dict[str, str] = {
    "generic": "Generic (same ads for everyone)",
    "segment": "Per segment",
    "user": "Per user",
    "generated": "Generated (composed per impression)",
}


#: The studio's codes of tones and offers in the one mapping of every label a marketer reads
#: (``simulation.display.component_name``: "social proof", "10 % off").
_CODE_WORDS: dict[str, str] = {
    **{tone: component_name("tone", tone) for tone in TONES if "_" in tone},
    **{offer: component_name("offer", offer) for offer in OFFERS if offer != "none"},
}
_CODES = re.compile(r"\b(" + "|".join(map(re.escape, _CODE_WORDS)) + r")\b")


def plain_codes(text: str) -> str:
    """A creative's label or component with the studio's codes in words.

    Labels are built from the engine's names (``simulation.scenario.PoolComposer.label``),
    so a table read "Wireless Earbuds · social_proof · free_shipping"; an offer of "none"
    (a part of its own) reads "no offer", as ``simulation.winners.creative_labels`` says it.

    Examples
    --------
    >>> plain_codes("Denim Jacket · social_proof · discount_10 · badge")
    'Denim Jacket · social proof · 10 % off · badge'
    >>> plain_codes("Denim Jacket · playful · none · split")
    'Denim Jacket · playful · no offer · split'
    """
    parts = [
        component_name("offer", part) if part == "none" else part for part in str(text).split(" · ")
    ]
    return _CODES.sub(lambda m: _CODE_WORDS[m.group(1)], " · ".join(parts))


def _bad(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def pct(value: float | None, digits: int = 2) -> str:
    """``0.0231`` -> ``"2.31 %"``; missing -> ``"–"``."""
    return "–" if _bad(value) else f"{100 * value:.{digits}f} %"


def signed_pct(value: float | None, digits: int = 1) -> str:
    """``0.123`` -> ``"+12.3 %"``."""
    return "–" if _bad(value) else f"{100 * value:+.{digits}f} %"


def money(value: float | None, digits: int = 2) -> str:
    """``1234.5`` -> ``"$1,234.50"``; negative -> ``"-$3.00"``."""
    if _bad(value):
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{digits}f}"


def multiple(value: float | None, digits: int = 2) -> str:
    """A ratio such as ROAS: ``1.46`` -> ``"1.46×"``."""
    return "–" if _bad(value) else f"{value:.{digits}f}×"


def rounded_count(value: float | None) -> str:
    """A measured count to two significant digits: ``4_249_399`` -> ``"4.2 million"``.

    For rates and estimates, whose last digits are noise: ``853_120`` -> ``"850,000"``,
    ``0.4`` -> ``"0.4"``.
    """
    if _bad(value):
        return "–"
    if abs(value) >= 1e6:
        return f"{float(f'{value / 1e6:.2g}'):g} million"
    return f"{float(f'{value:.2g}'):,.10g}"


def interval(fmt, mean: float, low: float, high: float) -> str:
    """``"2.31 % (2.28 – 2.35 %)"``-style text from a formatter and three numbers."""
    if _bad(low) or _bad(high) or low == high:
        return fmt(mean)
    return f"{fmt(mean)} ({fmt(low)} – {fmt(high)})"


#: Every ASCII punctuation character: CommonMark lets a backslash escape any of them, so
#: escaping all is always safe and covers Streamlit's extra syntax (``:color[...]``
#: directives, ``$`` maths, ``~`` strikethrough) as well as links, images and raw HTML.
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Line breaks (which would start new blocks: headings, lists, code) and other control
#: characters become spaces: escaped text is always one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: U+2060 WORD JOINER, an invisible character that allows no line break.
WORD_JOINER = "\u2060"
#: Where a word joiner goes. Some of Streamlit's rewrites run on the parsed text, after the
#: escapes are gone: GFM autolink literals (``http://``, ``www.``, ``a@b.co``), emoji and
#: ``:material/...:`` / ``:streamlit:`` shortcodes, and arrows (``->``, ``<=``, ``--``).
#: A joiner after every ``:`` and ``@``, inside ``www.`` and inside those arrows breaks each.
_JOIN_AT = re.compile(r"(?<=[:@])|(?<=[-<>~])(?=[-<>=])|(?<=[wW]{3})(?=\.)")


def escape_markdown(text: object) -> str:
    r"""User text as Streamlit Markdown that renders literally: never a link, image or HTML.

    The one escaper for every piece of user-controlled text the app shows as Markdown
    (``st.markdown``, ``st.caption``, ``st.error`` and the other alerts, headers): file
    names, cells and messages of uploads, segment names, template text, run names, error
    messages that quote any of them. Plain-text places (``st.text``, data frames,
    select-box options) show text as it is and need none.

    Parameters
    ----------
    text : object
        Converted with ``str``.

    Returns
    -------
    escaped : str
        One line (control characters and line breaks become spaces, surrounding
        whitespace is dropped), every ASCII punctuation character backslash-escaped, and
        an invisible word joiner (U+2060) after each ``:`` and ``@``, inside ``www.`` and
        between the characters of arrows such as ``->``.

    Examples
    --------
    >>> print(escape_markdown("![x](e.co/a.png)"))
    \!\[x\]\(e\.co\/a\.png\)
    >>> print(escape_markdown("<b>*hi*</b>\n# no heading"))
    \<b\>\*hi\*\<\/b\> \# no heading
    >>> escape_markdown("http://e.co") == "http\\:" + WORD_JOINER + "\\/\\/e\\.co"
    True
    """
    one_line = _CONTROL.sub(" ", str(text)).strip()
    return _ASCII_PUNCTUATION.sub(r"\\\1", _JOIN_AT.sub(WORD_JOINER, one_line))


def _and(names: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def skipped_text(config) -> str | None:
    """Which (level, policy) pairs of ``config`` do not run, and why (None when all run)."""
    pairs = skipped_pairs(config)
    if not pairs:
        return None
    pool = [policy_name(p) for level, p in pairs if level == "generated"]
    composing = [policy_name(p) for p in dict.fromkeys(p for lv, p in pairs if lv != "generated")]
    parts = []
    if pool:
        they = "they choose" if len(pool) > 1 else "it chooses"
        parts.append(
            f"{_and(pool)} at the generated level ({they} among a fixed pool of creatives; "
            "this level composes each one)"
        )
    if composing:
        levels = [lv for lv in config.levels if lv != "generated"]
        level_word = "levels" if len(levels) > 1 else "level"
        parts.append(
            f"{_and(composing)} at the {_and(levels)} {level_word} (it composes creatives: "
            "the generated level only)"
        )
    return "Not run, as they do not apply: " + "; ".join(parts) + "."


#: The longest text under a tile's value that a 1280 px window shows whole: four tiles share
#: the 800 px page, ~180 px each, at ~7.5 px a character of the 14 px delta font
#: ("no interval: too few conversi..." was cut at 32 characters).
TILE_DELTA_CHARS = 24


def best_pair(
    best, objective: str, intervals=None, over: str | None = None, *, notes=None
) -> tuple[tuple[str, str, str | None], tuple[str, str, str | None]]:
    """The best policy's two headline numbers, its objective's first: (label, value, interval).

    Under CTR "Best CTR" then "Its ROAS"; under ROAS "Best ROAS" then "Its CTR" (the CTR of
    the best policy by ROAS is not the best CTR).

    Parameters
    ----------
    best : mapping
        A best row: ``ctr`` and ``roas`` (means over the replications).
    objective : {"ctr", "roas"}
    intervals : mapping of str to (float, float), optional
        Each metric's 95 % interval (``simulation.store.report.best_intervals``).
    over : str, optional
        What the intervals cover ("3 seeds × 1 world").
    notes : mapping of str to str, optional
        Why a metric's interval is not shown though one was drawn ("too few conversions":
        ``simulation.interval_words.tile_interval_notes``).

    Returns
    -------
    tiles : two (label, value, interval) tuples
        ``interval`` reads "95 %: 0.98 % – 1.14 % (3 seeds × 1 world)", "no interval (1 seed
        × 1 world)" with one replication, "no interval: few sales" with a note (in
        :data:`TILE_NOTES`' short words), or None without ``intervals``. Without ``over``
        (as the pages call it) a refusal or "no interval" fits :data:`TILE_DELTA_CHARS`.
    """
    fmts = {"ctr": pct, "roas": multiple}

    def span(metric: str) -> str | None:
        if intervals is None:
            return None
        low, high = intervals.get(metric, (None, None))
        where = f" ({over})" if over else ""
        if notes and notes.get(metric):  # the uplift cells' words, short: "(no interval: ...)"
            return f"no interval: {TILE_NOTES.get(notes[metric], notes[metric])}{where}"
        if _bad(low) or _bad(high) or low == high:  # one replication: no spread to show
            return f"no interval{where}"
        return f"95 %: {fmts[metric](low)} – {fmts[metric](high)}{where}"

    ctr = ("ctr", pct(best["ctr"]), span("ctr"))
    roas = ("roas", multiple(best["roas"]), span("roas"))
    if objective == "roas":
        return ("Best ROAS (observed)", *roas[1:]), ("Its CTR (observed)", *ctr[1:])
    return ("Best CTR (observed)", *ctr[1:]), ("Its ROAS (observed)", *roas[1:])


def cap_text(budget: float) -> str:
    """A spend cap in dollars, cents only where it has them: ``$4,000``, ``$0.01`` (not ``$0``)."""
    return money(budget, 0 if float(budget).is_integer() else 2)


def scale_text(scale: float) -> str:
    """The hidden world's ``personalization_scale`` as the pages name it.

    Examples
    --------
    >>> scale_text(0.0)
    'personalization scale 0 — nothing to personalize'
    >>> scale_text(1.0)
    'personalization scale 1 — the default world'
    >>> scale_text(2.5)
    'personalization scale 2.5 — every user-dependent effect 2.5× the default'
    """
    if scale == 0:
        what = "nothing to personalize"
    elif scale == 1:
        what = "the default world"
    else:
        what = f"every user-dependent effect {scale:g}× the default"
    return f"personalization scale {scale:g} — {what}"


def budget_stop_text(summary, budget: float | None, n_impressions: int) -> str | None:
    """Which runs a spend cap stopped, and after how many impressions (None if none).

    Parameters
    ----------
    summary : DataFrame
        A run's summary (``ExperimentResult.summary_frame()`` or the saved one), with
        ``level``, ``policy`` and ``stopped_at_impression``.
    budget : float or None
        The cap per policy and level (USD).
    n_impressions : int
        The impressions each run was to serve.
    """
    if budget is None or "stopped_at_impression" not in summary:
        return None
    stopped = summary[summary["stopped_at_impression"].notna()]
    if stopped.empty:
        return None
    per = stopped.groupby(["level", "policy"], sort=False)["stopped_at_impression"]
    parts = [
        f"{policy_name(p)} at the {LEVEL_NAMES.get(lv, lv).lower()} level after "
        f"{int(v.min()):,}" + ("" if v.min() == v.max() else f"–{int(v.max()):,}")
        for (lv, p), v in per
    ]
    return (
        f"The spend cap of {cap_text(budget)} stopped {len(stopped)} of {len(summary)} runs before "
        f"{n_impressions:,} impressions: "
        + "; ".join(parts)
        + " impressions. The charts end where the spending ended."
    )
