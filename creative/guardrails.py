"""Guardrails: every creative is checked before use.

Six rules, each giving ``"rule: detail"`` reasons: ``empty`` (a copy part
with no visible character, e.g. only spaces or zero-width characters),
``banned_claim`` (a phrase of the kit's list in the copy, English words with their
inflections), ``unsupported_claim`` (a rating, customer count, rank, "best-selling" or
"world's best"-type superlative, percentage, scarcity, deadline, endorsement, price
superlative, popularity, health claim, guarantee, deal, something for free, free shipping or
delivery speed the brand kit, the offer and the product do not back; the product's own name is
masked out first), ``length`` (copy longer
than the placement allows), ``contrast`` (a text colour below WCAG AA against its background) and
``disclosure`` (no visible "AI-generated" label although the kit requires one).
Text is compared in Unicode NFC, so decomposed Hangul cannot slip past a phrase.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from creative.brand import DEFAULT_KIT, BrandKit, contrast_ratio
from creative.catalogue import NOT_SHIPPED, Product
from creative.fonts import normalize_text
from creative.record import Creative, GuardrailVerdict
from creative.vocabulary import INTERESTS, OFFER_DISCOUNT, OFFERS, PLACEMENTS

__all__ = [
    "LENGTH_LIMITS",
    "MIN_CONTRAST",
    "RULES",
    "LengthLimits",
    "banned_names_warning",
    "check_creative",
    "display_width",
    "find_banned_claims",
    "find_banned_names",
    "find_unsupported_claims",
    "has_visible_text",
    "mask_name",
]

#: WCAG 2.x level AA for normal-size text.
MIN_CONTRAST: float = 4.5

#: Rule names, in the order they are checked.
RULES: tuple[str, ...] = (
    "empty",
    "banned_claim",
    "unsupported_claim",
    "length",
    "contrast",
    "disclosure",
)

# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern): they
# are not in the separator, control or format categories, so they are named here.
_BLANK_CHARS: frozenset[str] = frozenset("\u115f\u1160\u3164\uffa0\u2800")


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthLimits:
    """Maximum display width of each copy part (a wide Hangul character counts 2).

    Parameters
    ----------
    headline, body, cta : int
        Each >= 1.
    """

    headline: int
    body: int
    cta: int

    def __post_init__(self) -> None:
        for name in ("headline", "body", "cta"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")


#: Placement -> limits. Small and wide placements hold less copy at a readable size.
LENGTH_LIMITS: dict[str, LengthLimits] = {
    "feed": LengthLimits(headline=64, body=120, cta=24),
    "story": LengthLimits(headline=64, body=120, cta=24),
    "link": LengthLimits(headline=56, body=100, cta=22),
    "preview": LengthLimits(headline=56, body=100, cta=22),
}


def display_width(text: str) -> int:
    """Columns ``text`` takes: East Asian wide and fullwidth characters count 2.

    Parameters
    ----------
    text : str

    Returns
    -------
    width : int
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def has_visible_text(text: str) -> bool:
    """Whether ``text`` has a character that draws something.

    Separators (category Z: spaces, line breaks), control, format and other C
    characters (zero-width space, joiners, BOM, bidi marks), combining marks with
    no base (M) and a few blank letters do not count.

    Parameters
    ----------
    text : str

    Returns
    -------
    visible : bool
    """
    return any(unicodedata.category(c)[0] not in "ZCM" and c not in _BLANK_CHARS for c in text)


# Spaces and hyphen-like dashes between the words of a phrase.
_GAP = re.compile(r"[\s\-\u2010\u2011\u2012\u2013]+")

# Stands in for the product's own name while claims are looked for: no rule matches it
# and it is neither a letter nor a digit, so the words beside it keep their boundaries.
_NAME_MASK = "\ue000"


def mask_name(text: str, name: str | None) -> str:
    """``text`` with every occurrence of the product's ``name`` masked out (NFC, any case).

    A name the brand wrote ("Daily Sunscreen SPF 50+", "100% Cotton Tee") is not a claim
    of the ad, so claims are looked for in the copy around it.

    Parameters
    ----------
    text : str
    name : str or None
        None or blank masks nothing.

    Returns
    -------
    text : str
        In NFC.

    Examples
    --------
    >>> mask_name("Meet 4K Webcam: 4K for less", "4K Webcam") == "Meet \ue000: 4K for less"
    True
    """
    text = normalize_text(text)
    if not name or not name.strip():
        return text
    return re.sub(re.escape(normalize_text(name).strip()), _NAME_MASK, text, flags=re.IGNORECASE)


_VOWELS = frozenset("aeiou")


