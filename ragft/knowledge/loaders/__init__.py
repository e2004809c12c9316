"""One loader per file format; :mod:`ragft.knowledge.documents` picks one and is the only entry point."""
