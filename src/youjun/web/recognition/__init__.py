"""The national recognition (国家认定) of counties and its re-checks, driven by the year's procedure file."""
