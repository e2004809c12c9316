"""Widgets shared by several pages: safe text, sources, the sidebar and its cost meter, the page shell, the
navigation, the cost projection."""
