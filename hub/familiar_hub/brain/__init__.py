"""The brain: home-control intents first, then grounded answers in the persona's style."""