def _inflected(word: str) -> str:
    """A pattern for an English ``word`` and its regular inflections.

    The plural and third person (-s, -es; -y to -ies), the past (-d, -ed; -y to -ied) and
    the -ing form, with a final silent "e" dropped (cure: cures, cured, curing) and a final
    consonant doubled after a short vowel (ban: banned, banning). Derived words are other
    words ("curated", "secure", "miraculous"): a kit lists those it bans.
    """
    w = word.lower()
    consonant_y = w.endswith("y") and w[-2] not in _VOWELS
    if consonant_y:
        forms = {w, w[:-1] + "ies", w[:-1] + "ied", w + "ing"}
    elif w.endswith("e"):
        # "guarantee" keeps its "ee" before -ing (guaranteeing); "cure" drops it (curing).
        forms = {w, w + "s", w + "d", w + "ing" if w.endswith("ee") else w[:-1] + "ing"}
    else:
        plural = w + "es" if w.endswith(("s", "sh", "ch", "x", "z", "o")) else w + "s"
        forms = {w, plural, w + "ed", w + "ing"}
        if w[-1] not in _VOWELS | {"w", "x", "y"} and w[-2] in _VOWELS and w[-3] not in _VOWELS:
            forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    # Longest first, so the alternation takes "cured" whole rather than stop at "cure".
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) + ")"


def _claim_word(word: str) -> str:
    # English words of three letters or more are matched with their inflections; other
    # pieces (numbers, "100%", Hangul) as written. Hangul needs no rule of its own: a
    # Korean claim is matched anywhere in a word, so its endings and particles are
    # already allowed ("보장" in 보장합니다, 보장된, 보장은).
    if len(word) >= 3 and word.isascii() and word.isalpha():
        return _inflected(word)
    return re.escape(word)


