"""Motion transfer: animate a synthetic face with the motion of the original face."""
