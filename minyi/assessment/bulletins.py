"""The weekly bulletin (每周通报): built by the helper working on it."""


def generate_last_week() -> None:
    raise NotImplementedError
