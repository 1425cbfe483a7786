"""Coverage-guided fuzzing with atheris, for as long as you like (not part of the test suite).

    python bench/fuzz.py wire                  # the Wyoming reader and the edge checks
    python bench/fuzz.py document.pdf -atheris_runs=200000
    python bench/fuzz.py --list

Targets and the errors each may raise are in familiar_testkit/fuzz.py; a crash is written to
``crash-*`` in the working directory by libFuzzer. ``FAMILIAR_FUZZ_EXAMPLES=N pytest
tests/test_fuzz.py`` runs the same targets under Hypothesis instead.
"""

from __future__ import annotations

import sys


def main() -> None:
    import atheris

    with atheris.instrument_imports(
        include=["familiar", "familiar_hub", "familiar_testkit"], enable_loader_override=False
    ):
        from familiar_testkit import fuzz

    if len(sys.argv) < 2 or sys.argv[1] == "--list":
        print("\n".join(sorted(fuzz.TARGETS)))
        return
    name = sys.argv[1]
    target = fuzz.TARGETS[name]
    if name.startswith("document"):
        seed = fuzz.seeds().get(name.removeprefix("document"), b"")

        def run(data: bytes) -> None:
            # Half the inputs are mutations of a valid file, so the parsers get past the magic.
            target(seed[: len(data)] + data if data[:1] == b"\x00" else data)

    else:

        def run(data: bytes) -> None:
            target(data)

    atheris.Setup([sys.argv[0], *sys.argv[2:]], run)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
