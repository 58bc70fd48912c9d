"""Shared vocabularies: interest categories, tones, offers, times of day, layouts.

These names are the common language between the audience (who users are) and
the creatives (what an ad says). ``simulation/`` imports them from here; this
module imports nothing from the project.
"""

from __future__ import annotations

__all__ = [
    "AUDIENCE_KINDS",
    "DEAL_SEEKER_MIN",
    "DESKTOP_MAX",
    "INTERESTS",
    "INTEREST_KEYWORDS",
    "LANGUAGES",
    "LAYOUTS",
    "MOBILE_FIRST_LAYOUTS",
    "MOBILE_HEAVY_MIN",
    "OFFERS",
    "OFFER_DISCOUNT",
    "PLACEMENTS",
    "PREMIUM_BUYER_MAX",
    "TIMES_OF_DAY",
    "TONES",
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
    "music": ("vinyl", "bluetooth speaker", "guitar strings", "concert tickets", "headphones"),
    "books": ("bestsellers", "e-reader", "mystery novel", "cookbook", "manga"),
    "outdoors": ("camping tent", "hiking boots", "rain jacket", "thermos", "trail map"),
    "finance": ("budget app", "savings account", "credit card", "stock app", "tax tips"),
    "kids": ("lego", "stroller", "kids books", "school bag", "puzzle"),
}

#: Copy tones; each has templates in ``assets/templates``.
TONES: tuple[str, ...] = ("playful", "urgent", "premium", "informative", "social_proof")

#: Offers, from none to deep discounts.
OFFERS: tuple[str, ...] = ("none", "free_shipping", "discount_10", "discount_20", "discount_30")

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
