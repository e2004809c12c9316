"""Facilitator: the room, actions, the class's results and the join link. Nothing renders before unlock."""

import streamlit as st

from components.facilitator import gate as facilitator_gate
from components.facilitator import results as facilitator_results
from components.facilitator import room as facilitator_room

if not facilitator_gate.unlocked():
    st.stop()

st.title("Facilitator")
room_tab, actions_tab, results_tab, join_tab = st.tabs(["Room", "Actions", "Class results", "Join link"])
room = facilitator_room.room()
with room_tab:
    facilitator_room.render_room(room)
with actions_tab:
    facilitator_room.render_actions(room)
with results_tab:
    facilitator_results.render_results()
with join_tab:
    facilitator_results.render_join()
