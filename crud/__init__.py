"""SQL only: create_/get_/update_/delete_ functions, no business rules."""
