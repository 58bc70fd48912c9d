"""A synthetic product catalogue covering every interest category, and localized labels."""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from creative.fonts import check_drawable
from creative.limits import LIMITS, check_csv_row, check_length, read_text, short_repr
from creative.vocabulary import INTEREST_KEYWORDS, INTEREST_KEYWORDS_KO, INTERESTS, OFFERS

__all__ = [
    "CATALOGUE",
    "CATALOGUE_FIELDS",
    "GREETINGS",
    "INTEREST_LABELS",
    "MAX_PRICE",
    "MAX_PRODUCTS",
    "MOTIFS",
    "NOT_SHIPPED",
    "OFFER_LABELS",
    "PRODUCT_MOTIFS",
    "Product",
    "fitting_offers",
    "format_price",
    "head_noun",
    "motif_for",
    "offer_fits",
    "product_search",
    "read_catalogue",
]

#: Won per dollar, rounded: Korean copy shows prices in won.
KRW_PER_USD = 1300


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """One catalogue item.

    Parameters
    ----------
    name : str
        English name.
    name_ko : str
        Korean name.
    category : str
        One of ``INTERESTS``.
    price : float
        List price in US dollars, > 0.
    discountable : bool, default True
        False for a product with no price to take a percentage off (an account, whose
        catalogue price is a nominal amount): no discount is ever offered on it.
    price_shown : bool, default True
        False when the catalogue price is a nominal amount no customer pays (an
        account's): creatives never print it (the price still sets order values).
    """

    name: str
    name_ko: str
    category: str
    price: float
    discountable: bool = True
    price_shown: bool = True

    def __post_init__(self) -> None:
        if self.category not in INTERESTS:
            raise ValueError(f"`category` must be one of {list(INTERESTS)}; got {self.category!r}.")
        if not isinstance(self.price, int | float) or not self.price > 0:
            raise ValueError(f"`price` must be a float > 0; got {self.price!r}.")
        if not self.name or not self.name_ko:
            raise ValueError("`name` and `name_ko` must be non-empty.")
        for flag in ("discountable", "price_shown"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"`{flag}` must be a bool; got {getattr(self, flag)!r}.")

    def display_name(self, language: str) -> str:
        """The product name in ``language``."""
        return self.name_ko if language == "ko" else self.name


def _p(category: str, *items: tuple) -> tuple[Product, ...]:
    # (name, Korean name, price), optionally followed by discountable and price_shown.
    return tuple(
        Product(
            name=n, name_ko=k, category=category, price=p, **dict(zip(_FLAGS, rest, strict=False))
        )
        for n, k, p, *rest in items
    )


_FLAGS = ("discountable", "price_shown")


