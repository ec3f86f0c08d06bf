"""Test doubles of the real servers the runner talks to, each keeping, and
writing down, the behaviour of the server it stands for."""
