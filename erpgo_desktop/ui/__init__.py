"""The Qt front end: windows, dialogs, table models and the background task runner."""
