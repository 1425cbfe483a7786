"""What the tests and the benchmarks share (never shipped, never imported by familiar*).

- :mod:`familiar_testkit.ports`: free ports on 127.0.0.1, waiting for a port to open;
- :mod:`familiar_testkit.broker`: a real Mosquitto on a free port;
- :mod:`familiar_testkit.speech`: deterministic speech from the packaged Piper voice, and the
  word normaliser for transcripts;
- :mod:`familiar_testkit.processes`: a real ``familiar hub`` process; a script in a fresh
  interpreter;
- :mod:`familiar_testkit.corpus`: a small email corpus and a real retriever over it; the recall
  set's mails; big generated texts;
- :mod:`familiar_testkit.benchhub`: the in-process hub the benchmarks run (persona, config,
  a satellite stub the conductor dials);
- :mod:`familiar_testkit.browser`: real headless Chromium with a fake microphone; screenshots.
"""
