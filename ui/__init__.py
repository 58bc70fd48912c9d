"""adlab's Streamlit app: pages, widgets -> configs, cached calls and chart builders.

Only this package and ``app.py`` import Streamlit. Pages live in :mod:`ui.pages`; every
``st.cache_data`` / ``st.cache_resource`` is in :mod:`ui.cache`; chart builders returning
Altair charts are in :mod:`ui.charts`.
"""

__all__: list[str] = []
