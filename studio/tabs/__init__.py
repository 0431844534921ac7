"""The studio's tabs, one file each: a function that builds the tab's components and wires its events."""
