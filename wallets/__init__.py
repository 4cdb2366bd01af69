"""Lightning backends behind one small interface."""
