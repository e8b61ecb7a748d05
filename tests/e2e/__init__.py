"""End-to-end tests: real HTTP servers on sockets, subprocesses, browsers, the Arkindex tools."""
