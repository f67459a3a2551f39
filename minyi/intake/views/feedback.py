"""The command centre's list of feedback the source platforms have not accepted yet."""
