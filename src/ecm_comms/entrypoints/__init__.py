"""Ways in: the HTTP service (Flask) and the command line. They translate; no rule lives here."""
