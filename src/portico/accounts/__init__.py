"""Account services: users, passwords, browser sessions. No Quart imports here."""
