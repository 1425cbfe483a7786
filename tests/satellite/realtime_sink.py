"""A stand-in for ``aplay``: consumes raw 22050 Hz 16-bit mono at real-time speed and
appends it to the file named on the command line."""

import sys
import time

BYTES_PER_TENTH = 4410

with open(sys.argv[1], "ab") as out:
    while True:
        data = sys.stdin.buffer.read(BYTES_PER_TENTH)
        if not data:
            break
        out.write(data)
        out.flush()
        time.sleep(len(data) / (BYTES_PER_TENTH * 10))
