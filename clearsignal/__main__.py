import sys

from clearsignal.cli import main

sys.exit(main())
