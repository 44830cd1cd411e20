"""Hand correction in the editor: the controller that turns drawn and edited boxes into
commands and propagation jobs, the review queue, the regions panel and their actions."""
