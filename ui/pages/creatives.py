"""Creatives page: the ads adlab writes for each segment, for everyone, and for one user."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from functools import partial

import streamlit as st

from creative.audience import Audience
from creative.encode import encode_image
from creative.generate import generate_for_user
from creative.guardrails import find_banned_names
from creative.manifest import MANIFEST_COLUMNS, manifest_row
from creative.record import Creative
from creative.render import draw_plan, plan_creative
from creative.vocabulary import INTERESTS, LAYOUTS, OFFERS, TIMES_OF_DAY, TONES
from simulation.population import user_audience
from simulation.rng import stream
from ui import cache, compose_view, state
from ui.fmt import component_name, escape_markdown
from ui.forms import DEFAULT_CONFIG
from ui.uploads import (
    MAX_UPLOAD_BYTES,
    UploadError,
    format_mb,
    parse_catalogue_upload,
    parse_templates_upload,
    refit_catalogue,
    uploader_mb,
)

COMPOSE_TAB = "Compose (generated level)"
PLACEMENT_NAMES = {
    "feed": "Feed (square)",
    "story": "Story (tall, mobile)",
    "link": "Link (wide, desktop)",
}
#: A radio whose value is None shows nothing selected, so "the audience's own" is a string.
LANGUAGE_NAMES = {"own": "The audience's own", "en": "English", "ko": "Korean"}


def _choices(segmentation) -> dict[str, tuple[Audience | None, str]]:
    """Option label -> (audience or None for generic, random stream name)."""
    out: dict[str, tuple[Audience | None, str]] = {
        "Generic (everyone, no audience data)": (None, "generic")
    }
    for p in segmentation.profiles:
        out[f"Segment {p.segment_id}: {p.name}"] = (p.to_audience(), f"segment/{p.segment_id}")
    uploaded = st.session_state.get("uploaded_segments")
    if uploaded:
        for a in uploaded[1]:
            out[f"Uploaded: {a.name} ({a.audience_id})"] = (a, f"upload/{a.audience_id}")
    return out


def _verdict(c: Creative) -> str:
    if c.guardrail.passed:
        return "Guardrails: pass"
    return "Guardrails: rejected (" + "; ".join(c.guardrail.reasons) + ")"


def _card(c: Creative, size: tuple[int, int]) -> None:
    if not c.guardrail.passed:
        # A rejected ad must not look like one that may run.
        st.error(
            "**Rejected by the guardrails**: " + escape_markdown("; ".join(c.guardrail.reasons)),
            icon=":material/block:",
        )
    st.image(cache.preview_png(c, size), output_format="PNG", width="stretch")
    # The copy as this image prints it: a small preview may end the body early, and a
    # greeting or search in the sentences it leaves out is not shown either.
    plan = plan_creative(c, size)
    st.text(f"{c.headline}\n{plan.body}\n[{c.cta}]" if plan.body else f"{c.headline}\n[{c.cta}]")
    if plan.left_out.get("body"):
        st.caption(escape_markdown(f"Left out at this size: {plan.left_out['body']}"))
    st.caption(
        escape_markdown(
            f"{c.product} · {c.price_label}{'' if c.show_price else ' (not printed)'} · "
            f"tone {component_name('tone', c.tone)} · {component_name('offer', c.offer)} · "
            f"layout {c.layout} · palette {c.palette.name} · "
            f"{component_name('language', c.language)}"
        )
    )
    st.caption(escape_markdown(_verdict(c)))


def _choice(axis: str, value: str) -> str:
    """A tone or offer choice in words ("social proof", "10 % off"); "auto" as it is."""
    return value if value == "auto" else component_name(axis, value)


def zip_creatives(creatives: Sequence[Creative], placement: str, segment: str) -> bytes:
    """Full-size PNGs and a ``manifest.csv`` (the creative CLI's columns) in one ZIP."""
    buffer, manifest = io.BytesIO(), io.StringIO()
    writer = csv.DictWriter(manifest, fieldnames=MANIFEST_COLUMNS)
    writer.writeheader()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for c in creatives:
            folder = "" if c.guardrail.passed else "rejected/"
            name = f"{folder}{c.creative_id}.png"
            plan = plan_creative(c, placement)
            zf.writestr(name, encode_image(draw_plan(c, plan), "png"))
            row = manifest_row(c, plan, segment=segment, size=placement, file=name)
            # The app has always named the audience by its id here (the command line by
            # its name): kept, so a downloaded manifest reads as before.
            writer.writerow(row | {"audience": c.audience.audience_id})
        zf.writestr("manifest.csv", manifest.getvalue())
    return buffer.getvalue()


def _catalogue_upload() -> None:
    """Upload a product catalogue for experiments (the Experiment page's "Use my catalogue")."""
    with st.expander("Product catalogue (upload your own CSV, for experiments)"):
        st.markdown(
            "A CSV with the columns `name`, `category` (one of the interest categories), "
            "`price` (US dollars) and optionally `name_ko`, `discountable` (`no` for a "
            "product no discount can be offered on, such as an account) and `show_price` "
            "(`no` for a nominal price the ads must not print, such as an account's "
            "opening amount). Tick **Use my "
            "catalogue** on the Experiment page: the ads then show your products (the Gallery "
            "below previews them once you run with it), and order values follow your "
            "prices. At most 1,000 products. Each name must fit some headline of the copy "
            "templates in force: your own, when you uploaded them above (then going back "
            "to the bundled templates checks the catalogue again, and a catalogue only "
            "they have room for is run with **Use my templates** ticked too: it is said "
            "below when that is so)."
        )
        file = st.file_uploader(
            f"Catalogue file (CSV, up to {format_mb(MAX_UPLOAD_BYTES)})",
            type=["csv"],
            max_upload_size=uploader_mb(MAX_UPLOAD_BYTES),  # the drop zone says the same
            key="catalogue-file",
            on_change=state.forget_on_removal("catalogue-file", "uploaded_catalogue"),
        )
        if state.new_upload("catalogue-file", file):
            data = file.getvalue()
            try:
                # Checked against the templates in force, as a command-line run with both
                # files checks it: the user's may have room for a name the bundled lack.
                catalogue = parse_catalogue_upload(file.name, data, templates=_templates_in_force())
            except UploadError as exc:
                state.upload_refused("catalogue-file")  # the catalogue in use before stays
                st.session_state["catalogue-error"] = str(exc)
            else:
                st.session_state["uploaded_catalogue"] = (file.name, data, catalogue)
                state.upload_accepted("catalogue-file", file.file_id)
                st.session_state.pop("catalogue-error", None)
                st.session_state.pop("templates-kept", None)  # it named the previous one
        if st.session_state.get("catalogue-error"):
            kept = st.session_state.get("uploaded_catalogue")
            st.error(
                f"That catalogue was not used: "
                f"{escape_markdown(st.session_state['catalogue-error'])} "
                + (
                    f"The previous catalogue ({escape_markdown(kept[0])}) is kept."
                    if kept
                    else "No catalogue is in use: experiments use the bundled products."
                )
            )
        current = st.session_state.get("uploaded_catalogue")
        if current:
            name, _, catalogue = current
            products = [p for ps in catalogue.values() for p in ps]
            st.success(
                f"Catalogue {escape_markdown(name)}: {len(products):,} products in "
                f"{len(catalogue)} categories."
            )
            st.dataframe(
                [
                    {
                        "name": p.name,
                        "category": p.category,
                        "price": p.price,
                        "discountable": p.discountable,
                        "price shown": p.price_shown,
                    }
                    for p in products
                ],
                hide_index=True,
            )
            _bundled_templates_note(name, current[1])
            _banned_names_warning(products)
            if st.button("Remove the catalogue"):
                st.session_state.pop("uploaded_catalogue", None)
                st.rerun()


def _bundled_templates_note(name: str, data: bytes) -> None:
    """Say beside the upload when the catalogue needs the user's templates to run.

    It was checked against the templates in force, the user's when uploaded; an experiment
    with **Use my catalogue** but not **Use my templates** reads it against the bundled
    ones, and would be refused only at its start, on another page.
    """
    if st.session_state.get("templates") is None:
        return  # checked against the bundled templates already, at upload
    reason = cache.bundled_templates_misfit(name, data)
    if reason is None:
        return
    st.warning(
        f"This catalogue fits your templates only: tick **Use my templates** with **Use my "
        f"catalogue** on the Experiment page, or the run is refused at its start (with the "
        f"bundled templates: {escape_markdown(reason)})",
        icon=":material/warning:",
    )


def _banned_names_warning(products) -> None:
    """Name the products whose own name holds a banned claim, and what becomes of them."""
    found = find_banned_names(products)
    if not found:
        return
    listed = "; ".join(f"{name} ({', '.join(claims)})" for name, claims in found)
    st.warning(
        f"{len(found):,} product name(s) contain a phrase the brand kit bans: "
        f"{escape_markdown(listed)}. The guardrails treat a product's name as the brand's "
        "own and skip it when they look for claims, so their ads are not rejected for it: "
        "they print the name as written, claim included. Rename the products (or remove them "
        "from the file) if the brand cannot back that claim.",
        icon=":material/warning:",
    )


def _catalogue_in_use() -> tuple[str, bytes, dict] | None:
    """The uploaded catalogue (file name, CSV bytes, parsed) when experiments use it.

    In use means uploaded here and **Use my catalogue** ticked in the Experiment form (its
    value once the form is submitted): the gallery then previews the products an experiment
    shows.
    """
    current = st.session_state.get("uploaded_catalogue")
    ticked = st.session_state.get(
        "ex-own-catalogue", st.session_state.get("keep:ex-own-catalogue", False)
    )
    return current if current and ticked else None


def _templates_in_force():
    """The uploaded copy templates (a TemplateSet), or None for the bundled ones."""
    current = st.session_state.get("templates")
    return cache.templates(current[1]) if current else None


def _catalogue_fits_bundled() -> bool:
    """Whether the uploaded catalogue (if any) fits the bundled templates; says why not.

    Asked before the user's templates are removed: a name only they have room for would
    leave a catalogue no run can use, so the templates stay and the reason is kept for the
    templates' expander (where the removal was asked for).
    """
    st.session_state.pop("templates-kept", None)
    try:
        catalogue = refit_catalogue(st.session_state.get("uploaded_catalogue"), None)
    except UploadError as exc:
        st.session_state["templates-kept"] = str(exc).replace(
            "would not fit them", "would not fit the bundled templates", 1
        )
        return False
    if catalogue is not None:
        st.session_state["uploaded_catalogue"] = catalogue
    return True


def _templates_upload() -> bytes | None:
    with st.expander("Copy templates (upload your own TOML)"):
        st.markdown(
            "The copy comes from templates per language and tone, with slots such as "
            "`{product}`, `{interest}`, `{keyword}`, `{offer}` and `{greeting}`. Upload a TOML "
            "file to replace some of them (see `assets/templates/default.toml`); the rest stay."
        )
        file = st.file_uploader(
            f"Templates file (TOML, up to {format_mb(MAX_UPLOAD_BYTES)})",
            type=["toml"],
            max_upload_size=uploader_mb(MAX_UPLOAD_BYTES),  # the drop zone says the same
            key="templates-file",
            on_change=state.forget_on_removal(
                "templates-file", "templates", guard=_catalogue_fits_bundled
            ),
        )
        if state.new_upload("templates-file", file):
            data = file.getvalue()
            try:
                templates = parse_templates_upload(file.name, data)
                # The catalogue accepted earlier must fit these too (its names were
                # checked against the templates then in force).
                catalogue = refit_catalogue(st.session_state.get("uploaded_catalogue"), templates)
            except UploadError as exc:
                state.upload_refused("templates-file")  # the templates in use before stay
                st.session_state["templates-error"] = str(exc)
            else:
                st.session_state["templates"] = (file.name, data)
                state.upload_accepted("templates-file", file.file_id)
                st.session_state.pop("templates-error", None)
                st.session_state.pop("templates-kept", None)
                if catalogue is not None:
                    st.session_state["uploaded_catalogue"] = catalogue
        if st.session_state.get("templates-error"):
            kept = st.session_state.get("templates")
            st.error(
                f"Those templates were not used: "
                f"{escape_markdown(st.session_state['templates-error'])} "
                + (
                    f"The previous templates ({escape_markdown(kept[0])}) are kept."
                    if kept
                    else "No templates file is in use: the copy comes from the bundled ones."
                )
            )
        if not st.session_state.get("uploaded_catalogue"):  # the reason is gone
            st.session_state.pop("templates-kept", None)
        if st.session_state.get("templates-kept"):
            st.error(
                f"Your templates were kept: "
                f"{escape_markdown(st.session_state['templates-kept'])} Remove the catalogue "
                "(or upload one whose names the bundled templates can hold) first."
            )
        current = st.session_state.get("templates")
        if current:
            st.success(f"Using templates from {escape_markdown(current[0])}.")
            if st.button("Back to the bundled templates"):
                if _catalogue_fits_bundled():
                    st.session_state.pop("templates", None)
                st.rerun()  # either way: the reason, if any, shows above
    current = st.session_state.get("templates")
    return current[1] if current else None


def _gallery(segmentation, settings, templates_data: bytes | None) -> None:
    choices = _choices(segmentation)
    labels = list(choices)
    c1, c2, c3 = st.columns([2, 1, 1])
    pick = c1.selectbox("Audience", labels, key=state.keep("cr-audience", labels[1]))
    if pick not in choices:  # a segment from an earlier audience
        pick = labels[0]
    placement = c2.radio(
        "Placement", list(PLACEMENT_NAMES), format_func=PLACEMENT_NAMES.get,
        key=state.keep("cr-placement", "feed"),
    )  # fmt: skip
    for slot in ("cr-language", "keep:cr-language"):  # kept by an older version as None
        if slot in st.session_state and st.session_state[slot] not in LANGUAGE_NAMES:
            st.session_state[slot] = "own"
    language = c3.radio(
        "Language", list(LANGUAGE_NAMES), format_func=LANGUAGE_NAMES.get,
        key=state.keep("cr-language", "own"),
    )  # fmt: skip
    language = None if language == "own" else language
    c4, c5 = st.columns([2, 2])
    n = c4.slider("Variants", 1, 12, key=state.keep("cr-n", DEFAULT_CONFIG.n_variants))
    show_rejected = c5.toggle(
        "Show rejected variants", key=state.keep("cr-rejected", False),
        help="Variants a guardrail stopped, with the reason.",
    )  # fmt: skip
    state.remember("cr-audience", "cr-placement", "cr-language", "cr-n", "cr-rejected")
    audience, stream_name = choices[pick]
    own = _catalogue_in_use()
    if own is not None:
        st.caption(
            f"Products from your catalogue {escape_markdown(own[0])} (**Use my catalogue** "
            "is ticked in the Experiment form): the ads an experiment on it tests."
        )
    elif st.session_state.get("uploaded_catalogue"):
        st.caption(
            "Bundled products: experiments use your catalogue once you tick **Use my "
            "catalogue** in the Experiment form and run; this gallery then shows its products."
        )
    try:
        accepted, rejected = cache.creatives_for(
            settings.seed, audience, int(n), placement=placement, language=language,
            templates_data=templates_data, stream_name=stream_name,
            catalogue_data=None if own is None else own[1],
        )  # fmt: skip
    except (ValueError, TypeError) as exc:
        st.error(f"No creatives could be made: {escape_markdown(exc)}")
        return
    if len(accepted) < n:
        st.warning(
            f"Only {len(accepted)} distinct variants passed the guardrails (asked for {n}); "
            "the templates may be too few or too long for this placement."
        )
    shown = list(accepted) + (list(rejected) if show_rejected else [])
    if show_rejected:
        if rejected:
            st.caption(
                f"{len(accepted)} accepted, then {len(rejected)} rejected (marked in red, "
                "with the rule that stopped each)."
            )
        else:
            st.info(f"No variant was rejected: all {len(accepted)} passed the guardrails.")
    if not shown:
        return
    size = cache.preview_size(placement)
    columns = st.columns(3)
    for i, c in enumerate(shown):
        with columns[i % 3]:
            _card(c, size)
    segment = "generic" if audience is None else audience.audience_id
    st.download_button(
        "Download images and manifest (ZIP)",
        data=partial(zip_creatives, tuple(shown), placement, segment),
        file_name=f"adlab-creatives-{segment}-{placement}.zip",
        mime="application/zip",
    )


_USER_KEYS = ("u-interests", "u-keywords", "u-hours", "u-mobile", "u-price", "u-language")


def _load_user(population, index: int) -> None:
    a = user_audience(population, index)
    st.session_state.update(
        {
            "u-index": index,
            "u-interests": list(a.top_interests),
            "u-keywords": ", ".join(a.keywords),
            "u-hours": a.active_hours,
            "u-mobile": a.mobile_share >= 0.5,
            "u-price": float(a.price_sensitivity),
            "u-language": a.language,
        }
    )
    state.remember(*_USER_KEYS)


def _sample_user(population, seed: int) -> None:
    draws = st.session_state.get("u-draws", 0) + 1
    st.session_state["u-draws"] = draws
    _load_user(
        population, int(stream(seed, "app", "sample-user", draws).integers(population.n_users))
    )


def user_from_widgets(values: dict) -> Audience:
    """The edited profile as an ``Audience`` (raises ValueError with a readable reason)."""
    interests = tuple(values["interests"])
    if not interests:
        raise ValueError("Choose at least one interest (the first is the user's top interest).")
    keywords = tuple(k.strip() for k in str(values["keywords"]).split(",") if k.strip())
    if any(len(k) > 40 for k in keywords):
        raise ValueError("Keep each search keyword under 40 characters.")
    return Audience(
        kind="user", audience_id="user-edited", name="Edited user", top_interests=interests,
        keywords=keywords[:5], active_hours=values["hours"],
        mobile_share=1.0 if values["mobile"] else 0.0,
        price_sensitivity=float(values["price"]), language=values["language"],
    )  # fmt: skip


def _one_user(population, settings, templates_data: bytes | None) -> None:
    st.markdown(
        "Per-user personalization writes one ad for one person: their top interest, their "
        "latest search, the time of day they are online and their language. Sample a "
        "simulated user or edit the profile, then generate."
    )
    if "u-interests" not in st.session_state and "keep:u-interests" not in st.session_state:
        _load_user(population, 0)
    for key in _USER_KEYS:
        state.keep(key, None)
    st.button("Sample a user", on_click=_sample_user, args=(population, settings.seed))
    with st.form("one-user"):
        c1, c2 = st.columns(2)
        c1.multiselect("Interests (first = top interest)", list(INTERESTS), key="u-interests")
        c1.text_input("Recent searches (comma-separated)", key="u-keywords", max_chars=200)
        c1.selectbox("Online mostly in the", list(TIMES_OF_DAY), key="u-hours")
        c2.toggle("Browses on mobile", key="u-mobile")
        c2.slider("Price sensitivity (1 = deal-seeker)", 0.0, 1.0, key="u-price")
        c2.radio("Language", ["en", "ko"], key="u-language", horizontal=True)
        c3, c4, c5 = st.columns(3)
        tone = c3.selectbox("Tone", ["auto", *TONES], format_func=partial(_choice, "tone"))
        offer = c4.selectbox("Offer", ["auto", *OFFERS], format_func=partial(_choice, "offer"))
        layout = c5.selectbox("Layout", ["auto", *LAYOUTS])
        submitted = st.form_submit_button("Generate for this user", type="primary")
    state.remember(*_USER_KEYS)
    if submitted:
        values = {k.removeprefix("u-"): st.session_state[k] for k in _USER_KEYS}
        try:
            audience = user_from_widgets(values)
            tpl = cache.templates(templates_data)
            own = _catalogue_in_use()
            creative = generate_for_user(
                audience, stream(settings.seed, "app", "one-user"),
                tone=None if tone == "auto" else tone, offer=None if offer == "auto" else offer,
                layout=None if layout == "auto" else layout, templates=tpl,
                catalogue=None if own is None else own[2],
            )  # fmt: skip
        except (ValueError, TypeError) as exc:
            st.error(f"No creative was made: {escape_markdown(exc)}")
            # The previous ad is not this user's: showing it under the error read as if
            # it were (with "Guardrails: pass").
            st.session_state.pop("u-creative", None)
        else:
            st.session_state["u-creative"] = creative
    creative = st.session_state.get("u-creative")
    if creative is not None:
        left, _ = st.columns([1, 1])
        with left:
            _card(creative, cache.preview_size("feed"))


def render_page() -> None:
    """Draw the page."""
    st.title("Creatives")
    st.markdown(
        "The ads themselves. For every segment adlab writes several **variants** from copy "
        "templates (product, tone, offer, layout, colours), checks each against the brand's "
        "**guardrails** (banned claims, text length, colour contrast, the AI-generated "
        "label) and renders it. A generic ad uses no audience data; it is the baseline that "
        "personalization must beat. The experiment tests exactly these variants."
    )
    settings = state.world_settings()
    population, segmentation = cache.world(settings)
    templates_data = _templates_upload()
    _catalogue_upload()
    # The tabs track which one is open, so the composer (it builds the whole world and
    # solves each user's best composition: about a second the first time) runs only when
    # it is looked at.
    gallery, one_user, compose = st.tabs(
        ["Gallery", "One user", COMPOSE_TAB], key="cr-tab", on_change="rerun"
    )
    with gallery:
        _gallery(segmentation, settings, templates_data)
    with one_user:
        _one_user(population, settings, templates_data)
    if compose.open:
        with compose:
            compose_view.render(_card)


render_page()
