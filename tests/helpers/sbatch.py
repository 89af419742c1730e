"""Reading sbatch argument lists in the Slurm tests."""


def option(argv: list[str], name: str) -> str | None:
    """Value of ``name`` in argv, whether given as ``name value`` or ``name=value``."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None
