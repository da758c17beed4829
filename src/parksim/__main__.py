from parksim.cli import entry

entry()
