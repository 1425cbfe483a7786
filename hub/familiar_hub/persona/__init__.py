"""The persona store: the persona's emails and documents, their style, their voice clips."""
