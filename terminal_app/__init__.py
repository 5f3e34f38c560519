"""printgate terminal: the session engine, hub client, offline journal and Kivy screens."""
