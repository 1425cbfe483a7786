"""Text-to-speech role."""
