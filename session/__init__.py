"""The browser session layer: what one participant's session holds and the server resources it shares.

Pages and widgets (``components/``) read the session through this package; it imports no widget. It owns

- every key of ``st.session_state`` shared across pages (``session.keys``: one constant per key, typed accessors),
- every ``st.cache_resource`` (the class database, Chroma clients, loaded engines, the embedder),
- the construction of the session's settings (``config``), models and embedder (``models``), price overrides
  (``prices``), ledger and budget (``spend``), workspace and knowledge base (``workspace``), retrieval
  (``retrieval``), run wiring (``wiring``) and class-mode records (``classroom``).

Import order (no cycles): keys → config → prices → models → workspace → spend → classroom → retrieval → wiring.
"""
