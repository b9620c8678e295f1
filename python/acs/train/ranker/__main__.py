"""`python -m acs.train.ranker`: fit, calibrate and export the learned ranker (`fit.main`)."""

import sys

from .fit import main

sys.exit(main())
