import sys

from osim.cli import main

sys.exit(main())