@lru_cache(maxsize=64)
def _claim_patterns(claims: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for claim in claims:
        # Kits are written by people (and files): compare composed forms on both sides.
        claim = normalize_text(claim)
        # Word boundaries only where the claim starts or ends with a Latin letter or
        # digit, so "cure" does not fire on "secure" while "보장" still fires on "보장합니다".
        head = r"(?<![A-Za-z0-9])" if claim[0].isascii() and claim[0].isalnum() else ""
        tail = r"(?![A-Za-z0-9])" if claim[-1].isascii() and claim[-1].isalnum() else ""
        # Spaces and hyphens inside a phrase are one gap of any such run or none: a kit
        # banning "risk-free" means "Risk free" and "riskfree" too.
        words = [w for w in _GAP.split(claim.strip()) if w]
        body = (_GAP.pattern[:-1] + "*").join(_claim_word(w) for w in words)
        out.append((claim, re.compile(head + body + tail, re.IGNORECASE)))
    return tuple(out)


def find_banned_claims(
    text: str, claims: tuple[str, ...], *, product: str | None = None
) -> tuple[str, ...]:
    """The banned claims that occur in ``text`` (case-insensitive, whole words).

    Spaces and hyphens inside a phrase match any run of them or none ("risk-free" finds
    "Risk free" and "riskfree"). An English word of three letters or more also matches its
    regular inflections ("cure" finds "cures", "cured" and "curing", never "curated" or
    "secure"); a Korean phrase matches inside any word, so with any ending or particle.

    Parameters
    ----------
    text : str
    claims : tuple of str
    product : str, optional
        The product's name, masked out first (:func:`mask_name`): "100%" in
        "100% Cotton Tee" is the brand's name, not the ad's claim.

    Returns
    -------
    found : tuple of str
    """
    text = mask_name(text, product)
    found: list[str] = []
    seen: set[tuple[int, int]] = set()
    for claim, pattern in _claim_patterns(claims):
        spans = {m.span() for m in pattern.finditer(text)}
        # A word the kit lists in two forms ("guaranteed", "guarantee") is one claim: the
        # second, whose every match the first already made, is not reported again.
        if spans and not spans <= seen:
            found.append(claim)
        seen |= spans
    return tuple(found)


def find_banned_names(
    products: Iterable[Product], kit: BrandKit = DEFAULT_KIT
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Products whose own name holds a phrase the brand kit bans.

    The guardrails mask a creative's product name before they look for claims
    (:func:`mask_name`): a name is the brand's own, so "Miracle Cure Cream - guaranteed
    results" passes and its ads print it as written. This lists such names, for a warning
    where a catalogue is uploaded.

    Parameters
    ----------
    products : iterable of Product
    kit : BrandKit, default DEFAULT_KIT
        Gives ``banned_claims``.

    Returns
    -------
    found : tuple of (str, tuple of str)
        ``(name, claims)`` per product whose English or Korean name holds a banned claim,
        in the given order; claims as the kit writes them.

    Examples
    --------
    >>> from creative.catalogue import Product
    >>> cream = Product(name="Miracle Cure Cream", name_ko="기적의 크림", category="beauty",
    ...                 price=35.0)
    >>> find_banned_names([cream])
    (('Miracle Cure Cream', ('cure', 'miracle')),)
    """
    out = []
    for p in products:
        found = set(find_banned_claims(p.name, kit.banned_claims))
        found |= set(find_banned_claims(p.name_ko, kit.banned_claims))
        if found:
            out.append((p.name, tuple(c for c in kit.banned_claims if c in found)))
    return tuple(out)


def banned_names_warning(products: Iterable[Product], kit: BrandKit = DEFAULT_KIT) -> str | None:
    """One line warning of the product names that hold a banned phrase, for a command line.

    The same news the app's Creatives page gives on an upload (:func:`find_banned_names`):
    the guardrails pass such ads, since a name is the brand's own, so a user running a
    catalogue from the command line would otherwise never hear of it.

    Parameters
    ----------
    products : iterable of Product
    kit : BrandKit, default DEFAULT_KIT

    Returns
    -------
    warning : str or None
        Without a ``warning:`` prefix; None when no name holds a banned phrase.

    Examples
    --------
    >>> from creative.catalogue import Product
    >>> cream = Product(name="Miracle Cure Cream", name_ko="기적의 크림", category="beauty",
    ...                 price=35.0)
    >>> banned_names_warning([cream])[:72]
    "1 product name(s) hold a phrase the brand kit bans: 'Miracle Cure Cream'"
    """
    found = find_banned_names(products, kit)
    if not found:
        return None
    listed = "; ".join(f"{name!r} ({', '.join(claims)})" for name, claims in found[:5])
    more = f"; and {len(found) - 5:,} more" if len(found) > 5 else ""
    return (
        f"{len(found):,} product name(s) hold a phrase the brand kit bans: {listed}{more}. "
        "The guardrails take a name as the brand's own and pass its ads, which print it "
        "as written; rename the product if the brand cannot back the claim."
    )


# A number that does not continue a word or another number ("S2", "65W" are names).
_NUM = r"(?<![\w.,/])(?P<n>\d+(?:[.,]\d+)*)"
_MULT = r"(?:\s*(?P<mult>(?:k|m|thousand|million)(?![A-Za-z])|만|천))?"
_WORDS = r"(?:[A-Za-z][\w'-]*\s+){0,2}?"
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "천": 1e3, "만": 1e4, "m": 1e6, "million": 1e6}
_PEOPLE = (
    "customers|shoppers|fans|users|buyers|people|members|families|parents|gamers|players|"
    "readers|travell?ers|subscribers|clients|owners|lovers|students"
)
_THINGS = "reviews|ratings|orders|sold|downloads|units|sales|purchases|installs"

#: Kind of claim -> patterns that find it. A match's group ``n`` is its number, ``scale``
#: a rating's scale, ``mult`` a multiplier (12k, 1.2만).
_CLAIM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("rating", _NUM + r"\s*/\s*(?P<scale>5|10)(?!\d)"),
        ("rating", _NUM + r"\s*out\s+of\s+(?P<scale>5|10)(?!\d)"),
        ("rating", _NUM + r"[\s-]*stars?(?![A-Za-z])"),
        ("rating", r"(?<![A-Za-z])(?P<n>one|two|three|four|five)[\s-]*stars?(?![A-Za-z])"),
        ("rating", r"(?:평점|별점)\s*(?P<n>\d+(?:[.,]\d+)*)(?:\s*/\s*(?P<scale>5|10))?"),
        ("rating", r"[★☆⭐]+"),
        ("customers", _NUM + _MULT + r"\s*\+?\s*" + _WORDS + rf"(?:{_PEOPLE})(?![A-Za-z])"),
        ("customers", _NUM + _MULT + r"\s*\+?\s*명"),
        ("count", _NUM + _MULT + r"\s*\+?\s*" + _WORDS + rf"(?:{_THINGS})(?![A-Za-z])"),
        ("count", _NUM + r"\s*(?P<mult>k|m)\+?(?![A-Za-z\d])"),
        ("count", _NUM + r"\+(?!\d)"),
        ("count", r"(?<![A-Za-z])(?:hundreds|thousands|millions)\s+of(?![A-Za-z])"),
        # Korean counts need a counter or a multiplier: "SPF 50 후기" is a product's reviews.
        ("count", _NUM + r"(?:\s*(?P<mult>만|천))?\s*(?:건|개)\s*(?:판매|돌파|리뷰|후기|구매)"),
        ("count", _NUM + r"\s*(?P<mult>만|천)\s*(?:판매|돌파|리뷰|후기|구매|다운로드)"),
        ("count", r"(?:판매|리뷰|후기|다운로드|누적)\s*(?P<n>\d+(?:[.,]\d+)*)"),
        ("rank", r"#\s*\d+(?!\d)"),
        ("rank", r"(?<![A-Za-z])no\.\s*\d+(?!\d)"),
        ("rank", r"(?<![A-Za-z])number[\s-]+one(?![A-Za-z])"),
        ("rank", r"(?<![A-Za-z])top[\s-]+\d+(?!\d)"),
        ("rank", r"(?<![\d.,])\d+\s*위"),
        ("rank", r"(?<![A-Za-z])(?:number|no\.?)[\s-]*(?:one|1)(?![\w.,])"),
        ("rank", r"(?<![\d.,])\d+\s*등(?!급)"),
        (
            "superlative",
            r"(?<![A-Za-z])(?:best[\s-]?sell(?:ing|ers?)|top[\s-]?(?:rated|selling|sellers?|"
            r"ranked|picks?)|highest[\s-]rated|award[\s-]winning|most[\s-](?:popular|loved|"
            r"saved|reviewed|trusted|wished|bought|purchased|downloaded))(?![A-Za-z])",
        ),
        ("superlative", r"베스트\s*셀러|최다|가장\s*많이|최고\s*(?:평점|인기)|판매량\s*최고"),
        ("percent", _NUM + r"\s*(?:%|퍼센트|percent(?![A-Za-z]))"),
        # Scarcity and deadlines: facts about stock and time the brand must be able to back.
        (
            "scarcity",
            r"(?<![A-Za-z])(?:selling\s+(?:fast|out)|(?:almost|nearly)\s+(?:sold\s+out|gone)|"
            r"sold\s+out|running\s+(?:low|out)|before\s+(?:it'?s|they'?re)\s+gone|"
            r"while\s+(?:stocks?|supplies)\s+last|limited\s+(?:stock|supply|quantit(?:y|ies))|"
            r"only\s+\d+\s+left|low\s+(?:in\s+)?stock|last\s+(?:few|ones?)\s+(?:left|in\s+stock))"
            r"(?![A-Za-z])",
        ),
        ("scarcity", r"품절|매진|한정\s*수량|재고가?\s*(?:얼마\s*)?(?:남지\s*않|부족|소진)"),
        (
            "deadline",
            r"(?<![A-Za-z])(?:ends?\s+(?:tonight|today|tomorrow|at\s+midnight|soon|in\s+\d+)|"
            r"last\s+chance|today\s+only|limited[\s-]+time|final\s+hours?|"
            r"expires?\s+(?:tonight|today|soon)|(?:only|just)\s+\d+\s+(?:hours?|days?)\s+left)"
            r"(?![A-Za-z])",
        ),
        # 오늘만큼은 ("today, at least", 만큼 "as much as") sets no deadline: 만 not of 만큼.
        ("deadline", r"오늘만(?!큼)|마감\s*(?:임박|직전)|자정까지|단\s*하루|종료\s*임박"),
        # Endorsements: an approval, certification or test by someone else ("finance-
        # approved" on a budgeting app reads as a regulator's), which the brand must hold.
        (
            "endorsement",
            r"(?<![A-Za-z])(?:[A-Za-z]+[\s-])?(?:approved|certified|endorsed|accredited)"
            r"(?![A-Za-z])",
        ),
        (
            "endorsement",
            r"(?<![A-Za-z])(?:(?:clinically|scientifically|dermatologically|lab)[\s-]+"
            r"(?:proven|tested)|(?:doctor|dermatologist|vet|expert|editor)s?[\s-]+"
            r"(?:recommended|tested|trusted)|recommended\s+by)(?![A-Za-z])",
        ),
        (
            "endorsement",
            r"(?:공식\s*)?인증\s*(?:받은|완료|제품)|공식\s*인증|임상\s*(?:완료|입증|시험|테스트)|"
            r"(?:의사|전문의|피부과|수의사|전문가)\s*(?:추천|인증|테스트)",
        ),
        # Prices: a superlative about price is a comparison with every other seller.
        (
            "price",
            r"(?<![A-Za-z])(?:(?:best|lowest|cheapest|unbeatable|greatest)[\s-]+(?:online[\s-]+)?"
            r"(?:prices?|deals?|value|offers?)|cheapest|lowest[\s-]+(?:ever|anywhere|online)|"
            r"price[\s-]+match(?:ed)?)(?![A-Za-z])",
        ),
        ("price", r"최저\s*가(?:격)?|역대\s*최저|가장\s*(?:싼|싸게|저렴)|초특가"),
        # Popularity: how many people bought or love it, in words instead of numbers.
        (
            "popularity",
            r"(?<![A-Za-z])(?:loved\s+by\s+(?:thousands|millions|hundreds|many|everyone|all)|"
            r"(?:a\s+)?(?:hundred|thousand|million|billion)s?\s+"
            + _WORDS
            + rf"(?:{_PEOPLE}|{_THINGS})|(?:fan|crowd|customer|shopper)[\s-]+favou?rites?|"
            r"everyone'?s\s+(?:favou?rite|buying|talking))(?![A-Za-z])",
        ),
        ("popularity", r"완판|인기\s*(?:폭발|만점|절정|최고)|없어서\s*못\s*(?:사|파)|입소문"),
        # Scarcity and deadlines in the words people write beside the ones above.
        (
            "scarcity",
            r"(?<![A-Za-z])(?:(?:only|just)\s+(?:a\s+(?:few|handful)|few|\d+)\s+"
            r"(?:[A-Za-z]+\s+)?left|few\s+left|low\s+stock)(?![A-Za-z])",
        ),
        ("scarcity", r"품절\s*임박|재고\s*(?:한정|얼마)|소량\s*(?:입고|한정)|얼마\s*남지\s*않"),
        (
            "deadline",
            r"(?<![A-Za-z])(?:(?:last|final)\s+days?|(?:ends?|ending|expires?|until|till)\s+"
            r"(?:on\s+|this\s+|next\s+)?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|"
            r"week(?:end)?|month|midnight|\d)|hurry,?\s+(?:ends|while))(?![A-Za-z])",
        ),
        (
            "deadline",
            r"마지막\s*(?:기회|날|찬스)|마감|\d+\s*일\s*(?:까지|남)|(?:오늘|내일)\s*(?:까지|자정)",
        ),
        # Guarantees the brand must be able to honour ("risk-free" is also a banned claim).
        (
            "guarantee",
            r"(?<![A-Za-z])(?:risk[\s-]*free|no[\s-]+risk|money[\s-]*back)(?![A-Za-z])",
        ),
        ("guarantee", r"무위험|환불\s*(?:보장|약속)"),
        # Deals and money the creative's offer does not give: its offers are a percentage
        # off or free shipping, so an amount, half price or a bundle is a second deal.
        (
            "deal",
            r"[$€£₩]\s*\d+(?:[.,]\d+)*|(?<![\w.,])\d+(?:[.,]\d+)*\s*(?:dollars?|bucks|won)(?![A-Za-z])|"
            r"(?<![\w.,])\d+(?:[.,]\d+)*\s*(?:만|천)?\s*원"
            r"(?:(?![가-힣])|(?=에|의|이|을|부터|짜리|씩|할인|대))",
        ),
        (
            "deal",
            r"(?<![A-Za-z])(?:save\s+(?:up\s+to\s+)?\d+(?![\d.,]*\s*(?:%|percent))|"
            r"half[\s-]+(?:price|off)|bogo|buy\s+(?:one|1|two|2)[\s,]+get\s+(?:one|1)"
            r"(?:\s+free)?|(?:two|2)[\s-]+for[\s-]+(?:one|1)|free\s+gift)(?![A-Za-z])",
        ),
        ("deal", r"반\s*(?:값|액)|(?<![\d.,])[12]\s*\+\s*1(?!\d)|원\s*플러스\s*원"),
        # Free shipping is the free_shipping offer's to make, on a product that ships.
        (
            "shipping",
            r"(?<![A-Za-z])(?:free[\s-]+(?:shipping|delivery|postage)|ships?\s+(?:for\s+)?free)"
            r"(?![A-Za-z])",
        ),
        ("shipping", r"무료\s*(?:배송|배달)|배송비?\s*무료|무배"),
        # Delivery speed: when an order arrives is the brand's (and its carrier's) promise,
        # which no offer makes; a brand that ships next day declares its phrase. "Delivery"
        # alone, or "tomorrow" with no delivery ("tomorrow's look"), promises no speed.
        (
            "delivery",
            r"(?<![A-Za-z])(?:(?:same|next|\d+|one|two|three)[\s-]+(?:business[\s-]+)?days?[\s-]+"
            r"(?:delivery|shipping|dispatch|arrival)|(?:\d+|twenty[\s-]+four|forty[\s-]+eight)"
            r"[\s-]+hours?[\s-]+(?:delivery|shipping|dispatch)|(?:overnight|express|expedited|"
            r"fast|quick|speedy|rapid|lightning[\s-]+fast)[\s-]+(?:delivery|shipping|dispatch)|"
            r"(?:arriv(?:es?|ing)|deliver(?:s|ed|ing)?|delivery|ships?|shipped|shipping|"
            r"dispatch(?:es|ed)?|at\s+your\s+door)\s+(?:(?:by|as\s+soon\s+as|on)\s+)?(?:tomorrow|"
            r"today|tonight|overnight|same[\s-]+day|next[\s-]+day)|(?:arriv(?:es?|ing)|"
            r"deliver(?:s|ed|ing)?|delivery|ships?|shipped|shipping|dispatch(?:es|ed)?|at\s+your"
            r"\s+door)\s+(?:in|within|under)\s+(?:(?:just|only)\s+)?(?:\d+|an?|one|two|three|"
            r"four|five|twenty[\s-]+four|forty[\s-]+eight|a\s+(?:few|couple\s+of))[\s-]+"
            r"(?:business[\s-]+)?(?:hours?|days?))(?![A-Za-z])",
        ),
        (
            "delivery",
            r"(?:내일|오늘|당일|익일|새벽|다음\s*날)\s*(?:중(?:에|으로)?\s*)?(?:도착|배송|배달|발송|출고|받아\s*보|받으세요|받을\s*수)|"
            r"(?:빠른|총알|로켓|특급|급행)\s*(?:배송|배달|발송)|"
            r"\d+\s*(?:시간|일)\s*(?:내|이내|안에|만에)?\s*(?:도착|배송|배달|발송|출고)",
        ),
        # Word orders and wordings beside the ones above ("only today" as "today only").
        (
            "deadline",
            r"(?<![A-Za-z])(?:(?:only|just)\s+(?:for\s+)?(?:today|tonight|this\s+(?:week(?:end)?|"
            r"month))|(?:tonight|this\s+(?:week(?:end)?|month))\s+only|one[\s-]+day\s+only)"
            r"(?![A-Za-z])",
        ),
        # 하루만에 ("in a day") is speed, not a deadline: 만 must end the word.
        (
            "deadline",
            r"(?:오늘|금일|이번\s*주|주말|당일)\s*(?:하루\s*)?(?:만|한정)(?![가-힣])|"
            r"하루\s*(?:만|한정)(?![가-힣])|기간\s*한정|한정\s*기간",
        ),
        (
            "scarcity",
            r"(?<![A-Za-z])limited[\s-]+(?:edition|release|run|drop|batch)e?s?(?![A-Za-z])",
        ),
        ("scarcity", r"한정\s*(?:판|판매|출시|발매|에디션|생산)|리미티드\s*에디션|소량\s*생산"),
        # Superlatives over a field ("the world's best", "best in class"): a comparison with
        # every rival. A bare "best" ("Best for beginners", "your best self") is not one.
        (
            "superlative",
            r"(?<![A-Za-z])(?:(?:world|america|korea|nation|country|planet|internet|town|city|"
            r"industry|market)['’]?s\s+(?:best|finest|greatest|favou?rite|top|leading|first|"
            r"only|#\s*1|number[\s-]+one|no\.?\s*1|most\s+[a-z]+)|(?:best|finest|greatest|top)\s+"
            r"(?:in|on)\s+(?:the\s+)?(?:world|market|country|nation|planet|industry|business|"
            r"town|class|korea|america)|best[\s-]+(?:in[\s-]+class|ever|of\s+all\s+time)|"
            r"(?:industry|market|world)[\s-]+leading)(?![A-Za-z])",
        ),
        # Korean advertising rules list 최고, 최상, 최초, 유일 and 제일 as superlatives the
        # advertiser must substantiate; 최대 alone is also "up to" (최대 30% 할인), so only
        # over a field.
        (
            "superlative",
            r"(?:(?:세계|국내|업계|한국|대한민국)\s*)?(?:최고|최상|최강)|유일(?:한|무이|하게)|넘버\s*원|"
            r"(?:세계|국내|업계|한국|대한민국)\s*(?:최초|최대|제일|1등|첫)",
        ),
        (
            "popularity",
            r"(?<![A-Za-z])(?:(?:loved|trusted|chosen|used|preferred|adored|enjoyed|worn|backed|"
            r"picked|bought|relied\s+on)\s+by\s+(?:thousands|millions|hundreds|billions|many|"
            r"so\s+many|countless|everyone|everybody|(?:(?:more\s+than|over)\s+)?(?:a\s+)?"
            r"(?:hundred|thousand|million|billion)s?)|(?:everyone|everybody)\s+(?:loves|trusts|"
            r"uses|wants))(?![A-Za-z])",
        ),
        (
            "popularity",
            r"수많은\s*(?:고객|사람|분|팬|소비자)|(?:모두|누구나|많은\s*(?:분|고객|사람)들?)(?:이|가)\s*"
            r"(?:선택|사랑|인정)|(?:모두|누구나)의\s*(?:선택|사랑)|국민\s*(?:템|아이템)",
        ),
        # Health: a product that treats, heals or has no side effects is a medical claim.
        (
            "health",
            r"(?<![A-Za-z])(?:no\s+(?:known\s+)?(?:side|adverse)[\s-]+effects?|side[\s-]+effects?"
            r"[\s-]+free|(?:free\s+(?:of|from)|without\s+(?:any\s+)?)(?:side|adverse)[\s-]+"
            r"effects?|(?:cur|treat|heal|prevent|reliev|revers|eliminat|fight|clear)(?:e?s|e?d|"
            r"ing|e)?(?:\s+(?:up|off))?\s+(?:(?:your|all|the)\s+)?(?:[a-z]+\s+)?(?:acne|"
            r"breakouts?|blemishes|eczema|psoriasis|rosacea|wrinkles|hair\s+loss|baldness|pain|aches?|anxiety|depression|"
            r"insomnia|diseases?|infections?|allergies|inflammation|arthritis|diabetes|cancer|"
            r"colds?|flu|viruses|obesity)|(?:boosts?|strengthens?)\s+(?:your\s+)?"
            r"immun(?:e\s+system|ity))(?![A-Za-z])",
        ),
        (
            "health",
            r"부작용\s*(?:이|은|도|걱정)?\s*(?:없|제로|zero|0)|무\s*부작용|"
            r"(?:여드름|트러블|아토피|탈모|주름|통증|질병|질환|염증|불면증?|비만|우울증?)\s*(?:을|를)?\s*"
            r"(?:치료|치유|개선|완화|예방|해결|없애|제거|박멸)|치료\s*(?:효과|제)|"
            r"의학적으로\s*(?:입증|검증)|면역력?\s*(?:을|를)?\s*(?:높|강화|증진)",
        ),
        # Regulators, standards and patents: a clearance or listing is an approval too.
        (
            "endorsement",
            r"(?<![A-Za-z])(?:(?:FDA|USDA|EPA|FCC|CE|KC|UL|MFDS|KFDA|NSF|ISO|GMP|HACCP)"
            r"(?:[\s-]*\d+)?[\s-]+(?:cleared|registered|listed|authori[sz]ed|compliant|approved|"
            r"certified|accepted|recogni[sz]ed|grade|tested|rated|marked)|(?:cleared|registered|"
            r"listed|authori[sz]ed)\s+(?:by|with)\s+(?:the\s+)?[A-Za-z]{2,}|medically\s+"
            r"(?:proven|tested|approved)|patented|patent[\s-]+pending)(?![A-Za-z])",
        ),
        (
            "endorsement",
            r"식약처|식품의약품안전처|(?:FDA|KC|CE|HACCP|GMP)\s*(?:인증|승인|허가|등록)|"
            r"(?:허가|승인)\s*(?:받은|완료|제품)|특허\s*(?:받은|등록|획득|출원|기술)",
        ),
        # Counts written verb first ("Sold 10,000" beside "10,000 sold").
        (
            "count",
            r"(?<![A-Za-z])(?:sold|shipped|downloaded|installed)\s+(?:(?:over|more\s+"
            r"than|nearly|almost|about|around)\s+)?" + _NUM + _MULT + r"(?![\w.,])",
        ),
        # Something for nothing: the offers give a percentage off or free shipping (above),
        # so "for free", a free trial or a free gift is another offer. "Free returns" and a
        # "free app" describe the terms and the product, as the catalogue does; a bare "no
        # charge" is a power bank's ("No charge? No problem."), so only "no extra cost".
        (
            "free",
            r"(?<![A-Za-z])(?:(?:for|at)\s+(?:free|no\s+(?:extra\s+|additional\s+)?(?:cost|"
            r"charge))|free\s+of\s+(?:charge|cost)|(?:get|try|claim|grab|download|take|yours|"
            r"it'?s|it\s+is|they'?re|totally|completely|absolutely|entirely)\s+(?:(?:it|one|"
            r"them|yours|this|now|today)\s+)?(?:for\s+)?free|free\s+(?:trials?|samples?|gifts?|"
            r"bonus(?:es)?|upgrades?|months?|installation|accessor(?:y|ies)|add[\s-]?ons?)|"
            r"no\s+(?:extra|additional|hidden)\s+(?:costs?|charges?|fees?)|costs?\s+(?:you\s+)?nothing|"
            r"complimentary|on\s+the\s+house)(?![A-Za-z-])",
        ),
        (
            "free",
            r"무료\s*(?:로|예요|입니다|체험|증정|제공|나눔|샘플|업그레이드|설치|이용|다운로드)|"
            r"공짜|사은품|(?:추가\s*)?비용\s*(?:없이|없음|0)",
        ),
    )
)


def _number(match: re.Match[str]) -> float | None:
    groups = match.groupdict()
    text = groups.get("n")
    if text is None:
        return None
    text = _NUMBER_WORDS.get(text.lower(), text).replace(",", "")
    try:
        value = float(text)
    except ValueError:  # "1.2.3": not a number anyone can back
        return None
    return value * _MULTIPLIERS.get((groups.get("mult") or "").lower(), 1.0)


def _declared_number(value: str | None) -> tuple[float | None, str | None]:
    # "4.8/5" -> (4.8, "5"); "12,000" -> (12000.0, None).
    if value is None:
        return None, None
    number, _, scale = value.partition("/")
    return float(number.replace(",", "")), scale or None


def _supported(
    kind: str, match: re.Match[str], kit: BrandKit, offer: str, category: str | None
) -> bool:
    number = _number(match)
    if kind == "shipping":
        # The creative's own offer, on a product that is shipped at all.
        return offer == "free_shipping" and category not in NOT_SHIPPED
    if kind == "rating":
        declared, scale = _declared_number(kit.fact("rating"))
        if declared is None:
            return False
        if match.groupdict().get("n") is None:  # a star glyph beside the declared rating
            return True
        given = match.groupdict().get("scale")
        return number == declared and (given is None or given == scale)
    if kind == "customers":
        declared, _ = _declared_number(kit.fact("customers"))
        return declared is not None and number == declared
    if kind == "percent":
        # Only the creative's own discount ("20% off" on a 20 % offer) is backed.
        return offer.startswith("discount_") and number == round(OFFER_DISCOUNT[offer] * 100)
    return False


def find_unsupported_claims(
    text: str,
    *,
    kit: BrandKit = DEFAULT_KIT,
    offer: str = "none",
    category: str | None = None,
    product: str | None = None,
) -> tuple[tuple[str, str], ...]:
    """Claims in ``text`` that the brand kit, the offer and the product do not back.

    A claim is a rating (``4.8/5``, ``4.8 stars``, ``★``, ``평점 4.8``), a count of
    customers (``12,000 fans``, ``1만 명``) or of other things (``3,000 reviews``,
    ``10k+``, ``thousands of``), a rank (``#1``, ``No. 1``, ``1위``), a superlative
    (``best-selling``, ``top-rated``, ``most popular``, ``베스트셀러``, ``최다``), a
    percentage, scarcity (``selling fast``, ``almost sold out``, ``only 3 left``, ``품절``)
    or a deadline (``ends tonight``, ``last chance``, ``today only``, ``오늘만``,
    ``자정까지``) or an endorsement (``approved``, ``certified``, ``clinically proven``,
    ``recommended by``, ``의사 추천``, ``임상 완료``): stock, time and other people's
    approval are facts too. So are a price superlative (``best price``, ``cheapest``,
    ``최저가``), popularity in words (``loved by thousands``, ``a million sold``, ``완판``),
    a guarantee (``risk free``, ``money-back``), a deal the offer does not give (``$10``,
    ``save 10``, ``half price``, ``BOGO``, ``1+1``, ``반값``, ``5,000원``), a health claim
    (``no side effects``, ``clears up acne``, ``부작용 없음``), something for free (``get it
    for free``, ``free trial``, ``무료로``, ``사은품``) and free shipping (``free shipping``,
    ``무료 배송``) and delivery speed (``next-day delivery``, ``arrives tomorrow``, ``ships in
    two days``, ``내일 도착``, ``당일 배송``); word orders and scopes count too (``only
    today``, ``오늘 하루만``,
    ``limited edition``, ``한정판``, ``the world's best``, ``최고``, ``trusted by
    millions``, ``FDA cleared``, ``sold 10,000``). A claim is backed when its text lies
    inside a phrase of ``kit.claims`` that occurs in ``text``, when a rating or customer
    count equals the kit's declared ``rating`` or ``customers`` fact, when a percentage
    is the creative's own discount, when free shipping is the creative's own offer on a
    product that ships; the other kinds only by
    ``kit.claims`` (a brand running a real time-limited offer, or holding a real
    certification, declares its phrase there).

    Parameters
    ----------
    text : str
    kit : BrandKit, default DEFAULT_KIT
    offer : str, default "none"
        The creative's offer, one of ``OFFERS``.
    category : str, optional
        The product's category, one of ``INTERESTS``: free shipping in the copy is backed
        only by the ``free_shipping`` offer on a category that is shipped (not in
        ``catalogue.NOT_SHIPPED``). None: the offer alone decides.
    product : str, optional
        The product's name, masked out of ``text`` first (:func:`mask_name`): a name the
        brand wrote ("Daily Sunscreen SPF 50+", "4K Webcam") is not a claim of the ad.

    Returns
    -------
    found : tuple of (str, str)
        ``(kind, claim text)`` for each unsupported claim, in order of position.

    Examples
    --------
    >>> find_unsupported_claims("Rated 4.8/5 by 12,000 fans")
    (('rating', '4.8/5'), ('customers', '12,000 fans'))
    >>> import dataclasses
    >>> kit = dataclasses.replace(DEFAULT_KIT, facts=(("rating", "4.8/5"),))
    >>> find_unsupported_claims("Rated 4.8/5, 20% off", kit=kit, offer="discount_20")
    ()
    """
    if offer not in OFFERS:
        raise ValueError(f"`offer` must be one of {list(OFFERS)}; got {offer!r}.")
    if category is not None and category not in INTERESTS:
        raise ValueError(f"`category` must be None or one of {list(INTERESTS)}; got {category!r}.")
    text = mask_name(text, product)
    backed = [
        m.span()
        for claim in kit.claims
        for m in re.finditer(re.escape(normalize_text(claim)), text, re.IGNORECASE)
    ]
    matches = [(kind, m) for kind, pattern in _CLAIM_PATTERNS for m in pattern.finditer(text)]
    # A backed claim backs the pieces inside it ("12k" inside a declared "12k fans").
    backed += [m.span() for kind, m in matches if _supported(kind, m, kit, offer, category)]
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for kind, match in matches:
        start, end = match.span()
        if any(a <= start and end <= b for a, b in backed):
            continue
        # Overlapping finds ("4.8 stars" and "4.8/5 stars") are reported once.
        if not any(s < end and start < e for s, e in found):
            found[(start, end)] = (kind, match.group(0).strip())
    return tuple(found[span] for span in sorted(found))


def check_creative(
    creative: Creative, *, kit: BrandKit = DEFAULT_KIT, placement: str = "feed"
) -> GuardrailVerdict:
    """Run every guardrail rule on a creative.

    Parameters
    ----------
    creative : Creative
    kit : BrandKit, default DEFAULT_KIT
        Gives the banned claims, the facts and claims the brand can back and whether
        disclosure is required.
    placement : str, default "feed"
        One of ``PLACEMENTS``; selects the length limits.

    Returns
    -------
    verdict : GuardrailVerdict
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"`placement` must be one of {list(PLACEMENTS)}; got {placement!r}.")
    reasons: list[str] = []
    for part in ("headline", "body", "cta"):
        if not has_visible_text(getattr(creative, part)):
            reasons.append(
                f"empty: {part} has no visible characters (only spaces, zero-width or "
                "format characters)"
            )
    for part in ("headline", "body", "cta"):
        for claim in find_banned_claims(
            getattr(creative, part), kit.banned_claims, product=creative.product
        ):
            reasons.append(f"banned_claim: {claim!r} in {part}")
    for part in ("headline", "body", "cta"):
        for kind, claim in find_unsupported_claims(
            getattr(creative, part),
            kit=kit,
            offer=creative.offer,
            category=creative.category,
            product=creative.product,
        ):
            reasons.append(
                f"unsupported_claim: {kind} {claim!r} in {part} is not declared in the brand "
                "kit (facts or claims)"
            )
    limits = LENGTH_LIMITS[placement]
    for part in ("headline", "body", "cta"):
        width, limit = display_width(getattr(creative, part)), getattr(limits, part)
        if width > limit:
            reasons.append(f"length: {part} is {width} wide, over {limit} for {placement}")
    for role, fg, bg in creative.palette.text_pairs():
        ratio = contrast_ratio(fg, bg)
        if ratio < MIN_CONTRAST:
            reasons.append(
                f"contrast: {role} text {fg} on {bg} is {ratio:.2f}:1, under {MIN_CONTRAST}:1 "
                f"(palette {creative.palette.name!r})"
            )
    if kit.requires_ai_disclosure and not has_visible_text(creative.disclosure or ""):
        reasons.append("disclosure: the kit requires an AI-generated label and there is none")
    return GuardrailVerdict(passed=not reasons, reasons=tuple(reasons))