#: Category -> products (three each).
CATALOGUE: dict[str, tuple[Product, ...]] = {
    "fashion": _p(
        "fashion",
        ("Canvas Sneakers", "캔버스 스니커즈", 59.0),
        ("Denim Jacket", "데님 재킷", 89.0),
        ("Linen Tote", "린넨 토트백", 29.0),
    ),
    "beauty": _p(
        "beauty",
        ("Vitamin C Serum", "비타민C 세럼", 32.0),
        ("Daily Sunscreen SPF 50", "데일리 선크림 SPF 50", 18.0),
        ("Velvet Lip Tint", "벨벳 립 틴트", 14.0),
    ),
    "gaming": _p(
        "gaming",
        ("Pro Gaming Headset", "프로 게이밍 헤드셋", 79.0),
        ("Mechanical Keyboard", "기계식 키보드", 119.0),
        ("Wireless Controller", "무선 컨트롤러", 59.0),
    ),
    "tech": _p(
        "tech",
        ("Wireless Earbuds", "무선 이어폰", 99.0),
        ("Smartwatch S2", "스마트워치 S2", 199.0),
        ("65W USB-C Charger", "65W USB-C 충전기", 39.0),
    ),
    "fitness": _p(
        "fitness",
        ("Grip Yoga Mat", "논슬립 요가 매트", 45.0),
        ("Trail Running Shoes", "트레일 러닝화", 129.0),
        ("Adjustable Dumbbells", "무게조절 덤벨", 149.0),
    ),
    "food": _p(
        "food",
        ("Weekly Meal Kit", "주간 밀키트", 49.0),
        ("Cold Brew Concentrate", "콜드브루 원액", 19.0),
        ("Ceremonial Matcha", "세리머니얼 말차", 27.0),
    ),
    "travel": _p(
        "travel",
        ("Carry-on Spinner", "기내용 캐리어", 169.0),
        ("Packing Cube Set", "여행 파우치 세트", 25.0),
        ("Universal Adapter", "멀티 여행 어댑터", 22.0),
    ),
    "home": _p(
        "home",
        ("Cotton Bedding Set", "코튼 침구 세트", 119.0),
        ("Dimmable Desk Lamp", "밝기조절 스탠드", 49.0),
        ("Robot Vacuum Mini", "미니 로봇청소기", 229.0),
    ),
    "pets": _p(
        "pets",
        ("Cat Tree Tower", "캣타워", 89.0),
        ("Salmon Dog Treats", "연어 강아지 간식", 12.0),
        ("Pet Camera", "반려동물 카메라", 69.0),
    ),
    "music": _p(
        "music",
        ("Portable Speaker", "휴대용 스피커", 79.0),
        ("Studio Headphones", "스튜디오 헤드폰", 149.0),
        ("Vinyl Record Club", "LP 정기구독", 29.0),
    ),
    "books": _p(
        "books",
        ("E-Reader Paper", "전자책 리더기", 139.0),
        ("Mystery Box Set", "미스터리 소설 세트", 39.0),
        ("Home Cooking Book", "집밥 요리책", 24.0),
    ),
    "outdoors": _p(
        "outdoors",
        ("Two-Person Tent", "2인용 텐트", 179.0),
        ("Waterproof Hiking Boots", "방수 등산화", 139.0),
        ("Steel Thermos", "스테인리스 보온병", 29.0),
    ),
    "finance": _p(
        "finance",
        ("Budget Planner App", "가계부 앱", 4.99),
        # An account: its price is a nominal opening amount, with nothing to discount
        # and nothing to print ("$1.00" on a savings account's ad means nothing).
        ("High-Yield Savings", "고금리 적금", 1.0, False, False),
        ("Investing Course", "투자 입문 강의", 49.0),
    ),
    "kids": _p(
        "kids",
        ("Building Blocks Set", "블록 놀이 세트", 39.0),
        ("Picture Book Bundle", "그림책 묶음", 29.0),
        ("Light School Bag", "가벼운 책가방", 49.0),
    ),
}

#: Columns of a catalogue CSV; ``name_ko`` is optional (blank: the English name).
CATALOGUE_FIELDS: tuple[str, ...] = (
    "name", "category", "price", "name_ko", "discountable", "show_price",
)  # fmt: skip
#: Values of the optional yes/no columns (case-insensitive; blank is yes).
_YES, _NO = frozenset({"yes", "true", "1", ""}), frozenset({"no", "false", "0"})
#: Most products in one catalogue file.
MAX_PRODUCTS = 1_000
#: Highest list price (USD) a catalogue may hold: order values stay bounded.
MAX_PRICE = 1e6


def _product_name(value: str, key: str) -> str:
    text = check_length(key, value.strip(), LIMITS.name)
    if not text:
        raise ValueError(f"`{key}` must be non-empty.")
    if any(unicodedata.category(c)[0] == "C" for c in text):
        raise ValueError(
            f"`{key}` must not contain control or format characters; got {short_repr(text)}."
        )
    # Refused, as templates are: the images would silently leave the characters out.
    return check_drawable(unicodedata.normalize("NFC", text), f"`{key}` {short_repr(text)}")


def _check_room(product: Product, rooms: dict) -> None:
    """Refuse a product whose name no template line can print within its limit.

    Every ad naming it would fail the length guardrail, and an experiment would stop with
    too few ads after building its world; the name is the input to change. ``rooms`` is
    language -> :func:`creative.templates.product_room` of the templates.
    """
    # Imported here: creative.guardrails imports this module.
    from creative.guardrails import display_width

    for language, key in (("en", "name"), ("ko", "name_ko")):
        name = product.display_name(language)
        room, line = rooms[language]
        if display_width(name) > room:
            # A blank name_ko prints the English name in the Korean ads.
            which = key if key == "name" or name != product.name else "name (in Korean ads)"
            roomiest = f" (the roomiest: {line.text!r})" if line else ""
            raise ValueError(
                f"`{which}` {short_repr(name, 60)} is {display_width(name)} columns wide; no "
                f"{language} template line can print a product name wider than {room} within "
                f"its length limit{roomiest}. Shorten the name."
            )


