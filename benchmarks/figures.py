"""What every benchmark does last: print its table, and write it to ``--figures FILE`` when asked."""


def written(text, path):
    """Prints ``text``; writes it, with a final newline, to ``path`` unless that is None."""
    print(text)
    if path:
        with open(path, "w") as handle:
            handle.write(text + "\n")
