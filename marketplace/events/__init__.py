"""Matchmaking events (医企融合对接会): registration, roadshows, one-to-one meeting requests, scheduling, agendas and outcomes."""
