"""Stage 1, the command line: parse, build the run's services, dispatch to one command module,
map typed errors to exit codes. The only layer that prints or knows exit codes."""
