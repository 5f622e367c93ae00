"""The command line and the commands it runs: scan, report, check, baseline, demo."""
