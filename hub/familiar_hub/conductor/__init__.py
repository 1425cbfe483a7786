"""The conductor: finds satellites and drives them through ASR, the brain and TTS."""
