import sys

from clearsignal.cli.main import main

sys.exit(main())
