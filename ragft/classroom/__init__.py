"""Class mode: what the facilitator sees and does across every participant's session.

- :mod:`pause`: the process-wide "pause all model calls" flag (checked before each model call and token step).
- :mod:`registry`: the background runs (comparisons, evaluations) per participant; one of each kind at a time,
  heartbeats, a reaper that stops runs whose session is gone, cancel by run id.
- :mod:`auth`: unlocking the Facilitator page (constant-time compare, lock-out counted in the class database).
- :mod:`event`: the event's defaults set without a restart (slots' models, top-k, cap, pages participants see).
- :mod:`results`: the class's results (leaderboard with Wilson intervals and Bradley-Terry ratings, the pooled
  thesis table, most asked questions) and the class report (Markdown + CSV).
- :mod:`room`: one snapshot of the room for the Facilitator page.
- :mod:`join`: the join codes on paper (CSV and a printable sheet, a link per code).
"""
