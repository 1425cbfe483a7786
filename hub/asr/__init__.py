"""Speech-to-text role."""
