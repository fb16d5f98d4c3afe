"""Medical tech-transfer marketplace."""
