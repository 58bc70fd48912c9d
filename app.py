"""adlab, the app: `streamlit run app.py` (settings in .streamlit/config.toml).

Page configuration and navigation only; each page is a script in ``ui/pages/``.
"""

import streamlit as st

# Static CSS of ours (style-only HTML takes no space on the page), for every page:
# - While a script runs, Streamlit fades the previous run's elements out over 1 s (after
#   0.5 s). Without a GPU each frame of that fade is drawn by the CPU, on the cores the
#   simulation runs on: about a quarter of a core-second per run of the default experiment.
#   Grey them out at once instead.
# - A multiselect's typing box is 0.5rem wide at least, 3rem while it has focus (Streamlit
#   1.67). When the chips leave less than 3rem on their last row, focus wraps the box to a
#   line of its own and the field grows by a line; the mousedown of a click elsewhere blurs
#   it, the field shrinks, everything below moves up under the pointer (a button below by
#   about 24 px) and the mouseup lands beside the button: the click did nothing. The same
#   3rem with or without focus keeps the field's height, so nothing moves.
STYLE = """<style>
[data-stale='true'] { transition: none !important; }
[data-testid='stMultiSelectTagsContainer'] input { min-width: 3rem !important; }
</style>"""

st.set_page_config(page_title="adlab", page_icon=":material/campaign:", layout="wide")
st.html(STYLE)


def _page(name: str, title: str, icon: str) -> st.Page:
    return st.Page(f"ui/pages/{name}.py", title=title, icon=f":material/{icon}:", url_path=name)


PAGES = [
    # The first page is the default one, served at "/".
    st.Page("ui/pages/audience.py", title="Audience", icon=":material/groups:", default=True),
    _page("creatives", "Creatives", "palette"),
    _page("world", "World", "public"),
    _page("experiment", "Experiment", "science"),
    _page("results", "Results", "bar_chart"),
    _page("ope", "Off-policy evaluation", "replay"),
    _page("sweeps", "Sweeps", "grid_on"),
]

st.navigation(PAGES).run()
