"""Pure-Python engine: media I/O, analysis, models, anonymizers, rendering. Never imports Qt."""
