import sys

from yuyue.cli import main

sys.exit(main())
