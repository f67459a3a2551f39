"""What goes wrong with an import as a whole (not with one of its rows)."""

from minyi.core.errors import InvalidInput


class BadInput(InvalidInput):
    """The file, the preset or the column mapping cannot be used: nothing is imported.

    The message is one line of Chinese, shown on the page or printed by the command.
    """
