"""RAG vs Fine-Tuning Explorer: the core library.

Pure Python, never imports streamlit. Pages and components call into this package.
"""

__version__ = "0.1.0"
