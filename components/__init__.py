"""Widgets, grouped by the page they serve (``compare/``, ``evaluate/``, ``knowledge/``, ``finetune/``, ``guide/``,
``facilitator/``, ``costs/``, ``settings/``) plus ``shared/`` (the answer's safe text, sources, the sidebar and its
cost meter, the page shell, the navigation, the cost projection). They read the session through ``session/`` and
call the core (``ragft/``); no business rule lives here."""
