"""Facilitator: the room, actions, the class's results and the join link. Nothing renders before unlock."""

import streamlit as st

from components.facilitator import gate as facilitator_gate
from components.facilitator import join_codes as facilitator_codes
from components.facilitator import results as facilitator_results
from components.facilitator import room as facilitator_room
from components.facilitator import seats as facilitator_seats
from components.facilitator import trainings as facilitator_trainings

if not facilitator_gate.unlocked():
    st.stop()

st.title("Facilitator")
# A key and tracked state keep the open tab when the page above the tabs changes (the pause banner comes and goes
# with the facilitator's own click on Actions, which would otherwise bring them back to Room).
room_tab, actions_tab, trainings_tab, results_tab, join_tab = st.tabs(
    ["Room", "Actions", "Trainings", "Class results", "Join link"], key="fac_tab", on_change="rerun"
)
room = facilitator_room.room()
with room_tab:
    facilitator_room.render_room(room)
with actions_tab:
    facilitator_room.render_actions(room)
    facilitator_seats.render_seats(room)
with trainings_tab:
    facilitator_trainings.render_trainings()
with results_tab:
    facilitator_results.render_results()
with join_tab:
    facilitator_results.render_join()
    facilitator_codes.render_join_codes()
