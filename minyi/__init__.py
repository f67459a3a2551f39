"""Minyi (民意): the programme for raising the public's sense of security and satisfaction."""
