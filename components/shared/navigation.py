"""Every page of the app, listed once: the router registers them, Home links the first steps, and the
Facilitator page offers the hideable ones."""

from __future__ import annotations

from dataclasses import dataclass

from ragft.classroom.event import ALWAYS_SHOWN


@dataclass(frozen=True)
class PageSpec:
    path: str  # the page file, relative to the app's folder
    title: str
    icon: str
    section: str  # the navigation group
    start: str = ""  # Home's "Where to start" line for this page ("" = not a first step)
    class_mode_only: bool = False  # only when a facilitator password is set

    @property
    def hideable(self) -> bool:
        """The facilitator may hide it from participants (Home and the console itself stay)."""
        return self.path not in ALWAYS_SHOWN and not self.class_mode_only


HOME = "pages/home.py"
CONSOLE = "pages/facilitator.py"  # the facilitator's console (class mode only; at /facilitator)

PAGES: tuple[PageSpec, ...] = (
    PageSpec(HOME, "Home", ":material/home:", "Explore"),
    PageSpec(
        "pages/knowledge_base.py",
        "Knowledge base",
        ":material/library_books:",
        "Explore",
        start="Upload PDF, TXT, MD or DOCX files (or use the sample company) and look inside the index.",
    ),
    PageSpec("pages/finetune.py", "Fine-tune", ":material/model_training:", "Explore"),
    PageSpec(
        "pages/compare.py",
        "Compare",
        ":material/view_column:",
        "Explore",
        start="Ask one question; four configurations answer side by side.",
    ),
    PageSpec(
        "pages/evaluate.py",
        "Evaluate",
        ":material/fact_check:",
        "Explore",
        start="Run a question set through all four and plot accuracy against cost.",
    ),
    PageSpec(
        "pages/guide.py",
        "Decision guide",
        ":material/alt_route:",
        "Decide",
        start="Describe your use case and get a recommendation with its reasons and costs.",
    ),
    PageSpec("pages/costs.py", "Costs", ":material/payments:", "Decide"),
    PageSpec("pages/settings.py", "Settings", ":material/settings:", "Configure"),
    PageSpec(CONSOLE, "Facilitator", ":material/groups:", "Facilitator", class_mode_only=True),
)


def hideable_pages() -> tuple[str, ...]:
    return tuple(p.path for p in PAGES if p.hideable)


def start_steps() -> list[tuple[str, str, str]]:
    """(page file, numbered label, what to do there) for Home's "Where to start"."""
    firsts = [p for p in PAGES if p.start]
    return [(p.path, f"{i}. {p.title}", p.start) for i, p in enumerate(firsts, 1)]
