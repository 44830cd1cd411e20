"""The project document: typed schema, atomic save/load with migrations, undoable commands
and change events. No Qt here."""
