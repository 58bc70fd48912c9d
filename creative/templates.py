"""Copy templates: TOML loading, validation and safe slot filling.

Template text is never given to ``str.format``: a tiny parser splits it into
literal text and named slots, so a template can reach only the slot
values (never attributes, indexes or other variables), and the values are
inserted as plain text, braces and all. A template line has at most
``LIMITS.template`` characters and ``LIMITS.template_slots`` slots, so a
filled text stays short whatever the file holds.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from creative.fonts import check_drawable
from creative.guardrails import LENGTH_LIMITS, display_width
from creative.limits import LIMITS, read_toml, short_repr
from creative.vocabulary import LANGUAGES, TONES

__all__ = [
    "DEFAULT_TEMPLATES_PATH",
    "ONCE_SLOTS",
    "PARTS",
    "SLOTS",
    "CopyTemplate",
    "TemplateSet",
    "cta_fits",
    "cta_key_words",
    "default_templates",
    "fitting_bodies",
    "fitting_ctas",
    "load_templates",
    "pair_fits",
    "parse_template",
    "product_room",
    "search_names_product",
]

#: The only names a template may use. ``rating`` and ``customers`` are the brand kit's
#: declared facts (``BrandKit.facts``): a template naming one is used only when it is declared.
SLOTS: frozenset[str] = frozenset(
    {"product", "interest", "keyword", "offer", "greeting", "rating", "customers"}
)

#: The copy parts each tone provides.
PARTS: tuple[str, ...] = ("headline", "body", "cta")

#: ``assets/templates/default.toml`` beside the package.
DEFAULT_TEMPLATES_PATH: Path = (
    Path(__file__).resolve().parent.parent / "assets" / "templates" / "default.toml"
)

_SLOT_NAME = re.compile(r"[a-z_]+")


def parse_template(text: str, name: str) -> tuple[tuple[bool, str], ...]:
    """Split template text into literal pieces and slot names.

    Parameters
    ----------
    text : str
        Template text; ``{slot}`` names a slot, ``{{`` and ``}}`` are literal braces.
    name : str
        Template name for error messages, e.g. ``"en.playful.headline[2]"``.

    Returns
    -------
    parts : tuple of (bool, str)
        ``(True, slot_name)`` for a slot, ``(False, text)`` for literal text.

    Raises
    ------
    ValueError
        On an unknown slot (``{product.__class__}``, ``{0}``, ``{}``) or an
        unbalanced brace; the message names the template.
    """
    if not isinstance(text, str):
        raise TypeError(f"template {name}: text must be a str; got {type(text).__name__}.")
    if len(text) > LIMITS.template:
        raise ValueError(
            f"template {name}: `template` must be at most {LIMITS.template} characters; "
            f"got {len(text)}."
        )
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "}" and text.startswith("}}", i):
            literal.append("}")
            i += 2
        elif char == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise ValueError(
                    f"template {name}: unclosed '{{' at position {i} in {short_repr(text, 80)}."
                )
            slot = text[i + 1 : end]
            if not _SLOT_NAME.fullmatch(slot) or slot not in SLOTS:
                shown = slot if len(slot) <= 40 else f"{slot[:39]}…"
                raise ValueError(
                    f"template {name}: unknown slot {{{shown}}}; "
                    f"allowed slots are {sorted(SLOTS)} (write {{{{ for a literal brace)."
                )
            if literal:
                parts.append((False, "".join(literal)))
                literal = []
            parts.append((True, slot))
            i = end + 1
        elif char == "}":
            raise ValueError(
                f"template {name}: unmatched '}}' at position {i} in {short_repr(text, 80)} "
                "(write }} for a literal brace)."
            )
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append((False, "".join(literal)))
    n_slots = sum(is_slot for is_slot, _ in parts)
    if n_slots > LIMITS.template_slots:
        raise ValueError(
            f"template {name}: `template` must use at most {LIMITS.template_slots} slots; "
            f"got {n_slots}."
        )
    return tuple(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyTemplate:
    """One parsed template.

    Parameters
    ----------
    language : str
    tone : str
    part : {"headline", "body", "cta"}
    text : str
        The template as written.
    index : int
        Position in its list, for the name.
    named : str, optional
        The line to print instead when the ad quotes a search that already names the
        product (:func:`search_names_product`): "Into “{keyword}”? Here it is" for "Into
        “{keyword}”? Meet {product}", so a search "wireless earbuds" does not stand beside
        "Wireless Earbuds". It uses the template's slots but ``{product}`` (the search names
        it). Without one the line is printed as written.
    """

    language: str
    tone: str
    part: str
    text: str
    index: int = 0
    named: str | None = None
    pieces: tuple[tuple[bool, str], ...] = field(init=False, repr=False, compare=False)
    slots: frozenset[str] = field(init=False, repr=False, compare=False)
    named_template: CopyTemplate | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"`language` must be one of {list(LANGUAGES)}; got {self.language!r}.")
        if self.tone not in TONES:
            raise ValueError(f"`tone` must be one of {list(TONES)}; got {self.tone!r}.")
        if self.part not in PARTS:
            raise ValueError(f"`part` must be one of {list(PARTS)}; got {self.part!r}.")
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"template {self.name}: text must be a non-empty str.")
        # Refused, not drawn without them: the images would silently change the brand's copy.
        check_drawable(self.text, f"template {self.name}")
        pieces = parse_template(self.text, self.name)
        object.__setattr__(self, "pieces", pieces)
        object.__setattr__(self, "slots", frozenset(v for is_slot, v in pieces if is_slot))
        variant = None
        if self.named is not None:
            if "product" not in self.slots:
                raise ValueError(
                    f"template {self.name}: `named` is the line for a search that names the "
                    "product, so only a template with {product} may have one."
                )
            variant = CopyTemplate(
                language=self.language,
                tone=self.tone,
                part=self.part,
                text=self.named,
                index=self.index,
            )
            # The same slots but the product: what the ad prints (and the simulator credits)
            # of the viewer's greeting and search does not change with the variant.
            if variant.slots != self.slots - {"product"}:
                raise ValueError(
                    f"template {self.name}: `named` must use the slots "
                    f"{sorted(self.slots - {'product'})} (the template's but {{product}}); "
                    f"got {sorted(variant.slots)}."
                )
        object.__setattr__(self, "named_template", variant)

    def for_search(self, names_product: bool) -> CopyTemplate:
        """The template to fill: its ``named`` line when the quoted search names the product.

        Parameters
        ----------
        names_product : bool
            Whether the ad prints a search that names the product
            (:func:`search_names_product`).

        Returns
        -------
        template : CopyTemplate
            ``self`` unless ``names_product`` and the template has a ``named`` line.
        """
        if names_product and self.named_template is not None:
            return self.named_template
        return self

    @property
    def name(self) -> str:
        """``language.tone.part[index]``, used in every error message."""
        return f"{self.language}.{self.tone}.{self.part}[{self.index}]"

    @property
    def least_width(self) -> int:
        """Display width of the line with every slot filled by one column.

        Its literal text plus one per slot: no filled line is narrower (a slot is used
        only when its value is non-empty), so a line whose ``least_width`` is over its
        part's length limit can never pass the guardrails.
        """
        literal = sum(display_width(v) for is_slot, v in self.pieces if not is_slot)
        return literal + len(self.slots)

    def fill(self, values: Mapping[str, str]) -> str:
        """Substitute slot values, inserted literally.

        Parameters
        ----------
        values : mapping of str to str
            Slot name -> text. Extra names are ignored.

        Returns
        -------
        text : str

        Raises
        ------
        ValueError
            When a slot the template uses has no value.
        """
        missing = sorted(s for s in self.slots if not values.get(s))
        if missing:
            raise ValueError(f"template {self.name}: no value for slot(s) {missing}.")
        return "".join(values[v] if is_slot else v for is_slot, v in self.pieces)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateSet:
    """Every template, for each language, tone and part.

    Parameters
    ----------
    templates : tuple of CopyTemplate
        Must give at least one template for every (language, tone, part).
    source : str
        Where the templates came from, for messages.
    """

    templates: tuple[CopyTemplate, ...]
    source: str = "<memory>"
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.templates, tuple) or not all(
            isinstance(t, CopyTemplate) for t in self.templates
        ):
            raise TypeError("`templates` must be a tuple of CopyTemplate.")
        index: dict[tuple[str, str, str], list[CopyTemplate]] = {}
        for t in self.templates:
            index.setdefault((t.language, t.tone, t.part), []).append(t)
        missing = [
            f"{lang}.{tone}.{part}"
            for lang in LANGUAGES
            for tone in TONES
            for part in PARTS
            if (lang, tone, part) not in index
        ]
        if missing:
            raise ValueError(f"templates from {self.source}: no templates for {missing}.")
        object.__setattr__(self, "_index", {k: tuple(v) for k, v in index.items()})

    def options(
        self, language: str, tone: str, part: str, available: frozenset[str] | set[str]
    ) -> tuple[CopyTemplate, ...]:
        """Templates whose every slot is in ``available``.

        Parameters
        ----------
        language, tone, part : str
        available : set of str
            Slots that have a value for this creative.

        Returns
        -------
        templates : tuple of CopyTemplate
            Possibly empty.
        """
        return tuple(t for t in self._index[(language, tone, part)] if t.slots <= available)


#: Slots an ad prints once: a headline and its body never share one (the product named
#: twice, the offer stated in both and again in the badge, the search quoted twice).
ONCE_SLOTS: frozenset[str] = frozenset(
    {"product", "offer", "keyword", "greeting", "rating", "customers"}
)


def pair_fits(headline: CopyTemplate, body: CopyTemplate) -> bool:
    """Whether a headline and a body complement each other.

    They share none of :data:`ONCE_SLOTS` and name the product once between them.

    Parameters
    ----------
    headline, body : CopyTemplate

    Returns
    -------
    fits : bool
    """
    return not (headline.slots & body.slots & ONCE_SLOTS) and "product" in (
        headline.slots | body.slots
    )


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def search_names_product(keyword: str | None, product: str) -> bool:
    """Whether a quoted search already names the product: it holds its whole name, any case.

    Parameters
    ----------
    keyword : str or None
        The search the ad quotes (None: it quotes none).
    product : str
        The product's name as the ad prints it.

    Returns
    -------
    names : bool

    Examples
    --------
    >>> search_names_product("wireless earbuds", "Wireless Earbuds")
    True
    >>> search_names_product("캣타워", "캣타워"), search_names_product("cat tree", "Cat Tree Tower")
    (True, False)
    """
    if not keyword or not product.strip():
        return False
    return _folded(product) in _folded(keyword)


def fitting_bodies(
    headline: CopyTemplate, bodies: tuple[CopyTemplate, ...]
) -> tuple[CopyTemplate, ...]:
    """The ``bodies`` that fit ``headline`` (:func:`pair_fits`); all of them when none does.

    A template file of one's own may pair nothing; its ads then repeat a slot rather than
    fail (the bundled templates always pair).
    """
    return tuple(b for b in bodies if pair_fits(headline, b)) or bodies


#: Words of a call to action that carry no action of their own: "Take a look" is about
#: looking, "See it now" about seeing, "지금 보기" about 보기 (light verbs, pronouns, adverbs
#: of time and degree). A line may share them with its button.
_CTA_LIGHT_WORDS: frozenset[str] = frozenset(
    {"a", "an", "the", "it", "it's", "its", "out", "more", "now", "up", "let's", "lets", "take",
     "get", "to", "me", "us", "them", "here", "your", "yours", "this", "that", "and", "for",
     "of", "in", "on", "at", "지금", "바로", "더", "한번", "여기", "좀"}
)  # fmt: skip
_EN_WORD = re.compile(r"[a-z][a-z']*")
_KO_WORD = re.compile(r"[가-힣]+")
_SLOT = re.compile(r"\{[a-z_]+\}")


def _en_stem(word: str) -> str:
    # One regular ending off ("looks", "looked", "looking" -> "look"; "compare", "compared"
    # -> "compar"; "sees", "see" -> "se"), keeping at least two letters.
    word = word.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    return word


# Endings that make a one-syllable verb stem a word of its own: the -기 noun (with its
# particles), the polite request, purpose and condition. Endings that also end nouns are
# left out: 보고 is "report", 사자 "lion", 사는 "living", 보다 "than".
_KO_OPEN_ENDINGS = ("기", "기를", "기에", "기도", "기만", "세요", "셔요", "시고", "시면",
                    "시죠", "십시오", "실래요", "러", "려고", "려면", "면", "면서")  # fmt: skip
_KO_CLOSED_ENDINGS = ("기", "기를", "기에", "기도", "기만", "으세요", "으셔요", "으시고",
                      "으시면", "으시죠", "으십시오", "으실래요", "으러", "으려고", "으려면",
                      "으면", "으면서")  # fmt: skip
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
# Vowels (index in a Hangul syllable) of the -아/-어 form that an auxiliary verb follows:
# ㅏ ㅐ ㅓ ㅕ ㅘ ㅙ ㅝ (가 보세요, 해 보세요, 입어 보세요, 켜 보세요, 봐 보세요, 줘 보세요).
_CONNECTIVE_VOWELS = frozenset({0, 1, 4, 6, 9, 10, 14})
#: Words of those vowels that are no -아/-어 form: the particles 에서 and 부터, 먼저, 거
#: ("this one"), 다 ("all"). 매장에서 보러 오세요 sees.
_NOT_CONNECTIVE = ("에서", "부터", "먼저", "거", "다")


def _syllable_parts(char: str) -> tuple[int, int] | None:
    # (vowel index, final consonant index) of a Hangul syllable; None for any other character.
    code = ord(char)
    if not _HANGUL_FIRST <= code <= _HANGUL_LAST:
        return None
    offset = code - _HANGUL_FIRST
    return (offset // 28) % 21, offset % 28


def _ko_verb_forms(stem: str) -> tuple[str, ...]:
    # The words a one-syllable verb stem makes with the endings above; 보 (open, ㅗ) also
    # contracts with -아 into 봐 (봐요, 봐도), as 오 into 와.
    parts = _syllable_parts(stem)
    if parts is None:
        return ()
    vowel, final = parts
    if final:
        return tuple(stem + e for e in _KO_CLOSED_ENDINGS)
    forms = [stem + e for e in _KO_OPEN_ENDINGS]
    if vowel == 8:  # ㅗ -> ㅘ
        contracted = chr(ord(stem) + (9 - 8) * 28)
        forms += [contracted + e for e in ("", "요", "도", "야")]
    return tuple(forms)


def _ko_repeats_one_syllable(stem: str, text: str) -> bool:
    """Whether ``text`` uses the one-syllable verb ``stem`` as a verb of its own.

    A word that is the stem with one of a few endings (보기, 보세요, 보러, 보면, 봐요), not
    inside another word (보습, 보온병, 살펴보세요) and not as the auxiliary "try" after an
    -아/-어 form (시작해 보세요, 입어 보면): 보 of [지금 보기] repeats 직접 보세요, not 시작해
    보세요.
    """
    for form in _ko_verb_forms(stem):
        for m in re.finditer(rf"(?<![가-힣]){re.escape(form)}(?![가-힣])", text):
            before = text[: m.start()]
            previous = before.rstrip()
            parts = _syllable_parts(previous[-1]) if previous and previous != before else None
            if (
                parts is not None
                and parts[1] == 0
                and parts[0] in _CONNECTIVE_VOWELS
                and not previous.endswith(_NOT_CONNECTIVE)
            ):
                continue  # the auxiliary "try" after an -아/-어 form
            return True
    return False


def cta_key_words(cta: str, language: str) -> frozenset[str]:
    """The words of a call to action that name its action, as stems.

    English: every word but the light ones ("take", "get", "it", "now", "more"...), with one
    regular ending cut ("Take a look" -> ``{"look"}``, "See details" -> ``{"se", "detail"}``).
    Korean: every word but 지금, 바로, 더, 한번, with the ending 하기 or 기 cut ("살펴보기" ->
    ``{"살펴보"}``, "바로 시작하기" -> ``{"시작"}``, "지금 보기" -> ``{"보"}``). A stem of
    two syllables or more repeats a line that holds it anywhere; a one-syllable one (보)
    only as a verb of its own (:func:`cta_fits`), since 보 is also the auxiliary "try"
    (시작해 보세요) and part of many words (보습, 보온병).

    Parameters
    ----------
    cta : str
        The call to action's text (slots are ignored).
    language : str
        One of ``LANGUAGES``.

    Returns
    -------
    stems : frozenset of str

    Examples
    --------
    >>> sorted(cta_key_words("Take a look", "en")), sorted(cta_key_words("자세히 보기", "ko"))
    (['look'], ['보', '자세히'])
    """
    text = _SLOT.sub(" ", unicodedata.normalize("NFC", cta)).casefold()
    if language == "ko":
        stems = set()
        for word in _KO_WORD.findall(text):
            if word in _CTA_LIGHT_WORDS:
                continue
            stem = word.removesuffix("하기") if word.endswith("하기") else word.removesuffix("기")
            if stem:
                stems.add(stem)
        return frozenset(stems)
    return frozenset(_en_stem(w) for w in _EN_WORD.findall(text) if w not in _CTA_LIGHT_WORDS)


def cta_fits(cta: CopyTemplate, *lines: CopyTemplate) -> bool:
    """Whether a call to action says something its headline and body do not.

    The button repeats the copy above it when a line holds one of its key words
    (:func:`cta_key_words`): in English a word of the same stem ("Take a closer look." above
    [Take a look], "Compare the {product}" above [Compare]); in Korean the stem anywhere in
    a word ("꼼꼼히 살펴보고" above [살펴보기]); a one-syllable Korean stem only as a verb
    of its own, a word of the stem and an ending, not the auxiliary after an -아/-어 form
    ("직접 보세요" above [지금 보기], not "시작해 보세요"). A line's ``named`` variant counts
    too, since it may be the one printed.

    Parameters
    ----------
    cta : CopyTemplate
    *lines : CopyTemplate
        The headline and the body printed above it.

    Returns
    -------
    fits : bool
    """
    keys = cta_key_words(cta.text, cta.language)
    if not keys:
        return True
    for line in lines:
        for variant in filter(None, (line, line.named_template)):
            text = _SLOT.sub(" ", unicodedata.normalize("NFC", variant.text)).casefold()
            if cta.language == "ko":
                if any(
                    k in text if len(k) >= 2 else _ko_repeats_one_syllable(k, text) for k in keys
                ):
                    return False
            elif keys & {_en_stem(w) for w in _EN_WORD.findall(text)}:
                return False
    return True


def fitting_ctas(
    lines: tuple[CopyTemplate, ...], ctas: tuple[CopyTemplate, ...]
) -> tuple[CopyTemplate, ...]:
    """The ``ctas`` that repeat none of ``lines`` (:func:`cta_fits`); all when none fits.

    Like :func:`fitting_bodies`, a template file of one's own may leave no call to action
    that fits; its ads then repeat a word rather than fail (the bundled ones never do).
    """
    return tuple(c for c in ctas if cta_fits(c, *lines)) or ctas


def _is_entry(entry: object) -> bool:
    # A template with its line for a search that names the product:
    # { text = "Into “{keyword}”? Meet {product}", named = "Into “{keyword}”? Here it is" }.
    return (
        isinstance(entry, Mapping)
        and set(entry) in ({"text"}, {"text", "named"})
        and all(isinstance(v, str) for v in entry.values())
    )


def _from_mapping(data: Mapping, source: str) -> list[CopyTemplate]:
    out: list[CopyTemplate] = []
    for lang, tones in data.items():
        if lang not in LANGUAGES:
            raise ValueError(
                f"templates from {source}: unknown language table [{lang}]; "
                f"expected one of {list(LANGUAGES)}."
            )
        if not isinstance(tones, Mapping):
            raise ValueError(f"templates from {source}: [{lang}] must be a table of tones.")
        for tone, parts in tones.items():
            if tone not in TONES:
                raise ValueError(
                    f"templates from {source}: unknown tone [{lang}.{tone}]; "
                    f"expected one of {list(TONES)}."
                )
            if not isinstance(parts, Mapping):
                raise ValueError(f"templates from {source}: [{lang}.{tone}] must be a table.")
            for part, texts in parts.items():
                where = f"{lang}.{tone}.{part}"
                if part not in PARTS:
                    raise ValueError(
                        f"templates from {source}: unknown key {where}; "
                        f"expected one of {list(PARTS)}."
                    )
                if (
                    not isinstance(texts, list)
                    or not texts
                    or not all(isinstance(t, str) or _is_entry(t) for t in texts)
                ):
                    raise ValueError(
                        f"templates from {source}: {where} must be a non-empty array of strings "
                        '(or of { text = "...", named = "..." } tables).'
                    )
                if len(texts) > LIMITS.templates_per_list:
                    raise ValueError(
                        f"templates from {source}: {where} must have at most "
                        f"{LIMITS.templates_per_list} templates; got {len(texts):,}."
                    )
                try:
                    out.extend(
                        CopyTemplate(language=lang, tone=tone, part=part, text=t, index=i)
                        if isinstance(t, str)
                        else CopyTemplate(
                            language=lang,
                            tone=tone,
                            part=part,
                            text=t["text"],
                            named=t.get("named"),
                            index=i,
                        )
                        for i, t in enumerate(texts)
                    )
                except (ValueError, TypeError) as exc:
                    # The template's own message names the line; the user also needs the file.
                    raise ValueError(f"templates from {source}: {exc}") from None
    return out


def _widest_limit(part: str) -> int:
    # The most columns any placement allows ``part``: a line over it fits no placement.
    return max(getattr(limits, part) for limits in LENGTH_LIMITS.values())


#: Parts whose list is refused when none of its lines can fit. The guardrails hold the whole
#: filled headline, body and call to action to :data:`LENGTH_LIMITS` (the renderer may leave
#: a body's last sentences out of a small image, but the verdict is on the copy as written),
#: so such a list makes every ad of its language and tone fail the ``length`` rule.
_FITTED_PARTS: tuple[str, ...] = ("headline", "body", "cta")


def _check_lines_fit(templates: list[CopyTemplate], source: str) -> None:
    """Refuse a headline, body or call-to-action list whose every line is too long anywhere.

    Every ad of that language and tone would then fail the length guardrail, and the
    experiment would find out only after building its world.
    """
    lists: dict[tuple[str, str, str], list[CopyTemplate]] = {}
    for t in templates:
        if t.part in _FITTED_PARTS:
            lists.setdefault((t.language, t.tone, t.part), []).append(t)
    for (language, tone, part), lines in lists.items():
        limit = _widest_limit(part)
        shortest = min(lines, key=lambda t: t.least_width)
        if shortest.least_width > limit:
            raise ValueError(
                f"templates from {source}: every {language}.{tone} {part} is too long: "
                f"the shortest, {short_repr(shortest.text, 60)}, takes {shortest.least_width} "
                f"columns even with one-column slot values, and a {part} may have at most "
                f"{limit}; shorten one."
            )


def product_room(templates: TemplateSet, language: str) -> tuple[int, CopyTemplate | None]:
    """The widest product name some line of ``templates`` can print within its length limit.

    For each template naming ``{product}``, its part's widest length limit (over the
    placements) less the rest of the line (:attr:`CopyTemplate.least_width` without the
    product's column); the largest over the language's templates. A longer name fails the
    length guardrail in every ad that prints it.

    Parameters
    ----------
    templates : TemplateSet
    language : str
        One of ``LANGUAGES``.

    Returns
    -------
    room : int
        Display columns (a wide Hangul character counts 2); 0 when no template names
        ``{product}``.
    template : CopyTemplate or None
        The template that leaves the most room.

    Examples
    --------
    >>> room, line = product_room(default_templates(), "en")
    >>> room, line.text  # 64 columns less "Rated " and ": " and one for the rating
    (55, 'Rated {rating}: {product}')
    """
    if language not in LANGUAGES:
        raise ValueError(f"`language` must be one of {list(LANGUAGES)}; got {language!r}.")
    best, best_room = None, 0
    for t in templates.templates:
        if t.language == language and "product" in t.slots:
            room = _widest_limit(t.part) - (t.least_width - 1)
            if room > best_room:
                best, best_room = t, room
    return best_room, best


def _read_toml(path: Path) -> dict:
    return read_toml(path, "templates")


def load_templates(
    path: str | Path | None = None, *, base: TemplateSet | None = None
) -> TemplateSet:
    """Load and validate a templates TOML file.

    Parameters
    ----------
    path : str or Path, optional
        A user file. None loads ``assets/templates/default.toml``.
    base : TemplateSet, optional
        Templates the user file extends: each ``(language, tone, part)`` list
        in the file replaces that list of ``base``; the rest is kept. Defaults
        to the bundled templates when ``path`` is given.

    Returns
    -------
    templates : TemplateSet

    Raises
    ------
    ValueError
        On a missing or malformed file, an unknown language, tone, part or
        slot, or a language and tone whose every headline, or every body, is longer than
        any placement allows before its slots are filled; the message names the file and
        the template (or the tone, the part and the limit).
    """
    if path is None:
        return default_templates()
    path = Path(path)
    data = _read_toml(path)
    user = _from_mapping(data, str(path))
    if not user:
        raise ValueError(f"templates from {path}: the file defines no templates.")
    _check_lines_fit(user, str(path))
    if base is None:
        base = default_templates()
    replaced = {(t.language, t.tone, t.part) for t in user}
    kept = tuple(t for t in base.templates if (t.language, t.tone, t.part) not in replaced)
    return TemplateSet(templates=kept + tuple(user), source=str(path))


@functools.cache
def default_templates() -> TemplateSet:
    """The bundled templates, read once on first use (not at import).

    Cached, not module state: the set is frozen, so every session shares one read.
    """
    data = _read_toml(DEFAULT_TEMPLATES_PATH)
    return TemplateSet(
        templates=tuple(_from_mapping(data, str(DEFAULT_TEMPLATES_PATH))),
        source=str(DEFAULT_TEMPLATES_PATH),
    )
