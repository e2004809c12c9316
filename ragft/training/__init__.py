"""LoRA training core shared by the Fine-tune page and ``scripts/train_adapter.py``.

- ``examples``: chat JSONL / CSV / table rows → examples, validation with line/row errors, token counts
- ``presets``: brand voice, JSON support tickets, persona (data in ``assets/training``)
- ``config``: training settings and defaults; ``estimate``: hosted cost vs local minutes
- ``trainer``: the training loop (torch + peft, CPU); ``converter``: llama.cpp's GGUF converter
- ``jobs`` / ``worker``: a separate training process per job, one at a time per server, queued
- ``adapters``: named adapters in a workspace folder (atomic save, listing, serving recipes)
- ``checks`` / ``quickcheck``: held-out scoring (JSON schema, voice), base vs adapter

This package never imports torch at import time: the app runs without the training dependencies.
"""

from ragft.training.adapters import AdapterInfo, list_adapters, shipped_adapters

__all__ = ["AdapterInfo", "list_adapters", "shipped_adapters"]