def _product_from_row(row: dict[str, str | None]) -> Product:
    unknown = sorted(str(k) for k in row if k not in CATALOGUE_FIELDS)
    if unknown:
        raise ValueError(f"unknown column(s) {unknown}; expected {list(CATALOGUE_FIELDS)}.")
    cells = {k: (v or "").strip() for k, v in row.items()}
    missing = [k for k in ("name", "category", "price") if not cells.get(k)]
    if missing:
        raise ValueError(f"`{missing[0]}` is required.")
    name = _product_name(cells["name"], "name")
    name_ko = _product_name(cells["name_ko"], "name_ko") if cells.get("name_ko") else name
    category = cells["category"].lower()
    if category not in INTERESTS:
        raise ValueError(
            f"`category` must be one of {list(INTERESTS)}; got {short_repr(cells['category'])}."
        )
    try:
        price = float(cells["price"].replace(",", "").lstrip("$"))
    except ValueError:
        raise ValueError(f"`price` must be a number; got {short_repr(cells['price'])}.") from None
    if not (math.isfinite(price) and 0 < price <= MAX_PRICE):
        raise ValueError(
            f"`price` must be a finite number in (0, {MAX_PRICE:,.0f}]; "
            f"got {short_repr(cells['price'])}."
        )
    flags = {}
    for column in ("discountable", "show_price"):
        flag = cells.get(column, "").lower()
        if flag not in _YES | _NO:
            raise ValueError(
                f"`{column}` must be yes or no (or blank: yes); got {short_repr(cells[column])}."
            )
        flags[column] = flag not in _NO
    return Product(
        name=name,
        name_ko=name_ko,
        category=category,
        price=price,
        discountable=flags["discountable"],
        price_shown=flags["show_price"],
    )


