"""``benchmarks/raw_llama.py``, the room benchmark's yardstick: several sequences decoded in one llama.cpp context
each get their own tokens, with the step and time accounting the throughput figures divide."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import raw_llama  # noqa: E402

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


def test_batched_decode_gives_every_sequence_its_tokens():
    with raw_llama.RawModel() as m:
        prompts = raw_llama.room_prompts(m, 3)
        assert len({tuple(p) for p in prompts}) == 3  # three different questions
        r = raw_llama.decode(m, prompts, 6, n_threads=1)
        assert r.n_seq == 3 and r.prompt_tokens == sum(len(p) for p in prompts)
        assert [len(t) for t in r.tokens] == [6, 6, 6]
        assert all(0 <= tok < m.n_vocab for t in r.tokens for tok in t)
        assert r.step_tokens == 3 * 5  # the first token of each comes with its prompt; 5 steps of 3 after it
        assert r.generated == 18 and r.tokens_per_s > 0 and r.end_to_end_tokens_per_s > 0
        assert r.end_to_end_tokens_per_s < r.generated / r.decode_s
        stopped = raw_llama.decode(m, prompts[:1], 200, n_threads=1, stop_at_eog=True)
        assert len(stopped.tokens[0]) <= 200
        assert not any(m.is_eog(tok) for tok in stopped.tokens[0])
        with pytest.raises(ValueError):
            raw_llama.decode(m, [], 4)
