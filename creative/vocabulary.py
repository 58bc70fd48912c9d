"""Shared vocabularies: interest categories, tones, offers, times of day, layouts.

These names are the common language between the audience (who users are) and
the creatives (what an ad says). ``simulation/`` imports them from here; this
module imports nothing from the project. :func:`component_name` turns the codes
into the words a marketer reads, for the studio's own printouts and for
``simulation.display`` alike.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "AUDIENCE_KINDS",
    "DEAL_SEEKER_MIN",
    "DESKTOP_MAX",
    "INTERESTS",
    "INTEREST_KEYWORDS",
    "INTEREST_KEYWORDS_KO",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LAYOUTS",
    "MOBILE_FIRST_LAYOUTS",
    "MOBILE_HEAVY_MIN",
    "OFFERS",
    "OFFER_DISCOUNT",
    "OFFER_NAMES",
    "PLACEMENTS",
    "PREMIUM_BUYER_MAX",
    "TIMES_OF_DAY",
    "TONES",
    "component_name",
    "keyword_interest",
    "localize_keyword",
]

#: Interest categories; also the product categories of the catalogue.
INTERESTS: tuple[str, ...] = (
    "fashion",
    "beauty",
    "gaming",
    "tech",
    "fitness",
    "food",
    "travel",
    "home",
    "pets",
    "music",
    "books",
    "outdoors",
    "finance",
    "kids",
)

#: Search keywords a user interested in a category may have typed recently.
INTEREST_KEYWORDS: dict[str, tuple[str, ...]] = {
    "fashion": ("sneakers", "denim jacket", "summer dress", "tote bag", "wool coat"),
    "beauty": ("vitamin c serum", "sunscreen", "lip tint", "cushion foundation", "toner"),
    "gaming": ("gaming headset", "mechanical keyboard", "rpg", "controller", "gaming chair"),
    "tech": ("wireless earbuds", "smartwatch", "usb-c charger", "tablet", "power bank"),
    "fitness": ("yoga mat", "running shoes", "protein powder", "dumbbells", "smart scale"),
    "food": ("meal kit", "cold brew", "hot sauce", "air fryer recipes", "matcha"),
    "travel": ("carry-on", "jeju flights", "hotel deals", "packing cubes", "travel adapter"),
    "home": ("bedding set", "desk lamp", "robot vacuum", "plant pots", "storage boxes"),
    "pets": ("cat tree", "dog treats", "pet camera", "litter", "dog harness"),
    "music": ("vinyl", "portable speaker", "guitar strings", "concert tickets", "headphones"),
    "books": ("new releases", "e-reader", "mystery novel", "cookbook", "manga"),
    "outdoors": ("camping tent", "hiking boots", "rain jacket", "thermos", "trail map"),
    "finance": ("budget app", "savings account", "credit card", "stock app", "tax tips"),
    "kids": ("building blocks", "stroller", "kids books", "school bag", "puzzle"),
}

#: The same searches in Korean, position by position (``INTEREST_KEYWORDS_KO[c][j]`` is
#: ``INTEREST_KEYWORDS[c][j]`` in Korean): Korean copy uses these, and keywords typed in
#: Korean are placed in their category. All Hangul, so Korean copy carries no English search.
INTEREST_KEYWORDS_KO: dict[str, tuple[str, ...]] = {
    "fashion": ("스니커즈", "청자켓", "여름 원피스", "토트백", "울 코트"),
    "beauty": ("비타민 세럼", "선크림", "립틴트", "쿠션 파운데이션", "토너"),
    "gaming": ("게이밍 헤드셋", "기계식 키보드", "롤플레잉 게임", "게임 패드", "게이밍 의자"),
    "tech": ("무선 이어폰", "스마트워치", "고속 충전기", "태블릿", "보조배터리"),
    "fitness": ("요가 매트", "러닝화", "단백질 보충제", "덤벨", "체중계"),
    "food": ("밀키트", "콜드브루", "핫소스", "에어프라이어 레시피", "말차"),
    "travel": ("기내용 캐리어", "제주 항공권", "호텔 특가", "여행 파우치", "여행용 어댑터"),
    "home": ("침구 세트", "스탠드 조명", "로봇청소기", "화분", "수납함"),
    "pets": ("캣타워", "강아지 간식", "펫캠", "고양이 모래", "강아지 하네스"),
    "music": ("바이닐", "무선 스피커", "기타 줄", "콘서트 티켓", "헤드폰"),
    "books": ("신간 도서", "전자책 리더기", "추리 소설", "요리책", "만화책"),
    "outdoors": ("캠핑 텐트", "등산화", "방수 재킷", "보온병", "등산 지도"),
    "finance": ("가계부 앱", "적금 통장", "신용카드", "주식 앱", "절세 팁"),
    "kids": ("블록 장난감", "유모차", "어린이 책", "책가방", "퍼즐"),
}

#: Copy tones; each has templates in ``assets/templates``.
TONES: tuple[str, ...] = ("playful", "urgent", "premium", "informative", "social_proof")

#: Offers, from none to deep discounts.
OFFERS: tuple[str, ...] = ("none", "free_shipping", "discount_10", "discount_20", "discount_30")

#: :data:`OFFERS` as a marketer reads them in the app's tables, the report, the contact
#: sheets and the command lines' printouts; machine outputs (CSV and Parquet columns,
#: manifests) keep the codes. Not the ad's own words (``creative.catalogue.OFFER_LABELS``,
#: "10% off" in the copy): these also name the absence of an offer, which the ad leaves blank.
OFFER_NAMES: dict[str, str] = {
    "none": "no offer",
    "free_shipping": "free shipping",
    "discount_10": "10 % off",
    "discount_20": "20 % off",
    "discount_30": "30 % off",
}

#: Fraction of the order value given away by each offer (free shipping costs
#: the advertiser about 5 % of a typical basket).
OFFER_DISCOUNT: dict[str, float] = {
    "none": 0.0,
    "free_shipping": 0.05,
    "discount_10": 0.10,
    "discount_20": 0.20,
    "discount_30": 0.30,
}

#: Parts of the day used for active hours and for greetings.
TIMES_OF_DAY: tuple[str, ...] = ("morning", "daytime", "evening", "night")

#: Languages of the audience and of the copy.
LANGUAGES: tuple[str, ...] = ("en", "ko")

#: :data:`LANGUAGES` as a marketer reads them.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ko": "Korean"}

#: Image layouts.
LAYOUTS: tuple[str, ...] = ("hero", "split", "badge", "minimal")

#: Layouts with large type and one focal element, which read well on a phone;
#: split and badge layouts carry more detail and suit a desktop screen.
MOBILE_FIRST_LAYOUTS: frozenset[str] = frozenset({"hero", "minimal"})

#: Placement name -> (width, height) in pixels.
PLACEMENTS: dict[str, tuple[int, int]] = {
    "feed": (1080, 1080),
    "story": (1080, 1920),
    "link": (1200, 628),
    "preview": (540, 540),
}

#: Whom a creative was made for.
AUDIENCE_KINDS: tuple[str, ...] = ("generic", "segment", "user")

#: Profile words shared by segment names and personalization: an audience with
#: ``price_sensitivity >= DEAL_SEEKER_MIN`` is deal-seeking (gets discounts), one below
#: ``PREMIUM_BUYER_MAX`` buys on quality (no money off, premium tone); one with
#: ``mobile_share >= MOBILE_HEAVY_MIN`` is mobile (mobile-first layouts, story format),
#: one below ``DESKTOP_MAX`` mostly on desktop.
DEAL_SEEKER_MIN: float = 0.58
PREMIUM_BUYER_MAX: float = 0.45
MOBILE_HEAVY_MIN: float = 0.75
DESKTOP_MAX: float = 0.5


def component_name(axis: str, name: str) -> str:
    """A component as a marketer reads it; the space's names are the engine's.

    The one mapping from the codes the studio defines to words, for every label a marketer
    reads (the contact sheets, the app's tables and charts, the HTML report, the command
    lines' printouts; ``simulation.display`` re-exports it); machine outputs (CSV and Parquet
    columns, manifests) keep the codes. ``home:Cotton Bedding Set`` ->
    ``Cotton Bedding Set (home)``; ``cta1`` -> ``call to action 2`` (an index into the
    tone's own calls to action, whose words change with the tone); ``ko`` -> ``Korean``;
    an offer by :data:`OFFER_NAMES` (``discount_10`` -> ``10 % off``,
    ``none`` -> ``no offer``); an absent greeting (``none``) -> ``no greeting``; the
    ``greet_search`` headline style -> ``greeting + search`` (a plain headline over a body
    carrying both; short, to fit a select box); any other
    code with spaces for underscores (``social_proof`` -> ``social proof``).

    Parameters
    ----------
    axis : str
        The component's axis: ``"tone"``, ``"offer"``, ``"greeting"``, ``"language"``,
        ``"product"``, ``"cta"``, ``"layout"``, ...
    name : str
        The code on that axis.

    Returns
    -------
    words : str

    Examples
    --------
    >>> component_name("offer", "discount_10"), component_name("tone", "social_proof")
    ('10 % off', 'social proof')
    >>> component_name("greeting", "none")
    'no greeting'
    """
    if axis == "offer" and name in OFFER_NAMES:
        return OFFER_NAMES[name]
    if axis == "greeting" and name == "none":
        # Bare, "greeting | morning | none" reads as a value called "none".
        return "no greeting"
    if axis == "product":
        category, _, product = name.partition(":")
        return f"{product} ({category})" if product else name
    if axis == "language":
        return LANGUAGE_NAMES.get(name, name)
    if axis == "headline" and name == "greet_search":
        # A plain headline over a body that greets and quotes the viewer's search.
        return "greeting + search"
    if axis == "cta" and name.removeprefix("cta").isdigit():
        return f"call to action {int(name.removeprefix('cta')) + 1}"
    return name.replace("_", " ")


def _keyword_key(keyword: str) -> str:
    # NFC and case-folded, with runs of spaces collapsed: "Yoga  Mat" is "yoga mat".
    return " ".join(unicodedata.normalize("NFC", keyword).casefold().split())


def keyword_interest(keyword: str) -> str | None:
    """The interest category a search keyword belongs to, in either language.

    Parameters
    ----------
    keyword : str
        e.g. ``"yoga mat"``, ``"Yoga Mat"`` or ``"요가 매트"``.

    Returns
    -------
    interest : str or None
        One of ``INTERESTS``; None for a keyword outside the vocabulary.

    Examples
    --------
    >>> keyword_interest("Yoga Mat"), keyword_interest("캣타워"), keyword_interest("tulips")
    ('fitness', 'pets', None)
    """
    found = _keyword_place(_keyword_key(keyword))
    return None if found is None else found[0]


def localize_keyword(keyword: str, language: str) -> str | None:
    """A vocabulary keyword in ``language``: the English or the Korean form.

    Parameters
    ----------
    keyword : str
        In either language.
    language : str
        One of ``LANGUAGES``.

    Returns
    -------
    keyword : str or None
        None for a keyword outside the vocabulary.

    Examples
    --------
    >>> localize_keyword("yoga mat", "ko"), localize_keyword("캣타워", "en")
    ('요가 매트', 'cat tree')
    """
    if language not in LANGUAGES:
        raise ValueError(f"`language` must be one of {list(LANGUAGES)}; got {language!r}.")
    found = _keyword_place(_keyword_key(keyword))
    if found is None:
        return None
    interest, j = found
    return (INTEREST_KEYWORDS_KO if language == "ko" else INTEREST_KEYWORDS)[interest][j]


def _keyword_place(key: str) -> tuple[str, int] | None:
    # A scan of 140 short strings: cheaper to read than a cached index, and fast enough.
    for interest in INTERESTS:
        for table in (INTEREST_KEYWORDS, INTEREST_KEYWORDS_KO):
            for j, known in enumerate(table[interest]):
                if known == key:
                    return interest, j
    return None
