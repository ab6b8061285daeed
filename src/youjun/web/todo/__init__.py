"""Each level's to-do list on the 工作台, reminders and the county's chase list (the top layer, beside api)."""
