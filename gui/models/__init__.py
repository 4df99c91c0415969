"""Qt item models, kept apart from the views that show them."""
