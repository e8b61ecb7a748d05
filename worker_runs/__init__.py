"""worker-runs: settings, the composition root (`bootstrap`) and the command line."""
