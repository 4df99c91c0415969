"""What the Jobs page controls, kept apart from its widgets: imports, pipeline runs, and the queue and
failures it lists. Each controller is a QObject with signals; views connect to them and call them."""