def read_catalogue(path: str | Path, *, templates=None) -> dict[str, tuple[Product, ...]]:
    r"""Read a product catalogue from a CSV file.

    Columns (header row required): ``name``, ``category`` (one of ``INTERESTS``),
    ``price`` (US dollars, in (0, :data:`MAX_PRICE`]) and optionally ``name_ko``
    (blank: the English name), ``discountable`` (``yes`` or ``no``, blank: yes; ``no``
    for a product no percentage discount can honestly be offered on, such as an account)
    and ``show_price`` (``yes`` or ``no``, blank: yes; ``no`` for a nominal price no
    customer pays, such as an account's opening amount: the ads never print it).
    A header may leave the optional columns out; a row must then have a cell for each
    column its header names (blank for the default), and a row with fewer is refused as
    short (:func:`creative.limits.check_csv_row`), as the audiences reader does.
    The file is bounded like the other creative inputs (``creative.limits.LIMITS.file_bytes``,
    names of at most ``LIMITS.name`` characters) and holds at most :data:`MAX_PRODUCTS`
    products. A name must also fit the copy: no wider than some line of ``templates``
    naming ``{product}`` leaves room for within its length limit
    (:func:`creative.templates.product_room`: 55 columns in English with the bundled
    templates, a wide Hangul character counting 2), and every character of it must be
    one the bundled fonts draw (:func:`creative.fonts.check_drawable`).

    Parameters
    ----------
    path : str or Path
    templates : TemplateSet, optional
        The copy templates the products will be written into (default: the bundled).

    Returns
    -------
    catalogue : dict of str to tuple of Product
        Category -> its products in file order; only categories with products, in
        ``INTERESTS`` order (the shape of :data:`CATALOGUE`).

    Raises
    ------
    ValueError
        On a missing, unreadable or oversized file, a missing column, a bad row (the
        message names the file and the row, and lists the valid categories; a row with
        fewer or more cells than the header is named as such), a name no
        headline can hold or with characters the fonts cannot draw, a duplicate product
        name or an empty file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "products.csv"
    >>> _ = path.write_text("name,category,price\nTrail Mix,food,6.5\n")
    >>> read_catalogue(path)["food"][0].price
    6.5
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"catalogue file must end in .csv; got {path.name!r}.")
    text = read_text(path, "catalogue")
    rows: list[dict] = []
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_PRODUCTS:
                raise ValueError(f"{path}: more than {MAX_PRODUCTS:,} products in one file.")
    except csv.Error as exc:
        raise ValueError(f"cannot read catalogue file {path}: {exc}") from None
    absent = [c for c in ("name", "category", "price") if c not in header]
    if absent:
        raise ValueError(
            f"{path}: missing column(s) {absent}; a catalogue has the columns "
            f"{list(CATALOGUE_FIELDS)} (name_ko, discountable and show_price optional)."
        )
    if not rows:
        raise ValueError(f"{path}: no products found.")
    # Imported here: creative.templates imports the guardrails, which import this module.
    from creative.templates import default_templates, product_room

    templates = default_templates() if templates is None else templates
    rooms = {language: product_room(templates, language) for language in ("en", "ko")}
    by_category: dict[str, list[Product]] = {}
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        try:
            # A short row is refused, not read with its last columns blank: a cell left off
            # by mistake would otherwise print the English name in Korean ads or offer a
            # discount on an account. Columns the header omits are not the row's.
            check_csv_row(row)
            product = _product_from_row(row)
            _check_room(product, rooms)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}, product {i}: {exc}") from None
        if product.name.casefold() in seen:
            raise ValueError(f"{path}, product {i}: duplicate name {product.name!r}.")
        seen.add(product.name.casefold())
        by_category.setdefault(product.category, []).append(product)
    return {c: tuple(by_category[c]) for c in INTERESTS if c in by_category}


#: Categories whose products are never shipped (apps, accounts, online courses): a
#: "free shipping" offer on them promises nothing, so it is never made.
NOT_SHIPPED: frozenset[str] = frozenset({"finance"})


def fitting_offers(category: str, offers: tuple[str, ...] = OFFERS) -> tuple[str, ...]:
    """The offers of ``offers`` that make sense for a product of ``category``.

    Parameters
    ----------
    category : str
        One of ``INTERESTS``.
    offers : tuple of str, default OFFERS
        Candidates, in order.

    Returns
    -------
    fitting : tuple of str
        ``offers`` without ``"free_shipping"`` for a category in ``NOT_SHIPPED``; the
        order is kept. ``("none",)`` when nothing else is left.

    Examples
    --------
    >>> fitting_offers("finance", ("none", "free_shipping")), fitting_offers("pets", ("none",))
    (('none',), ('none',))
    """
    if category not in INTERESTS:
        raise ValueError(f"`category` must be one of {list(INTERESTS)}; got {category!r}.")
    fitting = tuple(o for o in offers if not (o == "free_shipping" and category in NOT_SHIPPED))
    return fitting or ("none",)


def _singular(word: str) -> str:
    # A plural's ending dropped, so "cubes" and "cube", "boxes" and "box", "accessories" and
    # "accessory", "glasses" and "glass" are one word; "dress" (a double s) is no plural.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _word_list(text: str) -> list[str]:
    # Case-folded words in order, each made singular.
    return [_singular(w.casefold()) for w in text.split()]


def _name_words(text: str) -> set[str]:
    # Case-folded words, each made singular ("cubes" and "cube" are one word).
    return set(_word_list(text))


#: Words that come with many products, never the one a search is about ("Packing Cube Set",
#: 미스터리 소설 세트). "lite", "max" and "ultra" name an edition, like "pro" and "mini"
#: ("Gaming Headset Lite").
_FILLER_WORDS = frozenset(
    {"set", "kit", "box", "pack", "bundle", "pro", "mini", "plus", "x", "lite", "max", "ultra",
     "세트", "묶음"}
)  # fmt: skip


#: Words that say in what form a thing is sold or held, not what it is: a "Cold Brew
#: Concentrate" is cold brew, a "Vinyl Record Club" sells vinyl records, a "savings account"
#: (적금 통장) holds savings. Passed over when finding a name's or a search's head noun, like
#: the filler words, but unlike them they still tell products apart in the score; and such a
#: product is also named by a search of the words before the form word alone (a search for
#: "vinyl" is about the record club).
_FORM_WORDS = frozenset(
    {"concentrate", "club", "subscription", "refill", "account", "클럽", "통장", "구독", "정기구독"}
)


def head_noun(name: str) -> str | None:
    """The word of a product name that says what the product is: its head noun.

    In English and Korean noun phrases the head is the last word ("Family Tent" is a tent,
    "Tent Pegs" are pegs, "캠핑 텐트" a 텐트), passing over filler ("Robot Vacuum Mini",
    "Packing Cube Set"), form words ("Cold Brew Concentrate"), model codes ("Smartwatch S2")
    and a specification of capitals and a number ("Daily Sunscreen SPF 50").

    Parameters
    ----------
    name : str

    Returns
    -------
    head : str or None
        Case-folded and singular ("pegs" -> "peg"); None when every word is passed over.

    Examples
    --------
    >>> head_noun("Tent Pegs"), head_noun("Family Tent"), head_noun("Daily Sunscreen SPF 50")
    ('peg', 'tent', 'sunscreen')
    """
    kinds = _kind_words(name)
    return kinds[-1] if kinds else None


def _kind_words(name: str) -> list[str]:
    # The head noun alone; for a product sold in a form ("Vinyl Record Club"), every word
    # before the form word, the head last. Case-folded and singular.
    words = name.split()
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if any(ch.isdigit() for ch in word):
            continue
        # "SPF" of "SPF 50": capitals before a number name a measure, not the product.
        if word.isupper() and i + 1 < len(words) and words[i + 1].isdigit():
            continue
        folded = _singular(word.casefold())
        if folded in _FORM_WORDS:
            subject = _word_list(" ".join(words[:i]))
            head = head_noun(" ".join(words[:i]))
            return [w for w in subject if w != head] + [head] if head else []
        if folded not in _FILLER_WORDS:
            return [folded]
    return []


def _named_in(word: str | None, words: list[str], min_inner: int) -> bool:
    # ``word`` among ``words``, or one inside the other when the inner one has ``min_inner``
    # letters or more ("book" in "cookbook"; Korean writes compounds whole: "청소기" in
    # "로봇청소기").
    return word is not None and any(
        word == w or (min(len(word), len(w)) >= min_inner and (word in w or w in word))
        for w in words
    )


def _same_kind(name: str, search: str, *, min_inner: int) -> bool:
    """Whether a search is about the product's kind of thing: its head is the name's head.

    A search is about its own head noun, its last word past filler and form words
    ("camping tent" is about a tent, "savings account" about savings), and so is a name
    (:func:`head_noun`). "camping tent" names "Family Tent" and "savings account" names
    "High-Yield Savings"; not "Camping Chair" (chair), "Tent Pegs" (pegs) nor "Tent Peg
    Club" (pegs, sold as a club), though each holds a word of it; and "tent pegs" does not
    name "Family Tent". A product sold in a form is also named by a search made only of
    the words before the form word: "vinyl" names the "Vinyl Record Club". The one matcher
    of the copy and the simulated world (both go through :func:`product_search`).
    """
    search_head = head_noun(search)
    kinds = _kind_words(name)
    if search_head is None or not kinds:
        return False
    if _named_in(search_head, kinds[-1:], min_inner):
        return True
    # A product sold in a form has more than its head among its kind words.
    subject = kinds[:-1]
    searched = [w for w in _word_list(search) if w not in _FILLER_WORDS]
    return bool(subject) and all(_named_in(w, kinds, min_inner) for w in searched)


@lru_cache(maxsize=len(INTERESTS))
def _category_words(category: str) -> frozenset[str]:
    """Words of ``category``'s searches that name the category, not one of its products.

    Its own name ("gaming": "gaming headset" is not about Gaming Mouse X) and every word
    two or more searches of the vocabulary share ("dog" in "dog treats" and "dog harness",
    "app", "bag", "jacket"), with the filler words of product names.
    """
    counts: dict[str, int] = {}
    for keywords in INTEREST_KEYWORDS.values():
        for keyword in keywords:
            for word in _name_words(keyword):
                counts[word] = counts.get(word, 0) + 1
    shared = {w for w, n in counts.items() if n > 1}
    return frozenset(shared | _name_words(category) | _FILLER_WORDS)


def product_search(product: Product) -> str | None:
    """The search of the product's category that names the product, if one does.

    The vocabulary keyword (:data:`creative.vocabulary.INTEREST_KEYWORDS`) sharing the most
    words with the product's English name. Only words that tell products apart count: not
    the category's own name, not a word two searches share ("gaming", "dog", "app") and not
    a filler word ("set", "kit", "pro"), so "gaming headset" never names Gaming Mouse X. A
    word of four letters or more inside another ("book" in "cookbook") counts half; a
    shorter one never does (the "c" of "vitamin c serum" is not in "Miracle"). Plurals are
    made singular ("cubes", "boxes", "accessories"). And the search must be about the
    product's kind of thing: its head (its last word) is the product's head noun
    (:func:`head_noun`, the last word past filler, form words and model codes), in the
    English names or in the Korean ones (a "Camping Shelter" named 캠핑 텐트), so "camping
    tent" names a Family Tent but never a Camping Chair on the word "camping", nor Tent Pegs
    or a Tent Peg Club on "tent", and "guitar strings" never an Acoustic Guitar. Ties go to the
    category's earlier keyword. Copy that prints a search prefers this one, so an ad
    for Canvas Sneakers speaks of "sneakers", not of another search of the same category.

    Parameters
    ----------
    product : Product

    Returns
    -------
    keyword : str or None
        In English; None when no keyword shares such a word with the name.

    Examples
    --------
    >>> product_search(CATALOGUE["fashion"][0]), product_search(CATALOGUE["books"][2])
    ('sneakers', 'cookbook')
    >>> product_search(CATALOGUE["finance"][2]) is None  # Investing Course
    True
    >>> product_search(Product(name="Gaming Mouse X", name_ko="게이밍 마우스 X",
    ...                        category="gaming", price=49.0)) is None
    True
    >>> product_search(Product(name="Camping Chair", name_ko="캠핑 의자",
    ...                        category="outdoors", price=39.0)) is None
    True
    >>> product_search(Product(name="Tent Pegs", name_ko="텐트 팩",
    ...                        category="outdoors", price=9.0)) is None
    True
    """
    generic = _category_words(product.category)
    name = _name_words(product.name)
    best, best_score = None, 0.0
    searches = zip(INTEREST_KEYWORDS[product.category], INTEREST_KEYWORDS_KO[product.category])
    for keyword, keyword_ko in searches:
        # The search must be about the product's kind of thing, in either language's
        # names: a shared modifier ("camping") does not make "camping tent" name a chair.
        if not (
            _same_kind(product.name, keyword, min_inner=4)
            or _same_kind(product.name_ko, keyword_ko, min_inner=2)
        ):
            continue
        words = _name_words(keyword)
        exact = (name & words) - generic
        # Half a word for one inside another, the inner one of four letters or more; an
        # inner category word counts too ("book" in "cookbook": the search's own word is
        # not the category's name).
        partial = sum(
            a != b and min(len(a), len(b)) >= 4 and (a in b or b in a) and not {a, b} <= generic
            for a in name
            for b in words
        )
        score = len(exact) + 0.5 * partial
        if score > best_score:
            best, best_score = keyword, score
    return best


def offer_fits(product: Product, offer: str) -> bool:
    """Whether ``offer`` can honestly be made on ``product``.

    Not free shipping on a product that is never shipped (:data:`NOT_SHIPPED`), and no
    discount on a product that is not ``discountable``.

    Examples
    --------
    >>> savings = CATALOGUE["finance"][1]
    >>> offer_fits(savings, "discount_10"), offer_fits(savings, "none")
    (False, True)
    """
    if offer not in OFFERS:
        raise ValueError(f"`offer` must be one of {list(OFFERS)}; got {offer!r}.")
    if offer not in fitting_offers(product.category, OFFERS):  # the category's rule
        return False
    return product.discountable or not offer.startswith("discount")


#: Category -> the product motif drawn for it (see ``creative.motifs``).
MOTIFS: dict[str, str] = {
    "fashion": "shirt",
    "beauty": "bottle",
    "gaming": "controller",
    "tech": "phone",
    "fitness": "dumbbell",
    "food": "bowl",
    "travel": "suitcase",
    "home": "house",
    "pets": "paw",
    "music": "note",
    "books": "book",
    "outdoors": "mountain",
    "finance": "chart",
    "kids": "blocks",
}

#: Products whose own picture says more than their category's (by name: a catalogue of
#: your own gets them too); every other product is drawn with its category's motif.
PRODUCT_MOTIFS: dict[str, str] = {
    "Canvas Sneakers": "shoe",
    "Trail Running Shoes": "shoe",
    "Waterproof Hiking Boots": "shoe",
    "Linen Tote": "bag",
    "Smartwatch S2": "watch",
    "Wireless Earbuds": "headphones",
    "Pro Gaming Headset": "headphones",
    "Studio Headphones": "headphones",
    "65W USB-C Charger": "plug",
    "Universal Adapter": "plug",
    "Mechanical Keyboard": "keyboard",
    "Grip Yoga Mat": "mat",
    "Cold Brew Concentrate": "cup",
    "Ceremonial Matcha": "cup",
    "Cotton Bedding Set": "bed",
    "Dimmable Desk Lamp": "lamp",
    "Robot Vacuum Mini": "vacuum",
    "Pet Camera": "camera",
    "Portable Speaker": "speaker",
    "Two-Person Tent": "tent",
    "Steel Thermos": "bottle",
    "Picture Book Bundle": "book",
    "Light School Bag": "bag",
    "Budget Planner App": "phone",
}


def motif_for(product: Product) -> str:
    """The picture drawn for ``product``: its own (:data:`PRODUCT_MOTIFS`) or its category's.

    Examples
    --------
    >>> motif_for(CATALOGUE["fashion"][0]), motif_for(CATALOGUE["fashion"][1])
    ('shoe', 'shirt')
    """
    return PRODUCT_MOTIFS.get(product.name, MOTIFS[product.category])


#: Language -> category -> label for the ``{interest}`` slot.
INTEREST_LABELS: dict[str, dict[str, str]] = {
    # English labels stand before a noun ("pet shoppers", "your next book favourite"):
    # the category names themselves read as broken copy there ("pets shoppers",
    # "Elevate your kids").
    "en": {
        "fashion": "fashion",
        "beauty": "beauty",
        "gaming": "gaming",
        "tech": "tech",
        "fitness": "fitness",
        "food": "food",
        "travel": "travel",
        "home": "home",
        "pets": "pet",
        "music": "music",
        "books": "book",
        "outdoors": "outdoor",
        "finance": "finance",
        "kids": "family",
    },
    "ko": {
        "fashion": "패션",
        "beauty": "뷰티",
        "gaming": "게임",
        "tech": "테크",
        "fitness": "운동",
        "food": "푸드",
        "travel": "여행",
        "home": "홈",
        "pets": "반려동물",
        "music": "음악",
        "books": "책",
        "outdoors": "아웃도어",
        "finance": "재테크",
        "kids": "키즈",
    },
}

#: Language -> time of day -> text for the ``{greeting}`` slot.
GREETINGS: dict[str, dict[str, str]] = {
    "en": {
        "morning": "Good morning",
        "daytime": "Hello",
        "evening": "Good evening",
        "night": "Up late",
    },
    "ko": {
        "morning": "좋은 아침이에요",
        "daytime": "안녕하세요",
        "evening": "좋은 저녁이에요",
        "night": "늦은 밤이네요",
    },
}

#: Language -> offer -> text for the ``{offer}`` slot and the badge ("" for none).
OFFER_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "none": "",
        "free_shipping": "Free shipping",
        "discount_10": "10% off",
        "discount_20": "20% off",
        "discount_30": "30% off",
    },
    "ko": {
        "none": "",
        "free_shipping": "무료 배송",
        "discount_10": "10% 할인",
        "discount_20": "20% 할인",
        "discount_30": "30% 할인",
    },
}


def format_price(price: float, language: str) -> str:
    """A price as shown in the ad: dollars in English, won in Korean.

    Parameters
    ----------
    price : float
        US dollars.
    language : str

    Returns
    -------
    label : str
        e.g. ``"$59.00"`` or ``"₩76,700"``.
    """
    if language == "ko":
        won = round(price * KRW_PER_USD, -2)
        return f"₩{int(won):,}"
    return f"${price:,.2f}"
