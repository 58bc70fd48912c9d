"""adlab, the app: `streamlit run app.py` (settings in .streamlit/config.toml).

Page configuration and navigation only; each page is a script in ``ui/pages/``.
"""

import streamlit as st

st.set_page_config(page_title="adlab", page_icon=":material/campaign:", layout="wide")


def _page(name: str, title: str, icon: str) -> st.Page:
    return st.Page(f"ui/pages/{name}.py", title=title, icon=f":material/{icon}:", url_path=name)


PAGES = [
    # The first page is the default one, served at "/".
    st.Page("ui/pages/audience.py", title="Audience", icon=":material/groups:", default=True),
    _page("creatives", "Creatives", "palette"),
    _page("experiment", "Experiment", "science"),
    _page("results", "Results", "bar_chart"),
    _page("ope", "Off-policy evaluation", "replay"),
]

st.navigation(PAGES).run()
