"""Deal tracking: home-page queues, dashboards, exports and the annual report (issue 14)."""
