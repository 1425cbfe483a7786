import sys

from familiar.cli import main

sys.exit(main())
