"""The Familiar satellite: a Wyoming satellite server with local wake word and VAD.

Installs and imports without any hub dependency (``pip install .[satellite]``).
"""
