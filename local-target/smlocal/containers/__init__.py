"""What runs inside a step's process, in place of a container: path remapping and algorithms."""
